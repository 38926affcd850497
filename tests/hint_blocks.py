"""The fenced Python blocks of book/appendix_hints.md, and the kernel cell that runs one after its chapter.

The root conftest.py appends one such cell per block to its chapter's nbval run, so every hint runs in the
kernel that has just executed the chapter, as a reader runs it; tests/test_hints.py checks the parsing and
that no block is left out.
"""
from __future__ import annotations

import dataclasses
import pathlib
import re
import textwrap

BOOK = pathlib.Path(__file__).resolve().parents[1] / "book"
HINTS = BOOK / "appendix_hints.md"
PYTHON_FENCE = "```python"


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

    @property
    def label(self) -> str:
        """How the block is named in test reports and tracebacks."""
        return f"hint {self.hint} (appendix_hints.md line {self.line})"

    def kernel_source(self) -> str:
        """A cell that runs the block in a copy of the kernel's namespace, so one hint cannot change what the
        next one sees; its tracebacks name the hint."""
        return (f"# {self.label}, run in a copy of the chapter's namespace\n"
                f"exec(compile({self.source!r}, {self.label!r}, 'exec'), dict(globals()))")


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


def chapter_of(notebook: pathlib.Path) -> int | None:
    """NN for a chapter notebook book/NN_*.ipynb; None for the other pages (datasets, appendices)."""
    match = re.match(r"(\d\d)_", notebook.name)
    return int(match.group(1)) if match else None


def chapter_notebook(chapter: int) -> pathlib.Path:
    """book/NN_*.ipynb for chapter NN."""
    found = sorted(BOOK.glob(f"{chapter:02d}_*.ipynb"))
    if len(found) != 1:
        raise ValueError(f"chapter {chapter} should have exactly one notebook book/{chapter:02d}_*.ipynb; "
                         f"found {[p.name for p in found]}.")
    return found[0]
