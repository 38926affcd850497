"""Makes front_grid.png, the landing page's figure: the showcase generator's first 16 samples from seed 0, none
selected and none left out, beside 16 real emoji of the designs it trained on, drawn with seed 0.

    python book/figures/front_grid.py    (needs the emoji: python -m gan_utils fetch emoji)

tests/test_front_grid.py checks that the committed image is what this script makes.
"""
import json
import pathlib

import numpy as np
from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent
SHOWCASE = HERE.parents[1] / "showcase" / "emoji-stylegan2"
OUT = HERE / "front_grid.png"
SEED = 0
SIDE = 4  # each grid is SIDE x SIDE images
GAP = 4  # white pixels between images, at the image's own scale
SCALE = 2  # nearest-neighbour enlargement, so that 64x64 emoji stay crisp on the page


def tiles(images: np.ndarray) -> np.ndarray:
    """SIDE x SIDE images in [-1, 1] (N, 64, 64, 3) as one uint8 grid with white gaps."""
    from gan_utils import plots

    mosaic = plots.images_to_mosaic(np.clip(images[:SIDE * SIDE], -1.0, 1.0), ncols=SIDE, pad=GAP)
    return np.round(mosaic * 255.0).astype(np.uint8)


def front_grid() -> Image.Image:
    """Samples on the left, real training emoji on the right, 4 GAPs apart."""
    from gan_utils import emoji, train

    count = SIDE * SIDE
    samples = train.sample(train.load_generator(SHOWCASE), count, seed=SEED)
    dataset = emoji.load()
    heldout = json.loads((SHOWCASE / "run.json").read_text())["heldout"]  # the stems it never saw
    training = np.flatnonzero(~np.isin(dataset.ids, heldout))
    real = dataset.images[np.sort(np.random.default_rng(SEED).choice(training, count, replace=False))]
    left, right = tiles(samples), tiles(real)
    space = np.full((left.shape[0], 4 * GAP, 3), 255, np.uint8)
    picture = Image.fromarray(np.concatenate([left, space, right], axis=1))
    return picture.resize((picture.width * SCALE, picture.height * SCALE), Image.NEAREST)


if __name__ == "__main__":
    front_grid().save(OUT, optimize=True)
    print(f"wrote {OUT}")
