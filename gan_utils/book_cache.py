"""Keeps the book's execution cache honest: a notebook runs again when anything its outputs depend on changes.

Jupyter Book's cache (`execute_notebooks: cache`) keys a notebook by its code cells alone, so a changed
gan_utils module, profile, fetched dataset or results file would leave stale outputs in the book. Listed as a
Sphinx extension in _config.yml, this module fingerprints what else each notebook depends on:
  - the profile it runs in (GAN_BOOK_PROFILE, or gpu/cpu by hardware, as the notebook itself decides);
  - the source of every gan_utils module it imports, followed through gan_utils' own imports, and the files in
    gan_utils that are not Python (the shipped feature classifiers);
  - every file or folder outside its own folder that its code names by a relative path ("../showcase/...");
  - for a notebook that reads fetched files (the emoji, the CJK fonts), which are there (names, sizes, times).
The fingerprint each cache record was executed with is kept beside the cache. A notebook whose fingerprint
differs from its record's, or whose code has no record (an emptied cache, a failed execution), loses its record
and is read again, so it executes.
After the build, _build/execution.json says which notebooks executed in that build and which came from the cache.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import pathlib
import time

PACKAGE = "gan_utils"
REPORT = "execution.json"  # written beside the html folder
SIDECAR = "gan_book_inputs.json"  # in the jupyter-cache folder: record id -> the fingerprint it ran with


def python_source(code: str) -> str:
    """A notebook cell's code as plain Python: IPython's magics and shell escapes turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)


def _module_file(module: str, root: pathlib.Path) -> pathlib.Path | None:
    """The source file of a dotted module name under root, or None when it is not a module there."""
    base = root.joinpath(*module.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Dotted names imported by a module's syntax tree, relative imports resolved against `module`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                parts = parts[:len(parts) - node.level + is_package]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def code_root(package: str = PACKAGE) -> pathlib.Path:
    """The folder that holds the package as Python imports it (the repository for an editable install)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{package!r} is not an importable package here; install it (pip install -e .) first.")
    return pathlib.Path(list(spec.submodule_search_locations)[0]).resolve().parent


def imported_modules(code: str, root: pathlib.Path, package: str = PACKAGE) -> dict[str, pathlib.Path]:
    """The modules of `package` (found under root) that running `code` imports, with their parent packages,
    followed through the package's own imports (module name -> source file)."""
    tree = ast.parse(python_source(code))
    pending = [name for name in _imports(tree, "__main__", False) if name.split(".")[0] == package]
    found: dict[str, pathlib.Path] = {}
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            module = ".".join(parts[:depth])
            path = _module_file(module, root)
            if path is None or module in found:
                continue
            found[module] = path
            inner = ast.parse(path.read_text(encoding="utf-8"), str(path))
            pending += [n for n in _imports(inner, module, path.name == "__init__.py") if n.split(".")[0] == package]
    return found


def named_paths(code: str, folder: pathlib.Path) -> list[pathlib.Path]:
    """Files and folders outside `folder` (the notebook's own folder, where it runs and writes its runs) that the
    code names by a string literal holding a relative path that exists: what it reads, not what it wrote."""
    paths = set()
    for node in ast.walk(ast.parse(python_source(code))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/" in node.value \
                and not node.value.startswith("/") and "\n" not in node.value and len(node.value) < 300:
            path = (folder / node.value).resolve()
            if path.exists() and not path.is_relative_to(folder.resolve()):
                paths.add(path)
    return sorted(paths)


def package_data(root: pathlib.Path, package: str = PACKAGE) -> list[pathlib.Path]:
    """The package's files that are not Python source or bytecode (the shipped classifiers), sorted."""
    return sorted(p for p in (root / package).rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc"))


def _hash_path(digest, path: pathlib.Path) -> None:
    """Feeds a file's bytes, or every file under a folder with its relative name, to the digest."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(f"{file.relative_to(path) if file != path else file.name}\0".encode())
        digest.update(file.read_bytes())


def fetched_state() -> dict[str, list]:
    """For each module that reads fetched files (emoji, cjk): [name, size, mtime in ns] of those present. Every
    load checks their sha256; this notices that a fetch happened."""
    from gan_utils import cjk, emoji, registry

    state = {}
    for module in (emoji, cjk):
        paths = [registry.cache_dir() / file.name for file in module.FILES.values()]
        state[module.__name__] = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in paths if p.is_file()]
    return state


def profile_name() -> str:
    """The profile a notebook started now would run in."""
    from gan_utils import settings

    return settings.choose_profile()[0].name


def notebook_inputs(notebook: pathlib.Path, book_root: pathlib.Path, *, profile: str, fetched: dict,
                    package: str = PACKAGE, modules_root: pathlib.Path | None = None) -> dict:
    """What a notebook's outputs depend on besides its code: {profile, modules and package_data (relative to the
    folder holding the package, by default as imported), paths (relative to the book's root), fetched}."""
    import nbformat

    modules_root = code_root(package) if modules_root is None else modules_root
    cells = nbformat.read(notebook, as_version=4).cells
    code = "\n".join(python_source(c.source) for c in cells if c.cell_type == "code")
    modules = imported_modules(code, modules_root, package)
    book_root = book_root.resolve()
    return {"profile": profile,
            "modules": {name: str(path.relative_to(modules_root)) for name, path in sorted(modules.items())},
            "package_data": [str(p.relative_to(modules_root)) for p in package_data(modules_root, package)]
            if modules else [],
            "paths": [str(p.relative_to(book_root)) for p in named_paths(code, notebook.parent)
                      if p.is_relative_to(book_root)],
            "fetched": {name: state for name, state in sorted(fetched.items()) if name in modules}}


def fingerprint(inputs: dict, book_root: pathlib.Path, modules_root: pathlib.Path) -> str:
    """The sha256 of a notebook's inputs: the listing itself and the bytes of every module, package file and path
    in it."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode())
    for relative in [*inputs["modules"].values(), *inputs["package_data"]]:
        _hash_path(digest, modules_root / relative)
    for relative in inputs["paths"]:
        _hash_path(digest, book_root / relative)
    return digest.hexdigest()


def _cache_record(cache, notebook: pathlib.Path):
    """The jupyter-cache record that myst-nb would reuse for the notebook's code, or None."""
    import nbformat

    try:
        return cache.match_cache_notebook(nbformat.read(notebook, as_version=4))
    except KeyError:
        return None


def _known(cache) -> dict[str, str]:
    """The fingerprint each cache record was executed with (record id -> fingerprint), kept in the cache folder."""
    path = pathlib.Path(cache.path) / SIDECAR
    return json.loads(path.read_text()) if path.is_file() else {}


def _remember(cache, known: dict[str, str]) -> None:
    """Writes the record id -> fingerprint map beside the cache."""
    path = pathlib.Path(cache.path) / SIDECAR
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    os.replace(partial, path)  # atomic: an interrupted build leaves the old file or the new one


def _notebooks(env) -> dict[str, pathlib.Path]:
    """The book's notebooks, docname -> path."""
    paths = {docname: pathlib.Path(env.doc2path(docname)) for docname in sorted(env.found_docs)}
    return {docname: path for docname, path in paths.items() if path.suffix == ".ipynb"}


def stale_notebooks(app, env, added, changed, removed) -> list[str]:
    """Sphinx's env-get-outdated: the notebooks to read (and so execute) again, their cache records dropped."""
    from jupyter_cache import get_cache

    cache = get_cache(env.mystnb_config.execution_cache_path)
    known = _known(cache)
    profile, fetched = profile_name(), fetched_state()
    package = app.config.book_cache_package
    book_root, modules_root = pathlib.Path(app.srcdir), code_root(package)
    app.gan_book_fingerprints, stale = {}, []
    for docname, notebook in _notebooks(env).items():
        inputs = notebook_inputs(notebook, book_root, profile=profile, fetched=fetched, package=package,
                                 modules_root=modules_root)
        app.gan_book_fingerprints[docname] = fingerprint(inputs, book_root, modules_root)
        record = _cache_record(cache, notebook)
        if record is not None and known.get(str(record.pk)) == app.gan_book_fingerprints[docname]:
            continue
        if record is not None:
            cache.remove_cache(record.pk)
            known.pop(str(record.pk), None)
        stale.append(docname)
    _remember(cache, known)
    if stale:
        print(f"book cache: {len(stale)} notebook(s) to execute: {', '.join(stale)}")
    return stale


def write_report(app, exception) -> None:
    """At build-finished: remembers the inputs of each cached notebook, and writes _build/execution.json: whether
    each notebook executed in this build or came from the cache, its seconds, and when it finished (epoch s)."""
    from jupyter_cache import get_cache
    from myst_nb.sphinx_ import NbMetadataCollector

    env = app.env
    cache = get_cache(env.mystnb_config.execution_cache_path)
    known, report = _known(cache), {}
    for docname, notebook in _notebooks(env).items():
        record = _cache_record(cache, notebook)
        if record is not None and docname in getattr(app, "gan_book_fingerprints", {}):
            known[str(record.pk)] = app.gan_book_fingerprints[docname]
        data = NbMetadataCollector.get_exec_data(env, docname) or {}
        report[docname] = {"executed": bool(data) and data.get("mtime", 0) >= app.gan_book_started,
                           "seconds": data.get("runtime"), "finished": data.get("mtime"),
                           "cached": record is not None}
    _remember(cache, known)
    path = pathlib.Path(app.outdir).parent / REPORT
    path.write_text(json.dumps(report, indent=1) + "\n")
    executed = [name for name, entry in report.items() if entry["executed"]]
    print(f"book cache: {len(executed)} notebook(s) executed in this build, "
          f"{len(report) - len(executed)} from the cache or unchanged; see {path}")


def setup(app):
    app.gan_book_started = time.time()
    app.add_config_value("book_cache_package", PACKAGE, "env")  # the package whose modules are followed
    app.connect("env-get-outdated", stale_notebooks)
    app.connect("build-finished", write_report)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
