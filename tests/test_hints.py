"""Every fenced Python block of book/appendix_hints.md runs after its chapter, in the test profile (smoke).

A chapter with blocks is executed once, the way a reader runs it before trying a hint: its code cells in order,
with book/ as the working directory, without the Colab setup cell and IPython magics, figures on Agg and closed
after each cell. Each of its blocks then runs in a copy of the chapter's namespace. The chapter runs in a fresh
Python process (this file, run as a script), as every notebook runs in a fresh kernel: chapter 11 splits the CPU
into two devices, which only a process that has not started TensorFlow yet can do.

So that a hint can never break, or stop being code, silently, the number of blocks executed must equal the
number of ```python fences in the file, counted by plain string search rather than by the parser.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import time
import traceback

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HINTS = BOOK / "appendix_hints.md"
PYTHON_FENCE = "```python"
CHAPTER_TIMEOUT = 900  # seconds for one chapter and its blocks; a smoke chapter takes well under a minute
TRACEBACK_LINES = 12  # of a failure's traceback, in the failure message


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced Python block of the hints: its chapter, the hint it belongs to, and its code (dedented)."""

    chapter: int
    hint: str  # "6.1": chapter 6, hint 1
    line: int  # line of the opening fence in appendix_hints.md, from 1
    source: str

    @property
    def first_line(self) -> str:
        return next(line for line in self.source.splitlines() if line.strip())


def parse_hints(text: str) -> list[Block]:
    """The ```python blocks of the hints' text, each under its "## Chapter N" heading and numbered hint.

    Fences may be indented (a block inside a list item); other fences (```bash, ...) are skipped. A Python
    block outside every chapter, or a fence that is never closed, raises ValueError.
    """
    blocks, chapter, hint = [], None, None
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        heading, item = re.match(r"## Chapter (\d+)\b", line), re.match(r"(\d+)\. ", line)
        if heading:
            chapter, hint = int(heading.group(1)), None
        elif item:
            hint = item.group(1)
        elif line.lstrip().startswith("```"):
            opening, info = index + 1, line.strip()[3:].strip()
            body = []
            index += 1
            while index < len(lines) and not re.fullmatch(r"\s*```+\s*", lines[index]):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise ValueError(f"appendix_hints.md line {opening}: the fence opened here is never closed.")
            if info == "python":
                if chapter is None:
                    raise ValueError(f"appendix_hints.md line {opening}: a Python block before the first "
                                     "'## Chapter N' heading has no chapter to run after.")
                label = f"{chapter}.{hint}" if hint else f"{chapter} (line {opening})"
                blocks.append(Block(chapter, label, opening, textwrap.dedent("\n".join(body))))
        index += 1
    return blocks


def chapter_notebook(chapter: int) -> pathlib.Path:
    """book/NN_*.ipynb for chapter NN."""
    found = sorted(BOOK.glob(f"{chapter:02d}_*.ipynb"))
    if len(found) != 1:
        raise ValueError(f"chapter {chapter} should have exactly one notebook book/{chapter:02d}_*.ipynb; "
                         f"found {[p.name for p in found]}.")
    return found[0]


def _without_magics(source: str) -> str:
    """The cell's code with IPython magics and shell escapes (lines starting with % or !) blanked."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _describe(error: BaseException) -> str:
    """'TypeError: message' and the last lines of the traceback."""
    tail = "".join(traceback.format_exception(error)).rstrip().splitlines()[-TRACEBACK_LINES:]
    return f"{type(error).__name__}: {error}\n" + "\n".join(tail)


def run_chapter(chapter: int) -> dict:
    """Execute the chapter's notebook in this process, then each of its hint blocks in a copy of its namespace.

    Returns notebook (file name), notebook_error (None or where and why the notebook failed), notebook_seconds,
    and blocks: one record per block executed (hint, line, first_line, error or None, seconds).
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_utils import book

    notebook = chapter_notebook(chapter)
    blocks = [block for block in parse_hints(HINTS.read_text()) if block.chapter == chapter]
    setup_source = "".join(book.setup_cell(notebook)["source"])
    result = {"notebook": notebook.name, "notebook_error": None, "notebook_seconds": None, "blocks": []}
    from IPython.display import display  # a builtin in every Jupyter kernel, so chapters call it without import

    namespace = {"__name__": "__main__", "display": display}
    previous_directory = os.getcwd()
    os.chdir(BOOK)
    try:
        started = time.perf_counter()
        for index, cell in enumerate(json.loads(notebook.read_text())["cells"]):
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or source == setup_source:
                continue
            try:
                exec(compile(_without_magics(source), f"{notebook.name}, cell {index}", "exec"), namespace)
            except Exception as error:
                result["notebook_error"] = f"cell {index} raised {_describe(error)}"
                return result
            finally:
                plt.close("all")
        result["notebook_seconds"] = time.perf_counter() - started
        for block in blocks:
            started, error = time.perf_counter(), None
            try:
                exec(compile(block.source, f"appendix_hints.md, hint {block.hint}", "exec"), dict(namespace))
            except Exception as raised:
                error = _describe(raised)
            finally:
                plt.close("all")
            result["blocks"].append({"hint": block.hint, "line": block.line, "first_line": block.first_line,
                                     "error": error, "seconds": time.perf_counter() - started})
        return result
    finally:
        os.chdir(previous_directory)


def run_chapter_in_fresh_process(chapter: int, workdir: pathlib.Path) -> dict:
    """run_chapter in a new Python process (this file as a script), with this process's environment
    (GAN_BOOK_PROFILE and GAN_BOOK_CACHE from conftest.py); failures of the process become notebook_error."""
    out = workdir / "result.json"
    command = [sys.executable, str(pathlib.Path(__file__).resolve()), str(chapter), str(out)]
    try:
        child = subprocess.run(command, cwd=ROOT, env=dict(os.environ, MPLBACKEND="Agg"), capture_output=True,
                               text=True, timeout=CHAPTER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"notebook": f"chapter {chapter}", "blocks": [],
                "notebook_error": f"the chapter and its hints took more than {CHAPTER_TIMEOUT} s"}
    if not out.exists():
        tail = "\n".join((child.stderr or child.stdout).rstrip().splitlines()[-TRACEBACK_LINES:])
        return {"notebook": f"chapter {chapter}", "blocks": [],
                "notebook_error": f"its process exited with code {child.returncode} before reporting:\n{tail}"}
    return json.loads(out.read_text())


try:
    BLOCKS, PARSE_ERROR = parse_hints(HINTS.read_text()), None
except ValueError as parse_error:  # reported by test_hints_parse, not as a collection error of the whole run
    BLOCKS, PARSE_ERROR = [], str(parse_error)
CHAPTERS = sorted({block.chapter for block in BLOCKS})


@pytest.fixture(scope="module")
def chapter_run(tmp_path_factory):
    """chapter -> its run_chapter result, each chapter executed at most once per test session."""
    runs = {}

    def run(chapter: int) -> dict:
        if chapter not in runs:
            runs[chapter] = run_chapter_in_fresh_process(chapter, tmp_path_factory.mktemp(f"hints_chapter_{chapter}"))
        return runs[chapter]

    return run


def test_parse_hints_finds_indented_python_blocks_under_their_chapter_and_hint():
    text = textwrap.dedent("""\
        # Hints
        ## Chapter 2: The generator
        1. **One.** Prose only, and `inline_code()`.
        2. **Two.** A block inside the list item:

           ```python
           x = 1

           assert x == 1
           ```
        ## Chapter 10: Translation
        3. **Three.**

           ```bash
           python -m gan_utils train
           ```
           ```python
           y = 2
           ```
        """)
    blocks = parse_hints(text)
    assert [(b.chapter, b.hint, b.line) for b in blocks] == [(2, "2.2", 6), (10, "10.3", 17)]
    assert blocks[0].source == "x = 1\n\nassert x == 1" and blocks[0].first_line == "x = 1"
    assert text.count(PYTHON_FENCE) == len(blocks)


def test_parse_hints_refuses_a_block_without_a_chapter_and_an_unclosed_fence():
    with pytest.raises(ValueError, match="before the first '## Chapter N' heading"):
        parse_hints("# Hints\n```python\nx = 1\n```\n")
    with pytest.raises(ValueError, match="line 3: the fence opened here is never closed"):
        parse_hints("## Chapter 1\n1. **A.**\n   ```python\n   x = 1\n")


def test_hints_parse_and_every_chapter_with_blocks_has_its_notebook():
    assert PARSE_ERROR is None, PARSE_ERROR
    assert BLOCKS, f"{HINTS.name} has no ```python blocks to run"
    for chapter in CHAPTERS:
        chapter_notebook(chapter)  # raises with the chapter's number when its notebook is missing


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: f"hint {block.hint}")
def test_hint_block_runs_after_its_chapter(block, chapter_run):
    run = chapter_run(block.chapter)
    assert run["notebook_error"] is None, (
        f"chapter {block.chapter}'s notebook {run['notebook']} failed before its hints could run (the "
        f"chapter's own failure, not hint {block.hint}'s): {run['notebook_error']}")
    record = next((r for r in run["blocks"] if r["line"] == block.line), None)
    assert record is not None, f"chapter {block.chapter}, hint {block.hint} (`{block.first_line}`) was not executed"
    assert record["error"] is None, (
        f"chapter {block.chapter}, hint {block.hint}, the block starting `{record['first_line']}` "
        f"(appendix_hints.md line {block.line}) raised {record['error']}")


def test_every_python_block_of_the_hints_was_executed(chapter_run):
    fences = HINTS.read_text().count(PYTHON_FENCE)  # independent of parse_hints
    runs = {chapter: chapter_run(chapter) for chapter in CHAPTERS}
    executed = sum(len(run["blocks"]) for run in runs.values())
    per_chapter = ", ".join(f"chapter {c}: {len(run['blocks'])}" + (" (notebook failed)" if run["notebook_error"]
                                                                    else "") for c, run in runs.items())
    assert executed == fences, (
        f"{HINTS.name} has {fences} {PYTHON_FENCE} fences but {executed} blocks were executed ({per_chapter}). "
        f"A fence the parser does not recognise, or a chapter whose notebook fails, leaves blocks unrun.")


if __name__ == "__main__":  # the fresh process of run_chapter_in_fresh_process: CHAPTER RESULT_JSON
    pathlib.Path(sys.argv[2]).write_text(json.dumps(run_chapter(int(sys.argv[1]))))
