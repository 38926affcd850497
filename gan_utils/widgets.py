"""Explore a generator's latent space: an interactive ipywidgets explorer, and its static twin for the HTML book.

LatentExplorer puts a generator behind a few controls (class, two seeds, an interpolation slider t and a truncation
threshold) so a reader with a running kernel can feel how moving z, or truncating it, changes the images.
The HTML book runs no kernel, so static_explorer draws the same walk as one Figure: a row per class, a column per t.

The generator is any callable generate(z, labels): z float32 (n, latent_dim), labels int64 (n,) or None for an
unconditional generator, returning float32 (n, H, W, C) images in [-1, 1]. A Keras model fits in a lambda, e.g.
`lambda z, labels: generator([z, labels], training=False).numpy()`; nothing here imports TensorFlow.
"""
from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import ipywidgets
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from gan_utils import latent, plots
from gan_utils.data import check_images
from gan_utils.validation import check_int

__all__ = ["LatentExplorer", "static_explorer", "png_mosaic"]

_RANGE_TOLERANCE = 1e-3  # float error allowed outside [-1, 1], as in gan_utils.plots; such values are clipped
_MAX_SEED = 2**31 - 1  # the seed boxes' upper bound: BoundedIntText needs one
TRUNCATION_THRESHOLDS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)  # the slider's stops before "off"


# ----------------------------------------------------------------------------- checks


def _check_generate(generate) -> Callable:
    if not callable(generate):
        raise TypeError(
            "generate must be a callable generate(z, labels) returning float32 (n, H, W, C) images in [-1, 1], "
            f"e.g. lambda z, labels: generator(z, training=False).numpy(); got {type(generate).__name__}."
        )
    return generate


def _check_class_names(class_names) -> list[str] | None:
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(class_names, Sequence | np.ndarray):
        raise TypeError(
            f"class_names must be a sequence of strings, one per class (label k is class_names[k]); "
            f"got {type(class_names).__name__}."
        )
    if len(class_names) == 0:
        raise ValueError("class_names is empty; pass one name per class, or None for an unconditional generator.")
    for index, name in enumerate(class_names):
        if not isinstance(name, str):
            raise TypeError(f"class_names must hold strings; class_names[{index}] is {type(name).__name__} {name!r}.")
    return [str(name) for name in class_names]


def _generate_images(generate: Callable, z: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """generate(z, labels) as float32 NHWC clipped to [-1, 1], one image per row of z; raises naming what is wrong."""
    images = np.asarray(generate(z, labels))
    if np.issubdtype(images.dtype, np.floating):
        images = images.astype(np.float32, copy=False)  # e.g. float16 from a mixed-precision model
    check_images(images, "generate(z, labels)'s output", tolerance=_RANGE_TOLERANCE)
    if len(images) != len(z):
        raise ValueError(
            f"generate(z, labels) returned {len(images)} images for {len(z)} latents (output shape {images.shape}); "
            "it must return one image per row of z."
        )
    return np.clip(images, -1.0, 1.0)


# ----------------------------------------------------------------------------- interactive explorer


def png_mosaic(images: np.ndarray, scale: int) -> bytes:
    """PNG bytes of the images as one row mosaic, enlarged `scale` times with nearest-neighbour."""
    mosaic = np.round(plots.images_to_mosaic(images, ncols=len(images)) * 255.0).astype(np.uint8)
    picture = Image.fromarray(mosaic)  # mode L for (H, W), RGB for (H, W, 3)
    picture = picture.resize((picture.width * scale, picture.height * scale), resample=Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()


class LatentExplorer:
    """Controls over a generator: row i walks by slerp from latent i of seed_a (t = 0) to latent i of seed_b (t = 1).

    z = truncate(slerp(z_a[i], z_b[i], t), threshold) (BigGAN's truncation; "off" keeps z); every control change
    redraws. Display it as the last line of a cell.
    """

    def __init__(
        self,
        generate: Callable,
        *,
        latent_dim: int,
        class_names: Sequence[str] | None = None,
        num_images: int = 8,
        seed: int = 0,
        scale: int = 3,
    ):
        self.generate = _check_generate(generate)
        self.latent_dim = check_int("latent_dim", latent_dim, 1)
        self.class_names = _check_class_names(class_names)
        self.num_images = check_int("num_images", num_images, 1)
        self.scale = check_int("scale", scale, 1)
        seed = check_int("seed", seed, 0)
        if seed >= _MAX_SEED:
            raise ValueError(f"seed must be below {_MAX_SEED}; got {seed}.")

        style = {"description_width": "initial"}
        self.class_dropdown = None  # unconditional: no class to choose
        if self.class_names is not None:
            self.class_dropdown = ipywidgets.Dropdown(
                options=[(name, index) for index, name in enumerate(self.class_names)], value=0,
                description="class", style=style,
            )
        self.seed_a = ipywidgets.BoundedIntText(value=seed, min=0, max=_MAX_SEED, description="seed A", style=style)
        self.seed_b = ipywidgets.BoundedIntText(value=seed + 1, min=0, max=_MAX_SEED, description="seed B", style=style)
        # continuous_update=False: a generator on a CPU redraws once per release, not a queue of stale frames.
        self.t = ipywidgets.FloatSlider(
            value=0.0, min=0.0, max=1.0, step=0.05, description="t (A → B)", readout_format=".2f",
            continuous_update=False, style=style,
        )
        self.threshold = ipywidgets.SelectionSlider(
            options=[*((f"{t:g}", t) for t in TRUNCATION_THRESHOLDS), ("off", math.inf)], value=math.inf,
            description="truncation", continuous_update=False, style=style,
        )
        self.image = ipywidgets.Image(format="png")
        controls = [control for control in (self.class_dropdown, self.seed_a, self.seed_b) if control is not None]
        self.widget = ipywidgets.VBox(
            [ipywidgets.HBox(controls), ipywidgets.HBox([self.t, self.threshold]), self.image]
        )

        self.z: np.ndarray | None = None  # the last drawn latents, labels and images
        self.labels: np.ndarray | None = None
        self.images: np.ndarray | None = None
        self.redraw()
        for control in (*controls, self.t, self.threshold):
            control.observe(lambda change: self.redraw(), names="value")

    def latents(self) -> np.ndarray:
        """The float32 (num_images, latent_dim) z the controls select."""
        z_a = latent.normal_latents(self.num_images, self.latent_dim, self.seed_a.value)
        z_b = latent.normal_latents(self.num_images, self.latent_dim, self.seed_b.value)
        z = np.stack([latent.slerp(z_a[i], z_b[i], self.t.value) for i in range(self.num_images)])
        return latent.truncate(z, self.threshold.value)

    def redraw(self) -> None:
        """Generate from the current controls and show the images; self.z, labels and images keep what was drawn."""
        z = self.latents()
        labels = None
        if self.class_dropdown is not None:
            labels = np.full(self.num_images, self.class_dropdown.value, dtype=np.int64)
        images = _generate_images(self.generate, z, labels)
        self.image.value = png_mosaic(images, self.scale)
        self.z, self.labels, self.images = z, labels, images

    def _ipython_display_(self):
        from IPython.display import display  # lazily: the explorer is built and tested without IPython

        display(self.widget)


# ----------------------------------------------------------------------------- static explorer


def static_explorer(
    generate: Callable,
    *,
    latent_dim: int,
    class_names: Sequence[str] | None = None,
    steps: int = 8,
    seed_a: int = 0,
    seed_b: int = 1,
    threshold: float = math.inf,
) -> Figure:
    """A Figure with one row per class (one row if unconditional) and `steps` columns, t = 0 ... 1 left to right.

    Column j shows truncate(slerp(z_a, z_b, t_j), threshold), where z_a and z_b are normal_latents(1, ...)[0] of the
    seeds.
    """
    generate = _check_generate(generate)
    class_names = _check_class_names(class_names)
    seed_a = check_int("seed_a", seed_a, 0)  # here, so an error names which seed; latent checks the rest
    seed_b = check_int("seed_b", seed_b, 0)
    z_a = latent.normal_latents(1, latent_dim, seed_a)[0]
    z_b = latent.normal_latents(1, latent_dim, seed_b)[0]
    z = latent.truncate(latent.interpolate(z_a, z_b, steps, method="slerp"), threshold)
    ts = np.linspace(0.0, 1.0, steps)  # interpolate's t values, for the column labels
    if class_names is None:
        rows = [_generate_images(generate, z, None)]
    else:
        rows = [
            _generate_images(generate, z, np.full(steps, index, dtype=np.int64)) for index in range(len(class_names))
        ]

    title = f"slerp from seed {seed_a} to seed {seed_b}" + (
        f", truncated at {float(threshold):g}" if threshold != math.inf else "")
    fig = plots.image_grid(np.concatenate(rows), ncols=steps, title=title)
    ax = fig.axes[0]
    height, width = rows[0].shape[1:3]
    ax.set_xticks(np.arange(steps) * (width + 1) + (width - 1) / 2, [f"{t:.2f}" for t in ts], fontsize="small")
    ax.set_xlabel("t")
    if class_names is not None:
        ax.set_yticks(np.arange(len(class_names)) * (height + 1) + (height - 1) / 2, class_names, fontsize="small")
    ax.tick_params(length=0)
    width_inches, height_inches = fig.get_size_inches()
    fig.set_size_inches(width_inches, height_inches + 0.45)  # room for the t labels under the grid
    return fig
