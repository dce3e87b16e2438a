"""The engine benchmark runs end to end on a small synthesized log and reports the median of its rounds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from evals.bench.bench_profile import median_run

REPO = Path(__file__).resolve().parents[2]


def test_median_run_picks_the_middle_wall_time_and_counts_a_timeout_as_slowest():
    runs = [{"seconds": 3.0, "id": "a"}, {"seconds": None, "id": "timeout"}, {"seconds": 1.0, "id": "b"}]
    assert median_run(runs)["id"] == "a"
    assert median_run(runs[:1])["id"] == "a"
    assert median_run([{"seconds": 2.0, "id": "x"}, {"seconds": 1.0, "id": "y"}])["id"] == "y"


def test_benchmark_prints_the_table_and_every_rounds_ratio(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "evals.bench.bench_profile", "--size-mb", "4", "--skip-history-server", "--repeat", "2",
         "--workdir", str(tmp_path / "bench")],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    )
    out = done.stdout
    assert "round 2 of 2" in out
    assert re.search(r"^copilot load_profile, 1 process\s+\d+\.\d+", out, re.M)
    assert re.search(r"^json\.loads per line \(parse only\)\s+\d+\.\d+", out, re.M)
    ratios = re.search(r"json\.loads: ([\d.]+)x, ([\d.]+)x \(median ([\d.]+)x\)$", out, re.M)
    assert ratios, out
    first, second, median = (float(r) for r in ratios.groups())
    assert min(first, second) <= median <= max(first, second)
    assert not (tmp_path / "bench").exists(), "the synthesized log is removed unless --keep"
