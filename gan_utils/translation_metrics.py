"""How close translated images are to their true targets (image-to-image translation: pix2pix, CycleGAN).

Per-image L1 and SSIM say how near each output is to its target pixel by pixel and in local structure; on a
classifier's features, retrieval says whether each output is still recognisably its own pair (or its group's),
and the style share whether it took on the target style. score() puts them, with PSNR and sharpness, on one card.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial.distance import cdist

from gan_utils import metrics
from gan_utils.data import check_images
from gan_utils.validation import check_int

__all__ = ["l1", "ssim", "retrieval_accuracy", "style_share", "style_share_per_row", "score"]

#: SSIM's constants (Wang et al. 2004): C1 = (K1 L)^2 and C2 = (K2 L)^2, with data range L = 1 (images in [0, 1]).
SSIM_K1, SSIM_K2 = 0.01, 0.03
#: SSIM's Gaussian window: SSIM_SIZE x SSIM_SIZE taps with standard deviation SSIM_SIGMA, as in tf.image.ssim.
SSIM_SIZE, SSIM_SIGMA = 11, 1.5
SSIM_KERNEL = np.exp(-(np.arange(SSIM_SIZE) - SSIM_SIZE // 2) ** 2 / (2 * SSIM_SIGMA ** 2))
SSIM_KERNEL /= SSIM_KERNEL.sum()  # the 1-D factor of the normalised 2-D window
#: Images filtered at a time: 64 float64 images of 64x64x3 take 6 MB for each of SSIM's five window means.
IMAGES_PER_CHUNK = 64
#: Output rows per chunk of the (rows, N) distance matrix in retrieval_accuracy: 8 MB for N = 4,000.
ROWS_PER_CHUNK = 256


def _check_pair(outputs, targets) -> None:
    """Raise unless outputs and targets are float32 NHWC images in [-1, 1] of one shape."""
    check_images(outputs, "outputs")
    check_images(targets, "targets")
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs and targets must have the same shape, one target per output; got {outputs.shape} "
                         f"and {targets.shape}. Translate the sources of exactly these targets.")


def _check_groups(groups, n: int) -> np.ndarray:
    """groups as a 1-D array of one label per pair, or a ValueError."""
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must hold one label per pair ({n}); got shape {groups.shape}. "
                         "Pass the group (base design, character) of each target, in the targets' order.")
    return groups


def l1(outputs, targets) -> np.ndarray:
    """Mean absolute error of each output against its target, in the [-1, 1] range: float64 (N,) in [0, 2]."""
    _check_pair(outputs, targets)
    return np.mean(np.abs(outputs.astype(np.float64) - targets), axis=(1, 2, 3))


def _window_mean(images: np.ndarray) -> np.ndarray:
    """The Gaussian-weighted mean under the SSIM window at each position where the whole window fits (N, H-10,
    W-10, C): separable filtering, then the 5-pixel border, where the window would need padding, cut off."""
    cut = SSIM_SIZE // 2
    rows = ndimage.correlate1d(images, SSIM_KERNEL, axis=1)[:, cut:-cut]
    return ndimage.correlate1d(rows, SSIM_KERNEL, axis=2)[:, :, cut:-cut]


def ssim(outputs, targets) -> np.ndarray:
    """Structural similarity (Wang et al. 2004) of each output with its target: float64 (N,), 1 for a copy.

    Images are mapped to [0, 1] (data range 1); means, variances and the covariance are taken under an 11x11
    Gaussian window (sigma 1.5) at every position where it fits inside the image, and the SSIM map is averaged
    over those positions and the channels, as tf.image.ssim does. Needs images at least 11x11.
    """
    _check_pair(outputs, targets)
    if min(outputs.shape[1:3]) < SSIM_SIZE:
        raise ValueError(f"ssim needs images at least {SSIM_SIZE}x{SSIM_SIZE} (its Gaussian window); got "
                         f"{outputs.shape[1]}x{outputs.shape[2]}. Compare smaller images with l1 or metrics.psnr.")
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    result = np.empty(len(outputs))
    for start in range(0, len(outputs), IMAGES_PER_CHUNK):
        x = (outputs[start:start + IMAGES_PER_CHUNK].astype(np.float64) + 1.0) / 2.0
        y = (targets[start:start + IMAGES_PER_CHUNK].astype(np.float64) + 1.0) / 2.0
        mu_x, mu_y = _window_mean(x), _window_mean(y)
        var_x = _window_mean(x * x) - mu_x * mu_x
        var_y = _window_mean(y * y) - mu_y * mu_y
        cov_xy = _window_mean(x * y) - mu_x * mu_y
        luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
        structure = (2 * cov_xy + c2) / (var_x + var_y + c2)
        result[start:start + len(x)] = np.mean(luminance * structure, axis=(1, 2, 3))
    return result


def _feature_pair(output_features, target_features) -> tuple[np.ndarray, np.ndarray]:
    """Both feature sets as finite float64 arrays (N, D) of one shape, or a clear error."""
    arrays = []
    for name, x in (("output_features", output_features), ("target_features", target_features)):
        x = np.asarray(x)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise TypeError(f"{name} must be a numeric array; got dtype {x.dtype}.")
        if x.ndim != 2 or 0 in x.shape:
            raise ValueError(f"{name} must be a non-empty 2-D array (N, D), one feature vector per image; got shape "
                             f"{x.shape}. Compute them with extractor.features(images).")
        if not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or infinite values; check the images they were computed from.")
        arrays.append(x.astype(np.float64, copy=False))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"output_features and target_features must have the same shape, pair i in row i of both; "
                         f"got {arrays[0].shape} and {arrays[1].shape}.")
    return arrays[0], arrays[1]


def retrieval_accuracy(output_features, target_features, groups=None) -> float:
    """Share of outputs whose nearest target (Euclidean, among all targets) is their own pair: a float in [0, 1].

    Features are (N, D), row i of both sets being pair i. With `groups` (one label per pair: the base design,
    the character) a nearest target of pair i's group is a hit, so an output that lands on another image of its
    own group still counts as kept. A target tied with the nearest counts as nearest.
    """
    outputs, targets = _feature_pair(output_features, target_features)
    groups = _check_groups(np.arange(len(outputs)) if groups is None else groups, len(outputs))
    hits = 0
    for start in range(0, len(outputs), ROWS_PER_CHUNK):
        distances = cdist(outputs[start:start + ROWS_PER_CHUNK], targets)  # direct differences: equal targets tie
        own_group = groups[start:start + len(distances), None] == groups[None, :]
        nearest_in_group = np.where(own_group, distances, np.inf).min(axis=1)
        hits += int(np.count_nonzero(nearest_in_group <= distances.min(axis=1)))
    return hits / len(outputs)


def style_share(probabilities, target_class: int) -> float:
    """Share of rows of `probabilities` (N, classes), a classifier head's output, whose most likely class is
    target_class: a float in [0, 1]."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or 0 in probabilities.shape:
        raise ValueError(f"probabilities must be a non-empty 2-D array (N, classes); got shape {probabilities.shape}. "
                         "Pass extractor.head_probabilities(images, head).")
    target_class = check_int("target_class", target_class, 0)
    if target_class >= probabilities.shape[1]:
        raise ValueError(f"target_class must index one of the {probabilities.shape[1]} classes; got {target_class}.")
    return float(np.mean(probabilities.argmax(axis=1) == target_class))


def style_share_per_row(probabilities, classes) -> float:
    """Share of rows whose argmax is that row's own class in `classes` (one class index per row)."""
    probabilities = np.asarray(probabilities)
    classes = np.asarray(classes)
    if probabilities.ndim != 2 or classes.shape != (len(probabilities),):
        raise ValueError(f"probabilities must be (N, classes) with one class per row; got {probabilities.shape} "
                         f"and {classes.shape}.")
    return float(np.mean(np.argmax(probabilities, axis=1) == classes))


def score(outputs, targets, extractor, head: str, value: int, groups=None, group_head: str | None = None) -> dict:
    """The held-out scorecard of a translator's `outputs` against their true `targets` (float32 NHWC in [-1, 1]).

    A dict of plain Python numbers (json-serialisable): l1, psnr (dB; inf if any output copies its target) and
    ssim, each a mean over the images; target_style, the share the extractor's `head` reads as class `value`;
    retrieval, the share of outputs whose nearest target in the extractor's features is their own pair; kept, the
    same with `groups` (equal to retrieval without them); with `group_head` (a head that learnt the groups: an
    emoji's "design", a "character"), named, the share of outputs that head names as their own group;
    sharpness (metrics.sharpness: 1 is right, below is blur); and n, the number of pairs.
    """
    _check_pair(outputs, targets)
    value = check_int("value", value, 0)
    if groups is not None:
        groups = _check_groups(groups, len(outputs))
    if group_head is not None and groups is None:
        raise ValueError("group_head names the head that reads each output's group; pass the groups too.")
    output_features, target_features = extractor.features(outputs), extractor.features(targets)
    retrieval = retrieval_accuracy(output_features, target_features)
    return {
        "l1": float(np.mean(l1(outputs, targets))),
        "psnr": float(np.mean(metrics.psnr(outputs, targets))),
        "ssim": float(np.mean(ssim(outputs, targets))),
        "target_style": style_share(extractor.head_probabilities(outputs, head), value),
        "retrieval": retrieval,
        "kept": retrieval if groups is None else retrieval_accuracy(output_features, target_features, groups),
        **({} if group_head is None else {"named": style_share_per_row(
            extractor.head_probabilities(outputs, group_head), groups)}),
        "sharpness": float(metrics.sharpness(outputs, targets)),
        "n": int(len(outputs)),
    }
