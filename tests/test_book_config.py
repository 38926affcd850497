"""How the book is reached from outside: the Colab badges in README.md and the GitHub Pages workflow.

The notebooks' own house rules (no outputs, Colab setup cell, table of contents) are in test_notebooks.py.
"""
import json
import pathlib
import re

import pytest
import yaml

from gan_utils import book

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))  # appendices and front matter have no NN_ prefix
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE = re.compile(r"\[!\[[^\]]*\]\(" + re.escape(BADGE_IMAGE) + r"\)\]\(([^)\s]+)\)")
PAGES = ROOT / ".github" / "workflows" / "pages.yml"
GPU_VARIABLE = "GPU_RUNNER"


# --- colab_url ---------------------------------------------------------------------------------------

def _config(tmp_path, path_to_book, url="https://github.com/someone/some-book", colab="https://colab.example.org"):
    config = tmp_path / "_config.yml"
    config.write_text(yaml.safe_dump({
        "repository": {"url": url, "path_to_book": path_to_book, "branch": "v2"},
        "launch_buttons": {"colab_url": colab},
    }))
    return config


@pytest.mark.parametrize("path_to_book", ["", ".", None])
def test_colab_url_without_path_to_book(tmp_path, path_to_book):
    config = _config(tmp_path, path_to_book)
    expected = "https://colab.example.org/github/someone/some-book/blob/v2/book/03_x.ipynb"
    assert book.colab_url("book/03_x.ipynb", config) == expected
    assert book.colab_url(tmp_path / "book" / "03_x.ipynb", config) == expected  # absolute, under the book root


def test_colab_url_with_path_to_book(tmp_path):
    config = _config(tmp_path, "./docs/gan/", url="https://github.com/someone/some-book.git/", colab="https://colab.example.org/")
    assert book.colab_url("book/03_x.ipynb", config) == (
        "https://colab.example.org/github/someone/some-book/blob/v2/docs/gan/book/03_x.ipynb")


def test_colab_url_defaults_to_colab_and_needs_a_github_repository(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/someone/some-book\n  branch: main\n")
    assert book.colab_url("book/01_a.ipynb", config) == (
        "https://colab.research.google.com/github/someone/some-book/blob/main/book/01_a.ipynb")
    config.write_text("repository:\n  url: https://gitlab.com/someone/some-book\n  branch: main\n")
    with pytest.raises(ValueError, match="github.com"):
        book.colab_url("book/01_a.ipynb", config)


# --- README.md: one Colab badge per chapter ----------------------------------------------------------

def _number_and_title(path):
    """The chapter number and title from the notebook's first markdown heading, '# N. Title'."""
    cells = json.loads(path.read_text())["cells"]
    markdown = next(cell for cell in cells if cell["cell_type"] == "markdown")
    heading = next(line for line in "".join(markdown["source"]).splitlines() if line.startswith("# "))
    match = re.fullmatch(r"#\s+(\d+)\.\s+(.+?)\s*", heading)
    assert match, f"{path.name}: its first heading {heading!r} is not '# N. Title'"
    return match[1], match[2]


def _expected_rows():
    return [f"| {number} | {title} | [![Open In Colab]({BADGE_IMAGE})]({book.colab_url(path.relative_to(ROOT), CONFIG)}) |"
            for path in CHAPTERS for number, title in [_number_and_title(path)]]


def test_readme_has_one_colab_badge_per_chapter_in_order():
    readme = (ROOT / "README.md").read_text()
    expected = [book.colab_url(path.relative_to(ROOT), CONFIG) for path in CHAPTERS]
    hint = "README.md's Colab table should read:\n" + "\n".join(_expected_rows())
    assert BADGE.findall(readme) == expected, hint
    assert readme.count(BADGE_IMAGE) == len(CHAPTERS), hint  # no badge in another form either


def test_readme_badge_rows_name_their_chapters():
    lines = {link: line for line in (ROOT / "README.md").read_text().splitlines() for link in BADGE.findall(line)}
    for path in CHAPTERS:
        number, title = _number_and_title(path)
        line = lines.get(book.colab_url(path.relative_to(ROOT), CONFIG), "")
        assert f"| {number} |" in line and title in line, f"{path.name}: its README row {line!r} lacks {number}, {title!r}"


# --- .github/workflows/pages.yml ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def workflow():
    return yaml.safe_load(PAGES.read_text())


def _steps(job):
    return job.get("steps", [])


def _job_using(workflow, action):
    jobs = [job for job in workflow["jobs"].values() if any(s.get("uses", "").startswith(action + "@") for s in _steps(job))]
    assert len(jobs) == 1, f"pages.yml: expected one job using {action}, found {len(jobs)}"
    return jobs[0]


def _literal(text):
    text = text.strip()
    if match := re.fullmatch(r"fromJSON\('(.*)'\)", text):
        return json.loads(match[1])
    if match := re.fullmatch(r"'(.*)'", text):
        return match[1]
    return int(text)


def _evaluate(expression, gpu_runner):
    """Evaluates the one expression form pages.yml uses: ${{ vars.GPU_RUNNER == 'true' && A || B }}."""
    match = re.fullmatch(r"\$\{\{\s*vars\.(\w+)\s*==\s*'true'\s*&&\s*(.+?)\s*\|\|\s*(.+?)\s*\}\}", str(expression).strip())
    assert match and match[1] == GPU_VARIABLE, f"pages.yml: {expression!r} is not ${{{{ vars.{GPU_VARIABLE} == 'true' && A || B }}}}"
    return _literal(match[2] if gpu_runner else match[3])


def test_pages_runs_on_push_to_main_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    assert triggers["push"] == {"branches": ["main"]} and "workflow_dispatch" in triggers
    assert workflow["concurrency"]["group"] == "pages"


def test_pages_deploys_with_the_official_actions(workflow):
    build = _job_using(workflow, "actions/upload-pages-artifact")
    upload = next(s for s in _steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert _job_using(workflow, "actions/configure-pages") is build
    deploy = _job_using(workflow, "actions/deploy-pages")
    assert deploy["environment"]["name"] == "github-pages"
    assert {"pages": "write", "id-token": "write"}.items() <= {**workflow.get("permissions", {}), **deploy.get("permissions", {})}.items()
    name = next(key for key, job in workflow["jobs"].items() if job is build)
    assert name in ([deploy["needs"]] if isinstance(deploy["needs"], str) else deploy["needs"])


def test_pages_builds_with_warnings_as_errors_then_checks_the_html(workflow):
    build = _job_using(workflow, "actions/upload-pages-artifact")
    runs = [s.get("run", "") for s in _steps(build)]
    uses = [s.get("uses", "") for s in _steps(build)]
    built = next(i for i, run in enumerate(runs) if re.search(r"^\s*jupyter-book build \.(?=.*\s-W(\s|$))", run, re.M))
    checked = next(i for i, run in enumerate(runs) if "python .ci/check_book.py" in run)
    uploaded = next(i for i, use in enumerate(uses) if use.startswith("actions/upload-pages-artifact@"))
    assert built < checked < uploaded


@pytest.mark.parametrize("gpu_runner, runner, profile", [(True, ["self-hosted", "gpu"], "gpu"), (False, "ubuntu-latest", "cpu")])
def test_pages_profile_and_runner_follow_the_documented_variable(workflow, gpu_runner, runner, profile):
    build = _job_using(workflow, "actions/upload-pages-artifact")
    assert _evaluate(build["runs-on"], gpu_runner) == runner
    assert _evaluate(build["env"]["GAN_BOOK_PROFILE"], gpu_runner) == profile
    header = PAGES.read_text().split("\nname:")[0]
    assert f"vars.{GPU_VARIABLE}" in str(build["runs-on"]) and GPU_VARIABLE in header and "Untested" in header


def test_pages_gpu_profile_installs_the_cuda_wheels_of_the_pinned_tensorflow(workflow):
    version = re.search(r"^tensorflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)[1]
    build = _job_using(workflow, "actions/upload-pages-artifact")
    install = next(s["run"] for s in _steps(build) if f'"tensorflow[and-cuda]=={version}"' in s.get("run", ""))
    assert install.index("-r requirements.txt") < install.index("tensorflow[and-cuda]")
    gpu_only = r'if \[ "\$GAN_BOOK_PROFILE" = "?gpu"? \]; then(?:(?!\bfi\b).)*pip install "tensorflow\[and-cuda\]'
    assert re.search(gpu_only, install, re.S), "pages.yml: the CUDA wheels must be installed in the gpu profile only"



# --- the README's table of the gpu profile in part two ----------------------------------------------------------

def test_the_readmes_part_two_profile_table_matches_the_profiles():
    from gan_utils import settings

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### The `gpu` profile in part two"):]
    rows = re.findall(r"^\| \d+ \| [^|]+ \| `(\w+)` \| ([\d,]+) \| ([\d,]+) \|$", section, re.M)
    assert len(rows) == 10, rows
    for field, cpu, gpu in rows:
        assert int(cpu.replace(",", "")) == getattr(settings.PROFILES["cpu"], field), field
        assert int(gpu.replace(",", "")) == getattr(settings.PROFILES["gpu"], field), field
