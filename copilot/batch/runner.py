"""`copilot batch` as a library call: discover, skip what is stored, analyze in parallel, store, summarize.

The parent process is the only writer of the store. Worker processes (forkserver
or spawn, never fork) run `analyze_log` and hand outcomes back; the parent writes
them in small groups, each group one transaction, so a batch killed at any
moment (even `kill -9`) loses at most the outcomes not yet written, and a re-run
finds exactly what is stored by content hash and does the rest.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from copilot.batch.identity import fingerprint
from copilot.batch.worker import RejectedRef, analyze_log, init_worker
from copilot.store.db import Store
from copilot.store.fleet import FleetView, fleet_view
from copilot.store.records import LogIdentity, LogOutcome
from copilot.store.writer import file_fingerprints, finish_run, start_run, stored_hashes, write_outcomes
from tools.eventlog import LogRef
from tools.eventlog.parallel import available_cores

FLUSH_EVERY_S = 2.0  # at most this much finished work is redone after a kill
FLUSH_EVERY_OUTCOMES = 256
MAX_WORKER_CRASHES = 2  # a log in flight during this many worker crashes is recorded as failed


class FailedLog(BaseModel):
    log_path: str
    reason: str


class BatchSummary(BaseModel):
    """What a batch did and what it found across the fleet."""

    run_id: str
    source: str
    engine: Literal["local", "spark"] = "local"
    workers: int
    status: Literal["complete", "interrupted"] = "complete"
    discovered: int = 0
    analyzed: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_analyzed: int = 0
    elapsed_s: float = 0.0
    apps_per_s: float = 0.0
    mb_per_s: float = 0.0
    store_path: str = ""
    failures: list[FailedLog] = Field(default_factory=list)
    fleet: FleetView = Field(default_factory=FleetView)


class Progress:
    """Receives progress as the batch runs; the CLI renders it, the library default ignores it."""

    def start(self, total_apps: int, total_bytes: int) -> None: ...

    def advance(self, outcome: LogOutcome) -> None: ...

    def stop(self) -> None: ...


def default_workers() -> int:
    """One log per available core."""
    return available_cores()


def discover(source: str, include_incomplete: bool, cache_dir: Path | None = None) -> list[LogRef]:
    """Every application log under `source`, found by the event-log engine, sorted by path.

    Files discovery rejected (named like logs, first bytes not one) come as `RejectedRef`s:
    the batch records each as failed with discovery's reason. `shs://host:port` is a whole
    History Server: its applications' logs are downloaded into `cache_dir` (default
    `$COPILOT_HOME/cache`) first.
    """
    from tools.eventlog.storage import discover as scan
    from tools.sources.shs import is_shs_url

    if is_shs_url(source):
        from copilot.batch.shs import server_logs

        if cache_dir is None:
            from copilot.settings import get_settings

            cache_dir = get_settings().home / "cache"
        return sorted(server_logs(source, cache_dir, include_incomplete), key=lambda ref: ref.path)
    found = scan(source, include_incomplete=include_incomplete)
    rejected = [RejectedRef(**item.ref.model_dump(), reason=item.reason) for item in found.rejected]
    return sorted([*found.apps, *rejected], key=lambda ref: ref.path)


def prepare_full_reports(settings) -> None:
    """Build the knowledge index once in the parent, so workers do not all build it at the same time."""
    try:
        import knowledge

        knowledge.ensure_default_index(settings)
    except Exception:  # noqa: BLE001 - without an index each report says citations were unavailable
        pass


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["copilot.batch.worker", "copilot.batch.analysis", "graph.graph"])
        return ctx
    return multiprocessing.get_context("spawn")


class _Writer:
    """Buffers outcomes and writes them to the store in small transactions."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self.buffer: list[LogOutcome] = []
        self.last_flush = time.monotonic()

    def add(self, outcome: LogOutcome) -> None:
        self.buffer.append(outcome)
        if len(self.buffer) >= FLUSH_EVERY_OUTCOMES or time.monotonic() - self.last_flush >= FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            write_outcomes(self.store, self.buffer, self.run_id)
            self.buffer = []
        self.last_flush = time.monotonic()


def _run_pool(
    refs: list[LogRef], workers: int, skip: frozenset[str], settings, full_report: bool,
    on_outcome: Callable[[LogOutcome], None],
) -> None:
    """Analyze `refs` in worker processes, calling `on_outcome` in the parent for each; survives worker crashes."""
    pending = deque(refs)
    crashes: dict[str, int] = {}  # log path -> worker crashes while it was in flight
    ctx = _mp_context()
    window = max(workers * 4, 8)
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                   initargs=(skip, settings, full_report))
        in_flight: dict[Future, LogRef] = {}
        broken = False
        try:
            while pending or in_flight:
                while pending and len(in_flight) < window and not broken:
                    ref = pending.popleft()
                    in_flight[pool.submit(analyze_log, ref)] = ref
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    ref = in_flight.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        broken = True
                        crashes[ref.path] = crashes.get(ref.path, 0) + 1
                        if crashes[ref.path] >= MAX_WORKER_CRASHES:
                            on_outcome(LogOutcome(status="failed", log=LogIdentity(log_path=ref.path),
                                                  reason="the worker process died while analyzing it "
                                                         "(out of memory or a crash)"))
                        else:
                            pending.appendleft(ref)
                        continue
                    on_outcome(outcome)
                if broken and not in_flight:
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def run_batch(
    source: str,
    store: Store,
    *,
    workers: int | None = None,
    force: bool = False,
    retry_failed: bool = False,
    include_incomplete: bool = False,
    top_n: int = 10,
    full_reports: bool = False,
    settings=None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Analyze every application log under `source` into `store`; returns the run's summary.

    `full_reports` runs the graph's whole offline analysis per log and stores each Report
    (what-if predictions, citations); much slower than the default rules-and-cost analysis.
    """
    from copilot.settings import get_settings

    settings = settings or get_settings()
    progress = progress or Progress()
    workers = max(1, workers or default_workers())
    started = time.perf_counter()
    refs = discover(source, include_incomplete, Path(settings.home) / "cache")
    run_id = start_run(store, source, "local", workers)
    summary = BatchSummary(run_id=run_id, source=source, workers=workers, discovered=len(refs),
                           store_path=str(store.path))
    skip: frozenset[str] = frozenset() if force else frozenset(stored_hashes(store, include_failed=not retry_failed))
    fingerprints = {} if force else file_fingerprints(store)

    fleet_hashes: set[str] = set()
    to_analyze: list[LogRef] = []
    total_bytes = 0
    for ref in refs:
        size, mtime_ns = fingerprint(ref)
        total_bytes += size
        known = fingerprints.get(ref.path)
        if known and known[0] == size and known[1] == mtime_ns and known[2] in skip:
            fleet_hashes.add(known[2])
            summary.skipped += 1
        else:
            to_analyze.append(ref)

    writer = _Writer(store, run_id)
    progress.start(len(refs), total_bytes)
    for _ in range(summary.skipped):
        progress.advance(LogOutcome(status="skipped", log=LogIdentity(log_path="")))

    written: set[str] = set()  # content hashes stored by this run (one row per hash in the store)

    def on_outcome(outcome: LogOutcome) -> None:
        digest = outcome.log.log_hash
        if outcome.status == "analyzed" and digest in written:  # a copy of a log analyzed a moment ago
            outcome = outcome.model_copy(update={"status": "skipped", "record": None})
        if outcome.status == "analyzed":
            summary.analyzed += 1
            summary.bytes_analyzed += outcome.log.log_bytes
            fleet_hashes.add(outcome.log.log_hash)
        elif outcome.status == "skipped":
            summary.skipped += 1
            fleet_hashes.add(outcome.log.log_hash)
        else:
            summary.failed += 1
            summary.failures.append(FailedLog(log_path=outcome.log.log_path, reason=outcome.reason or "unknown"))
        stored = outcome
        if outcome.status == "failed" and digest in written:  # e.g. a second empty file: listed, its failure stored once
            stored = outcome.model_copy(update={"status": "skipped"})
        if stored.status != "skipped" or stored.log.log_mtime_ns is not None:
            writer.add(stored)
        if outcome.status != "skipped" and digest:
            written.add(digest)
        progress.advance(outcome)

    try:
        if to_analyze:
            if full_reports:
                prepare_full_reports(settings)
            _run_pool(to_analyze, workers, skip, settings, full_reports, on_outcome)
    except KeyboardInterrupt:
        summary.status = "interrupted"
    finally:
        writer.flush()
        progress.stop()
        finish_run(store, run_id, summary.status, discovered=summary.discovered, analyzed=summary.analyzed,
                   skipped=summary.skipped, failed=summary.failed, bytes_analyzed=summary.bytes_analyzed)
    summary.elapsed_s = time.perf_counter() - started
    if summary.elapsed_s > 0:
        summary.apps_per_s = (summary.analyzed + summary.failed) / summary.elapsed_s
        summary.mb_per_s = summary.bytes_analyzed / 1e6 / summary.elapsed_s
    summary.fleet = fleet_view(store, fleet_hashes, top_n=top_n)
    return summary
