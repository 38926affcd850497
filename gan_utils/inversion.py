"""Projecting real images into a style-based generator's latent space (GAN inversion by optimisation).

project() finds, for each image, the latents whose synthesis looks most like it: one w for every layer (space
"w") or one w per layer (space "w+", Abdal et al.'s Image2StyleGAN), starting at w_avg and following the
projector of StyleGAN2 (Karras et al. 2020, appendix D): Adam with a learning rate that ramps up and down,
and noise added to w early on so the search does not settle in the first basin it meets. The loss is the
pixels' mean squared error plus `feature_weight` times the squared distance of the dataset's classifier features
relative to the target's (the book's offline stand-in for the paper's LPIPS). The generator is never changed, and its noise maps are
the fixed ones of wspace.synthesise, so the returned images are exactly what the returned latents draw.
"""
from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from gan_utils import wspace
from gan_utils.data import check_images
from gan_utils.validation import check_int

__all__ = ["SPACES", "DEFAULT_STEPS", "FEATURE_WEIGHT", "w_spread", "learning_rate_at", "w_noise_scale_at",
           "project"]

SPACES = ("w", "w+")
DEFAULT_STEPS = 500  # with which 64 emoji take at most 10 minutes on 2 cores (benchmarks/inversion.py)
FEATURE_WEIGHT = 0.1  # the relative feature distance's weight against the pixels' mean squared error
LEARNING_RATE = 0.1  # StyleGAN2's projector: initial_learning_rate
RAMP_DOWN, RAMP_UP = 0.25, 0.05  # fractions of the steps the learning rate takes to fall to 0 and to rise to full
W_NOISE, W_NOISE_RAMP = 0.05, 0.75  # noise added to w: this times w's spread, fading to 0 by this fraction
SPREAD_SAMPLES = 10_000  # z drawn to estimate w's spread around w_avg


def learning_rate_at(step: int, steps: int, base: float = LEARNING_RATE) -> float:
    """The projector's learning rate at `step` of `steps`: a linear ramp up over the first 5% and a cosine ramp
    down over the last 25%, as in StyleGAN2's projector."""
    t = step / steps
    down = 0.5 - 0.5 * math.cos(math.pi * min(1.0, (1.0 - t) / RAMP_DOWN))
    return base * down * min(1.0, t / RAMP_UP)


def w_noise_scale_at(step: int, steps: int, spread: float) -> float:
    """The standard deviation of the noise added to w at `step`: W_NOISE * spread, falling quadratically to 0
    at 75% of the steps."""
    return spread * W_NOISE * max(0.0, 1.0 - step / steps / W_NOISE_RAMP) ** 2


def w_spread(generator, *, samples: int = SPREAD_SAMPLES, seed: int = 0) -> float:
    """sqrt(E|w - w_avg|^2) over the mapping of `samples` z ~ N(0, I): how far a typical w sits from w_avg."""
    z = np.random.default_rng(seed).standard_normal((samples, generator.latent_dim)).astype("float32")
    w = np.asarray(generator.mapping.predict(z, batch_size=1000, verbose=0), np.float64)
    return float(np.sqrt(np.mean(np.sum((w - np.asarray(generator.w_avg, np.float64)) ** 2, axis=1))))


def _features_model(extractor):
    """The Keras model mapping images to features: a FeatureExtractor's, a Keras model itself, or None."""
    if extractor is None or isinstance(extractor, keras.Model):
        return extractor
    model = getattr(extractor, "features_model", None)
    if not isinstance(model, keras.Model):
        raise TypeError(f"extractor must be a features.FeatureExtractor, a keras.Model or None; got "
                        f"{type(extractor).__name__}.")
    return model


def project(generator, images, *, space: str = "w+", steps: int = DEFAULT_STEPS, seed: int = 0, extractor=None,
            feature_weight: float = FEATURE_WEIGHT, learning_rate: float = LEARNING_RATE, noise_seed: int = 0,
            batch_size: int = 16, log=None) -> tuple[np.ndarray, np.ndarray]:
    """Latents (N, num_ws, w_dim) and their images (N, R, R, C) for real images (N, R, R, C) in [-1, 1].

    space "w" optimises one w per image (repeated over the layers), "w+" one w per layer. `seed` draws the
    noise added to w during the search; noise_seed the generator's fixed noise maps (wspace.synthesise). Images
    are projected batch_size at a time, each independently of the others. `log(message)` hears each batch's
    final loss.
    """
    wspace.check_style_generator(generator)
    check_images(images)
    images = np.asarray(images, np.float32)
    expected = generator.output_shape[1:]
    if images.shape[1:] != tuple(expected):
        raise ValueError(f"images must be {expected[0]}x{expected[1]}x{expected[2]} like the generator's; got "
                         f"{images.shape[1:]}. Resize them, or use a generator of that size.")
    if space not in SPACES:
        raise ValueError(f"space must be one of {SPACES}; got {space!r}.")
    steps = check_int("steps", steps, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    if isinstance(feature_weight, bool) or not isinstance(feature_weight, (int, float)) or feature_weight < 0:
        raise ValueError(f"feature_weight must be a number >= 0; got {feature_weight!r}.")
    features_model = _features_model(extractor)
    if features_model is None and feature_weight:
        raise ValueError("feature_weight > 0 needs an extractor (evaluate.reference(name).extractor); pass one, "
                         "or feature_weight=0 for pixels alone.")

    spread = w_spread(generator, seed=seed)
    w_avg = np.asarray(generator.w_avg, np.float32)
    layers = 1 if space == "w" else generator.num_ws
    rng = np.random.default_rng(seed)
    latents = []
    for start in range(0, len(images), batch_size):
        targets = tf.constant(images[start:start + batch_size])
        count = int(targets.shape[0])
        variable = tf.Variable(np.broadcast_to(w_avg, (count, layers, len(w_avg))).copy())
        optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.999)
        optimizer.build([variable])
        target_features = None if features_model is None else features_model(targets, training=False)
        # the feature term is relative to the target's own feature energy, so its weight does not depend on the
        # extractor's scale (a cpu-profile classifier's features are larger than a smoke one's)
        feature_energy = None if target_features is None else \
            tf.reduce_mean(tf.square(target_features), axis=1) + 1e-8

        @tf.function
        def step(noise, rate):
            optimizer.learning_rate.assign(rate)
            with tf.GradientTape() as tape:
                ws = tf.broadcast_to(variable + noise, (count, generator.num_ws, len(w_avg)))
                generator.seed_noise(noise_seed)
                produced = tf.cast(generator.synthesis(ws, noise=True, shared_noise=True), tf.float32)
                per_image = tf.reduce_mean(tf.square(produced - targets), axis=[1, 2, 3])
                if features_model is not None and feature_weight:
                    difference = features_model(produced, training=False) - target_features
                    per_image += feature_weight * tf.reduce_mean(tf.square(difference), axis=1) / feature_energy
                loss = tf.reduce_sum(per_image)  # a sum: each image's latents see only their own image's loss
            optimizer.apply_gradients([(tape.gradient(loss, variable), variable)])
            return loss / count

        for index in range(steps):
            scale = w_noise_scale_at(index, steps, spread)
            noise = (rng.standard_normal(variable.shape) * scale).astype("float32")
            loss = step(tf.constant(noise), tf.constant(learning_rate_at(index, steps, learning_rate), tf.float32))
        if log is not None:
            log(f"projected images {start}..{start + count - 1} into {space}: final loss {float(loss):.4f}")
        latents.append(np.broadcast_to(variable.numpy(), (count, generator.num_ws, len(w_avg))))
    latents = np.concatenate(latents).astype("float32")
    return latents, wspace.synthesise(generator, latents, noise_seed=noise_seed, batch_size=batch_size)
