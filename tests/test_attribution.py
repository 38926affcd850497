"""Attribution travels with the emoji: every notebook whose code uses the emoji data prints `emoji.ATTRIBUTION`,
and the README quotes the line exactly.

A static check of the notebooks' source, so that a later chapter cannot show emoji, or train on them, and forget
the licence line; it runs in milliseconds and needs neither the data nor a kernel.
"""
import json
import pathlib
import re

import pytest

from gan_utils import emoji

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
USES_EMOJI = re.compile(
    r"""\bemoji\s*\.\s*(load|arrays|decode|heldout|read_tarball)\s*\("""  # gan_utils.emoji's loaders
    r"""|["']emoji["']"""  # the dataset's name as a value: data.load("emoji"), dataset="emoji", default_recipe("emoji")
    r"""|--dataset[\s=]+["']?emoji\b"""  # the command line: train/evaluate --dataset emoji
)
REFERENCES_ATTRIBUTION = re.compile(r"\bemoji\s*\.\s*ATTRIBUTION\b")


def code_sources(notebook: dict) -> list[str]:
    """The source of each code cell of a notebook (its JSON, as loaded)."""
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def uses_emoji(sources: list[str]) -> bool:
    """True if any code cell loads the emoji data or names the dataset "emoji" (to load, train or score it)."""
    return any(USES_EMOJI.search(source) for source in sources)


def references_attribution(sources: list[str]) -> bool:
    """True if any code cell uses `emoji.ATTRIBUTION` (to print it under a figure)."""
    return any(REFERENCES_ATTRIBUTION.search(source) for source in sources)


@pytest.mark.parametrize("source", [
    "dataset = emoji.load()",
    "images = data.load('emoji', n=64).images",
    'ref = evaluate.reference("emoji", profile)',
    'recipe = recipes.default_recipe(dataset="emoji")',
    "!python -m gan_utils train --dataset emoji --out runs/emoji --minutes 1",
    'subprocess.run(["python", "-m", "gan_utils", "train", "--dataset", "emoji"])',
    "mask = emoji.heldout(dataset)",
])
def test_the_check_sees_code_that_uses_the_emoji_data(source):
    assert uses_emoji([source])


@pytest.mark.parametrize("source", [
    "from gan_utils import cjk, data, emoji",
    "dataset = data.load('digits')  # not emoji",
    "files = list(emoji.FILES.values())",
    "print(emoji.VERSION)",
])
def test_the_check_ignores_code_that_does_not_use_the_emoji_data(source):
    assert not uses_emoji([source])


def test_the_check_finds_the_attribution_in_code_only():
    assert references_attribution(["plt.show()\nprint(emoji.ATTRIBUTION)"])
    assert not references_attribution(["print('Emoji art: ...')"])  # a retyped line drifts: use the constant


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_that_uses_emoji_prints_their_attribution(path):
    sources = code_sources(json.loads(path.read_text()))
    if uses_emoji(sources):
        assert references_attribution(sources), (
            f"{path.name} uses the emoji data but never prints emoji.ATTRIBUTION; print it right under every "
            "figure that shows emoji or samples of a model trained on them: print(emoji.ATTRIBUTION)")


def test_the_datasets_page_uses_emoji_so_the_check_has_a_case():
    page = ROOT / "book" / "datasets.ipynb"
    sources = code_sources(json.loads(page.read_text()))
    assert uses_emoji(sources) and references_attribution(sources)


def test_the_readme_quotes_the_attribution_line_exactly():
    readme = (ROOT / "README.md").read_text()
    assert emoji.ATTRIBUTION in readme, (
        f"README.md's 'Datasets and attributions' must quote gan_utils.emoji.ATTRIBUTION exactly, on one line: "
        f"{emoji.ATTRIBUTION}")
