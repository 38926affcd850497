"""Perceptual path length (Karras et al. 2019, section 4.1): how smoothly images change along a latent path.

For pairs of latents, a point t ~ U(0, 1) on the path between them and a point epsilon further on are both
drawn, and the squared feature distance between the two images, divided by epsilon^2, is the pair's length:
slerp between z in Z, lerp between w in W (W is not a sphere). A space in which small steps change images
little and evenly has a short path length, which is what makes it a good space to edit in. The paper measures
distances with LPIPS (VGG features); the book uses the dataset's own classifier features, offline, so its
numbers compare spaces and models of this book, not the paper's tables.
"""
from __future__ import annotations

import numpy as np

from gan_utils import latent, wspace
from gan_utils.validation import check_int

__all__ = ["SPACES", "EPSILON", "path_lengths", "summary"]

SPACES = ("z", "w")
EPSILON = 1e-4  # the paper's step
TRIM = (1, 99)  # percentiles outside which lengths are dropped before averaging, as in the paper's code


def path_lengths(generator, extractor, *, space: str = "w", n: int = 1000, epsilon: float = EPSILON, seed: int = 0,
                 noise_seed: int = 0, batch_size: int = 100) -> np.ndarray:
    """float64 (n,) lengths |f(G(p(t))) - f(G(p(t + epsilon)))|^2 / epsilon^2 for n random pairs, f the extractor's
    features; both images of a pair share the noise maps (wspace.synthesise)."""
    wspace.check_style_generator(generator)
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}; got {space!r}.")
    n = check_int("n", n, 1)
    if not 0 < epsilon < 0.01:
        raise ValueError(f"epsilon must be small and positive (the paper's is 1e-4); got {epsilon!r}.")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((2, n, generator.latent_dim)).astype("float32")
    t = rng.uniform(0.0, 1.0 - epsilon, n)
    if space == "z":
        ends = np.stack([latent.slerp(z[0, i], z[1, i], [t[i], t[i] + epsilon]) for i in range(n)], axis=1)
        w = [np.asarray(generator.mapping.predict(side, batch_size=batch_size, verbose=0)) for side in ends]
    else:
        w0, w1 = (np.asarray(generator.mapping.predict(side, batch_size=batch_size, verbose=0), np.float64)
                  for side in z)
        w = [(w0 + (t + step)[:, None] * (w1 - w0)).astype("float32") for step in (0.0, epsilon)]
    features = []
    for side in w:
        ws = np.repeat(side[:, None, :], generator.num_ws, axis=1)
        images = wspace.synthesise(generator, ws, noise_seed=noise_seed, batch_size=batch_size)
        features.append(extractor.features(images))
    return np.sum((features[1] - features[0]) ** 2, axis=1) / epsilon**2


def summary(lengths) -> float:
    """The path length: the mean of the lengths between their 1st and 99th percentiles (the paper's code drops
    the tails, where a pair crosses a sudden change)."""
    lengths = np.asarray(lengths, np.float64)
    low, high = np.percentile(lengths, TRIM)
    return float(lengths[(lengths >= low) & (lengths <= high)].mean())
