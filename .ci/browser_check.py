"""Opens every built page of the book in headless Chromium and fails on what a reader would see broken.

Serves _build/html (or HTML_DIR) on 127.0.0.1 from a thread and drives Debian's chromium through Debian's
chromedriver with Selenium (both found on PATH, never downloaded). For every page of _toc.yml, plus the
redirecting index.html, genindex.html and search.html (with a query, which must find something), it checks:
  - no console error (browser log level SEVERE: script errors, resources that failed to load), and no request
    that the server answered with an error (a favicon that 404s counts) or that went to another host;
  - every <img> loaded (lazy images are made eager, the page is scrolled, then complete && naturalWidth > 0);
  - maths: MathJax comes from the book itself (a local script, not a CDN), MathJax.startup.promise resolves,
    every element with class "math" holds an <mjx-container>, no <mjx-merror> and no undefined macro (which
    MathJax shows in red), no raw TeX left in or outside the maths, no MathJax font that failed to load;
  - launch links: a chapter built from book/NN_name.ipynb has a Colab link, and every Colab link on any page is
    exactly <colab_url>/github/<owner>/<repo>/blob/<branch>/<path_to_book>/<page>.ipynb (from _config.yml);
  - attribution: a page that shows emoji or Chinese characters (ATTRIBUTED) shows their licence line.
Prints one line per page and the totals; exits 1 with the list of problems.

Usage: python .ci/browser_check.py [HTML_DIR] [--allow-missing]
  --allow-missing  for local runs only: a _toc.yml page that was not built is reported, not failed.
Environment: BROWSER_CHECK_CHROME / BROWSER_CHECK_CHROMEDRIVER override the executables found on PATH.
"""
import argparse
import functools
import http.server
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time

import yaml

from gan_utils import cjk, emoji
from gan_utils.book import colab_url

ROOT = pathlib.Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAGE_TIMEOUT = 60  # seconds for one page to load, its images to arrive and MathJax to finish
SEARCH_QUERY = "?q=discriminator"  # the search page is opened with a query and must list results
# The pages that show emoji or Chinese characters (or samples of models trained on them), and the attribution
# lines their licences ask for, word for word.
ATTRIBUTED = {"book/intro.html": [emoji.ATTRIBUTION],
              "book/datasets.html": [emoji.ATTRIBUTION, cjk.ATTRIBUTION],
              "book/08_modern.html": [emoji.ATTRIBUTION, cjk.ATTRIBUTION],
              "book/09_editing.html": [emoji.ATTRIBUTION],
              "book/10_translation.html": [emoji.ATTRIBUTION, cjk.ATTRIBUTION]}

SEARCH_JS = r"""
const done = arguments[arguments.length - 1];
const started = Date.now();
(function poll() {
  const hits = document.querySelectorAll('#search-results ul.search li').length;
  if (hits || Date.now() - started > 15000) done(hits); else setTimeout(poll, 100);
})();
"""

# Runs in the page (async): makes lazy images eager, scrolls through the page, waits for every image to settle,
# for MathJax to finish typesetting and for the fonts it asked for; then reports what the checks need.
INSPECT_JS = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  // The first page a fresh Chromium opens can be handed over before it has loaded: wait for it.
  while (document.readyState !== 'complete') await sleep(50);
  const images = [...document.images];
  for (const img of images) if (img.loading === 'lazy') img.loading = 'eager';
  const height = document.documentElement.scrollHeight;
  for (let y = 0; y < height; y += window.innerHeight) { window.scrollTo(0, y); await sleep(20); }
  window.scrollTo(0, 0);
  await Promise.all(images.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r, {once: true}); img.addEventListener('error', r, {once: true});
  })));
  let mathjax = null;
  if (window.MathJax) {
    mathjax = {version: MathJax.version || null, startup: !!(MathJax.startup && MathJax.startup.promise), error: null};
    try { if (mathjax.startup) await MathJax.startup.promise; } catch (e) { mathjax.error = String(e); }
  }
  await document.fonts.ready;
  // Inside MathJax's own record of what it typeset: TeX errors (merror) and undefined macros, which
  // MathJax's noundefined package shows as red text instead of an error.
  const texErrors = [];
  const doc = window.MathJax && MathJax.startup && MathJax.startup.document;
  if (doc && doc.math) {
    for (const item of doc.math) {
      if (!item.root) continue;
      item.root.walkTree(node => {
        if (node.isKind('merror')) {
          texErrors.push(`error ${node.attributes.get('data-mjx-error') || ''} in ${item.math}`);
        } else if (node.isKind('mtext') && node.attributes.get('mathcolor') === 'red'
                   && /^\\/.test(node.getText())) {
          texErrors.push(`undefined macro ${node.getText()} in ${item.math}`);
        }
      });
    }
  }
  const rawTex = /\\\(|\\\[|\$\$|\\(begin|end|frac|mathbb|mathcal|mathbf|mathrm|sum|int|nabla|log|exp|theta|sim|left|right)\b/;
  const maths = [...document.querySelectorAll('.math')].map(el => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('mjx-container, .headerlink, .eqno').forEach(n => n.remove());
    return {
      rendered: el.querySelector('mjx-container') !== null,
      merror: [...el.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || 'error'),
      left: copy.textContent.trim(),
      source: el.textContent.slice(0, 80),
    };
  });
  // Raw TeX outside the maths elements (a formula the parser did not see); code is allowed to show TeX, and so are
  // the search page's excerpts, which Sphinx takes from the pages' source text.
  const stray = [];
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('pre, code, script, style, mjx-container, .math, .highlight, .cell_output .output, '
                                   + '#search-results')) continue;
    if (rawTex.test(node.textContent)) stray.push(node.textContent.trim().slice(0, 80));
  }
  done({
    url: location.href,
    title: document.title,
    images: images.map(img => ({src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0})),
    maths, stray, mathjax, texErrors,
    mathjaxScripts: [...document.scripts].map(s => s.src).filter(src => /mathjax/i.test(src)),
    mathjaxFonts: [...document.fonts].filter(f => /^MJX/.test(f.family)).map(f => ({family: f.family, status: f.status})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    resources: performance.getEntriesByType('resource').map(e => e.name),
  });
})().catch(e => done({fatal: String(e && e.stack || e)}));
"""


def toc_pages() -> list[str]:
    """The page names of _toc.yml in reading order (root, then parts/chapters/sections, recursively)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [str(pathlib.PurePosixPath(p).with_suffix("")) if p.endswith((".md", ".ipynb")) else p for p in pages]


def colab_host() -> str:
    """The Colab address prefix that launch links start with, from _config.yml."""
    launch = yaml.safe_load((ROOT / "_config.yml").read_text()).get("launch_buttons") or {}
    colab = (launch.get("colab_url") or "").rstrip("/")
    if not colab:
        raise SystemExit("_config.yml: launch_buttons.colab_url is not set")
    return colab + "/"


def find_executables() -> tuple[str, str, str]:
    """(chromium, chromedriver, versions): a browser whose major version is the driver's."""
    def version(exe):
        try:
            out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError) as err:
            return f"? ({err})", None
        match = re.search(r"(\d+)\.\d+\.\d+", out)
        return (out.strip().splitlines() or ["?"])[0], match and match.group(1)

    driver = os.environ.get("BROWSER_CHECK_CHROMEDRIVER") or shutil.which("chromedriver")
    if not driver and os.environ.get("CHROMEWEBDRIVER"):  # GitHub's Ubuntu runners
        driver = shutil.which("chromedriver", path=os.environ["CHROMEWEBDRIVER"])
    if not driver:
        raise SystemExit("browser check: no chromedriver on PATH; install Debian's chromium-driver "
                         "(apt-get install chromium chromium-driver) or set BROWSER_CHECK_CHROMEDRIVER")
    driver_version, driver_major = version(driver)
    names = [os.environ["BROWSER_CHECK_CHROME"]] if os.environ.get("BROWSER_CHECK_CHROME") else BROWSERS
    seen = []
    for name in names:
        browser = shutil.which(name)
        if browser:
            browser_version, major = version(browser)
            if major and major == driver_major:
                return browser, driver, f"{browser_version} | {driver_version}"
            seen.append(f"{browser}: {browser_version}")
    raise SystemExit(f"browser check: no Chromium matching {driver} ({driver_version}) among "
                     f"{', '.join(names)}; found: {'; '.join(seen) or 'none'}. Install Debian's chromium "
                     "and chromium-driver (same version) or set BROWSER_CHECK_CHROME")


class Server:
    """http.server on 127.0.0.1 in a thread; remembers every request it answered with an error status."""

    def __init__(self, directory: pathlib.Path):
        self.errors: list[tuple[str, int]] = []
        self.root = directory
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                if isinstance(code, int) and code >= 400 or str(code).isdigit() and int(code) >= 400:
                    server.errors.append((self.path, int(code)))

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def take_errors(self) -> list[tuple[str, int]]:
        errors, self.errors = self.errors, []
        return errors

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def start_browser(browser: str, driver: str):
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager must never fetch anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    chrome.set_page_load_timeout(PAGE_TIMEOUT)
    chrome.set_script_timeout(PAGE_TIMEOUT)
    return chrome


def follow_redirect(chrome, server: Server, page: str):
    """Waits until a page that redirects by meta refresh (index.html, to the intro) has left: a script started on
    the redirecting page dies with it, which Chromium reports as a script timeout."""
    from selenium.webdriver.support.ui import WebDriverWait

    source = (server.root / page.split("?")[0]).read_text(errors="replace")
    if re.search(r"<meta[^>]+http-equiv=[\"']?refresh", source, re.IGNORECASE):
        left = server.base + page
        WebDriverWait(chrome, PAGE_TIMEOUT).until(
            lambda c: c.current_url != left and c.execute_script("return document.readyState") == "complete")


def check_page(chrome, server: Server, page: str, ipynb: pathlib.Path | None, colab: str):
    """Opens one page: (summary line, problems, images, broken images, maths elements, rendered ones)."""
    problems = []
    started = time.monotonic()
    chrome.get(server.base + page)
    follow_redirect(chrome, server, page)
    result = chrome.execute_async_script(INSPECT_JS)
    if "fatal" in result:
        return f"FAIL {page}: could not be inspected", [f"{page}: inspecting it failed: {result['fatal']}"], 0, 0, 0, 0

    for entry in chrome.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"{page}: console error: {entry['message'][:300]}")
    for path, code in server.take_errors():
        problems.append(f"{page}: the server answered {code} for {path}")
    for url in sorted(set(result["resources"]) | {i["src"] for i in result["images"]}):
        if url.startswith(("http:", "https:")) and not url.startswith(server.base):
            problems.append(f"{page}: loads {url} from another host (the book must work offline)")

    images = result["images"]
    broken = [i["src"] for i in images if not i["ok"]]
    problems += [f"{page}: image did not load: {src.removeprefix(server.base)}" for src in broken]

    maths, mathjax = result["maths"], result["mathjax"]
    rendered = sum(m["rendered"] for m in maths)
    if maths:
        if not result["mathjaxScripts"]:
            problems.append(f"{page}: {len(maths)} maths elements but no MathJax script")
        elif not mathjax or not mathjax["startup"]:
            problems.append(f"{page}: MathJax 3 did not start (its script failed to load?)")
        elif mathjax["error"]:
            problems.append(f"{page}: MathJax failed: {mathjax['error']}")
        missed = [m["source"] for m in maths if not m["rendered"]]
        if missed:
            examples = ", ".join(repr(source) for source in missed[:3])
            problems.append(f"{page}: {len(missed)}/{len(maths)} maths elements not rendered, e.g. {examples}")
        for m in maths:
            if m["rendered"] and re.search(r"\\|\$", m["left"]):
                problems.append(f"{page}: raw TeX left beside the rendered maths: {m['left'][:80]!r}")
    problems += [f"{page}: TeX {error[:160]!r}" for error in result["texErrors"]]
    merrors = sum(len(m["merror"]) for m in maths)  # <mjx-merror> in the page, seen from the DOM
    if merrors > sum(not e.startswith("undefined macro") for e in result["texErrors"]):
        problems.append(f"{page}: {merrors} <mjx-merror> element(s): {[e for m in maths for e in m['merror']][:3]}")
    for script in result["mathjaxScripts"]:
        if not script.startswith(server.base):
            problems.append(f"{page}: MathJax comes from {script}, not from the book")
    problems += [f"{page}: raw TeX outside maths: {text!r}" for text in result["stray"]]
    problems += [f"{page}: MathJax font {f['family']} failed to load"
                 for f in result["mathjaxFonts"] if f["status"] == "error"]

    text = " ".join(chrome.execute_script("return document.body.innerText").split())
    problems += [f"{page}: shows images that need the attribution line {line!r}, which the page lacks"
                 for line in ATTRIBUTED.get(page, []) if line not in text]

    launch = sorted({link for link in result["links"] if link.startswith(colab)})
    if ipynb is not None:
        expected = colab_url(ipynb.relative_to(ROOT), ROOT / "_config.yml")  # as the README's badges
        if not launch:
            problems.append(f"{page}: no Colab launch link (expected {expected})")
        problems += [f"{page}: Colab link {link} is not {expected}" for link in launch if link != expected]
        colab_state = "colab ok" if launch == [expected] else "colab BAD"
    else:
        problems += [f"{page}: Colab link {link} on a page without a notebook" for link in launch]
        colab_state = "colab -" if not launch else "colab BAD"

    if page.startswith("search.html?"):
        hits = chrome.execute_async_script(SEARCH_JS)
        if not hits:
            problems.append(f"{page}: the search lists no result")
        problems += [f"{page}: console error: {entry['message'][:300]}"
                     for entry in chrome.get_log("browser") if entry["level"] == "SEVERE"]

    landed = result["url"].removeprefix(server.base)
    line = (f"{'ok  ' if not problems else 'FAIL'} {page:<34} images {len(images) - len(broken)}/{len(images)}"
            f"  maths {rendered}/{len(maths)}  {colab_state:<9}  problems {len(problems)}"
            f"  ({time.monotonic() - started:.1f} s){f'  -> {landed}' if landed != page else ''}")
    return line, problems, len(images), len(broken), len(maths), rendered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("html", nargs="?", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--allow-missing", action="store_true",
                        help="local runs only: report (not fail) _toc.yml pages that were not built")
    args = parser.parse_args()
    html = args.html.resolve()
    if not (html / "index.html").is_file() and not any(html.glob("*.html")):
        raise SystemExit(f"browser check: {html} holds no built book (run jupyter-book build . first)")

    problems, notes = [], []
    pages = []
    for name in toc_pages():
        source = next((ROOT / f"{name}{ext}" for ext in (".ipynb", ".md") if (ROOT / f"{name}{ext}").exists()), None)
        ipynb = source if source is not None and source.suffix == ".ipynb" else None
        if (html / f"{name}.html").is_file():
            pages.append((f"{name}.html", ipynb))
        else:
            (notes if args.allow_missing else problems).append(f"{name}: _toc.yml entry has no page {name}.html")
    problems += [f"{page}: in ATTRIBUTED but not in _toc.yml" for page in ATTRIBUTED
                 if page.removesuffix(".html") not in toc_pages()]
    for extra in ("index.html", "genindex.html", "search.html"):
        if (html / extra).is_file():
            pages.append((extra + SEARCH_QUERY if extra == "search.html" else extra, None))
        else:
            problems.append(f"{extra}: not built")

    browser, driver, versions = find_executables()
    print(f"browser: {versions}")
    colab = colab_host()
    server = Server(html)
    chrome = start_browser(browser, driver)
    totals = [0, 0, 0, 0]
    started = time.monotonic()
    try:
        for page, ipynb in pages:
            try:
                line, found, *counts = check_page(chrome, server, page, ipynb, colab)
            except Exception as err:  # a page that hangs or crashes the tab: report it, go on
                line, found, counts = f"FAIL {page}: {type(err).__name__}", [f"{page}: {err}"], [0, 0, 0, 0]
            print(line, flush=True)
            problems += found
            totals = [t + c for t, c in zip(totals, counts)]
    finally:
        chrome.quit()
        server.close()

    images, broken, maths, rendered = totals
    print(f"\ntotal: {len(pages)} pages, {images - broken}/{images} images loaded, "
          f"{rendered}/{maths} maths elements rendered, {len(problems)} problem(s), "
          f"{time.monotonic() - started:.0f} s")
    for note in notes:
        print(f"NOT CHECKED (--allow-missing): {note}")
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s) in {html}:", *problems, sep="\n  ")
        return 1
    print("browser check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
