"""Benchmark the event-log engine on a large synthesized log, side by side with two baselines.

The log is built from real events of a public Spark 3 log (a job, its stage and
its TaskStart/TaskEnd events, replicated with renumbered job, stage and task ids)
and written to /tmp. Three readers run on it, each in its own process:

- `load_profile` (what `copilot profile` runs),
- a plain `json.loads`-per-line loop that only parses,
- the Spark History Server from the installed pyspark, timed from launch until its
  REST API serves the application's stages.

Usage: python -m evals.bench.bench_profile [--size-mb 1024] [--repeat 3] [--skip-history-server]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = {
    # Spark 3.0 on YARN: ~1.7 KB TaskEnd lines (few accumulables), ~2 KB per task with its TaskStart.
    "yarn-spark3.0": REPO / "tests/fixtures/eventlogs/apache__spark/spark-events/application_1536831636016_59384_1",
    # Spark 3.3 local SQL app: ~4.5 KB TaskEnd lines (all internal and SQL accumulables), as recent Spark writes.
    "sql-spark3.3": REPO / "tests/fixtures/eventlogs/apache__spark/spark-events/local-1642039451826",
}
APP_ID = "application_1700000000000_0001"
TASK_EVENTS = ("SparkListenerTaskStart", "SparkListenerTaskEnd")
BODY_EVENTS = ("SparkListenerJobStart", "SparkListenerStageSubmitted", "SparkListenerStageCompleted",
               "SparkListenerJobEnd", *TASK_EVENTS)
SENTINEL = {"stage": 1111111111, "task": 2222222222, "index": 3333333333}


def _dump(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def _task_template(event: dict) -> bytes:
    """The event as bytes with %(stage)d, %(task)d and %(index)d where its ids go."""
    event = json.loads(json.dumps(event))
    event["Stage ID"] = SENTINEL["stage"]
    info = event["Task Info"]
    info["Task ID"] = SENTINEL["task"]
    info["Index"] = SENTINEL["index"]
    if "Partition ID" in info:
        info["Partition ID"] = SENTINEL["index"]
    text = _dump(event).replace(b"%", b"%%")
    for name, value in SENTINEL.items():
        text = text.replace(str(value).encode(), b"%(" + name.encode() + b")d")
    return text


def _renumber_stage(info: dict, stage_offset: int, tasks_per_stage: int) -> dict:
    info = dict(info)
    info["Stage ID"] += stage_offset
    info["Parent IDs"] = [p + stage_offset for p in info.get("Parent IDs", [])]
    info["Number of Tasks"] = tasks_per_stage
    info.pop("Accumulables", None)
    return info


def synthesize(source: Path, target: Path, size_mb: int, tasks_per_stage: int) -> dict[str, int]:
    """Write a log of about `size_mb` MB; returns its task, stage and byte counts."""
    events = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    first_job = next(i for i, e in enumerate(events) if e["Event"] == "SparkListenerJobStart")
    last_job = max(i for i, e in enumerate(events) if e["Event"] == "SparkListenerJobEnd")
    header = [e for e in events[:first_job] if e["Event"] not in BODY_EVENTS]
    footer = [e for e in events[last_job + 1 :] if e["Event"] not in BODY_EVENTS]
    body = [e for e in events[first_job : last_job + 1] if e["Event"] in BODY_EVENTS]
    for event in header:
        if event["Event"] == "SparkListenerApplicationStart":
            event["App ID"] = APP_ID
            event.pop("App Attempt ID", None)
    source_tasks = [e for e in body if e["Event"] == "SparkListenerTaskEnd"]
    ordinal = {e["Task Info"]["Task ID"]: i for i, e in enumerate(source_tasks)}
    templates = [(_task_template(e), ordinal[e["Task Info"]["Task ID"]]) for e in body
                 if e["Event"] in TASK_EVENTS and e["Task Info"]["Task ID"] in ordinal]
    per_copy = len(source_tasks)
    copies = max(1, tasks_per_stage // per_copy)
    tasks_per_stage = copies * per_copy
    stage_ids = sorted({e["Stage ID"] for e in source_tasks})
    stage_span = max(stage_ids) + 1
    job_span = max(e["Job ID"] for e in body if e["Event"] == "SparkListenerJobStart") + 1
    limit = size_mb * 1_000_000
    written = tasks = stages = 0
    task_id = 0
    with open(target, "wb", buffering=1 << 22) as out:
        for event in header:
            written += out.write(_dump(event) + b"\n")
        round_no = 0
        while written < limit:
            stage_offset, job_offset = round_no * stage_span, round_no * job_span
            for event in body:
                kind = event["Event"]
                if kind in TASK_EVENTS:
                    continue
                event = dict(event)
                if kind in ("SparkListenerJobStart", "SparkListenerJobEnd"):
                    event["Job ID"] += job_offset
                if kind == "SparkListenerJobStart":
                    event["Stage IDs"] = [s + stage_offset for s in event.get("Stage IDs", [])]
                    event["Stage Infos"] = [_renumber_stage(s, stage_offset, tasks_per_stage) for s in event.get("Stage Infos", [])]
                if kind in ("SparkListenerStageSubmitted", "SparkListenerStageCompleted"):
                    event["Stage Info"] = _renumber_stage(event["Stage Info"], stage_offset, tasks_per_stage)
                written += out.write(_dump(event) + b"\n")
                if kind == "SparkListenerStageSubmitted":
                    stages += 1
                    stage = event["Stage Info"]["Stage ID"]
                    chunk = []
                    for copy in range(copies):
                        for template, i in templates:
                            chunk.append(template % {b"stage": stage, b"task": task_id + copy * per_copy + i,
                                                     b"index": copy * per_copy + i})
                    task_id += copies * per_copy
                    tasks += copies * per_copy
                    written += out.write(b"\n".join(chunk) + b"\n")
            round_no += 1
        for event in footer:
            written += out.write(_dump(event) + b"\n")
    return {"tasks": tasks, "stages": stages, "bytes": written}


# ---------------------------------------------------------------- the three readers

PROFILE_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from tools.eventlog import load_profile
t1 = time.perf_counter()
c1 = time.process_time()
p = load_profile(sys.argv[1], workers=int(sys.argv[2]))
t2 = time.perf_counter()
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": t2 - t1, "cpu_seconds": time.process_time() - c1 + workers.ru_utime + workers.ru_stime,
                  "parent_cpu_seconds": time.process_time() - c1, "import_seconds": t1 - t0,
                  "tasks": p.total_tasks, "stages": len(p.stages),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_rss_mb": workers.ru_maxrss / 1024}))
"""

JSON_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
c0 = time.process_time()
n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line)
        n += 1
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "cpu_seconds": time.process_time() - c0, "lines": n, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


BREAKDOWN_CHILD = """
import json, sys, time
from tools.eventlog import load_profile
from tools.eventlog.aggregate import TASK_END_PREFIX, LineSplitter, scan_lines
from tools.eventlog.tasks import _DECODE, prepare_tasks

path = sys.argv[1]


def best(function, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times)


def chunks():
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            yield chunk


task_lines = [line for data, a, b in LineSplitter().spans(chunks()) for line in data[a:b].split(b"\\n")
              if line.startswith(TASK_END_PREFIX)]
batches = [task_lines[i : i + 2048] for i in range(0, len(task_lines), 2048)]
out = {
    "read 4 MB chunks": best(lambda: sum(map(len, chunks()))),
    "read + split lines + dispatch (no decoding)": best(
        lambda: [scan_lines(d, a, b, lambda lines: None, lambda line: None) for d, a, b in LineSplitter().spans(chunks())]),
    "msgspec decode of TaskEnd lines": best(lambda: [_DECODE(line) for line in task_lines]),
    "decode + per-stage row blocks (prepare_tasks)": best(lambda: [prepare_tasks(b) for b in batches]),
    "load_profile, 1 process (all of it)": best(lambda: load_profile(path, workers=1)),
    "tasks": len(task_lines),
}
print(json.dumps(out))
"""


def breakdown(log: Path) -> None:
    """CPU seconds of each step of the serial path on the same log (best of 3, one process)."""
    result = run_child(BREAKDOWN_CHILD, log)
    tasks = result.pop("tasks")
    print(f"\nwhere the CPU time goes (one process, best of 3, {tasks:,} TaskEnd lines):")
    for name, seconds in result.items():
        print(f"  {name:48} {seconds:7.2f} s  {seconds / tasks * 1e6:6.2f} us per task")


def run_child(code: str, path: Path, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, str(path), *args], cwd=REPO, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history_server(log_dir: Path, expected_stages: int, timeout_s: float = 1800) -> dict:
    """Launch the History Server on loopback; time until /api/v1/applications/<id>/stages lists every stage."""
    import httpx
    import psutil
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="bench_shs_"))
    props = work / "history.properties"
    props.write_text(
        f"spark.history.fs.logDirectory={log_dir.resolve().as_uri()}\n"
        f"spark.history.ui.port={port}\n"
        "spark.history.fs.update.interval=1s\n"
        "spark.history.fs.cleaner.enabled=false\n"
    )
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    command = ["java", "-Xmx6g", "-cp", f"{jars}/*", "org.apache.spark.deploy.history.HistoryServer",
               "--properties-file", str(props)]
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=open(work / "out.log", "wb"), stderr=subprocess.STDOUT)
    watched = psutil.Process(proc.pid)
    peak_rss = 0
    url = f"http://127.0.0.1:{port}/api/v1/applications/{APP_ID}/stages"
    served = cpu = None
    try:
        while time.perf_counter() - start < timeout_s and proc.poll() is None:
            try:
                peak_rss = max(peak_rss, watched.memory_info().rss)
            except psutil.Error:
                pass
            try:
                response = httpx.get(url, timeout=30)
                if response.status_code == 200 and len(response.json()) >= expected_stages:
                    served = time.perf_counter() - start
                    times = watched.cpu_times()
                    cpu = times.user + times.system
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.25)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return {"seconds": served, "cpu_seconds": cpu, "rss_mb": peak_rss / 2**20}


def reader_round(log: Path, worker_counts: list[int], shape: dict[str, int], with_history_server: bool) -> dict[str, dict]:
    """One run of every reader on `log`, each in its own process, in a fixed order."""
    out = {}
    for n in worker_counts:
        result = out[f"load_profile ({n})"] = run_child(PROFILE_CHILD, log, str(n))
        assert result["tasks"] == shape["tasks"], (result, shape)
    out["json.loads"] = run_child(JSON_CHILD, log)
    if with_history_server:
        out["history server"] = history_server(log.parent, shape["stages"])
    return out


def median_run(results: list[dict]) -> dict:
    """The run with the median wall time (the lower middle one of an even count); a timeout counts as slowest."""
    ordered = sorted(results, key=lambda r: math.inf if r["seconds"] is None else r["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="uncompressed size of the synthesized log")
    parser.add_argument("--tasks-per-stage", type=int, default=1000)
    parser.add_argument("--source", choices=sorted(SOURCES), default="yarn-spark3.0", help="real log the events come from")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "copilot_bench_profile")
    parser.add_argument("--workers", type=int, default=None, help="load_profile worker processes (default min(cores, 4))")
    parser.add_argument("--skip-history-server", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="also print the CPU time of each step of the serial path")
    parser.add_argument("--keep", action="store_true", help="keep the synthesized log")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every reader; the table shows each one's median run")
    args = parser.parse_args()

    log_dir = args.workdir / "logs"
    shutil.rmtree(args.workdir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    log = log_dir / APP_ID
    t = time.perf_counter()
    shape = synthesize(SOURCES[args.source], log, args.size_mb, args.tasks_per_stage)
    size_mb = shape["bytes"] / 1e6
    print(f"synthesized {log}: {size_mb:.0f} MB, {shape['tasks']:,} tasks, {shape['stages']:,} stages "
          f"({time.perf_counter() - t:.0f} s)", flush=True)

    from tools.eventlog.parallel import PARALLEL_MIN_BYTES, can_fork, default_workers

    workers = args.workers or default_workers()
    if not can_fork() or shape["bytes"] < PARALLEL_MIN_BYTES:
        workers = 1
    counts = [workers, 1] if workers > 1 else [1]
    runs: dict[str, list[dict]] = {}
    for round_no in range(1, args.repeat + 1):  # rounds interleave the readers, so drift in host load hits all of them
        if args.repeat > 1:
            print(f"round {round_no} of {args.repeat}", flush=True)
        for name, result in reader_round(log, counts, shape, not args.skip_history_server).items():
            runs.setdefault(name, []).append(result)
            print(f"{name}: {result}", flush=True)
    chosen = {name: median_run(results) for name, results in runs.items()}
    profile, single = chosen[f"load_profile ({workers})"], chosen["load_profile (1)"]
    rows = []
    for n in counts:
        result = chosen[f"load_profile ({n})"]
        rss = f"{result['rss_mb']:.0f}" + (f" + {n}x{result['worker_rss_mb']:.0f}" if n > 1 else "")
        label = f"copilot load_profile, {n} workers" if n > 1 else "copilot load_profile, 1 process"
        rows.append((label, result["seconds"], result["cpu_seconds"], rss))
    baseline = chosen["json.loads"]
    rows.append(("json.loads per line (parse only)", baseline["seconds"], baseline["cpu_seconds"], f"{baseline['rss_mb']:.0f}"))
    if "history server" in chosen:
        shs = chosen["history server"]
        rows.append(("Spark History Server replay", shs["seconds"], shs["cpu_seconds"], f"{shs['rss_mb']:.0f}"))

    print()
    print(f"log: {size_mb:.0f} MB uncompressed, {shape['tasks']:,} tasks, {shape['stages']:,} stages, "
          f"events from {SOURCES[args.source].name} ({args.source})")
    head = f"copilot {workers}w faster (wall / CPU)" if workers > 1 else "copilot faster (wall / CPU)"
    print(f"{'reader':36} {'wall s':>8} {'MB/s':>7} {'CPU s':>8} {'peak RSS MB':>13} {head:>32}"
          + (f" {'copilot 1 process faster':>26}" if workers > 1 else ""))
    for name, seconds, cpu, rss in rows:
        if seconds is None:
            print(f"{name:36} {'timeout':>8} {'-':>7} {'-':>8} {rss:>13}")
            continue
        line = f"{name:36} {seconds:8.2f} {size_mb / seconds:7.1f} {cpu:8.2f} {rss:>13} {_ratio(seconds, cpu, profile):>32}"
        if workers > 1:
            line += f" {_ratio(seconds, cpu, single):>26}"
        print(line)
    load = os.getloadavg()
    print(f"(machine: {os.cpu_count()} cores, load average {load[0]:.1f}; load_profile with {workers} worker process(es) "
          f"for logs >= {PARALLEL_MIN_BYTES >> 20} MB, CPU s = parent + workers, RSS = parent + workers x largest "
          f"worker (forked, so shared pages count twice); load_profile excludes {profile['import_seconds']:.2f} s of "
          "Python imports; the json.loads loop is one process; the History Server time includes its JVM start)")
    if args.repeat > 1:
        mine = f"copilot with {workers} workers" if workers > 1 else "copilot in 1 process"
        print(f"(median run of {args.repeat} per reader; per round, {mine} faster than:")
        for name in ("json.loads", "history server"):
            ratios = [other["seconds"] / ours["seconds"] for ours, other in zip(runs[f"load_profile ({workers})"],
                                                                               runs.get(name, [])) if other["seconds"]]
            if ratios:
                print(f"   {name}: " + ", ".join(f"{r:.1f}x" for r in ratios) + f" (median {statistics.median(ratios):.1f}x)")
        print(")")
    if args.breakdown:
        breakdown(log)
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


def _ratio(seconds: float, cpu: float, reference: dict) -> str:
    return f"{seconds / reference['seconds']:.1f}x / {cpu / reference['cpu_seconds']:.1f}x"


if __name__ == "__main__":
    main()
