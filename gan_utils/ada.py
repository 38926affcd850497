"""Adaptive discriminator augmentation (ADA; Karras et al. 2020, "Training GANs with limited data").

Each transform is applied to an image with probability p, to real and generated images alike. While p stays below
about 0.8 the augmentations do not leak: the augmented distribution still determines the clean one, so the
generator has no reason to draw augmented-looking images. p is not fixed: it follows an overfitting heuristic
r_t, rising while the discriminator is too sure of the training images (r_t above the target) and falling
otherwise. With a loss that pins the logit's zero point (the logistic loss) r_t = E[sign D(x_real)], the paper's;
the relativistic pairing loss only scores the difference of a pair's logits and leaves their common level free,
so there r_t = E[sign(D(x_real) - D(G(z)))] over the discriminator step's own pairs, which a constant added to
every logit does not change. Chapter 6's DiffAugment (`gan_utils.augment`) applies its transforms every time.
"""
from __future__ import annotations

import math
import numbers

import keras
import numpy as np
import tensorflow as tf

from gan_utils import distribute

TARGET = 0.6  # the r_t that ADA steers towards (the paper's choice): 80% of the decisions won, real images scored
# real (E[sign D(x)]) or pairs won (E[sign(D(x) - D(G(z)))]); the same share of wins for both statistics
STATISTICS = ("real_sign", "pair_sign")  # r_t from the real logits' signs (ADA), or from the paired differences
INTERVAL = 4  # discriminator steps between two adjustments of p, as the paper
SPEED_IMAGES = 100_000  # p can move from 0 to 1 over this many real images (the paper: 500k, for far longer runs)
TRANSLATION = 0.125  # integer shifts up to this fraction of the side, reflect-padded
BRIGHTNESS_STD = 0.2  # brightness adds N(0, 0.2^2)
CONTRAST_STD = 0.5  # contrast multiplies by 2^N(0, 0.5^2), around 0 (mid-grey in [-1, 1])
HUE_MAX = 1.0  # hue rotates about the grey axis by U(-pi, pi) * HUE_MAX
SATURATION_STD = 1.0  # saturation scales the colour away from grey by 2^N(0, 1)
LUMA_AXIS = np.ones(3, "float32") / np.sqrt(3.0)  # the grey axis in RGB


def _draw(images, sampler):
    """sampler(shape) for one value per image, shape (N,), different on each replica."""
    return distribute.per_replica(sampler, (tf.shape(images)[0],))


def _chosen(images, p, seed_generator):
    """float32 (N,): 1 for the images a transform applies to, each with probability p."""
    u = _draw(images, lambda shape: keras.random.uniform(shape, seed=seed_generator))
    return tf.cast(u < p, "float32")


def _coin(images, seed_generator):
    """float32 (N,): a fair coin per image, 1 or 0 (whether a chosen flip mirrors the image or leaves it)."""
    return tf.cast(_draw(images, lambda shape: keras.random.uniform(shape, seed=seed_generator)) < 0.5, "float32")


def x_flip(images, p, seed_generator):
    """Mirror left-right each image with probability p / 2 (with probability p it flips a fair coin, as ADA)."""
    flip = tf.reshape(_coin(images, seed_generator) * _chosen(images, p, seed_generator), (-1, 1, 1, 1))
    return flip * tf.cast(tf.reverse(images, axis=[2]), "float32") + (1.0 - flip) * tf.cast(images, "float32")


def integer_translation(images, p, seed_generator, ratio: float = TRANSLATION):
    """With probability p, shift an image by whole pixels, dy and dx each round(U(-ratio, ratio) * side), the
    border reflected in (reflection, unlike zeros, adds no edge the discriminator could learn to look for)."""
    images = tf.cast(images, "float32")
    height, width = images.shape[1], images.shape[2]
    pad_y, pad_x = math.ceil(ratio * height), math.ceil(ratio * width)
    chosen = _chosen(images, p, seed_generator)

    def shift(side):
        u = _draw(images, lambda s: keras.random.uniform(s, -ratio, ratio, seed=seed_generator))
        return tf.cast(tf.round(u * side * chosen), "int32")

    dy, dx = shift(height), shift(width)
    padded = tf.pad(images, [[0, 0], [pad_y, pad_y], [pad_x, pad_x], [0, 0]], mode="REFLECT")
    rows = tf.range(height)[None, :] - dy[:, None] + pad_y  # out[y, x] = in[y - dy, x - dx]
    cols = tf.range(width)[None, :] - dx[:, None] + pad_x
    return tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)


def _homogeneous(linear, offset):
    """(N, 4, 4) matrices acting on [r, g, b, 1] from (N, 3, 3) linear parts and (N, 3) offsets."""
    top = tf.concat([linear, offset[:, :, None]], axis=2)
    bottom = tf.broadcast_to(tf.constant([[[0.0, 0.0, 0.0, 1.0]]]), (tf.shape(linear)[0], 1, 4))
    return tf.concat([top, bottom], axis=1)


def colour_matrices(images, p, seed_generator):
    """(N, 4, 4): per image brightness, contrast, luma flip, hue rotation and saturation, each with probability
    p (the luma flip, like x_flip, then flips a fair coin), composed in that order as ADA composes them."""
    n = tf.shape(images)[0]
    eye, zero = tf.eye(3, batch_shape=[n]), tf.zeros((n, 3))
    vvt = tf.constant(np.outer(LUMA_AXIS, LUMA_AXIS), "float32")

    def normal(std):
        return _draw(images, lambda s: keras.random.normal(s, stddev=std, seed=seed_generator))

    brightness = normal(BRIGHTNESS_STD) * _chosen(images, p, seed_generator)
    contrast = tf.pow(2.0, normal(CONTRAST_STD) * _chosen(images, p, seed_generator))
    luma_flip = _coin(images, seed_generator) * _chosen(images, p, seed_generator)
    theta = _draw(images, lambda s: keras.random.uniform(s, -math.pi, math.pi, seed=seed_generator))
    theta = theta * HUE_MAX * _chosen(images, p, seed_generator)
    saturation = tf.pow(2.0, normal(SATURATION_STD) * _chosen(images, p, seed_generator))

    def per_image(x):
        return tf.reshape(x, (-1, 1, 1))

    cross = tf.constant([[0.0, -LUMA_AXIS[2], LUMA_AXIS[1]], [LUMA_AXIS[2], 0.0, -LUMA_AXIS[0]],
                         [-LUMA_AXIS[1], LUMA_AXIS[0], 0.0]], "float32")  # [v]x, so [v]x u = v x u
    cos, sin = per_image(tf.cos(theta)), per_image(tf.sin(theta))
    steps = [
        _homogeneous(eye, tf.stack([brightness] * 3, axis=1)),  # x + b
        _homogeneous(eye * per_image(contrast), zero),  # c x
        _homogeneous(eye - 2.0 * vvt * per_image(luma_flip), zero),  # Householder reflection through the grey plane
        _homogeneous(cos * eye + sin * cross + (1.0 - cos) * vvt, zero),  # Rodrigues: rotation about the grey axis
        _homogeneous(vvt + (eye - vvt) * per_image(saturation), zero),  # scale what is not grey
    ]
    matrix = steps[0]
    for step in steps[1:]:
        matrix = step @ matrix
    return matrix


def apply_colour(images, matrices):
    """images (N, H, W, C) through (N, 4, 4) colour matrices; a grey image (C = 1) uses the mean of the matrices'
    colour rows, as ADA does, so brightness and contrast act on it and a luma flip negates it."""
    images = tf.cast(images, "float32")
    if images.shape[-1] == 3:
        return tf.einsum("nhwc,ndc->nhwd", images, matrices[:, :3, :3]) + matrices[:, None, None, :3, 3]
    rows = tf.reduce_mean(matrices[:, :3, :], axis=1)  # (N, 4)
    gain = tf.reduce_sum(rows[:, :3], axis=1)
    return images * tf.reshape(gain, (-1, 1, 1, 1)) + tf.reshape(rows[:, 3], (-1, 1, 1, 1))


def augment(images, p, seed_generator):
    """x-flip, integer translation, then colour, each transform with probability p: float32 NHWC, differentiable
    with respect to the images (gathers and a matrix product), not clipped back to [-1, 1]."""
    if not isinstance(seed_generator, keras.random.SeedGenerator):
        raise TypeError(f"seed_generator must be a keras.random.SeedGenerator created once; got "
                        f"{type(seed_generator).__name__}. An int seed would repeat the same draw every step.")
    images = x_flip(images, p, seed_generator)
    images = integer_translation(images, p, seed_generator)
    return apply_colour(images, colour_matrices(images, p, seed_generator))


def _check_fraction(name: str, value, *, upper_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1{')' if upper_open else ']'}; got {value!r}.")
    return float(value)


class AdaptiveAugment:
    """The augmentation probability p and its controller: call `augment` on what the discriminator sees and
    `observe` with the logits of the real and generated images after every discriminator step.

    Every `interval` observations, p moves by sign(r_t - target) * (real images observed) / speed_images, clipped
    to [0, 1]: with a fixed speed in images, the controller reacts alike at every batch size. statistic
    "real_sign" takes r_t = E[sign D(x_real)] (ADA, for losses that pin the logit's zero point); "pair_sign" takes
    r_t = E[sign(D(x_real) - D(G(z)))] over each step's pairs, for the relativistic pairing loss, which leaves
    the logits' common level free. Under a distribution strategy the sums run over the global batch. p and the
    controller's counters are variables, so checkpoints hold them.
    """

    def __init__(self, target: float = TARGET, speed_images: float = SPEED_IMAGES, interval: int = INTERVAL,
                 initial_p: float = 0.0, statistic: str = "real_sign"):
        self.target = _check_fraction("target", target, upper_open=True)
        if isinstance(speed_images, bool) or not isinstance(speed_images, numbers.Real) or speed_images <= 0:
            raise ValueError(f"speed_images must be a positive number (images for p to go from 0 to 1); got "
                             f"{speed_images!r}.")
        if isinstance(interval, bool) or not isinstance(interval, numbers.Integral) or interval < 1:
            raise ValueError(f"interval must be a positive integer (discriminator steps); got {interval!r}.")
        if statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {', '.join(STATISTICS)} (pair_sign for the relativistic "
                             f"loss); got {statistic!r}.")
        self.speed_images, self.interval, self.statistic = float(speed_images), int(interval), statistic

        def state(name, value):  # every replica assigns the same value (sums are over the global batch)
            return keras.Variable(value, trainable=False, dtype="float32", name=name, aggregation="mean")

        self.p = state("ada_p", _check_fraction("initial_p", initial_p))
        self.r_t = state("ada_r_t", 0.0)  # the heuristic at the last adjustment
        self._sign_sum, self._count, self._steps = state("ada_sign_sum", 0.0), state("ada_count", 0.0), \
            state("ada_steps", 0.0)

    @property
    def variables(self) -> list:
        """What a checkpoint must hold to resume the controller where it stopped."""
        return [self.p, self.r_t, self._sign_sum, self._count, self._steps]

    def augment(self, images, seed_generator):
        """augment(images, p, seed_generator) at the current p."""
        return augment(images, self.p.value, seed_generator)

    def signs(self, real_logits, fake_logits):
        """float32, one per real image: sign D(x) ("real_sign") or sign(D(x) - D(G(z))) of its pair ("pair_sign")."""
        real = tf.cast(real_logits, "float32")
        if self.statistic == "real_sign":
            return tf.sign(real)
        fake = tf.cast(fake_logits, "float32")
        if fake.shape != real.shape:
            raise ValueError(f"pair_sign pairs each real logit with one generated logit; got shapes {real.shape} "
                             f"and {fake.shape}.")
        return tf.sign(real - fake)

    def observe(self, real_logits, fake_logits=None) -> None:
        """Accumulate one discriminator step's signs (see `signs`); adjust p every `interval` calls."""
        if self.statistic == "pair_sign" and fake_logits is None:
            raise ValueError("statistic pair_sign needs the generated images' logits too: observe(real, fake).")
        signs = self.signs(real_logits, fake_logits)
        self._sign_sum.assign_add(distribute.replica_sum(tf.reduce_sum(signs)))
        self._count.assign_add(distribute.replica_sum(tf.cast(tf.size(signs), "float32")))
        self._steps.assign_add(1.0)
        due = tf.cast(tf.equal(tf.math.floormod(self._steps.value, float(self.interval)), 0.0), "float32")
        r_t = self._sign_sum.value / tf.maximum(self._count.value, 1.0)
        step = tf.sign(r_t - self.target) * self._count.value / self.speed_images
        self.p.assign(tf.clip_by_value(self.p.value + due * step, 0.0, 1.0))
        self.r_t.assign(due * r_t + (1.0 - due) * self.r_t.value)
        self._sign_sum.assign(self._sign_sum.value * (1.0 - due))
        self._count.assign(self._count.value * (1.0 - due))
