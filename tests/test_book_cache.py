"""The book's execution cache is never stale: a notebook's fingerprint follows its imports, the files it names,
the profile and fetched data; and a real Jupyter Book build executes only the notebooks whose inputs changed."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml

from gan_utils import book_cache

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _package(root: pathlib.Path) -> None:
    """pkg: a uses b (relative import), sub.d uses b and c (from the parent package); e is never imported."""
    files = {"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "VALUE = 1\n",
             "pkg/c.py": "", "pkg/e.py": "", "pkg/sub/__init__.py": "",
             "pkg/sub/d.py": "def f():\n    from ..b import VALUE\n    import pkg.c\n    return VALUE\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _notebook(path: pathlib.Path, *sources: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path)
    return path


def test_imports_are_followed_through_relative_and_nested_imports(tmp_path):
    _package(tmp_path)
    found = book_cache.imported_modules("%matplotlib inline\nfrom pkg import a\nimport numpy\n", tmp_path, "pkg")
    assert set(found) == {"pkg", "pkg.a", "pkg.b"}
    found = book_cache.imported_modules("import pkg.sub.d as d\n!ls\n", tmp_path, "pkg")
    assert set(found) == {"pkg", "pkg.sub", "pkg.sub.d", "pkg.b", "pkg.c"}
    assert found["pkg.sub"] == tmp_path / "pkg" / "sub" / "__init__.py"


def test_named_paths_are_existing_inputs_outside_the_notebooks_folder(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("{}")
    (tmp_path / "book" / "runs" / "r").mkdir(parents=True)  # what a chapter writes lies in its own folder
    code = 'a = "../results/x.json"\nb = "runs/r"\nc = "../missing/y.json"\nd = "no slash"\ne = f"../results"\n'
    assert book_cache.named_paths(code, tmp_path / "book") == [tmp_path / "results", tmp_path / "results" / "x.json"]


def _fingerprint(root, notebook, profile="smoke", fetched=None):
    inputs = book_cache.notebook_inputs(notebook, root, profile=profile, fetched=fetched or {}, package="pkg",
                                        modules_root=root)
    return book_cache.fingerprint(inputs, root, root)


def test_the_fingerprint_changes_with_each_input_and_only_with_them(tmp_path):
    _package(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("{}")
    notebook = _notebook(tmp_path / "book" / "ch.ipynb", "from pkg import a", 'open("../results/x.json")')
    first = _fingerprint(tmp_path, notebook)
    assert _fingerprint(tmp_path, notebook) == first  # nothing changed

    (tmp_path / "pkg" / "e.py").write_text("# a module the notebook never imports\n")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"bytecode")
    (tmp_path / "book" / "notes.md").write_text("a file in the notebook's own folder")
    assert _fingerprint(tmp_path, notebook) == first
    assert _fingerprint(tmp_path, notebook, fetched={"pkg.e": [["f.tgz", 1, 2]]}) == first  # e not imported

    changes = []
    (tmp_path / "pkg" / "b.py").write_text("VALUE = 2\n")  # imported by a, which the notebook imports
    changes.append(_fingerprint(tmp_path, notebook))
    (tmp_path / "results" / "x.json").write_text('{"fid": 3}')
    changes.append(_fingerprint(tmp_path, notebook))
    changes.append(_fingerprint(tmp_path, notebook, profile="cpu"))
    changes.append(_fingerprint(tmp_path, notebook, fetched={"pkg.b": [["f.tgz", 1, 2]]}))
    (tmp_path / "pkg" / "classifiers").mkdir()
    (tmp_path / "pkg" / "classifiers" / "w.npz").write_bytes(b"weights")  # the package's data: a shipped classifier
    changes.append(_fingerprint(tmp_path, notebook, fetched={"pkg.b": [["f.tgz", 1, 2]]}))
    (tmp_path / "pkg" / "classifiers" / "w.npz").write_bytes(b"retrained")
    changes.append(_fingerprint(tmp_path, notebook, fetched={"pkg.b": [["f.tgz", 1, 2]]}))
    assert len({first, *changes}) == 7


def test_the_real_chapters_depend_on_what_they_read():
    profile, fetched = "smoke", {"gan_utils.emoji": [], "gan_utils.cjk": []}
    translation = book_cache.notebook_inputs(ROOT / "book" / "10_translation.ipynb", ROOT, profile=profile,
                                             fetched=fetched)
    assert {"gan_utils.translation", "gan_utils.pairs", "gan_utils.models.unet"} <= set(translation["modules"])
    assert "benchmarks/results/translation.json" in translation["paths"]
    assert set(translation["fetched"]) == {"gan_utils.emoji", "gan_utils.cjk"}
    theory = book_cache.notebook_inputs(ROOT / "book" / "01_theory.ipynb", ROOT, profile=profile, fetched=fetched)
    assert "gan_utils.translation" not in theory["modules"] and not theory["paths"] and not theory["fetched"]


def test_the_modules_are_read_where_python_imports_them_from():
    assert (book_cache.code_root() / "gan_utils" / "book_cache.py").is_file()
    with pytest.raises(ValueError, match="not an importable package"):
        book_cache.code_root("no_such_package_here")


def _build(book: pathlib.Path) -> dict:
    """Builds the tiny book with Jupyter Book; returns its execution report."""
    env = {**os.environ, "PYTHONPATH": str(book)}  # the kernel and the fingerprints find pkg in the book
    jupyter_book = pathlib.Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run([str(jupyter_book), "build", str(book), "-W", "-n"], cwd=book, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return {name: entry["executed"] for name, entry in
            json.loads((book / "_build" / book_cache.REPORT).read_text()).items()}


@pytest.fixture
def tiny_book(tmp_path):
    _package(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.json").write_text("1")
    _notebook(tmp_path / "book" / "uses_b.ipynb", "# Uses b", "from pkg import a\nprint(f'VALUE={a.b.VALUE}')")
    _notebook(tmp_path / "book" / "reads_x.ipynb", "# Reads x", 'print(open("../results/x.json").read())')
    for path in (tmp_path / "book").glob("*.ipynb"):  # a title, as Jupyter Book wants one per page
        notebook = nbformat.read(path, 4)
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {path.stem}"))
        nbformat.write(notebook, path)
    (tmp_path / "intro.md").write_text("# Tiny\n")
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump({"format": "jb-book", "root": "intro", "chapters": [
        {"file": "book/uses_b"}, {"file": "book/reads_x"}]}))
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({
        "title": "Tiny", "only_build_toc_files": True, "exclude_patterns": ["_build", "pkg", "results"],
        "execute": {**config["execute"], "execute_notebooks": "cache"},
        "sphinx": {"extra_extensions": ["gan_utils.book_cache"],
                   "config": {"book_cache_package": "pkg"}}}))
    return tmp_path


def test_a_build_executes_only_the_notebooks_whose_inputs_changed(tiny_book):
    assert _build(tiny_book) == {"book/uses_b": True, "book/reads_x": True}  # an empty cache
    assert _build(tiny_book) == {"book/uses_b": False, "book/reads_x": False}  # nothing changed

    (tiny_book / "pkg" / "b.py").write_text("VALUE = 2\n")  # imported through pkg.a
    assert _build(tiny_book) == {"book/uses_b": True, "book/reads_x": False}
    assert "VALUE=2" in (tiny_book / "_build" / "html" / "book" / "uses_b.html").read_text()  # the new output

    (tiny_book / "results" / "x.json").write_text("7")
    assert _build(tiny_book) == {"book/uses_b": False, "book/reads_x": True}

    # an emptied cache, with Sphinx's own records of the pages intact, executes everything again
    shutil.rmtree(tiny_book / "_build" / ".jupyter_cache")
    assert _build(tiny_book) == {"book/uses_b": True, "book/reads_x": True}


def test_the_book_uses_the_cache_and_the_extension():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "cache"
    assert "gan_utils.book_cache" in config["sphinx"]["extra_extensions"]
    assert not config["execute"].get("cache"), "the cache lives in _build/.jupyter_cache, outside version control"
    assert "_build/" in (ROOT / ".gitignore").read_text().split()

