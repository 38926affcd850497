"""pix2pix's and CycleGAN's networks (Isola et al. 2017; Zhu et al. 2017): the U-Net generator, whose skip
connections carry an image's fine detail past the bottleneck, and the PatchGAN discriminator, which scores every
overlapping patch of an image rather than the whole, with the receptive-field arithmetic that sizes its patches.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras

from gan_utils.models.dcgan import LEAKY_SLOPE, _check_flag, _check_positive

NORMS = ("batch", "instance")
KERNEL_SIZE = 4  # every convolution of both networks is 4x4, as in pix2pix
DROPOUT_LEVELS = 3  # pix2pix's dropout: on the three decoder levels nearest the bottleneck
MIN_RESOLUTION = 8  # the smallest U-Net: three levels, 8x8 down to 1x1


def _check_rate(name: str, rate) -> float:
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool):
        raise TypeError(f"{name} must be a number in [0, 1); got {rate!r}.")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{name} must be in [0, 1) (the fraction of activations dropped); got {rate!r}.")
    return float(rate)


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer; got {seed!r}.")


def _check_norm(norm) -> None:
    if not isinstance(norm, str) or norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(repr(n) for n in NORMS)}; got {norm!r}.")


def _check_widths(width, max_width) -> None:
    _check_positive(width=width, max_width=max_width)
    if max_width < width:
        raise ValueError(f"max_width caps the widths that start at width, so it must be at least width; got "
                         f"width={width!r} and max_width={max_width!r}. Raise max_width or lower width.")


def _check_power_of_two(resolution, minimum: int, why: str) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or resolution < minimum \
            or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two, at least {minimum} ({why}); got {resolution!r}.")
    return int(resolution)


def _norm_layer(norm: str, name: str) -> keras.layers.Layer:
    """BatchNormalization, or instance normalisation: GroupNormalization with one group per channel."""
    if norm == "batch":
        return keras.layers.BatchNormalization(name=name)
    return keras.layers.GroupNormalization(groups=-1, name=name)


@keras.saving.register_keras_serializable(package="gan_utils")
class AlwaysDropout(keras.layers.Layer):
    """Dropout that is applied in every call, training or not: pix2pix's only source of noise, kept on when
    sampling (while batch norm there uses its moving statistics). Zeroes each unit with probability `rate` and
    scales the others by 1 / (1 - rate); rate 0 is the identity. Masks come from a SeedGenerator started at
    `seed` (None: a random start)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate("rate", rate)
        if seed is not None:
            _check_seed(seed)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs):
        if self.rate == 0:
            return inputs
        return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def unet_generator(
    resolution: int = 64,
    channels_in: int = 3,
    channels_out: int | None = None,
    *,
    width: int = 32,
    max_width: int = 256,
    norm: str = "batch",
    dropout: float = 0.5,
    seed: int = 0,
) -> keras.Model:
    """pix2pix's U-Net: images (resolution, resolution, channels_in) in [-1, 1] to images (resolution,
    resolution, channels_out) in [-1, 1], float32; channels_out defaults to channels_in.

    The encoder has log2(resolution) levels "down1", "down2", ...: a stride-2 4x4 Conv2D, norm and LeakyReLU(0.2),
    halving the image down to 1x1, widths width, 2 * width, 4 * width, ... capped at max_width. The outermost
    level and the 1x1 bottleneck have no norm (the batch statistics of a 1x1 map over a small batch are
    degenerate, and its instance norm is zero). Each decoder level "up1", "up2", ... is a stride-2 4x4
    Conv2DTranspose with the width of the encoder level it mirrors, norm, ReLU, then "skip{j}" concatenates that
    encoder level's activation. The three levels nearest the bottleneck have AlwaysDropout(dropout) after the
    norm, with seeds seed, seed + 1, seed + 2: the output is random even with training=False unless dropout
    is 0. "to_image", a Conv2DTranspose to channels_out, and tanh make the image. norm="instance" is
    GroupNormalization with one group per channel (CycleGAN's choice); layers followed by a norm have no bias.
    """
    resolution = _check_power_of_two(resolution, MIN_RESOLUTION, "the encoder halves it down to 1x1")
    channels_out = channels_in if channels_out is None else channels_out
    _check_positive(channels_in=channels_in, channels_out=channels_out)
    _check_widths(width, max_width)
    _check_norm(norm)
    dropout = _check_rate("dropout", dropout)
    _check_seed(seed)
    levels = resolution.bit_length() - 1
    widths = [min(width * 2**i, max_width) for i in range(levels)]

    image = keras.Input((resolution, resolution, channels_in), name="image")
    x, skips = image, []
    for i, n_filters in enumerate(widths, start=1):
        normalised = 1 < i < levels
        x = keras.layers.Conv2D(n_filters, KERNEL_SIZE, strides=2, padding="same", use_bias=not normalised,
                                name=f"down{i}")(x)
        if normalised:
            x = _norm_layer(norm, f"down{i}_norm")(x)
        x = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"down{i}_act")(x)
        skips.append(x)
    for j in range(1, levels):
        mirror = skips[levels - 1 - j]  # the encoder activation of the same size
        x = keras.layers.Conv2DTranspose(mirror.shape[-1], KERNEL_SIZE, strides=2, padding="same", use_bias=False,
                                         name=f"up{j}")(x)
        x = _norm_layer(norm, f"up{j}_norm")(x)
        if j <= DROPOUT_LEVELS:
            x = AlwaysDropout(dropout, seed=seed + j - 1, name=f"up{j}_dropout")(x)
        x = keras.layers.ReLU(name=f"up{j}_act")(x)
        x = keras.layers.Concatenate(name=f"skip{j}")([x, mirror])
    x = keras.layers.Conv2DTranspose(channels_out, KERNEL_SIZE, strides=2, padding="same", name="to_image")(x)
    output = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(image, output, name="unet_generator")


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """The receptive field, in input pixels, of one output of a stack of convolutions given as (kernel, stride)
    pairs from input to output: r = 1 and jump = 1, then per layer r += (kernel - 1) * jump and jump *= stride."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a sequence of (kernel, stride) pairs; got {layers!r}.")
    field, jump = 1, 1
    for i, pair in enumerate(layers):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"layers[{i}] must be a (kernel, stride) pair; got {pair!r}.")
        kernel, stride = pair
        _check_positive(**{f"layers[{i}] kernel": kernel, f"layers[{i}] stride": stride})
        field += (kernel - 1) * jump
        jump *= stride
    return field


def patchgan_layers(downsamples: int = 3) -> list[tuple[int, int]]:
    """The PatchGAN's convolutions as (kernel, stride) pairs: `downsamples` 4x4 stride-2 convs, a 4x4 stride-1
    conv and the 4x4 stride-1 logit conv. receptive_field gives 70 pixels for downsamples=3 (pix2pix's 70x70
    PatchGAN) and 34 for downsamples=2."""
    _check_positive(downsamples=downsamples)
    return [(KERNEL_SIZE, 2)] * downsamples + [(KERNEL_SIZE, 1)] * 2


def patchgan_discriminator(
    resolution: int = 64,
    channels_source: int = 3,
    channels_target: int = 3,
    *,
    width: int = 64,
    max_width: int = 512,
    downsamples: int = 2,
    norm: str = "batch",
    conditional: bool = True,
) -> keras.Model:
    """The PatchGAN: one float32 logit per patch of receptive_field(patchgan_layers(downsamples)) pixels, a map of
    shape (N, P, P, 1) with P = resolution / 2**downsamples - 2; sigmoid(logit) is the probability that the patch
    is real. At 64x64 P is 14 for downsamples=2 (34-pixel patches) and 6 for downsamples=3 (70-pixel patches,
    which at 64x64 reach past the image). pix2pix's 256x256 with downsamples=3 gives its 30x30 map.

    With conditional=True (pix2pix) the inputs are [source, target], images (resolution, resolution, channels) in
    [-1, 1] concatenated on channels, so D judges the target as a translation of the source; with
    conditional=False (CycleGAN) the one input is an image of channels_target channels and channels_source is
    not used. "down1", "down2", ... are stride-2 4x4 convs ("same" padding) of widths width, 2 * width, ...
    capped at max_width, then "features" (the next width) and "logit" are stride-1 4x4 convs after a one-pixel
    zero padding ("valid"). Each conv but the first and the logit has a norm; all but the logit LeakyReLU(0.2).
    """
    _check_positive(downsamples=downsamples, channels_source=channels_source, channels_target=channels_target)
    smallest = 2 ** (downsamples + 2)  # halved downsamples times to 4x4, then two valid 4x4 convs give 2x2
    why = f"with downsamples={downsamples} a smaller image gives a patch map under 2x2"
    resolution = _check_power_of_two(resolution, smallest, why)
    _check_widths(width, max_width)
    _check_norm(norm)
    _check_flag(conditional=conditional)

    target = keras.Input((resolution, resolution, channels_target), name="target" if conditional else "image")
    if conditional:
        source = keras.Input((resolution, resolution, channels_source), name="source")
        inputs, x = [source, target], keras.layers.Concatenate(name="source_and_target")([source, target])
    else:
        inputs, x = target, target

    def block(x, i: int, name: str):
        """Conv i of the PatchGAN (1-based), width width * 2**(i - 1) capped, then norm (not on the first) and
        LeakyReLU; stride 2 ("same") up to i = downsamples, then stride 1 on a one-pixel zero padding."""
        downsampling = i <= downsamples
        if not downsampling:
            x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        x = keras.layers.Conv2D(min(width * 2 ** (i - 1), max_width), KERNEL_SIZE, strides=2 if downsampling else 1,
                                padding="same" if downsampling else "valid", use_bias=i == 1, name=name)(x)
        if i > 1:
            x = _norm_layer(norm, f"{name}_norm")(x)
        return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_act")(x)

    for i in range(1, downsamples + 1):
        x = block(x, i, f"down{i}")
    x = block(x, downsamples + 1, "features")
    x = keras.layers.ZeroPadding2D(1, name="logit_pad")(x)
    logit = keras.layers.Conv2D(1, KERNEL_SIZE, dtype="float32", name="logit")(x)
    return keras.Model(inputs, logit, name="patchgan_discriminator")
