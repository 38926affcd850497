"""House rules for the chapters: stored without outputs, Colab cell in sync, figures shown, listed in the table of
contents."""
import ast
import json
import pathlib

import pytest
import yaml

from gan_utils import book

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_the_book_has_notebooks():
    assert NOTEBOOKS, "book/ holds no chapter notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {index} holds outputs; clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} holds an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    notebook = json.loads(path.read_text())
    assert (notebook["nbformat"], notebook["nbformat_minor"]) >= (4, 5), "cell ids need nbformat 4.5"
    ids = [cell.get("id") for cell in notebook["cells"]]
    assert None not in ids, f"{path.name}: cell {ids.index(None)} has no id (nbformat warns, and will refuse it)"
    assert len(set(ids)) == len(ids), f"{path.name}: repeated cell ids"


def _unshown_figures(source: str) -> list[str]:
    """Bare calls that draw a new, unregistered Figure (gan_utils.plots without ax=, the static style explorer)
    anywhere but as the cell's last statement: Jupyter shows such a Figure only as the cell's value."""
    tree = ast.parse("\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!"))))
    last = tree.body[-1] if tree.body else None
    found = []
    for node in ast.walk(tree):
        if node is last or not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            continue
        name = ast.unparse(node.value.func)
        if (name.startswith("plots.") or name.endswith("static_style_explorer")) and not any(
                keyword.arg == "ax" for keyword in node.value.keywords):
            found.append(name)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_a_cell_draws_is_shown(path):
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            unshown = _unshown_figures("".join(cell["source"]))
            assert not unshown, (f"{path.name} cell {index}: {unshown} draw a Figure that is never shown (not the "
                                 "cell's last statement); wrap the call in display(...)")


def test_the_figure_check_tells_shown_from_unshown():
    assert _unshown_figures("plots.image_grid(x)\nprint(1)") == ["plots.image_grid"]
    assert _unshown_figures("for a in b:\n    plots.plot_curves(a)\nprint(1)") == ["plots.plot_curves"]
    assert not _unshown_figures("print(1)\nplots.image_grid(x)")  # the cell's value: shown
    assert not _unshown_figures("display(plots.image_grid(x))\nprint(1)")
    assert not _unshown_figures("plots.image_grid(x, ax=axes[0])\nplt.show()")  # drawn on a pyplot figure


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_setup_cell_matches_config(path):
    expected = book.colab_setup_source(ROOT / "_config.yml")
    assert "".join(book.setup_cell(path)["source"]) == expected, (
        f"{path.name}'s Colab cell is out of date; run `python -m gan_utils.book` from the repository root"
    )


def test_colab_setup_source_installs_from_the_configured_repository(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/me/book\n  branch: v1.2\n")
    source = book.colab_setup_source(config)
    assert '"--branch", "v1.2", "https://example.org/me/book", "/content/gan-book"' in source
    assert '"install", "-q", "/content/gan-book"' in source and 'os.chdir("/content/gan-book/book")' in source
    assert 'if "google.colab" in sys.modules:' in source


def test_colab_setup_cell_does_nothing_outside_colab(tmp_path, monkeypatch):
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(book.colab_setup_source(ROOT / "_config.yml"), {})
    assert calls == []


def test_sync_rewrites_a_stale_setup_cell(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    stale = {"cells": [{"cell_type": "code", "source": ["print('old')"], "metadata": {}, "outputs": [],
                        "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "book" / "01_x.ipynb").write_text(json.dumps(stale))
    assert [p.name for p in book.sync_colab_cells(tmp_path)] == ["01_x.ipynb"]
    assert "".join(book.setup_cell(tmp_path / "book" / "01_x.ipynb")["source"]) == book.colab_setup_source(
        tmp_path / "_config.yml")
    assert book.sync_colab_cells(tmp_path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_has_summary_and_exercises_and_is_in_the_toc(path):
    markdown = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    assert "## Summary" in markdown and "## Exercises" in markdown
    toc = (ROOT / "_toc.yml").read_text()
    assert f"book/{path.stem}" in toc


def test_every_toc_entry_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    missing = [e for e in entries if not any((ROOT / f"{e}{ext}").exists() for ext in (".md", ".ipynb"))]
    assert missing == []
