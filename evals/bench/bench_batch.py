"""Benchmark `copilot batch`: apps/s with 1 and 2 workers, per-app overhead, parent RSS, the Spark engine.

Builds a synthetic fleet by varying real public event logs (new application ids
and names, shifted and stretched timestamps, scaled byte counts), then runs the
batch on it into a fresh store for each configuration:

    python -m evals.bench.bench_batch --apps 1000 --dir /tmp/copilot-fleet

Per-app overhead = wall time per app of the 1-worker batch minus the time the
same analysis takes called directly in one process (the pool, IPC, hashing and
store writes). The per-log cost of each analysis depth is measured in-process on a
sample: reading the log, the rules + cost alone (the batch's analysis before it ran
the graph), the graph's findings depth (the batch default) and the graph's full
offline report (`--reports`; its knowledge index is built first, cards only, and
that one-off build is timed separately). Peak RSS of the parent is its own high-water mark (workers are
separate processes). "worker ms/app" is the wall time a worker spent per log: when
it grows with the number of workers, the cores were busy with other work and the
scaling figure says more about the machine than about the batch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "eventlogs"
TIME_KEYS = {"Timestamp", "Submission Time", "Completion Time", "Launch Time", "Finish Time", "Getting Result Time"}
DURATION_KEYS = {"Executor Run Time", "Executor CPU Time", "Executor Deserialize Time", "JVM GC Time",
                 "Fetch Wait Time", "Result Serialization Time"}
SIZE_KEYS = {"Bytes Read", "Bytes Written", "Remote Bytes Read", "Local Bytes Read", "Shuffle Bytes Written",
             "Memory Bytes Spilled", "Disk Bytes Spilled", "Records Read", "Records Written",
             "Shuffle Records Written", "Remote Bytes Read To Disk"}
JOB_NAMES = [f"job_{name}" for name in ("orders", "clicks", "billing", "sessions", "inventory", "ads", "users",
                                         "payments", "search", "events")]


def source_logs(root: Path = FIXTURES) -> list[Path]:
    """Plain (uncompressed, single-file) public logs to vary; small enough to load whole."""
    logs = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "." not in path.name and path.parent.name != "eventlog_v2_local-1623876083964":
            with path.open("rb") as handle:
                if handle.read(1) == b"{":
                    logs.append(path)
    return logs


def _vary(value, key: str | None, t0: int, new_t0: int, stretch: float, scale: float):
    if isinstance(value, dict):
        return {k: _vary(v, k, t0, new_t0, stretch, scale) for k, v in value.items()}
    if isinstance(value, list):
        return [_vary(v, None, t0, new_t0, stretch, scale) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and key:
        if key in TIME_KEYS and value > 10**11:
            return new_t0 + int((value - t0) * stretch)
        if key in DURATION_KEYS:
            return int(value * stretch)
        if key in SIZE_KEYS:
            return int(value * scale)
    return value


def vary_log(source: Path, target_dir: Path, index: int, rng: random.Random, compress: bool = False) -> Path:
    """Write a variant of `source`: a new app id and name, moved and stretched in time, scaled data."""
    events = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    starts = [e.get("Timestamp") for e in events if e.get("Event") == "SparkListenerApplicationStart"]
    stamps = [e["Timestamp"] for e in events if isinstance(e.get("Timestamp"), int)]
    t0 = starts[0] if starts and starts[0] else (min(stamps) if stamps else 0)
    new_t0 = 1_767_225_600_000 + index * 3_600_000  # 2026-01-01 plus an hour per app
    stretch, scale = rng.uniform(0.6, 2.5), rng.uniform(0.5, 4.0)
    app_id = f"app-20260101{index:06d}-{index % 10000:04d}"
    lines = []
    for event in events:
        event = _vary(event, None, t0, new_t0, stretch, scale)
        if event.get("Event") == "SparkListenerApplicationStart":
            event["App ID"] = app_id
            event["App Name"] = JOB_NAMES[index % len(JOB_NAMES)]
            event.pop("App Attempt ID", None)
        lines.append(json.dumps(event, separators=(",", ":")))
    data = ("\n".join(lines) + "\n").encode()
    target_dir.mkdir(parents=True, exist_ok=True)
    if compress:
        import zstandard

        target = target_dir / f"{app_id}.zstd"
        target.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    else:
        target = target_dir / app_id
        target.write_bytes(data)
    return target


def build_fleet(target_dir: Path, count: int, seed: int = 7, sources: list[Path] | None = None,
                compress_every: int = 0) -> list[Path]:
    """`count` varied logs in `target_dir`, cycling over the public logs (every Nth zstd-compressed)."""
    rng = random.Random(seed)
    sources = sources or source_logs()
    return [
        vary_log(sources[i % len(sources)], target_dir, i, rng,
                 compress=bool(compress_every) and i % compress_every == compress_every - 1)
        for i in range(count)
    ]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _direct_seconds_per_app(paths: list[Path], sample: int) -> float:
    """Time of the per-log analysis called in-process (no pool, no store): the baseline for overhead."""
    from copilot.batch.worker import analyze_log
    from copilot.settings import Settings

    settings = Settings()
    chosen = paths[:sample]
    analyze_log(str(chosen[0]), frozenset(), settings)  # warm imports and caches
    started = time.perf_counter()
    for path in chosen:
        analyze_log(str(path), frozenset(), settings)
    return (time.perf_counter() - started) / len(chosen)


def _timed(run) -> tuple[object, float, float]:
    """(result, wall ms, CPU ms of this process) of `run()`; CPU time is what contention does not inflate."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3


def depth_costs(paths: list[Path], sample: int, reports_sample: int) -> dict[str, tuple[float, float]]:
    """Mean in-process (wall ms, CPU ms) per log: read, rules + cost only, graph findings depth, graph full report."""
    import graph
    from copilot.settings import Settings
    from graph.adapters import pricing
    from graph.config import GraphConfig
    from graph.llm import LLMSession
    from tools.cost import app_cost, price_findings
    from tools.eventlog import load_profile
    from tools.rules import diagnose

    settings = Settings()
    prices = pricing(GraphConfig.from_settings(settings))
    chosen = paths[:sample]

    def analyze(path: Path, profile, depth: str):
        return graph.analyze([str(path)], settings=settings, session=LLMSession(None), depth=depth, profiles=[profile])

    def rules_and_cost(profile):
        price_findings(diagnose(profile, settings.rules), profile, prices)
        return app_cost(profile, prices)

    analyze(chosen[0], load_profile(chosen[0]), "findings")  # warm up
    samples: dict[str, list[tuple[float, float]]] = {"read": [], "rules": [], "findings": [], "full": []}
    for path in chosen:
        profile, *read = _timed(lambda: load_profile(path))
        samples["read"].append(tuple(read))
        samples["rules"].append(_timed(lambda: rules_and_cost(profile))[1:])
        samples["findings"].append(_timed(lambda: analyze(path, profile, "findings"))[1:])
    costs: dict[str, tuple[float, float]] = {}
    if reports_sample:
        from knowledge.api import ensure_default_index

        costs["index_build"] = _timed(lambda: ensure_default_index(settings))[1:]
        for i, path in enumerate(chosen[: reports_sample + 1]):  # the first also loads the embedding model
            profile = load_profile(path)
            timing = _timed(lambda: analyze(path, profile, "full"))[1:]
            if i == 0:
                costs["full_first"] = timing
            else:
                samples["full"].append(timing)
    for key, values in samples.items():
        if values:
            costs[key] = (sum(v[0] for v in values) / len(values), sum(v[1] for v in values) / len(values))
    return costs


def _run_local(fleet: Path, workers: int, work: Path) -> dict:
    from copilot.batch import Progress, run_batch
    from copilot.settings import Settings
    from copilot.store import Store

    class WorkerTime(Progress):
        """Sums the wall time workers spent per log: if it grows with more workers, cores were not free."""

        busy_ms = 0.0

        def advance(self, outcome) -> None:
            self.busy_ms += outcome.elapsed_ms

    store = Store(work / f"local-{workers}.duckdb")
    rss_before = _peak_rss_mb()
    load_before = os.getloadavg()[0]
    busy = WorkerTime()
    summary = run_batch(str(fleet), store, workers=workers, settings=Settings(), progress=busy)
    done = max(summary.analyzed + summary.failed, 1)
    return {"workers": workers, "apps": summary.analyzed, "failed": summary.failed, "seconds": summary.elapsed_s,
            "apps_per_s": summary.apps_per_s, "mb_per_s": summary.mb_per_s,
            "parent_peak_rss_mb": max(rss_before, _peak_rss_mb()), "worker_ms_per_app": busy.busy_ms / done,
            "load": load_before}


def _run_depths(paths: list[Path], count: int, work: Path) -> list[dict]:
    """The 2-worker batch over the first `count` logs at the default depth and with --reports, into fresh stores."""
    from copilot.batch import run_batch
    from copilot.settings import Settings
    from copilot.store import Store

    folder = work / "fleet-depths"
    folder.mkdir()
    for path in paths[:count]:
        shutil.copy(path, folder / path.name)
    rows = []
    for name, full in (("default", False), ("--reports", True)):
        summary = run_batch(str(folder), Store(work / f"depth-{name}.duckdb"), workers=2, settings=Settings(),
                            full_reports=full)
        rows.append({"depth": name, "apps": summary.analyzed, "failed": summary.failed, "seconds": summary.elapsed_s,
                     "apps_per_s": summary.apps_per_s})
    return rows


def _run_spark(fleet: Path, work: Path) -> dict:
    from copilot.batch_spark import run_spark_batch, spark_session
    from copilot.settings import Settings

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = spark_session("local[2]")
    spark.sparkContext.setLogLevel("ERROR")
    try:
        summary = run_spark_batch(str(fleet), work / "spark-out", spark=spark, settings=Settings())
    finally:
        spark.stop()
    return {"workers": "spark local[2]", "apps": summary.analyzed, "failed": summary.failed,
            "seconds": summary.elapsed_s, "apps_per_s": summary.apps_per_s, "mb_per_s": summary.mb_per_s,
            "load": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the fleet (default: a temp dir)")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--reports-sample", type=int, default=10,
                        help="logs to time the full report (--reports) on; 0 skips it and the index build")
    parser.add_argument("--reports-apps", type=int, default=100,
                        help="logs for the 2-worker batch at both depths (default and --reports)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="copilot-bench-batch-"))
    os.environ["COPILOT_HOME"] = str(work / "home")
    os.environ["COPILOT_KNOWLEDGE__CONFIG_CATALOG"] = "false"  # cards only: the catalog build starts a JVM
    os.environ["COPILOT_KNOWLEDGE__API_REFERENCE"] = "false"
    fleet = args.dir or work / "fleet"
    if fleet.exists():
        shutil.rmtree(fleet)
    started = time.perf_counter()
    paths = build_fleet(fleet, args.apps, compress_every=4)
    fleet_mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"fleet: {len(paths)} logs, {fleet_mb:.1f} MB on disk, built in {time.perf_counter() - started:.1f} s "
          f"from {len(source_logs())} public logs; load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")

    rows = [_run_local(fleet, 1, work), _run_local(fleet, 2, work)]
    if not args.no_spark:
        rows.append(_run_spark(fleet, work))
    # in-process measurements last, so the parent's peak RSS above is the batch's own
    direct_s = _direct_seconds_per_app(paths, sample=min(60, len(paths)))
    costs = depth_costs(paths, sample=min(60, len(paths)), reports_sample=args.reports_sample)
    depth_rows = _run_depths(paths, min(args.reports_apps, len(paths)), work) if args.reports_sample else []
    print(f"\n{'engine / workers':<18}{'apps':>6}{'failed':>8}{'seconds':>10}{'apps/s':>9}{'MB/s':>8}"
          f"{'parent peak RSS':>17}{'worker ms/app':>15}{'load avg':>10}")
    for row in rows:
        rss = f"{row['parent_peak_rss_mb']:.0f} MB" if "parent_peak_rss_mb" in row else "-"
        busy = f"{row['worker_ms_per_app']:.1f}" if "worker_ms_per_app" in row else "-"
        print(f"{str(row['workers']):<18}{row['apps']:>6}{row['failed']:>8}{row['seconds']:>10.1f}"
              f"{row['apps_per_s']:>9.1f}{row['mb_per_s']:>8.1f}{rss:>17}{busy:>15}{row['load']:>10.1f}")
    one, two = rows[0], rows[1]
    print(f"\nscaling 1 -> 2 workers: {two['apps_per_s'] / one['apps_per_s']:.2f}x (target >= 1.8x)")
    print(f"direct analysis: {direct_s * 1e3:.1f} ms/app; per-app overhead of the 1-worker batch: "
          f"{(one['seconds'] / max(one['apps'] + one['failed'], 1) - direct_s) * 1e3:.1f} ms/app")
    print(f"\nper-log analysis in-process, wall ms / CPU ms (mean of {min(60, len(paths))} logs; the full report "
          f"of {args.reports_sample}):")
    labels = {"read": "read the log", "rules": "rules + cost alone (the batch before it ran the graph)",
              "findings": "graph findings depth (batch default; log already read)",
              "full": "graph full report (--reports; log already read)",
              "full_first": "first full report in a process (loads the embedding model)",
              "index_build": "knowledge index build (once; cards only)"}
    for key, label in labels.items():
        if key in costs:
            print(f"  {label:<62}{costs[key][0]:>9.1f}{costs[key][1]:>9.1f}")
    for row in depth_rows:
        print(f"2-worker batch of {row['apps'] + row['failed']} logs, {row['depth']:<9}: {row['seconds']:.1f} s, "
              f"{row['apps_per_s']:.1f} apps/s ({row['failed']} failed)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
