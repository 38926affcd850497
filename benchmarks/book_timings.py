"""Seconds and peak memory per notebook and profile: does each chapter fit its budget?

Each notebook runs in a fresh process (this script, re-invoked with a hidden
--execute-one flag) that executes it with nbclient in book/, the way the book
build does, with GAN_BOOK_PROFILE set. Seconds are wall time from kernel start
to kernel shutdown. Peak memory is the kernel's peak resident set size: after
the kernel has been shut down and reaped, getrusage(RUSAGE_CHILDREN).ru_maxrss
of that fresh process is the largest of its waited-for descendants, the kernel.
MB means 2**20 bytes.

    python benchmarks/book_timings.py                        # every chapter, cpu profile
    python benchmarks/book_timings.py --profile smoke book/01_theory.ipynb --json timings.json
    python benchmarks/book_timings.py --smoke                # checks the measurement itself, in seconds
    python benchmarks/book_timings.py book/06_quality.ipynb --keep-outputs /tmp/executed  # read its glued numbers

Budget goals (reported, never asserted in tests): smoke <= 60 s per notebook, cpu peak < 4096 MB.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULT_MARKER = "BOOK_TIMINGS_RESULT "
SMOKE_SECONDS_GOAL = 60
CPU_PEAK_MB_GOAL = 4096
SMOKE_ARRAY_MB = 200


def execute_one(path: pathlib.Path, keep_outputs: pathlib.Path | None = None) -> int:
    """Child process: run one notebook in its own directory; print seconds and the kernel's peak RSS, and write
    the executed notebook into `keep_outputs` if given."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()  # starts the kernel, runs every cell, shuts the kernel down and reaps it
    except CellExecutionError as error:
        print(error, file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    if keep_outputs:
        keep_outputs.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, keep_outputs / path.name)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(RESULT_MARKER + json.dumps({"seconds": seconds, "peak_mb": peak_kib / 1024}))
    return 0


def measure(path: pathlib.Path, profile: str, keep_outputs: pathlib.Path | None = None) -> dict:
    """Run one notebook in a fresh process; returns its result row (with 'error' set if it failed)."""
    env = dict(os.environ, GAN_BOOK_PROFILE=profile)
    keep = ["--keep-outputs", str(keep_outputs.resolve())] if keep_outputs else []
    child = subprocess.run([sys.executable, __file__, "--execute-one", str(path), *keep],
                           env=env, capture_output=True, text=True)
    row = {"notebook": _display_name(path), "profile": profile, "seconds": None, "peak_mb": None, "error": None}
    results = [line[len(RESULT_MARKER):] for line in child.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if child.returncode == 0 and results:
        row.update(json.loads(results[-1]))
    else:
        output = re.sub(r"\x1b\[[0-9;]*m", "", child.stderr + child.stdout).strip()  # drop terminal colours
        row["error"] = "\n".join(output.splitlines()[-25:]) or f"exit {child.returncode}"
    return row


def budget(row: dict) -> str:
    """The budget goal that applies to this row, and whether it was met."""
    if row["error"]:
        return "FAILED"
    if row["profile"] == "smoke":
        return f"<= {SMOKE_SECONDS_GOAL} s: " + ("ok" if row["seconds"] <= SMOKE_SECONDS_GOAL else "OVER")
    if row["profile"] == "cpu":
        return f"< {CPU_PEAK_MB_GOAL} MB: " + ("ok" if row["peak_mb"] < CPU_PEAK_MB_GOAL else "OVER")
    return "-"


def machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def report(rows: list[dict]) -> None:
    width = max([len("notebook")] + [len(r["notebook"]) for r in rows])
    print(f"{'notebook':<{width}}  {'profile':<7}  {'seconds':>8}  {'peak MB':>8}  goal")
    for r in rows:
        seconds = "-" if r["seconds"] is None else f"{r['seconds']:.1f}"
        peak = "-" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        print(f"{r['notebook']:<{width}}  {r['profile']:<7}  {seconds:>8}  {peak:>8}  {budget(r)}")
    m = machine()
    print(f"machine: {m['cpus']} CPUs, {m['platform']}, Python {m['python']}; date {m['date']}")
    for r in rows:
        if r["error"]:
            print(f"\n{r['notebook']} failed; last lines:\n{r['error']}", file=sys.stderr)


def default_notebooks() -> list[pathlib.Path]:
    """book/*.ipynb in _toc.yml order, then any notebook the table of contents does not list, sorted."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    listed = [ROOT / f"{entry}.ipynb" for entry in entries if (ROOT / f"{entry}.ipynb").exists()]
    return listed + [p for p in sorted((ROOT / "book").glob("*.ipynb")) if p not in listed]


def _display_name(path: pathlib.Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def smoke() -> int:
    """Measure a tiny generated notebook that holds a known array; fail unless the figures show it."""
    with tempfile.TemporaryDirectory() as tmp:
        import nbformat

        path = pathlib.Path(tmp) / "allocate.ipynb"
        cell = f"import numpy as np\nblock = np.ones({SMOKE_ARRAY_MB} * 2**20 // 8)  # {SMOKE_ARRAY_MB} MB, all touched"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]), path)
        row = measure(path, "smoke", keep_outputs=pathlib.Path(tmp) / "executed")
        kept = pathlib.Path(tmp) / "executed" / path.name
        executed = kept.is_file() and nbformat.read(kept, as_version=4).cells[0].get("execution_count") == 1
    report([row])
    if row["error"]:
        return 1
    problems = [] if executed else [f"--keep-outputs did not write the executed notebook to {kept}"]
    if not row["seconds"] > 0:
        problems.append(f"seconds should be positive; got {row['seconds']}")
    if not row["peak_mb"] >= SMOKE_ARRAY_MB:
        problems.append(f"peak {row['peak_mb']:.0f} MB is below the {SMOKE_ARRAY_MB} MB the notebook holds: "
                        "the kernel's memory is not being measured")
    print("smoke check: " + ("; ".join(problems) if problems
                             else f"ok (peak >= {SMOKE_ARRAY_MB} MB, seconds > 0, executed notebook kept)"))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path, help="default: every book/*.ipynb")
    parser.add_argument("--profile", choices=["smoke", "cpu", "gpu"], default="cpu")
    parser.add_argument("--json", type=pathlib.Path, metavar="OUT", help="also write the figures here")
    parser.add_argument("--smoke", action="store_true", help="check the measurement on a tiny generated notebook")
    parser.add_argument("--keep-outputs", type=pathlib.Path, metavar="DIR",
                        help="write each executed notebook, outputs included, into DIR")
    parser.add_argument("--execute-one", type=pathlib.Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.execute_one:
        return execute_one(args.execute_one.resolve(), args.keep_outputs)
    if args.smoke:
        return smoke()
    notebooks = args.notebooks or default_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if not notebooks or missing:
        print(f"no such notebook: {', '.join(missing)}" if missing else "no notebooks to measure: book/ holds no .ipynb",
              file=sys.stderr)
        return 1
    rows = []
    for path in notebooks:
        print(f"running {_display_name(path)} in the {args.profile} profile ...", flush=True)
        rows.append(measure(path, args.profile, args.keep_outputs))
    report(rows)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": rows}, indent=1) + "\n")
    return 1 if any(r["error"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
