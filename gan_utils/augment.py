"""Differentiable augmentation for small datasets (DiffAugment, Zhao et al. 2020).

The transforms take float32 NHWC images in [-1, 1] and are built only from differentiable
TensorFlow ops, so the generator's gradient flows back through them into its own pixels.
Randomness comes from a `keras.random.SeedGenerator` that the caller creates once (in
`__init__`, never inside a step), so every call draws fresh, per-image transforms and a run
with the same seed repeats exactly.

Use the SAME policy in three places: on the real images and the generated images in the
discriminator step, and on the generated images in the generator step. Augmenting only the
real images leaks: the discriminator learns that augmented-looking images are real, and the
generator then learns to produce augmented-looking images (shifted, cut-out, recoloured).

The outputs are not clipped back to [-1, 1]: colour changes may leave the range slightly,
and a clip would zero the gradient of every pixel it touches.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from gan_utils import distribute

BRIGHTNESS = 0.5  # brightness adds U(-0.5, 0.5), as the authors' rand_brightness does on [-1, 1] images
SATURATION = (0.0, 2.0)  # colour images: mix with the per-pixel grey value by a factor U(0, 2)
CONTRAST = (0.5, 1.5)  # mix with the per-image mean by a factor U(0.5, 1.5)
BACKGROUND = 0.0  # what translation shifts in: 0, mid-grey in [-1, 1], as the authors' rand_translation pads


def _uniform(images, seed_generator, low, high):
    """One factor per image, shaped (N, 1, 1, 1) to broadcast over H, W, C."""
    return distribute.per_replica(lambda shape: keras.random.uniform(shape, low, high, dtype=images.dtype,
                                                                     seed=seed_generator),
                                  (tf.shape(images)[0], 1, 1, 1))


def _randint(images, seed_generator, low, high):
    """One integer per image in [low, high] (both ends included), shaped (N,)."""
    return distribute.per_replica(lambda shape: keras.random.randint(shape, low, high + 1, dtype="int32",
                                                                     seed=seed_generator),
                                  (tf.shape(images)[0],))


def colour(images, seed_generator):
    """Per-image brightness, then saturation (colour images only), then contrast.

    brightness: x + b, b ~ U(-0.5, 0.5). saturation: mean_c + (x - mean_c) * s, s ~ U(0, 2),
    with mean_c the per-pixel mean over channels (skipped for C=1). contrast: mean + (x - mean) * c,
    c ~ U(0.5, 1.5), with mean the per-image mean, so a constant image stays constant.
    """
    images = tf.convert_to_tensor(images)
    images = images + _uniform(images, seed_generator, -BRIGHTNESS, BRIGHTNESS)
    if images.shape[-1] != 1:
        grey = tf.reduce_mean(images, axis=3, keepdims=True)
        images = grey + (images - grey) * _uniform(images, seed_generator, *SATURATION)
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return mean + (images - mean) * _uniform(images, seed_generator, *CONTRAST)


def translation(images, seed_generator, ratio=0.125):
    """Shift each image by whole pixels, dy and dx each in [-s, s] with s = round(ratio * size).

    Pixels shifted in are 0 (mid-grey), as in the paper's code, which pads its [-1, 1] images with zeros.
    Built from a zero padding and two gathers of shifted index rows, so the pixels that stay in the frame
    carry their gradient; those shifted out get none.
    """
    images = tf.convert_to_tensor(images)
    height, width = images.shape[1], images.shape[2]
    shift_y, shift_x = int(ratio * height + 0.5), int(ratio * width + 0.5)
    if shift_y == 0 and shift_x == 0:
        return images
    padded = tf.pad(images, [[0, 0], [shift_y, shift_y], [shift_x, shift_x], [0, 0]],
                    constant_values=tf.cast(BACKGROUND, images.dtype))
    dy = _randint(images, seed_generator, -shift_y, shift_y)
    dx = _randint(images, seed_generator, -shift_x, shift_x)
    # out[y, x] = in[y - dy, x - dx], which sits at padded[y - dy + shift_y, x - dx + shift_x].
    rows = tf.range(height)[None, :] - dy[:, None] + shift_y
    cols = tf.range(width)[None, :] - dx[:, None] + shift_x
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, cols, axis=2, batch_dims=1)


def cutout(images, seed_generator, ratio=0.5):
    """Multiply one square per image, side round(ratio * size), by 0: the square becomes 0, mid-grey.

    The square's centre is uniform over the image, so near a border the square is clipped
    (fewer than side^2 pixels, never none). Gradients flow through every pixel outside it.
    """
    images = tf.convert_to_tensor(images)
    height, width = images.shape[1], images.shape[2]
    side_y, side_x = int(ratio * height + 0.5), int(ratio * width + 0.5)
    if side_y == 0 or side_x == 0:
        return images
    top = _randint(images, seed_generator, 0, height - 1) - side_y // 2
    left = _randint(images, seed_generator, 0, width - 1) - side_x // 2
    y = tf.range(height)[None, :]
    x = tf.range(width)[None, :]
    inside_y = (y >= top[:, None]) & (y < top[:, None] + side_y)  # (N, H)
    inside_x = (x >= left[:, None]) & (x < left[:, None] + side_x)  # (N, W)
    inside = inside_y[:, :, None] & inside_x[:, None, :]  # (N, H, W)
    mask = 1.0 - tf.cast(inside, images.dtype)
    return images * mask[..., None]


POLICIES = {"colour": colour, "translation": translation, "cutout": cutout}


def check_policy(policy) -> tuple[str, ...]:
    """`policy` (a sequence of names from POLICIES, or one comma-separated string) as a tuple of names."""
    if isinstance(policy, str):
        policy = [name.strip() for name in policy.split(",") if name.strip()]
    if not isinstance(policy, (list, tuple)):
        raise TypeError(f"policy must be a sequence of names from {', '.join(POLICIES)}; got {policy!r}.")
    unknown = [name for name in policy if name not in POLICIES]
    if unknown:
        raise ValueError(
            f"Unknown augmentation {', '.join(map(repr, unknown))}; choose from {', '.join(POLICIES)}."
        )
    return tuple(policy)


def diff_augment(images, seed_generator, policy=("colour", "translation", "cutout")):
    """Apply the transforms named in `policy`, in order; an empty policy returns `images` unchanged.

    `policy` is a sequence of names from POLICIES (or one comma-separated string). Call it with
    the same policy on real and generated images in the discriminator step and on generated
    images in the generator step (see the module docstring for why augmenting only reals leaks).
    """
    for name in check_policy(policy):
        images = POLICIES[name](images, seed_generator)
    return images
