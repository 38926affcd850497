"""A trained style-based generator's W space: per-layer latents, which layers draw which scale, style mixing,
truncated sampling.

A StyleGAN2Generator (gan_utils.models.stylegan2) maps z to w with `mapping` and draws images from per-layer
latents ws (N, num_ws, w_dim) with `synthesis`; layer i of the synthesis network reads ws[:, i]. Everything here
works on those ws, so it applies to a sample (ws from z) and to a real image projected by gan_utils.inversion.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from gan_utils.latent import normal_latents
from gan_utils.validation import check_int

__all__ = ["check_style_generator", "layer_sides", "layer_groups", "ws_from_z", "truncated_sample", "synthesise",
           "mix_styles", "mixing_grid"]


def check_style_generator(generator) -> None:
    """A TypeError unless `generator` has W space (mapping, synthesis, num_ws, w_avg), naming what is missing."""
    missing = [name for name in ("mapping", "synthesis", "num_ws", "w_avg") if not hasattr(generator, name)]
    if missing:
        raise TypeError(f"{type(generator).__name__} is not a style-based generator (it has no "
                        f"{', '.join(missing)}); use a stylegan2 run or the showcase model "
                        "(train.load_generator('showcase/emoji-stylegan2')).")


def _check_ws(generator, ws, name: str = "ws") -> np.ndarray:
    ws = np.asarray(ws, dtype=np.float32)
    expected = (generator.num_ws, int(generator.w_avg.shape[0]))
    if ws.ndim != 3 or ws.shape[1:] != expected:
        raise ValueError(f"{name} must have shape (N, num_ws, w_dim) = (N, {expected[0]}, {expected[1]}); "
                         f"got {ws.shape}. Make them with ws_from_z, or repeat one w per layer.")
    return ws


def layer_sides(generator) -> list[int]:
    """The side (4, 8, ..., resolution) that each of the num_ws latents draws at: ws[:, i] styles a layer of
    that resolution (the last one feeds the final toRGB, at full resolution)."""
    check_style_generator(generator)
    sides = [side for side, convs, _ in generator.synthesis._blocks() for _ in convs]
    return sides + [sides[-1]]


def layer_groups(generator) -> dict[str, range]:
    """The layer ranges StyleGAN's paper names: coarse (4x4 and 8x8: pose, shape), middle (16x16 and 32x32:
    features) and fine (64x64 and up: colour, detail), as ranges of latent indices."""
    sides = np.array(layer_sides(generator))
    bounds = {"coarse": (0, 8), "middle": (16, 32), "fine": (64, None)}
    groups = {}
    for name, (low, high) in bounds.items():
        chosen = np.flatnonzero((sides >= low) & ((sides <= high) if high else True))
        if len(chosen):
            groups[name] = range(int(chosen[0]), int(chosen[-1]) + 1)
    return groups


def ws_from_z(generator, z, *, psi: float = 1.0) -> np.ndarray:
    """The per-layer latents (N, num_ws, w_dim), float32, of z (N, latent_dim), truncated towards w_avg by psi."""
    check_style_generator(generator)
    return np.asarray(generator.w_plus(np.asarray(z, np.float32), training=False, truncation_psi=psi))


def truncated_sample(generator, num: int, *, psi: float, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """`num` images (N, R, R, C), float32 in [-1, 1] (clipped), for the z and noise train.sample draws from `seed`,
    with every w moved towards w_avg by psi: psi = 1 gives train.sample's images exactly, psi = 0 w_avg's image for
    all, and in between fewer odd samples at the cost of variety."""
    check_style_generator(generator)
    num, batch_size = check_int("num", num, 1), check_int("batch_size", batch_size, 1)
    if isinstance(psi, bool) or not isinstance(psi, numbers.Real) or not math.isfinite(psi):
        raise ValueError(f"psi must be a finite number (1: no truncation, 0.7: a common choice); got {psi!r}.")
    z = normal_latents(num, generator.latent_dim, seed)
    generator.seed_noise(seed)
    images = [np.asarray(generator(z[start:start + batch_size], training=False, truncation_psi=float(psi)))
              for start in range(0, num, batch_size)]
    return np.clip(np.concatenate(images), -1.0, 1.0).astype(np.float32)


def synthesise(generator, ws, *, noise_seed: int | None = 0, batch_size: int = 64) -> np.ndarray:
    """Images (N, R, R, C) in [-1, 1] (clipped) drawn from ws with the same noise maps for every image, drawn from
    noise_seed (StyleGAN2-ADA's "const" noise), so an image depends on its ws alone, in any batch; noise_seed=None
    leaves the noise out."""
    ws = _check_ws(generator, ws)
    batch_size = check_int("batch_size", batch_size, 1)
    images = []
    for start in range(0, len(ws), batch_size):
        if noise_seed is not None:
            generator.seed_noise(noise_seed)
        batch = generator.synthesis(ws[start:start + batch_size], noise=noise_seed is not None, shared_noise=True)
        images.append(np.clip(np.asarray(batch, np.float32), -1.0, 1.0))
    return np.concatenate(images)


def mix_styles(row_ws, col_ws, layers: range | slice) -> np.ndarray:
    """Style mixing: (rows, cols, num_ws, w_dim) latents in which entry (i, j) takes col_ws[j] for every layer
    except `layers`, which come from row_ws[i]."""
    row_ws, col_ws = np.asarray(row_ws, np.float32), np.asarray(col_ws, np.float32)
    if row_ws.ndim != 3 or col_ws.ndim != 3 or row_ws.shape[1:] != col_ws.shape[1:]:
        raise ValueError(f"row_ws and col_ws must both be (N, num_ws, w_dim) with one num_ws and w_dim; got "
                         f"{row_ws.shape} and {col_ws.shape}.")
    num_ws = row_ws.shape[1]
    index = range(num_ws)[layers] if isinstance(layers, slice) else layers
    if not isinstance(index, range) or not len(index) or index.start < 0 or index.stop > num_ws:
        raise ValueError(f"layers must be a non-empty range or slice within 0..{num_ws - 1}; got {layers!r}. "
                         "layer_groups(generator) names the coarse, middle and fine ranges.")
    mixed = np.repeat(col_ws[None], len(row_ws), axis=0)
    mixed[:, :, index.start:index.stop] = row_ws[:, None, index.start:index.stop]
    return mixed


def mixing_grid(generator, row_z, col_z, layers: range | slice, *, psi: float = 1.0,
                noise_seed: int | None = 0) -> np.ndarray:
    """Images (rows, cols, R, R, C): image (i, j) draws `layers` with row i's styles and the rest with column j's.

    Every image has the same noise maps (noise_seed), so what differs between two images is their styles.
    """
    row_ws, col_ws = ws_from_z(generator, row_z, psi=psi), ws_from_z(generator, col_z, psi=psi)
    mixed = mix_styles(row_ws, col_ws, layers)
    rows, cols = mixed.shape[:2]
    images = synthesise(generator, mixed.reshape(rows * cols, *mixed.shape[2:]), noise_seed=noise_seed,
                        batch_size=rows * cols)
    return images.reshape(rows, cols, *images.shape[1:])
