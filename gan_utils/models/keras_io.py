"""keras-io's 64x64 face DCGAN as published, in the book's conventions: images in [-1, 1], logits for "real".

The example is "DCGAN to generate face images" by fchollet (keras.io/examples/generative/dcgan_overriding_train_step,
created 2019/04/29), trained on CelebA. Recipe `classic64` uses it as a benchmark anchor.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras

from gan_utils.models.dcgan import (LEAKY_SLOPE, _check_channels, _check_flag, _check_name, _check_positive,
                                    _check_resolution, _int_tuple)

PUBLISHED_RESOLUTION = 64  # keras-io resizes CelebA to 64x64


def _check_unconditional(num_classes) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes != 0:
        raise ValueError(f"keras-io's DCGAN is unconditional, so num_classes must be 0; got {num_classes!r}. "
                         f"Use the 'dcgan' architecture for a class-conditional GAN.")


def _start_size(filters: tuple[int, ...], resolution: int) -> int:
    """resolution / 2**len(filters): each block halves (discriminator) or doubles (generator) the side."""
    if not filters or resolution % 2 ** len(filters):
        raise ValueError(f"filters must have 1 to {resolution.bit_length() - 1} entries (one stride-2 block each, "
                         f"and {resolution} / 2**blocks must be a whole number of pixels); got {len(filters)}: "
                         f"{filters!r}.")
    return resolution // 2 ** len(filters)


def _check_common(channels, filters, resolution, num_classes, sync_batch_norm, name) -> tuple[int, tuple, int, int]:
    """The checks both networks share; returns channels, filters, resolution and the start side, normalised."""
    channels = _check_channels(channels)
    resolution = _check_resolution(resolution)
    filters = _int_tuple("filters", filters)
    start = _start_size(filters, resolution)
    _check_unconditional(num_classes)
    _check_flag(sync_batch_norm=sync_batch_norm)
    _check_name(name)
    return channels, filters, resolution, start


def keras_io_generator(
    latent_dim: int = 128,
    channels: int = 3,
    *,
    dense_filters: int = 128,
    filters: Sequence[int] = (128, 256, 512),
    kernel_size: int = 4,
    output_kernel_size: int = 5,
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    resolution: int = PUBLISHED_RESOLUTION,
    name: str = "generator",
) -> keras.Model:
    """keras-io's face generator: z of shape (latent_dim,) to images (resolution, resolution, channels), float32
    in [-1, 1].

    As published: Dense "project" to an s x s x dense_filters map (no activation, no batch norm anywhere) ->
    per entry of filters a stride-2 Conv2DTranspose ("up1", ...) and LeakyReLU(0.2) -> Conv2D "to_image" with
    output_kernel_size and a sigmoid, which gives [0, 1]. s = resolution / 2**len(filters): 8 for the published
    64x64 with three blocks. A fixed Rescaling(2, offset=-1) then maps [0, 1] to [-1, 1], the book's data
    contract, so on [0, 1]-scaled data the network computes what keras-io's does. The published model applies the
    sigmoid inside the Conv2D; here it is a separate "sigmoid" layer, so that it runs in float32 under mixed
    precision, as the dcgan tanh does.

    num_classes must be 0 and sync_batch_norm is accepted for the common builder interface but has no batch
    norm to act on.
    """
    _check_positive(latent_dim=latent_dim, dense_filters=dense_filters, kernel_size=kernel_size,
                    output_kernel_size=output_kernel_size)
    channels, filters, resolution, start = _check_common(channels, filters, resolution, num_classes,
                                                         sync_batch_norm, name)

    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(start * start * dense_filters, name="project")(z)
    x = keras.layers.Reshape((start, start, dense_filters), name="reshape")(x)
    for i, n_filters in enumerate(filters, start=1):
        x = keras.layers.Conv2DTranspose(n_filters, kernel_size, strides=2, padding="same", name=f"up{i}")(x)
        x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"up{i}_act")(x)
    x = keras.layers.Conv2D(channels, output_kernel_size, padding="same", name="to_image")(x)
    x = keras.layers.Activation("sigmoid", dtype="float32", name="sigmoid")(x)
    image = keras.layers.Rescaling(2.0, offset=-1.0, dtype="float32", name="to_minus_one_one")(x)
    return keras.Model(z, image, name=name)


def keras_io_discriminator(
    channels: int = 3,
    *,
    filters: Sequence[int] = (64, 128, 128),
    kernel_size: int = 4,
    dropout: float = 0.2,
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    resolution: int = PUBLISHED_RESOLUTION,
    name: str = "discriminator",
) -> keras.Model:
    """keras-io's face discriminator: images (resolution, resolution, channels) in [-1, 1] to one float32 logit per
    image, shape (N, 1), whose sigmoid is the probability that the image is REAL.

    A fixed Rescaling(0.5, offset=0.5) "to_zero_one" first maps [-1, 1] back to keras-io's [0, 1]. Then, as
    published: per entry of filters a stride-2 Conv2D ("down1", ...) and LeakyReLU(0.2), Flatten, Dropout
    "dropout" (kept even at rate 0, so the layer list stays the published one) and Dense(1) "logit". keras-io's
    train_step calls its discriminator without training=True, so there the Dropout(0.2) never acts; recipe
    classic64 sets dropout=0 to train what keras-io trains.

    keras-io ends with Dense(1, activation="sigmoid") and trains it with label 1 for generated images, so its
    output is the probability that the image is FAKE. Here the Dense has no activation and the convention is the
    book's: with l this network's logit, keras-io's output is p_fake = sigmoid(-l), i.e. the same network with
    the last layer's weights negated (its initialisation is symmetric about 0, so the two start alike).
    losses.keras_io_noisy_discriminator_loss writes keras-io's noisy-label loss in this convention.

    num_classes must be 0 and sync_batch_norm is accepted for the common builder interface but has no batch
    norm to act on.
    """
    channels, filters, resolution, _ = _check_common(channels, filters, resolution, num_classes, sync_batch_norm,
                                                     name)
    _check_positive(kernel_size=kernel_size)
    if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool):
        raise TypeError(f"dropout must be a number in [0, 1); got {dropout!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1) (the fraction of activations dropped); got {dropout!r}.")

    image = keras.Input((resolution, resolution, channels), name="image")
    x = keras.layers.Rescaling(0.5, offset=0.5, name="to_zero_one")(image)
    for i, n_filters in enumerate(filters, start=1):
        x = keras.layers.Conv2D(n_filters, kernel_size, strides=2, padding="same", name=f"down{i}")(x)
        x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"down{i}_act")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(float(dropout), name="dropout")(x)
    logit = keras.layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(image, logit, name=name)
