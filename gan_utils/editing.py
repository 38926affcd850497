"""Editing along directions learned in W from labels (InterFaceGAN: Shen et al., CVPR 2020).

Draw many w, label the images they draw with the dataset's classifier, and separate two groups of them (darker
against lighter skin tones, one vendor against the other) with a linear SVM in W: the unit normal of its
hyperplane is a direction along which the attribute changes, and an edit moves latents along it. How well the
edit works is measured elsewhere, by a check that is not the classifier that found the direction.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from gan_utils import wspace
from gan_utils.validation import check_int

__all__ = ["Direction", "fit_direction", "label_samples", "direction", "edit", "layer_effects", "pick_layers"]

HELD_OUT = 0.3  # the fraction of labelled samples that scores the separating hyperplane


@dataclasses.dataclass(frozen=True)
class Direction:
    """A unit vector in W along which `attribute` moves from the negative to the positive group."""

    attribute: str
    vector: np.ndarray  # float32 (w_dim,), unit length
    accuracy: float  # the linear classifier's accuracy on held-out labelled samples
    counts: tuple[int, int]  # labelled samples in the (negative, positive) groups


def fit_direction(w, positive) -> tuple[np.ndarray, float]:
    """The unit normal (pointing to the positive side) of a linear SVM separating w (N, w_dim) by the boolean
    `positive`, and its accuracy on a held-out HELD_OUT of the samples (fixed split)."""
    from sklearn.svm import LinearSVC

    w, positive = np.asarray(w, np.float64), np.asarray(positive, bool)
    if w.ndim != 2 or positive.shape != (len(w),):
        raise ValueError(f"w must be (N, w_dim) and positive (N,); got {w.shape} and {positive.shape}.")
    if positive.all() or not positive.any() or min(positive.sum(), (~positive).sum()) < 2:
        raise ValueError(f"both groups need at least 2 samples; got {int((~positive).sum())} negative and "
                         f"{int(positive.sum())} positive. Label more samples (a larger n).")
    order = np.random.default_rng(0).permutation(len(w))
    held = order[:int(round(HELD_OUT * len(w)))]
    fit = order[len(held):]
    svm = LinearSVC(C=1.0, max_iter=20_000).fit(w[fit], positive[fit])
    accuracy = float(np.mean(svm.predict(w[held]) == positive[held])) if len(held) else float("nan")
    normal = svm.coef_[0]
    return (normal / np.linalg.norm(normal)).astype("float32"), accuracy


def label_samples(generator, extractor, head: str, *, n: int, seed: int = 0, psi: float = 1.0,
                  batch_size: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """w (n, w_dim) of z drawn from seed and the extractor's probabilities (n, values) for `head` on their images
    (drawn with wspace.synthesise's fixed noise)."""
    n = check_int("n", n, 2)
    z = np.random.default_rng(seed).standard_normal((n, generator.latent_dim)).astype("float32")
    ws = wspace.ws_from_z(generator, z, psi=psi)
    images = wspace.synthesise(generator, ws, batch_size=batch_size)
    return ws[:, 0], extractor.head_probabilities(images, head)


def direction(generator, extractor, head: str, *, positive, negative, merge=None, n: int = 2000, seed: int = 0,
              attribute: str | None = None) -> Direction:
    """The direction from samples labelled `negative` to samples labelled `positive` (collections of label
    values) by the extractor's `head`. `merge` (an int array) maps the head's values to the attribute's before
    grouping (an emoji's design to its subcategory); samples of any other value are left out."""
    positive, negative = set(positive), set(negative)
    if not positive or not negative or positive & negative:
        raise ValueError(f"positive and negative must be two non-empty, disjoint sets of values; got "
                         f"{sorted(positive)} and {sorted(negative)}.")
    w, probabilities = label_samples(generator, extractor, head, n=n, seed=seed)
    if merge is not None:
        merge = np.asarray(merge)
        merged = np.zeros((len(w), int(merge.max()) + 1))
        np.add.at(merged.T, merge, probabilities.T)
        probabilities = merged
    labels = probabilities.argmax(axis=1)
    keep = np.isin(labels, sorted(positive | negative))
    vector, accuracy = fit_direction(w[keep], np.isin(labels[keep], sorted(positive)))
    counts = (int(np.isin(labels, sorted(negative)).sum()), int(np.isin(labels, sorted(positive)).sum()))
    return Direction(attribute or head, vector, accuracy, counts)


def edit(latents, direction_vector, amount: float, *, layers=None) -> np.ndarray:
    """latents (N, num_ws, w_dim) moved by amount * direction on `layers` (layer indices, e.g. a range or a list;
    default: all), float32."""
    latents = np.array(latents, np.float32)
    vector = np.asarray(getattr(direction_vector, "vector", direction_vector), np.float32)
    if latents.ndim != 3 or vector.shape != latents.shape[-1:]:
        raise ValueError(f"latents must be (N, num_ws, w_dim) and the direction (w_dim,); got {latents.shape} and "
                         f"{vector.shape}.")
    num_ws = latents.shape[1]
    chosen = list(range(num_ws) if layers is None else layers)
    if not chosen or not all(isinstance(i, (int, np.integer)) and 0 <= i < num_ws for i in chosen):
        raise ValueError(f"layers must be a non-empty collection of layer indices in 0..{num_ws - 1}; got {layers!r}.")
    latents[:, chosen] += np.float32(amount) * vector
    return latents


def layer_effects(generator, ws, direction_vector, amount: float, check) -> np.ndarray:
    """What an edit of each layer alone does: ws (N, num_ws, w_dim) move by +amount and -amount along the direction
    on that layer only, and check(before, after, sign) returns per image whether the attribute moved as intended
    and whether what must stay (the design) stayed, as two boolean arrays. Returns (num_ws, 2): per layer the
    shares moved and kept, each the worse of the two ways."""
    ws = np.asarray(ws, np.float32)
    before = wspace.synthesise(generator, ws)
    effects = np.ones((ws.shape[1], 2))
    for layer in range(ws.shape[1]):
        both_ways = wspace.synthesise(generator, np.concatenate(  # one call: both signs' edits
            [edit(ws, direction_vector, sign * amount, layers=[layer]) for sign in (1.0, -1.0)]))
        for sign, after in zip((1.0, -1.0), np.split(both_ways, 2)):
            moved, kept = check(before, after, sign)
            effects[layer] = np.minimum(effects[layer], [np.mean(moved), np.mean(kept)])
    return effects


def pick_layers(effects, *, moved: float = 0.5, kept: float = 0.8) -> list[int]:
    """The layers (indices into layer_effects' rows) whose edit alone moves the attribute as intended for more than
    `moved` of the images and keeps what must stay for at least `kept`, both ways: the layers to edit."""
    effects = np.asarray(effects, float)
    if effects.ndim != 2 or effects.shape[1] != 2:
        raise ValueError(f"effects must be layer_effects' (num_ws, 2) shares; got shape {effects.shape}.")
    chosen = [int(i) for i in np.flatnonzero((effects[:, 0] > moved) & (effects[:, 1] >= kept))]
    if not chosen:
        raise ValueError(f"no layer moves the attribute for more than {moved:.0%} of the images while keeping the rest "
                         f"for {kept:.0%}; per layer (moved, kept): {np.round(effects, 2).tolist()}. Try another "
                         "amount, or edit the layers that move it and accept the change.")
    return chosen
