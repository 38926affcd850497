"""The landing page's figure is what book/figures/front_grid.py makes from the showcase (seed 0, no selection),
and the page shows it with the emoji attribution."""
import pathlib

import numpy as np
import pytest
from fixtures import fetched, load_script
from PIL import Image

from gan_utils import emoji

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "book" / "figures" / "front_grid.py"


def _script():
    return load_script(SCRIPT)


def test_tiles_lay_images_out_row_by_row_with_white_gaps():
    script = _script()
    images = np.stack([np.full((64, 64, 3), value, np.float32) for value in np.linspace(-1, 1, 16)])
    grid = script.tiles(images)
    step = 64 + script.GAP
    assert grid.shape == (4 * 64 + 3 * script.GAP,) * 2 + (3,)
    assert (grid[0, 0] == 0).all() and (grid[-1, -1] == 255).all()  # the first image black, the last white
    assert (grid[0, step] == np.round((np.linspace(-1, 1, 16)[1] + 1) * 127.5)).all()  # the second, to its right
    assert (grid[step, 0] == np.round((np.linspace(-1, 1, 16)[4] + 1) * 127.5)).all()  # the fifth, below the first
    assert (grid[:, 64:step] == 255).all()  # a gap


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji files are not fetched: python -m gan_utils fetch emoji")
def test_the_committed_figure_is_what_the_script_makes():
    made = np.asarray(_script().front_grid(), np.int16)
    committed = np.asarray(Image.open(SCRIPT.with_suffix(".png")).convert("RGB"), np.int16)
    assert made.shape == committed.shape
    difference = np.abs(made - committed)
    # float rounding may differ by a level between CPUs; a different seed, model or selection differs by far more
    assert difference.mean() < 0.5 and np.percentile(difference, 99.9) <= 8, difference.mean()


def test_the_landing_page_shows_the_figure_with_the_attribution():
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "figures/front_grid.png" in intro
    figure = intro[intro.index("figures/front_grid.png"):]
    assert emoji.ATTRIBUTION in " ".join(figure[:figure.index("\n```")].split())
