"""Every benchmark runs end to end in its --smoke mode, so none of them breaks unnoticed."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
# What each benchmark's report must show; a new benchmark must at least print a number.
FIGURES = {"book_timings.py": ["seconds", "peak MB", "machine:"],
           "throughput.py": ["median", "trainer overhead", "peak MB", "machine:"],
           "time_to_quality.py": ["FID", "memorisation ratio", "best FID", "min to", "speed-up", "peak MB",
                                  "machine:"]}


def test_there_are_benchmarks():
    assert BENCHMARKS, "benchmarks/ holds no scripts"


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_smoke_mode_runs_and_reports_its_figures(script):
    run = subprocess.run([sys.executable, str(script), "--smoke"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, f"{script.name} --smoke exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert re.search(r"\d", run.stdout), f"{script.name} --smoke printed no figures:\n{run.stdout}"
    for figure in FIGURES.get(script.name, []):
        assert figure in run.stdout, f"{script.name} --smoke did not report {figure!r}:\n{run.stdout}"
