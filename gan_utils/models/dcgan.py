"""Generator and discriminator builders: the MLPs of chapter 1 and the DCGAN family at 32, 64 or 128 pixels.

Generators map latent noise z to samples; discriminators return one logit per sample
(the probability that the input is real is sigmoid(logit)).
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras

from gan_utils.data import SIZE  # part one's resolution, the builders' default
from gan_utils.models.layers import MinibatchStdDev, SpectralNormalization

CHANNELS = (1, 3)
GENERATOR_NORMS = ("batch", "none")
DISCRIMINATOR_NORMS = ("none", "batch", "layer")
ACTIVATIONS = ("relu", "leaky_relu")
UPSAMPLES = ("transpose", "resize")
LEAKY_SLOPE = 0.2  # the DCGAN paper's slope for LeakyReLU
RESOLUTIONS = (32, 64, 128)  # image sides the builders make: (R, R, channels)


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")



def _check_choice(name: str, value, allowed: tuple) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}.")


def _check_channels(channels) -> int:
    if not isinstance(channels, numbers.Integral) or isinstance(channels, bool) or channels not in CHANNELS:
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB); got {channels!r}.")
    return int(channels)


def _check_flag(**flags) -> None:
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False; got {value!r}.")


def _check_num_classes(num_classes) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 0 \
            or num_classes == 1:
        raise ValueError(f"num_classes must be 0 (unconditional) or the number of classes, at least 2; "
                         f"got {num_classes!r}.")


def _check_name(name) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}.")


def _int_tuple(name: str, values) -> tuple[int, ...]:
    """`values` as a tuple of positive ints; a list (as read from a JSON recipe) is accepted too."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a tuple of positive integers, one per block; got {values!r}.")
    for i, value in enumerate(values):
        _check_positive(**{f"{name}[{i}]": value})
    return tuple(int(v) for v in values)


def _activation_layer(activation: str, name: str) -> keras.layers.Layer:
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=name)
    return keras.layers.ReLU(name=name)


def _check_resolution(resolution) -> int:
    if isinstance(resolution, bool) or resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(map(str, RESOLUTIONS))} (the image side in "
                         f"pixels); got {resolution!r}.")
    return int(resolution)


def _start_size(strides: tuple[int, ...], resolution: int) -> int:
    """The side of the generator's first feature map: the resolution halved once per stride-2 block and once
    for to_image."""
    doublings = strides.count(2) + 1
    if resolution % 2**doublings:
        raise ValueError(
            f"strides={strides!r} has {strides.count(2)} stride-2 blocks; with the final 2x upsampling in "
            f"to_image that doubles the size {doublings} times, so the first feature map would be "
            f"{resolution}/2**{doublings} = {resolution / 2**doublings:g} pixels wide. Use at most "
            f"{resolution.bit_length() - 2} stride-2 blocks (set the others to 1)."
        )
    return resolution // 2**doublings


def mlp_generator(latent_dim: int = 2, output_dim: int = 2, *, width: int = 128, depth: int = 3) -> keras.Model:
    """An MLP from z of shape (latent_dim,) to a point of shape (output_dim,), linear output."""
    _check_positive(latent_dim=latent_dim, output_dim=output_dim, width=width, depth=depth)
    layers = [keras.Input((latent_dim,), name="z")]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    layers.append(keras.layers.Dense(output_dim, name="sample"))
    return keras.Sequential(layers, name="mlp_generator")


def mlp_discriminator(input_dim: int = 2, *, width: int = 128, depth: int = 3) -> keras.Model:
    """An MLP from a point of shape (input_dim,) to one logit; D(x) = sigmoid(logit)."""
    _check_positive(input_dim=input_dim, width=width, depth=depth)
    layers = [keras.Input((input_dim,), name="x")]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    layers.append(keras.layers.Dense(1, name="logit"))
    return keras.Sequential(layers, name="mlp_discriminator")


def dcgan_generator(
    latent_dim: int = 100,
    channels: int = 1,
    *,
    dense_filters: int = 256,
    filters: Sequence[int] = (128, 64),
    strides: Sequence[int] = (2, 2),
    kernel_size: int = 4,
    norm: str = "batch",
    activation: str = "relu",
    upsample: str = "transpose",
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    resolution: int = SIZE,
    name: str = "generator",
) -> keras.Model:
    """A DCGAN generator from z of shape (latent_dim,) to images (resolution, resolution, channels), float32 in
    [-1, 1].

    With num_classes > 0 it is class-conditional: its inputs are [z, label] (label an int of shape (1,))
    and a learned embedding of the label, of size latent_dim, is concatenated to z before "project".

    z -> Dense "project" to an s x s x dense_filters map -> one up-block per (filter, stride)
    ("up1", "up2", ...) -> "to_image", which doubles the size once more to `channels` -> tanh.
    s = resolution / 2**(number of stride-2 blocks + 1). upsample="transpose" uses Conv2DTranspose;
    "resize" uses nearest-neighbour UpSampling2D then Conv2D (no checkerboard artefacts).
    With norm="batch" each hidden layer is followed by BatchNormalization, and the layer before it
    has no bias (the normalisation would cancel it); sync_batch_norm computes its statistics over the
    global batch under a distribution strategy (chapter 11). The final tanh runs in float32.
    """
    _check_positive(latent_dim=latent_dim, dense_filters=dense_filters, kernel_size=kernel_size)
    channels = _check_channels(channels)
    _check_num_classes(num_classes)
    filters = _int_tuple("filters", filters)
    strides = _int_tuple("strides", strides)
    if len(strides) != len(filters):
        raise ValueError(
            f"strides must give one stride per entry of filters; got {len(filters)} filters {filters!r} "
            f"and {len(strides)} strides {strides!r}."
        )
    for i, stride in enumerate(strides):
        if stride not in (1, 2):
            raise ValueError(f"strides[{i}] must be 1 (same size) or 2 (double the size); got {stride!r}.")
    _check_choice("norm", norm, GENERATOR_NORMS)
    _check_choice("activation", activation, ACTIVATIONS)
    _check_choice("upsample", upsample, UPSAMPLES)
    _check_flag(sync_batch_norm=sync_batch_norm)
    _check_name(name)
    resolution = _check_resolution(resolution)
    start = _start_size(strides, resolution)
    batch_norm = norm == "batch"

    def finish(x, prefix):
        if batch_norm:
            x = keras.layers.BatchNormalization(synchronized=sync_batch_norm, name=f"{prefix}_norm")(x)
        return _activation_layer(activation, f"{prefix}_act")(x)

    def up(x, n_filters, stride, prefix, use_bias):
        if upsample == "transpose":
            return keras.layers.Conv2DTranspose(n_filters, kernel_size, strides=stride, padding="same",
                                                use_bias=use_bias, name=prefix)(x)
        if stride > 1:
            x = keras.layers.UpSampling2D(stride, interpolation="nearest", name=f"{prefix}_resize")(x)
        return keras.layers.Conv2D(n_filters, kernel_size, padding="same", use_bias=use_bias, name=prefix)(x)

    z = keras.Input((latent_dim,), name="z")
    inputs, code = z, z
    if num_classes:
        label = keras.Input((1,), dtype="int32", name="label")
        embedded = keras.layers.Flatten(name="label_flat")(
            keras.layers.Embedding(num_classes, latent_dim, name="label_embedding")(label))
        inputs, code = [z, label], keras.layers.Concatenate(name="z_and_label")([z, embedded])
    x = keras.layers.Dense(start * start * dense_filters, use_bias=not batch_norm, name="project")(code)
    x = finish(x, "project")
    x = keras.layers.Reshape((start, start, dense_filters), name="reshape")(x)
    for i, (n_filters, stride) in enumerate(zip(filters, strides), start=1):
        x = finish(up(x, n_filters, stride, f"up{i}", use_bias=not batch_norm), f"up{i}")
    x = up(x, channels, 2, "to_image", use_bias=True)
    image = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    model = keras.Model(inputs, image, name=name)

    if tuple(model.output.shape[1:]) != (resolution, resolution, channels):
        raise ValueError(
            f"The generator's output shape is {tuple(model.output.shape[1:])}, not ({resolution}, {resolution}, "
            f"{channels}): strides={strides!r} with upsample={upsample!r} do not grow the {start}x{start} start "
            f"to {resolution}x{resolution}."
        )
    return model


def dcgan_discriminator(
    channels: int = 1,
    *,
    filters: Sequence[int] = (64, 128, 256),
    kernel_size: int = 4,
    norm: str = "none",
    activation: str = "leaky_relu",
    dropout: float = 0.0,
    spectral_norm: bool = False,
    minibatch_std: bool = False,
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    resolution: int = SIZE,
    name: str = "discriminator",
) -> keras.Model:
    """A DCGAN discriminator from images (resolution, resolution, channels) in [-1, 1] to one float32 logit per
    image, shape (N, 1).

    One block per entry of filters ("down1", "down2", ...): a stride-2 Conv2D that halves the size,
    then norm (never on the first block, as in DCGAN), the activation and optional Dropout.
    Then Flatten and a linear Dense(1) "logit": logits, not probabilities (D(x) = sigmoid(logit)).
    norm="layer" normalises each image's whole feature map (height, width and channels) with a
    per-channel scale and offset, as in WGAN-GP; it is GroupNormalization with one group.

    spectral_norm=True wraps every Conv2D, the logit Dense and (conditional) the projection embedding in
    models.layers.SpectralNormalization (Miyato et al. 2018), which computes with W / sigma(W) in every call,
    sigma a power-iteration estimate of the reshaped kernel's largest singular value, so that gradients flow
    through sigma as in the paper. (Keras' own SpectralNormalization instead writes W / sigma back into the
    kernel on training calls, a projection with no gradient through sigma.) Each wrapper keeps the block's name
    ("down1", ..., "logit", "label_embedding"); the layer inside is "down1_conv", ..., "logit_dense",
    "label_embedding_table". sigma bounds each layer's matrix norm, which only approximates a convolution's
    operator norm, so D is not guaranteed to be 1-Lipschitz.
    It cannot be combined with norm="batch", whose rescaling undoes the Lipschitz bound.
    minibatch_std=True adds a MinibatchStdDev layer "minibatch_std" after the last block, before Flatten:
    one extra channel with the batch's mean feature standard deviation, so D can spot a collapsed batch.
    Its output for one image then depends on the rest of the batch (a batch of one gives a constant).

    With num_classes > 0 it is a projection discriminator (Miyato and Koyama 2018): its inputs are
    [image, label] and logit = Dense(h) + <embed(label), h>, with h the flattened features. The label
    enters as an inner product, the form the optimal discriminator's log density ratio takes, which
    conditions more strongly than concatenating the label to the image or the features.
    sync_batch_norm (norm="batch" only) computes batch statistics over the global batch when distributed.
    """
    channels = _check_channels(channels)
    resolution = _check_resolution(resolution)
    filters = _int_tuple("filters", filters)
    max_blocks = resolution.bit_length() - 1  # halvings down to one pixel
    if not 1 <= len(filters) <= max_blocks:
        raise ValueError(
            f"filters must have 1 to {max_blocks} entries (each block halves the {resolution}x{resolution} "
            f"image); got {len(filters)}: {filters!r}."
        )
    _check_positive(kernel_size=kernel_size)
    _check_choice("norm", norm, DISCRIMINATOR_NORMS)
    _check_choice("activation", activation, ACTIVATIONS)
    if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool):
        raise TypeError(f"dropout must be a number in [0, 1); got {dropout!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1) (the fraction of activations dropped); got {dropout!r}.")
    _check_flag(spectral_norm=spectral_norm, minibatch_std=minibatch_std, sync_batch_norm=sync_batch_norm)
    _check_num_classes(num_classes)
    if spectral_norm and norm == "batch":
        raise ValueError(
            "spectral_norm=True cannot be combined with norm='batch': batch normalisation rescales the "
            "activations by the batch statistics and undoes the Lipschitz bound that spectral normalisation "
            "enforces. Use norm='none' (as in SN-GAN) or norm='layer'."
        )
    _check_name(name)

    def linear(layer: keras.layers.Layer, prefix: str, **kwargs) -> keras.layers.Layer:
        """`layer` itself, or with spectral_norm wrapped in SpectralNormalization that carries the block's name."""
        if spectral_norm:
            return SpectralNormalization(layer, name=prefix, **kwargs)
        return layer

    image = keras.Input((resolution, resolution, channels), name="image")
    x = image
    for i, n_filters in enumerate(filters, start=1):
        prefix = f"down{i}"
        normalised = norm != "none" and i > 1
        conv = keras.layers.Conv2D(n_filters, kernel_size, strides=2, padding="same", use_bias=not normalised,
                                   name=f"{prefix}_conv" if spectral_norm else prefix)
        x = linear(conv, prefix)(x)
        if normalised and norm == "batch":
            x = keras.layers.BatchNormalization(synchronized=sync_batch_norm, name=f"{prefix}_norm")(x)
        elif normalised:
            x = keras.layers.GroupNormalization(groups=1, name=f"{prefix}_norm")(x)
        x = _activation_layer(activation, f"{prefix}_act")(x)
        if dropout > 0:
            x = keras.layers.Dropout(float(dropout), name=f"{prefix}_dropout")(x)
    if minibatch_std:
        x = MinibatchStdDev(name="minibatch_std")(x)
    features = keras.layers.Flatten(name="flatten")(x)
    dense = keras.layers.Dense(1, dtype="float32", name="logit_dense" if spectral_norm else "logit")
    logit = linear(dense, "logit", dtype="float32")(features)
    if not num_classes:
        return keras.Model(image, logit, name=name)
    label = keras.Input((1,), dtype="int32", name="label")
    embedded = keras.layers.Flatten(name="label_flat")(
        linear(keras.layers.Embedding(num_classes, features.shape[-1],
                                      name="label_embedding_table" if spectral_norm else "label_embedding"),
               "label_embedding")(label))
    projection = keras.layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
    logit = keras.layers.Add(dtype="float32", name="conditional_logit")([logit, projection])
    return keras.Model([image, label], logit, name=name)
