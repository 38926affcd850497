"""Figures for the book: image grids, 2-D scatter plots over decision surfaces, training curves, and animations.

Every plotting function draws on a new Figure (or on the `ax` you pass) and returns the Figure; none calls show().
A new Figure is not registered with pyplot, so Jupyter shows it only as a cell's last value: anywhere else in a
cell, wrap the call in display(...).
Animations are looping GIFs written to a file, shown inline with show_animation; save_grid writes one captioned grid
as a PNG.
"""
from __future__ import annotations

import math
import numbers
import os
import pathlib
from collections.abc import Callable, Mapping, Sequence

import imageio.v3 as iio
import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont, features

from gan_utils.data import check_images
from gan_utils.validation import check_int

__all__ = ["images_to_mosaic", "image_grid", "save_grid", "plot_2d", "plot_curves", "save_animation", "show_animation"]

_RANGE_TOLERANCE = 1e-3  # float error allowed outside [-1, 1]; such values are clipped for display
_REAL_STYLE = dict(color="black", marker="o", s=9, alpha=0.6, linewidths=0)
_FAKE_STYLE = dict(color="#ffb000", marker="^", s=14, alpha=0.9, edgecolors="black", linewidths=0.3)
_MAX_FPS = 50  # GIF delays are in 1/100 s, and browsers slow delays under 20 ms down to 100 ms


# ----------------------------------------------------------------------------- checks


def _as_float_array(name: str, values) -> np.ndarray:
    try:
        array = np.asarray(values)
    except Exception as error:  # e.g. ragged lists
        raise TypeError(f"{name} must be a numeric array; converting it failed with: {error}") from None
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(
            f"{name} must hold real numbers; got dtype {array.dtype}. Convert it with np.asarray(..., dtype='float32')."
        )
    return array.astype(np.float32 if array.dtype.itemsize <= 4 else np.float64, copy=False)


def _check_images(images) -> np.ndarray:
    """Images as float32 NHWC with C in {1, 3}, clipped to [-1, 1]; raises if they are not that."""
    array = _as_float_array("images", images).astype(np.float32, copy=False)
    check_images(array, tolerance=_RANGE_TOLERANCE)
    return np.clip(array, -1.0, 1.0)


def _check_points(name: str, points) -> np.ndarray:
    array = _as_float_array(name, points)
    if array.ndim != 2 or array.shape[1] != 2:
        hint = " For a single point use points.reshape(1, 2)." if array.shape == (2,) else ""
        raise ValueError(f"{name} must be 2-D points shaped (N, 2); got shape {array.shape}.{hint}")
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} contains NaN or inf; if these are generated points, the generator has probably diverged."
        )
    return array


def _check_extent(extent) -> tuple[float, float, float, float]:
    try:
        x0, x1, y0, y1 = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise ValueError(f"extent must be four numbers (xmin, xmax, ymin, ymax); got {extent!r}.") from None
    if not all(map(math.isfinite, (x0, x1, y0, y1))) or not (x0 < x1 and y0 < y1):
        raise ValueError(
            f"extent must be finite (xmin, xmax, ymin, ymax) with xmin < xmax and ymin < ymax; got {extent!r}."
        )
    return x0, x1, y0, y1


# ----------------------------------------------------------------------------- figure helpers


def _axes(ax, figsize) -> tuple[Figure, object]:
    """The Figure and Axes to draw on: the caller's, or a new Figure not registered with pyplot."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if figsize is not None:
        raise ValueError("figsize only applies to a new figure; pass either ax or figsize, not both.")
    try:
        return ax.get_figure(root=True), ax  # matplotlib >= 3.10: the top-level Figure even inside a SubFigure
    except TypeError:
        return ax.figure, ax


# ----------------------------------------------------------------------------- image grids


def _grid_shape(n: int, ncols) -> tuple[int, int]:
    ncols = math.ceil(math.sqrt(n)) if ncols is None else check_int("ncols", ncols, 1)
    return math.ceil(n / ncols), ncols


def images_to_mosaic(images, ncols: int | None = None, pad: int = 1, *, pad_value: float = 1.0) -> np.ndarray:
    """One float32 array in [0, 1] tiling the images row by row: (H', W') for grayscale, (H', W', 3) for colour.

    Pixel x maps to (x + 1) / 2 (-1 black, 1 white); `pad` pixels of `pad_value` separate tiles and fill unused cells.
    """
    array = _check_images(images)
    pad = check_int("pad", pad, 0)
    if not 0.0 <= float(pad_value) <= 1.0:
        raise ValueError(f"pad_value must be in [0, 1] (0 black, 1 white); got {pad_value}.")
    n, height, width, channels = array.shape
    rows, cols = _grid_shape(n, ncols)
    tiles = np.full((rows * cols, height + pad, width + pad, channels), pad_value, dtype=np.float32)
    tiles[:n, :height, :width] = (array + 1.0) / 2.0
    mosaic = tiles.reshape(rows, cols, height + pad, width + pad, channels).transpose(0, 2, 1, 3, 4)
    mosaic = mosaic.reshape(rows * (height + pad), cols * (width + pad), channels)
    mosaic = mosaic[: mosaic.shape[0] - pad, : mosaic.shape[1] - pad]  # no border after the last row and column
    return mosaic[..., 0] if channels == 1 else mosaic


def image_grid(
    images,
    *,
    ncols: int | None = None,
    title: str | None = None,
    labels: Sequence[str] | None = None,
    ax=None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """A Figure showing float NHWC images in [-1, 1] as one grid (ncols defaults to ceil(sqrt(N))), titled `title`.

    Grayscale uses fixed limits (-1 black, 1 white), never per-image autoscaling; `labels` (N strings) tag each tile.
    """
    array = _check_images(images)
    n, height, width, _ = array.shape
    if labels is not None:
        if isinstance(labels, str) or not isinstance(labels, Sequence | np.ndarray):
            raise TypeError(f"labels must be a sequence of {n} strings, one per image; got {type(labels).__name__}.")
        if len(labels) != n:
            raise ValueError(f"labels must have one entry per image: got {len(labels)} labels for {n} images.")
    rows, cols = _grid_shape(n, ncols)
    mosaic = images_to_mosaic(array, ncols=cols, pad=1)
    if ax is None and figsize is None:
        tile_inches = min(1.2, max(0.5, 8.0 / cols))
        figsize = (max(2.0, cols * tile_inches), rows * tile_inches * height / width + (0.35 if title else 0.1))
    fig, ax = _axes(ax, figsize)
    if mosaic.ndim == 2:
        ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(mosaic, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title)
    if labels is not None:
        for k, label in enumerate(labels):
            row, col = divmod(k, cols)
            ax.text(
                col * (width + 1), row * (height + 1), str(label),  # top-left pixel of tile k
                fontsize=7, color="white", ha="left", va="top", clip_on=True,
                bbox=dict(facecolor="black", alpha=0.55, linewidth=0, boxstyle="square,pad=0.15"),
            )
    return fig


def _wrap(text: str, font, width: int) -> list[str]:
    """text's lines ("\n" starts one), each broken at spaces to fit `width` pixels in `font` (a longer word keeps a
    line of its own)."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            longer = f"{line} {word}" if line else word
            if line and font.getlength(longer) > width:
                lines.append(line)
                line = word
            else:
                line = longer
        lines.append(line)
    return lines


def save_grid(images, path, caption: str, *, ncols: int | None = None, scale: int = 2) -> pathlib.Path:
    """Write float NHWC images in [-1, 1] as one PNG at `path` and return it as a pathlib.Path: images_to_mosaic
    enlarged `scale` times (nearest-neighbour, so pixels stay crisp), over a white band holding `caption` in black,
    wrapped to the grid's width ("\n" starts a new line, e.g. for a licence line)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or pathlib.Path ending in .png; got {type(path).__name__}.")
    path = pathlib.Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end with .png (grids are written as PNGs); got {str(path)!r}.")
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError(f"caption must say what produced the images (e.g. 'samples of runs/emoji, seed 0'); "
                         f"got {caption!r}.")
    scale = check_int("scale", scale, 1)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {str(path.parent)!r} does not exist; create it first with "
                                "pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True).")
    grid = Image.fromarray(np.round(images_to_mosaic(images, ncols=ncols) * 255.0).astype(np.uint8))
    grid = grid.resize((grid.width * scale, grid.height * scale), resample=Image.Resampling.NEAREST)
    font, margin = _caption_font(scale), max(2, scale)
    text = "\n".join(_wrap(caption.strip(), font, grid.width - 2 * margin))
    _, _, text_width, text_height = ImageDraw.Draw(grid).multiline_textbbox((0, 0), text, font=font)
    canvas = Image.new(grid.mode, (max(grid.width, text_width + 2 * margin), grid.height + text_height + 2 * margin),
                       "white")
    canvas.paste(grid, (0, 0))
    ImageDraw.Draw(canvas).multiline_text((margin, grid.height + margin), text, fill="black", font=font)
    canvas.save(path)
    return path


# ----------------------------------------------------------------------------- 2-D points and surfaces


def _surface_grid(extent, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates: xs of shape (R,), ys of shape (R,), matching imshow(origin='lower', extent=extent)."""
    x0, x1, y0, y1 = extent
    offsets = (np.arange(resolution) + 0.5) / resolution
    return x0 + (x1 - x0) * offsets, y0 + (y1 - y0) * offsets


def plot_2d(
    real=None,
    fake=None,
    *,
    surface: Callable | None = None,
    surface_label: str = "D(x)",
    extent: tuple[float, float, float, float] = (-3, 3, -3, 3),
    resolution: int = 120,
    ax=None,
    title: str | None = None,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    cmap: str = "RdBu_r",
    real_label: str = "real",
    fake_label: str = "generated",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """A Figure with real and generated (N, 2) points over an optional background `surface`, drawn inside `extent`.

    `surface` maps an (M, 2) float32 array of grid points to M values, e.g. D(x) in [0, 1]; densities want vmin=vmax=None.
    """
    real = None if real is None else _check_points("real", real)
    fake = None if fake is None else _check_points("fake", fake)
    if real is None and fake is None and surface is None:
        raise ValueError("plot_2d needs something to draw: pass real points, fake points, or a surface.")
    if surface is not None and not callable(surface):
        raise TypeError(
            "surface must be a callable taking an (M, 2) float32 array and returning M values; "
            f"got {type(surface).__name__}."
        )
    extent = _check_extent(extent)
    resolution = check_int("resolution", resolution, 2)
    fig, ax = _axes(ax, figsize)

    if surface is not None:
        xs, ys = _surface_grid(extent, resolution)
        grid_x, grid_y = np.meshgrid(xs, ys)  # row i holds y = ys[i]: origin="lower" puts it at the bottom
        points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
        values = np.asarray(surface(points), dtype=np.float64)
        if values.size != len(points):
            raise ValueError(
                f"surface returned {values.size} values (shape {values.shape}) for {len(points)} grid points; "
                "it must return one value per row of its (M, 2) input, shaped (M,) or (M, 1)."
            )
        if not np.isfinite(values).all():
            raise ValueError(
                f"surface returned NaN or inf at {int((~np.isfinite(values)).sum())} of {values.size} grid points; "
                "it must return finite values everywhere in extent."
            )
        image = ax.imshow(
            values.reshape(resolution, resolution), origin="lower", extent=extent,
            cmap=cmap, vmin=vmin, vmax=vmax, alpha=0.8, interpolation="nearest", aspect="equal",
        )
        fig.colorbar(image, ax=ax, label=surface_label, shrink=0.85)

    x0, x1, y0, y1 = extent
    for points, label, style in ((real, real_label, _REAL_STYLE), (fake, fake_label, _FAKE_STYLE)):
        if points is None:
            continue
        outside = int(np.sum((points[:, 0] < x0) | (points[:, 0] > x1) | (points[:, 1] < y0) | (points[:, 1] > y1)))
        if outside:
            label = f"{label} ({outside} of {len(points)} outside the view)"
        ax.scatter(points[:, 0], points[:, 1], label=label, **style)
    if real is not None or fake is not None:
        ax.legend(loc="upper right", fontsize="small", framealpha=0.85, markerscale=1.5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- curves


def _trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` finite values at each step (fewer at the start); NaN where there are none."""
    finite = np.isfinite(values)
    kernel = np.ones(window)
    sums = np.convolve(np.where(finite, values, 0.0), kernel)[: len(values)]
    counts = np.convolve(finite.astype(np.float64), kernel)[: len(values)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def plot_curves(
    history: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "step",
    ylabel: str = "value",
    ax=None,
    title: str | None = None,
    x: Sequence[float] | None = None,
    logy: bool = False,
    smooth: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """A Figure with one labelled line per `history` entry (name -> numbers), against `x` or the index 0, 1, 2, ...

    `smooth=k` draws the trailing mean of the last k values over the faint raw line; NaN and inf are left as gaps.
    """
    if not isinstance(history, Mapping):
        is_keras_history = isinstance(getattr(history, "history", None), Mapping)
        hint = " For a Keras History object pass history.history." if is_keras_history else ""
        raise TypeError(
            f"history must be a dict mapping names to sequences of numbers; got {type(history).__name__}.{hint}"
        )
    if not history:
        raise ValueError("history is empty; pass a dict such as {'d_loss': [...], 'g_loss': [...]}.")
    series = {}
    for name, values in history.items():
        array = _as_float_array(f"history[{name!r}]", values).astype(np.float64)
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"history[{name!r}] must be a non-empty 1-D sequence of numbers; got shape {array.shape}.")
        series[str(name)] = array
    if x is not None:
        x = _as_float_array("x", x).astype(np.float64)
        if x.ndim != 1:
            raise ValueError(f"x must be a 1-D sequence; got shape {x.shape}.")
        for name, array in series.items():
            if len(array) != len(x):
                raise ValueError(
                    f"x has {len(x)} values but history[{name!r}] has {len(array)}; "
                    "every curve needs one value per x, or leave x out to plot against the index."
                )
    if smooth is not None:
        smooth = check_int("smooth", smooth, 1)
    if logy:
        for name, array in series.items():
            finite = array[np.isfinite(array)]
            if finite.size and finite.min() <= 0:
                raise ValueError(
                    f"logy=True needs positive values, but history[{name!r}] has min {finite.min():.4g}; "
                    "plot it with logy=False."
                )

    if ax is None and figsize is None:
        figsize = (6.0, 3.5)
    fig, ax = _axes(ax, figsize)
    for name, array in series.items():
        steps = np.arange(len(array)) if x is None else x
        if smooth is None or smooth == 1:
            ax.plot(steps, array, label=name)
        else:
            (raw,) = ax.plot(steps, array, alpha=0.3, linewidth=0.8, label=f"_{name} (raw)")
            ax.plot(steps, _trailing_mean(array, smooth), color=raw.get_color(), label=name)
    if logy:
        ax.set_yscale("log")
    legend_title = f"mean of last {smooth}" if smooth and smooth > 1 else None
    ax.legend(title=legend_title, fontsize="small", title_fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    return fig


# ----------------------------------------------------------------------------- animations


def _check_gif_path(path) -> pathlib.Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or pathlib.Path ending in .gif; got {type(path).__name__}.")
    path = pathlib.Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path must end with .gif (animations are written as GIFs); got {str(path)!r}.")
    return path


def _check_frames(frames) -> list[np.ndarray]:
    """Each frame as float32 NHWC in [-1, 1] (clipped), all of one shape; raises naming the first bad frame."""
    if isinstance(frames, np.ndarray) and frames.ndim == 4:
        raise ValueError(
            f"frames must be a sequence of image batches, one batch per frame; got one 4-D array shaped {frames.shape}. "
            "For a single frame pass [images]; a stack of frames is 5-D, shaped (T, N, H, W, C)."
        )
    if isinstance(frames, str | bytes | Mapping) or not hasattr(frames, "__iter__"):
        raise TypeError(
            f"frames must be a sequence of image batches (float NHWC in [-1, 1]), one per frame; "
            f"got {type(frames).__name__}."
        )
    checked = []
    for index, batch in enumerate(frames):
        array = _as_float_array(f"frames[{index}]", batch).astype(np.float32, copy=False)
        if checked and array.shape != checked[0].shape:
            raise ValueError(
                f"frames[{index}] has shape {array.shape} but frames[0] has shape {checked[0].shape}; every frame "
                "must hold the same number and size of images (sample the generator from one fixed z each time)."
            )
        check_images(array, f"frames[{index}]", tolerance=_RANGE_TOLERANCE)
        checked.append(np.clip(array, -1.0, 1.0))
    if not checked:
        raise ValueError("frames is empty; pass at least one image batch, e.g. the generator's samples after an epoch.")
    return checked


def _check_captions(captions, n: int) -> list[str] | None:
    if captions is None:
        return None
    if isinstance(captions, str) or not isinstance(captions, Sequence | np.ndarray):
        raise TypeError(
            f"captions must be a sequence of {n} strings, one per frame (e.g. [f'epoch {{e}}' for e in epochs]); "
            f"got {type(captions).__name__}."
        )
    if len(captions) != n:
        raise ValueError(f"captions must have one entry per frame: got {len(captions)} captions for {n} frames.")
    return [str(caption) for caption in captions]


def _caption_font(scale: int):
    """Pillow's default font, sized to stay readable next to upscaled tiles (bitmap fallback without FreeType)."""
    if features.check("freetype2"):
        return ImageFont.load_default(size=max(10, 6 * scale))
    return ImageFont.load_default()


def _render_frames(frames: list[np.ndarray], captions: list[str] | None, scale: int) -> list[np.ndarray]:
    """uint8 frames: each mosaic upscaled `scale` times (nearest), under a white band with its caption in black.

    Grayscale stays 2-D (mode L): a GIF stores 256 grey levels exactly, so only colour is quantised (per frame).
    """
    font = _caption_font(scale) if captions is not None else None
    margin = max(2, scale)
    band = 0
    if captions is not None:
        band = max(font.getbbox(text)[3] for text in [*captions, "Agjy09"]) + 2 * margin
    rendered = []
    for index, batch in enumerate(frames):
        mosaic = np.round(images_to_mosaic(batch) * 255.0).astype(np.uint8)
        image = Image.fromarray(mosaic)  # mode L for (H, W), RGB for (H, W, 3)
        width, height = image.width * scale, image.height * scale
        image = image.resize((width, height), resample=Image.Resampling.NEAREST)
        if captions is not None:
            canvas = Image.new(image.mode, (width, height + band), "white")
            canvas.paste(image, (0, band))
            ImageDraw.Draw(canvas).text((margin, margin), captions[index], fill="black", font=font)
            image = canvas
        rendered.append(np.asarray(image))
    return rendered


def _every_kth_ending_at_last(n: int, step: int) -> list[int]:
    """Indices n-1, n-1-step, ... in increasing order: evenly spaced, always holding the last frame."""
    return list(range(n - 1, -1, -step))[::-1]


def _encode_gif(frames: list[np.ndarray], duration_ms: int) -> bytes:
    # imageio's pillow plugin: duration in milliseconds per frame (stored in 1/100 s), loop=0 repeats forever.
    return iio.imwrite("<bytes>", frames, extension=".gif", plugin="pillow", duration=duration_ms, loop=0)


def save_animation(
    frames,
    path,
    *,
    fps: float = 4,
    captions: Sequence[str] | None = None,
    scale: int = 2,
    max_bytes: int = 2_000_000,
) -> pathlib.Path:
    """Write `frames` as a looping GIF at `path` and return it as a pathlib.Path.

    `frames` is a sequence of image batches, each float NHWC in [-1, 1] and all of one shape (e.g. samples from one
    fixed z after each epoch); each becomes one image_grid-style mosaic, enlarged `scale` times with nearest-neighbour,
    with `captions[i]` (e.g. "epoch 3") in a band above it. Each frame shows for 1000/fps ms, rounded to the GIF's 10 ms
    steps. If the file would exceed `max_bytes`, every k-th frame is kept instead, counting back from the last, which is
    always kept (the captions say which frames remain); ValueError if even two frames do not fit.
    Consecutive frames that come out identical are merged into one longer frame by the GIF encoder.
    """
    path = _check_gif_path(path)
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not 0 < fps <= _MAX_FPS:
        raise ValueError(
            f"fps must be a number in (0, {_MAX_FPS}]; got {fps!r}. "
            "Browsers slow faster GIFs down; for a long run keep fewer frames instead."
        )
    scale = check_int("scale", scale, 1)
    max_bytes = check_int("max_bytes", max_bytes, 1)
    frames = _check_frames(frames)
    captions = _check_captions(captions, len(frames))
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"the folder {str(path.parent)!r} does not exist; create it first with "
            "pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)."
        )

    rendered = _render_frames(frames, captions, scale)
    duration_ms = max(20, 10 * round(100 / fps))
    n = len(rendered)
    step = 1
    while True:
        kept = _every_kth_ending_at_last(n, step)
        data = _encode_gif([rendered[i] for i in kept], duration_ms)
        if len(data) <= max_bytes:
            break
        if len(kept) <= 2:
            raise ValueError(
                f"the animation does not fit in max_bytes={max_bytes:,}: even {len(kept)} frame(s) "
                f"({'the first and last' if len(kept) == 2 else 'one'}) take {len(data):,} bytes. Show fewer images "
                f"per frame (now {frames[0].shape[0]}), use a smaller scale (now {scale}), or raise max_bytes."
            )
        # The size grows about linearly with the frame count: jump straight to a count that should fit.
        fitting = max(2, int(len(kept) * max_bytes / len(data)))
        step = max(step + 1, min(n - 1, (n - 1) // (fitting - 1)))  # the largest step keeping `fitting` frames

    partial = path.with_name(path.name + ".partial")  # never leave a half-written GIF at `path`
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def show_animation(path):
    """An IPython.display.Image embedding the GIF at `path`: shown inline in a notebook, and kept in the HTML book."""
    path = _check_gif_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no animation at {str(path)!r}; write one first with save_animation(frames, path).")
    from IPython.display import Image as IPythonImage  # lazily: the library works without IPython

    return IPythonImage(filename=str(path))
