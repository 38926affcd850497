"""Sphinx extension for the book's HTML (loaded through `sphinx: local_extensions` in _config.yml).

Fixes two faults that .ci/browser_check.py finds in a real browser and that no setting of jupyter-book 1 reaches:

1. Inline scripts twice. Sphinx 7.4 (jupyter-book 1 needs Sphinx 7) adds an inline <script> that an extension
   registers after the builder started once as filename None and once as '' and so keeps both
   (sphinx-doc/sphinx#13402, fixed in Sphinx 8.2). sphinx-thebe's `const THEBE_JS_URL = ...` then throws
   "Identifier 'THEBE_JS_URL' has already been declared" on every page. Duplicates are dropped per page.
2. No favicon. Without html_favicon every browser asks for /favicon.ico, which 404s (a console error). Unless
   _config.yml sets html.favicon, a small SVG icon written here is used; the index.html that only redirects to
   the first page (written by sphinx-external-toc) gets a link to it too.
"""
import os
import pathlib

FAVICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="12" fill="#1f4e79"/>
<circle cx="25" cy="32" r="15" fill="#ffffff" fill-opacity="0.9"/>
<circle cx="39" cy="32" r="15" fill="#f2a900" fill-opacity="0.85"/>
</svg>
"""


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", script) or "", getattr(script, "priority", None),
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def default_favicon(app, config):
    if config.html_favicon:
        return
    path = pathlib.Path(app.doctreedir) / "favicon.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != FAVICON_SVG:
        path.write_text(FAVICON_SVG)
    config.html_favicon = str(path)  # an absolute path: Sphinx copies it to _static/favicon.svg


def favicon_on_redirect(app, exception):
    """Adds the favicon to the bare redirecting index.html, so that it asks for no /favicon.ico either."""
    favicon = app.config.html_favicon
    index = pathlib.Path(app.outdir) / "index.html"
    if exception is not None or app.builder.format != "html" or not favicon or not index.is_file():
        return
    text = index.read_text(encoding="utf8")
    if not text.startswith('<meta http-equiv="Refresh"') or 'rel="icon"' in text:
        return
    href = favicon if "://" in favicon else f"_static/{os.path.basename(favicon)}"
    index.write_text(f'<link rel="icon" href="{href}" />\n{text}', encoding="utf8")


def setup(app):
    app.connect("config-inited", default_favicon)
    app.connect("build-finished", favicon_on_redirect, priority=900)  # after sphinx-external-toc wrote it
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)  # after every other handler
    return {"parallel_read_safe": True, "parallel_write_safe": True}
