"""Checks the built book in _build/html after `jupyter-book build .`.

Every _toc.yml entry has a page; every notebook chapter shows at least one figure;
every relative <img src> exists; no page shows a traceback or an error on stderr;
every script, stylesheet and icon a page loads is a file of the book (nothing from a CDN or another host);
a page with maths loads MathJax from the book, and the MathJax copy has its CHTML fonts.
With --fresh (CI, after building from an empty cache): every notebook executed in that build, none came from the
cache (_build/execution.json, written by gan_utils/book_cache.py).
(.ci/browser_check.py then opens every page in headless Chromium.)
Run from anywhere: `python .ci/check_book.py [HTML_DIR] [--fresh]`. Exits 1 with the list of problems.
"""
import json
import pathlib
import re
import sys
from urllib.parse import unquote, urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = pathlib.Path(__file__).resolve().parents[1]


def fresh_execution(report_path: pathlib.Path, expected: set[str]) -> list[str]:
    """Problems unless every expected notebook executed in the build that wrote the report."""
    if not report_path.is_file():
        return [f"{report_path}: no execution report (is gan_utils.book_cache in _config.yml's extensions?)"]
    report = json.loads(report_path.read_text())
    executed = {name for name, entry in report.items() if entry["executed"]}
    print(f"execution: {len(executed)} of {len(expected)} notebooks executed in this build")
    return [f"{name}: its outputs came from the cache, not from this build (CI must start from an empty cache)"
            for name in sorted(expected - executed)]


def main() -> int:
    arguments = [a for a in sys.argv[1:] if a != "--fresh"]
    html = pathlib.Path(arguments[0]) if arguments else ROOT / "_build" / "html"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    chapters = {e for e in entries if (ROOT / f"{e}.ipynb").exists()}
    problems, images = [], 0

    missing = [e for e in entries if not (html / f"{e}.html").is_file()]
    problems += [f"{e}: no page {e}.html" for e in missing]
    print(f"pages: {len(entries) - len(missing)}/{len(entries)} table-of-contents entries have a page")

    pages = [p for p in sorted(html.rglob("*.html")) if not p.relative_to(html).parts[0].startswith("_")]
    assets = 0
    fonts = html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    if not any(fonts.glob("MathJax_Main-Regular.woff")):
        problems.append(f"no MathJax CHTML fonts in {fonts.relative_to(html)} (sphinx-mathjax-offline missing?)")
    for page in pages:
        name = str(page.relative_to(html))
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        links = [(t, t.get("src")) for t in soup.find_all("script") if t.get("src")]
        links += [(t, t.get("href")) for t in soup.find_all("link", href=True)
                  if {"stylesheet", "icon", "preload"} & set(t.get("rel") or [])]
        for tag, ref in links:
            url = urlsplit(ref)
            if url.scheme or url.netloc:
                problems.append(f"{name}: <{tag.name}> loads {ref} from another host (the book must work offline)")
                continue
            assets += 1
            if not (page.parent / unquote(url.path)).is_file():
                problems.append(f"{name}: <{tag.name}> {ref} does not exist")
        if soup.select(".math"):
            mathjax = [src for tag, src in links if tag.name == "script" and "mathjax" in src.lower()]
            if not mathjax:
                problems.append(f"{name}: has maths but loads no MathJax")
        for img in soup.find_all("img"):
            src = urlsplit(img.get("src", ""))
            if src.scheme or src.netloc or not src.path:  # data: URIs and remote images
                continue
            images += 1
            if not (page.parent / unquote(src.path)).is_file():
                problems.append(f"{name}: image {src.path} does not exist")
        if "Traceback" in soup.get_text():
            problems.append(f"{name}: shows a Traceback")
        for output in soup.select(".cell_output .traceback, .cell_output .stderr"):
            if "traceback" in output["class"] or "Error" in output.get_text():
                problems.append(f"{name}: error output: {output.get_text().strip()[:200]!r}")
        for output in soup.select(".cell_output"):  # a Markdown table that was not rendered shows as | text
            if re.search(r"^\s*\|.*\|\s*\n\s*\|.*\|\s*$", output.get_text(), re.MULTILINE):
                problems.append(f"{name}: an output shows a Markdown table as raw text")
        stem = name.removesuffix(".html")
        if stem in chapters:
            figures = (soup.find("article") or soup).find_all("img")
            print(f"figures: {name} has {len(figures)}")
            if not figures:
                problems.append(f"{name}: notebook chapter has no figure (<img>)")
    print(f"images: {images} relative <img src> checked; errors: {len(pages)} pages scanned for tracebacks")
    print(f"assets: {assets} local scripts, stylesheets and icons checked")
    if "--fresh" in sys.argv:
        problems += fresh_execution(html.parent / "execution.json", chapters)  # every notebook of the toc

    if problems:
        print(f"\nFAILED: {len(problems)} problem(s) in {html}:", *problems, sep="\n  ")
        return 1
    print("book check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
