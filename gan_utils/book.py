"""Helpers for the book's notebooks: the Colab setup cell and myst-nb glue.

`python -m gan_utils.book` rewrites every notebook's first cell from _config.yml.
"""
from __future__ import annotations

import json
import pathlib

SETUP_CELL_TAG = "colab-setup"
COLAB_CLONE = "/content/gan-book"  # where Colab keeps the clone


def colab_setup_source(config_path: str | pathlib.Path = "_config.yml") -> str:
    """The first code cell of every chapter: in Colab, clones the book's repository at the configured ref,
    installs gan_utils from it and moves into its book/ folder, as a local run would be; elsewhere nothing."""
    import yaml

    repository = yaml.safe_load(pathlib.Path(config_path).read_text())["repository"]
    clone = ["git", "clone", "-q", "--depth", "1", "--branch", repository["branch"], repository["url"], COLAB_CLONE]
    return (
        "# Colab setup: clones the book's repository and installs gan_utils from it; outside Colab it does nothing.\n"
        "import os, subprocess, sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    print(\"Colab: getting the book's code ({COLAB_CLONE}) and installing gan_utils from it...\")\n"
        f"    if not os.path.isdir(\"{COLAB_CLONE}\"):\n"
        f"        subprocess.run({json.dumps(clone)}, check=True)\n"
        f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"{COLAB_CLONE}\"], check=True)\n"
        f"    os.chdir(\"{COLAB_CLONE}/book\")  # chapters run from book/, as they do locally"
    )


def colab_url(notebook_path: str | pathlib.Path, config_path: str | pathlib.Path = "_config.yml") -> str:
    """The Colab address of a notebook, built from _config.yml as the book's launch button builds it:
    <launch_buttons.colab_url>/github/<owner>/<repo>/blob/<repository.branch>/<path_to_book>/<notebook>.

    A relative notebook_path is taken from the book's root (the folder holding _config.yml); an absolute
    one must lie under it. repository.url must be a GitHub address: Colab opens notebooks only from there."""
    from urllib.parse import urlsplit

    import yaml

    config_path = pathlib.Path(config_path)
    config = yaml.safe_load(config_path.read_text())
    repository = config["repository"]
    url = urlsplit(repository["url"])
    parts = [p for p in url.path.split("/") if p]
    if url.netloc.lower() not in ("github.com", "www.github.com") or len(parts) != 2:
        raise ValueError(f"repository.url {repository['url']!r} is not https://github.com/<owner>/<repo>")
    owner, repo = parts[0], parts[1].removesuffix(".git")
    notebook = pathlib.Path(notebook_path)
    if notebook.is_absolute():
        notebook = notebook.resolve().relative_to(config_path.resolve().parent)
    colab = ((config.get("launch_buttons") or {}).get("colab_url") or "https://colab.research.google.com").rstrip("/")
    book_dir = "/".join(p for p in str(repository.get("path_to_book") or "").strip().split("/") if p not in ("", "."))
    path = "/".join(p for p in (book_dir, notebook.as_posix()) if p)
    return f"{colab}/github/{owner}/{repo}/blob/{repository['branch']}/{path}"


def setup_cell(notebook_path: str | pathlib.Path) -> dict:
    """The notebook's first code cell, which must be the Colab setup cell."""
    cells = json.loads(pathlib.Path(notebook_path).read_text())["cells"]
    code_cells = [cell for cell in cells if cell["cell_type"] == "code"]
    if not code_cells:
        raise ValueError(f"{notebook_path} has no code cell; its first code cell must be the Colab setup cell.")
    return code_cells[0]


def sync_colab_cells(root: str | pathlib.Path = ".") -> list[pathlib.Path]:
    """Rewrite the Colab setup cell of every notebook under root/book; returns the notebooks changed."""
    root = pathlib.Path(root)
    source = colab_setup_source(root / "_config.yml")
    changed = []
    for path in sorted((root / "book").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        if "".join(cell["source"]) != source:
            cell["source"] = source.splitlines(keepends=True)
            cell.setdefault("metadata", {})["tags"] = [SETUP_CELL_TAG, "remove-output"]
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            changed.append(path)
    return changed


def glue(name: str, value, display: bool = False) -> None:
    """Publish `value` under `name` for the page's prose ({glue:text}`name`); a no-op without myst-nb."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab and plain Jupyter: the prose is not rendered from the run there
        return
    myst_glue(name, value, display=display)


if __name__ == "__main__":
    for notebook_path in sync_colab_cells():
        print(f"updated {notebook_path}")
