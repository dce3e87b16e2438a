"""Large logs read by several processes: workers do the per-task work, the parent replays in log order.

Three ways to hand out work: a large local plain file is cut into newline-aligned byte ranges
that workers read themselves (`read_parallel`); a rolling or Databricks log gives one part per
worker; a large compressed part is decompressed by the parent and sent in blocks of whole lines
(`scan_block`). Either way a worker decodes its TaskEnd lines into prepared row blocks
(`prepare_tasks`, where nearly all the per-task time goes) and returns them with its other lines,
in log order. The parent replays the results in log order into its one `Aggregator`, so every
event whose order matters (jobs, stages, executors, SQL) is handled exactly as on the serial path
and the profile is the same. Only a few jobs are in flight, so memory is bounded by the job size,
not by the log size.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from tools.errors import EventLogError
from tools.eventlog.aggregate import Aggregator, scan_lines, split_chunks
from tools.eventlog.codecs import READ_SIZE
from tools.eventlog.tasks import TaskBatch, prepare_tasks

PARALLEL_MIN_BYTES = 64 << 20  # smaller files: process start-up and transfer cost more than they save
RANGE_BYTES = 32 << 20  # bytes per work item: bounds what is in flight (about 5 MB of results per range)
RANGES_PER_WORKER = 4  # at least this many ranges per worker, so uneven ranges even out
IN_FLIGHT_PER_WORKER = 2
BLOCK_BYTES = 8 << 20  # decoded bytes per job when the parent decompresses and workers parse
_SEARCH_BYTES = 1 << 16
# glibc mallopt(3) parameters (<malloc.h>) and the values workers use
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
WORKER_MMAP_THRESHOLD = 64 << 20
WORKER_TRIM_THRESHOLD = 256 << 20
T = TypeVar("T")


def available_cores() -> int:
    """The CPUs this process may run on: its affinity mask (a container's cpuset, `taskset`), else all."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_workers() -> int:
    """min(cores, 4): more processes than that bring little, the parent's replay becomes the limit."""
    return min(available_cores(), 4)


def keep_freed_memory() -> bool:
    """Let glibc keep freed blocks of up to 64 MB in the heap (and trim only above 256 MB free) in a worker.

    A worker allocates and frees megabytes per read chunk and result block; with glibc's defaults many of those
    come from fresh mmap'd or re-grown heap pages, and the page faults cost about a fifth of the worker's CPU
    (docs/eventlog.md). Workers exit after their log, so nothing stays held. False where there is no glibc
    `mallopt` (macOS, musl): the defaults stay."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD))


def can_fork() -> bool:
    """Worker processes need the fork start method; inside a pool worker (e.g. `copilot batch`, which already
    runs one log per core) the log is read in that process rather than multiplying processes."""
    return "fork" in multiprocessing.get_all_start_methods() and multiprocessing.parent_process() is None


@dataclass
class RangeResult:
    """What a worker found in its range, in log order: prepared TaskEnd batches and every other line."""

    records: list[TaskBatch | bytes]
    task_events: int


def line_ranges(path: str, size: int, count: int) -> tuple[list[tuple[int, int]], int]:
    """About `count` byte ranges of whole lines covering the file up to its last newline; returns (ranges, end).

    `end` is the offset after the last newline: what follows it is an unfinished last line.
    """
    with open(path, "rb") as f:
        end = _last_line_end(f, size)
        bounds = [0]
        for i in range(1, count):
            start = _next_line_start(f, size * i // count, end)
            if bounds[-1] < start < end:
                bounds.append(start)
    bounds.append(end)
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a], end


def _next_line_start(f, offset: int, limit: int) -> int:
    f.seek(offset)
    pos = offset
    while pos < limit:
        block = f.read(_SEARCH_BYTES)
        if not block:
            break
        newline = block.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(block)
    return limit


def _last_line_end(f, size: int) -> int:
    pos = size
    while pos > 0:
        start = max(0, pos - _SEARCH_BYTES)
        f.seek(start)
        newline = f.read(pos - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        pos = start
    return 0


class Recorder:
    """Collects a worker's records: TaskEnd batches prepared for `TaskAggregator.apply`, other lines as bytes."""

    def __init__(self) -> None:
        self.records: list[TaskBatch | bytes] = []
        self.tasks = 0

    def on_tasks(self, lines: list) -> None:
        self.records.append(prepare_tasks(lines))

    def on_block(self, data: bytes, start: int, end: int) -> None:
        self.tasks += scan_lines(data, start, end, self.on_tasks, self.records.append)

    def result(self) -> RangeResult:
        return RangeResult(self.records, self.tasks)


def scan_range(path: str, start: int, end: int) -> RangeResult:
    """Worker: the records of the whole lines in `path[start:end]`."""
    recorder = Recorder()
    with open(path, "rb") as f:
        f.seek(start)
        rest, _ = split_chunks(_read_range(f, end - start), recorder.on_block)
    recorder.on_block(rest, 0, len(rest))  # empty: ranges end with a newline
    return recorder.result()


def scan_block(data: bytes) -> RangeResult:
    """Worker: the records of a block of whole lines sent by the parent (decoded from a compressed stream)."""
    recorder = Recorder()
    recorder.on_block(data, 0, len(data))
    return recorder.result()


def line_blocks(spans: Iterable[tuple[bytes, int, int]], block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[bytes]]:
    """Join complete-line spans into jobs of about `block_bytes` whole lines for `scan_block`."""
    parts: list = []
    size = 0
    for data, start, end in spans:
        parts.append(memoryview(data)[start:end])
        parts.append(b"\n")
        size += end - start + 1
        if size >= block_bytes:
            yield (b"".join(parts),)
            parts, size = [], 0
    if parts:
        yield (b"".join(parts),)


def _read_range(f, size: int) -> Iterator[bytes]:
    while size > 0:
        chunk = f.read(min(READ_SIZE, size))
        if not chunk:
            return
        size -= len(chunk)
        yield chunk


def replay(agg: Aggregator, result: RangeResult) -> None:
    """Apply one range's records to the aggregator, in log order."""
    for record in result.records:
        if type(record) is bytes:
            agg.feed_line(record)
        else:
            agg.tasks.apply(record)
    if result.task_events:
        agg.events += result.task_events
        agg.saw_event = True
    agg.flush()


def read_parallel(path: str, size: int, agg: Aggregator, workers: int) -> int:
    """Feed the whole lines of the plain file `path` to `agg` using `workers` processes; returns their end offset."""
    count = max(workers * RANGES_PER_WORKER, math.ceil(size / RANGE_BYTES))
    ranges, end = line_ranges(path, size, count)
    for result in ordered_map(scan_range, [(path, a, b) for a, b in ranges], workers):
        replay(agg, result)
    return end


def ordered_map(function: Callable[..., T], jobs: Iterable[tuple], workers: int,
                in_flight: int = IN_FLIGHT_PER_WORKER) -> Iterator[T]:
    """`function(*job)` for each job in forked worker processes, results yielded in job order.

    Jobs are handed out round-robin, at most `in_flight` per worker (use 1 for jobs carrying data:
    a worker then only gets a job while it waits for one, so the two directions of a pipe never
    block each other). The next job is prepared while the workers run, results come back in job
    order over one pipe per worker (no helper threads), so memory is bounded by the jobs in flight.
    """
    if isinstance(jobs, list | tuple):
        workers = min(workers, len(jobs))
    jobs = iter(jobs)
    context = multiprocessing.get_context("fork")
    connections, processes = [], []
    finished = False
    try:
        for _ in range(max(1, workers)):
            mine, theirs = context.Pipe()
            parent_ends = [*connections, mine]  # closed in the child, so it sees EOF if the parent dies
            process = context.Process(target=_serve, args=(theirs, function, parent_ends), daemon=True)
            process.start()
            theirs.close()
            connections.append(mine)
            processes.append(process)
        order: deque[int] = deque()  # the worker of each job in flight, oldest first
        ahead = next(jobs, None)

        def submit(worker: int) -> None:
            nonlocal ahead
            if ahead is not None:
                connections[worker].send(ahead)
                order.append(worker)
                ahead = next(jobs, None)

        for _ in range(in_flight):
            for worker in range(len(connections)):
                submit(worker)
        while order:
            worker = order.popleft()
            result = _receive(connections[worker])
            submit(worker)
            yield result
        for connection in connections:
            connection.send(None)
        finished = True
    finally:
        for process in processes:
            if not finished:  # an error or an abandoned read: workers may be blocked on a pipe
                process.terminate()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for connection in connections:
            connection.close()


def _serve(connection, function: Callable, parent_ends: list) -> None:
    """Worker loop: run each job it is sent until it gets None (or the parent is gone); errors go back to the parent.

    Ctrl-C is left to the parent, which stops the workers; they would only print tracebacks.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()
    for end in parent_ends:
        end.close()
    while (job := _next_job(connection)) is not None:
        try:
            result = function(*job)
        except EventLogError as exc:
            result = exc
        except Exception as exc:  # noqa: BLE001 - reported by the parent as a read error
            result = OSError(f"{type(exc).__name__}: {exc}")
        try:
            connection.send(result)
        except OSError:  # the parent is gone (killed or stopped reading): nothing left to do
            break
    connection.close()
    os._exit(0)  # skip interpreter teardown and std stream flushing (locks another parent thread may have held)


def _next_job(connection) -> tuple | None:
    try:
        return connection.recv()
    except EOFError:
        return None


def _receive(connection):
    try:
        result = connection.recv()
    except EOFError as exc:
        raise OSError("a worker process stopped unexpectedly (out of memory?)") from exc
    if isinstance(result, Exception):
        raise result
    return result
