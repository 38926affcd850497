"""The hints of book/appendix_hints.md: parsed right, each chapter's blocks appended to its nbval run (by the root
conftest.py), and none left out.

The blocks themselves run as the last cells of their chapter's nbval run, in the kernel that has just executed
the chapter, as a reader runs them; a failing block fails there, named "hint 6.1 (appendix_hints.md line N)".
So that a hint can never stop being code silently, the blocks collected must be every ```python fence of the
file, counted by plain string search rather than by the parser.
"""
import collections
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from hint_blocks import HINTS, PYTHON_FENCE, Block, chapter_notebook, parse_hints

ROOT = pathlib.Path(__file__).resolve().parents[1]

try:
    BLOCKS, PARSE_ERROR = parse_hints(HINTS.read_text()), None
except ValueError as parse_error:  # reported by a test, not as a collection error of the whole run
    BLOCKS, PARSE_ERROR = [], str(parse_error)
CHAPTERS = sorted({block.chapter for block in BLOCKS})


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
    assert BLOCKS, f"{HINTS.name} has no {PYTHON_FENCE} blocks to run"
    assert HINTS.read_text().count(PYTHON_FENCE) == len(BLOCKS)  # every fence, counted without the parser
    for chapter in CHAPTERS:
        chapter_notebook(chapter)  # raises with the chapter's number when its notebook is missing


def test_a_hint_cell_runs_its_block_in_a_copy_of_the_namespace_and_names_it_in_tracebacks():
    namespace = {"x": 1}
    exec(Block(6, "6.1", 40, "y = x + 1\nx = 99").kernel_source(), namespace)
    assert namespace == {"x": 1, "__builtins__": namespace["__builtins__"]}  # nothing leaked back
    failing = Block(6, "6.2", 50, "z = 1\nraise RuntimeError('no')")
    with pytest.raises(RuntimeError) as raised:
        exec(failing.kernel_source(), {})
    assert raised.traceback[-1].path == "hint 6.2 (appendix_hints.md line 50)"


def test_every_block_is_collected_after_its_chapter():
    """`pytest --collect-only` lists each block as a cell of its chapter's notebook, after the chapter's own."""
    notebooks = [str(chapter_notebook(chapter).relative_to(ROOT)) for chapter in CHAPTERS]
    listing = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", *notebooks],
                             cwd=ROOT, capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert listing.returncode == 0, listing.stdout + listing.stderr
    ids = [line for line in listing.stdout.splitlines() if ".ipynb::" in line]
    collected = collections.defaultdict(list)
    for node in ids:
        notebook, name = node.split("::", 1)
        collected[notebook].append(name)
    for chapter in CHAPTERS:
        names = collected[str(chapter_notebook(chapter).relative_to(ROOT))]
        expected = [block.label for block in BLOCKS if block.chapter == chapter]
        first_hint = len(names) - len(expected)
        assert names[first_hint:] == expected, f"chapter {chapter}: collected {names}, expected its hints last"
        assert first_hint > 0 and all(name.startswith("Cell ") for name in names[:first_hint])
    assert sum(name.startswith("hint ") for names in collected.values() for name in names) == \
        HINTS.read_text().count(PYTHON_FENCE)
