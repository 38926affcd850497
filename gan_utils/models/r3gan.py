"""R3GAN's generator and discriminator (Huang et al. 2024, "The GAN is dead; long live the GAN!"): residual
networks of inverted-bottleneck blocks with grouped convolutions, fix-up initialisation and no normalisation.

Each stage works at one resolution, 4x4 up to the image side. Nothing couples the samples of a batch, so the
R1 and R2 penalties that R3GAN trains with apply. Sizes default to a 64x64 network sized for a 2-core CPU.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import keras
from keras import ops

from gan_utils.models.dcgan import (LEAKY_SLOPE, _check_channels, _check_flag, _check_name, _check_positive,
                                    _check_resolution, _int_tuple)
from gan_utils.models.resample import Downsample, Upsample

BASIS_SIZE = 4  # the side of the generative and discriminative bases, the lowest stage's resolution
LEAKY_GAIN = math.sqrt(2 / (1 + LEAKY_SLOPE**2))  # He's gain for LeakyReLU(0.2): keeps activations' variance
LINEAR_LAYERS_PER_BLOCK = 3  # m in fix-up's scaling L ** (-1 / (2m - 2)) of each block's first m - 1 layers
LATENT_DIM = 64  # the paper's noise dimension for every dataset
DEFAULT_RESOLUTION = 64
# Generator stages from 4x4 up to 64x64; the discriminator's are the same read from 64x64 down. Each group of
# the grouped convolution is 16 channels wide (2 * width / cardinality), as in the paper's presets, but their
# widths (768 at FFHQ 64x64) are far too slow for a CPU. On 2 cores the stages at 16x16 and above take most of the
# time, so the widths halve from 128 at 4x4 to 8 at 64x64: a D+G step takes about 1.7 times dcgan64's there.
GENERATOR_STAGES = {"widths": (128, 64, 32, 16, 8), "cardinality": (16, 8, 4, 2, 1),
                    "blocks_per_stage": (1, 1, 1, 1, 1)}
DISCRIMINATOR_STAGES = {key: value[::-1] for key, value in GENERATOR_STAGES.items()}


@keras.saving.register_keras_serializable(package="gan_utils")
class GenerativeBasis(keras.layers.Layer):
    """R3GAN's first generator layer: a learned 4x4xC basis, N(0, 1) at initialisation, scaled per channel by its
    input (N, C): output[n, i, j, c] = basis[i, j, c] * inputs[n, c], shape (N, 4, 4, C)."""

    def build(self, input_shape):
        self.basis = self.add_weight(shape=(BASIS_SIZE, BASIS_SIZE, input_shape[-1]), name="basis",
                                     initializer=keras.initializers.RandomNormal(stddev=1.0))

    def call(self, inputs):
        return ops.cast(self.basis, inputs.dtype)[None] * inputs[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], BASIS_SIZE, BASIS_SIZE, input_shape[-1])


@keras.saving.register_keras_serializable(package="gan_utils")
class GroupedConv2D(keras.layers.Conv2D):
    """Conv2D with `groups`, computed as one convolution per group, concatenated: the same outputs and weights as
    Keras' own, whose TensorFlow backend compiles grouped convolutions with XLA on CPU, about 25x slower there."""

    def convolution_op(self, inputs, kernel):
        if self.groups == 1:
            return super().convolution_op(inputs, kernel)
        axis = -1 if self.data_format == "channels_last" else 1
        pieces = zip(ops.split(inputs, self.groups, axis=axis), ops.split(kernel, self.groups, axis=-1))
        return ops.concatenate([super(GroupedConv2D, self).convolution_op(x, k) for x, k in pieces], axis=axis)


def _msr(gain: float, fan_in: int) -> keras.initializers.Initializer:
    """He (MSR) initialisation with an activation gain: N(0, (gain / sqrt(fan_in))**2), untruncated."""
    return keras.initializers.RandomNormal(stddev=gain / math.sqrt(fan_in))


def _conv(x, filters: int, kernel_size: int, gain: float, name: str, *, groups: int = 1, use_bias: bool = False,
          **kwargs):
    """A stride-1 'same' Conv2D of x, He-initialised with `gain` for its fan-in k * k * channels / groups."""
    fan_in = kernel_size**2 * x.shape[-1] // groups
    layer = GroupedConv2D if groups > 1 else keras.layers.Conv2D
    return layer(filters, kernel_size, padding="same", groups=groups, use_bias=use_bias,
                 kernel_initializer=_msr(gain, fan_in), name=name, **kwargs)(x)


def _residual_block(x, cardinality: int, expansion: int, kernel_size: int, gain: float, prefix: str):
    """x + contract(act(grouped(act(expand(x))))): a 1x1 conv widening by `expansion`, a grouped k x k conv, a
    1x1 conv back. The first two carry the biases before their LeakyReLUs and are He-initialised with `gain`;
    "contract" starts at zero, so the block is the identity at initialisation (fix-up)."""
    width = x.shape[-1]
    y = _conv(x, width * expansion, 1, gain, f"{prefix}_expand", use_bias=True)
    y = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{prefix}_expand_act")(y)
    y = _conv(y, width * expansion, kernel_size, gain, f"{prefix}_grouped", groups=cardinality, use_bias=True)
    y = keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{prefix}_grouped_act")(y)
    y = keras.layers.Conv2D(width, 1, use_bias=False, kernel_initializer="zeros", name=f"{prefix}_contract")(y)
    return keras.layers.Add(name=f"{prefix}_add")([x, y])


def _block_gain(total_blocks: int) -> float:
    """The fix-up gain of each block's first two convolutions: LEAKY_GAIN * L ** (-1 / (2m - 2)), L blocks in all."""
    return LEAKY_GAIN * total_blocks ** (-1 / (2 * LINEAR_LAYERS_PER_BLOCK - 2))


def add_or_drop_stages(generator: dict, discriminator: dict, doublings: int) -> tuple[dict, dict]:
    """Builder arguments (generator, discriminator) for images 2**doublings times as wide (doublings < 0:
    narrower): per doubling one more stage at the generator's end and the discriminator's start, half as wide as
    its neighbour with half its cardinality (so each group keeps its width) and as many blocks; per halving one
    stage fewer on each side. Stage arguments a dict leaves out are the builders' defaults (made for 64x64)."""
    g = {**generator, **{key: list(generator.get(key, value)) for key, value in GENERATOR_STAGES.items()}}
    d = {**discriminator, **{key: list(discriminator.get(key, value)) for key, value in DISCRIMINATOR_STAGES.items()}}
    for _ in range(doublings):
        for key in GENERATOR_STAGES:
            halve = key != "blocks_per_stage"
            g[key].append(max(1, g[key][-1] // 2) if halve else g[key][-1])
            d[key].insert(0, max(1, d[key][0] // 2) if halve else d[key][0])
    for _ in range(-doublings):
        if len(g["widths"]) < 2 or len(d["widths"]) < 2:
            raise ValueError(f"no stage left to drop: generator widths {tuple(g['widths'])}, discriminator widths "
                             f"{tuple(d['widths'])}.")
        for key in GENERATOR_STAGES:
            g[key].pop(), d[key].pop(0)
    for key in GENERATOR_STAGES:
        g[key], d[key] = tuple(g[key]), tuple(d[key])
    return g, d


def _check_unconditional(num_classes) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes != 0:
        raise ValueError(f"num_classes must be 0: the book's R3GAN is unconditional (the paper's class-conditional "
                         f"ImageNet models are out of scope); got {num_classes!r}. Use the 'dcgan' architecture for "
                         f"a class-conditional GAN.")


def _check_stages(part: str, resolution: int, stages: dict, expansion: int) -> tuple[tuple[int, ...], ...]:
    """widths, cardinality and blocks_per_stage as int tuples, one entry per stage, checked against each other."""
    widths, cardinality, blocks = (_int_tuple(key, stages[key]) for key in GENERATOR_STAGES)
    count = resolution.bit_length() - BASIS_SIZE.bit_length() + 1  # 4x4, 8x8, ..., resolution
    order = f"from 4x4 up to {resolution}x{resolution}" if part == "generator" else \
        f"from {resolution}x{resolution} down to 4x4"
    for key, values in zip(GENERATOR_STAGES, (widths, cardinality, blocks)):
        if len(values) != count:
            example = add_or_drop_stages({}, {}, resolution.bit_length() - DEFAULT_RESOLUTION.bit_length())
            suggestion = ", ".join(f"{k}={v}" for k, v in example[part == "discriminator"].items())
            raise ValueError(f"{key} must have one entry per {part} stage, {order}: {count} entries; got "
                             f"{len(values)}: {values!r}. For {resolution}x{resolution} pass e.g. {suggestion}.")
    for i, (width, groups) in enumerate(zip(widths, cardinality)):
        if width * expansion % groups:
            raise ValueError(f"cardinality[{i}] must divide the grouped convolution's width widths[{i}] * expansion "
                             f"= {width * expansion} (it splits the channels into equal groups); got {groups}.")
    return widths, cardinality, blocks


def _check_common(channels, resolution, stages, expansion, kernel_size, num_classes, sync_batch_norm, name, part):
    """The checks both networks share; returns channels, resolution, widths, cardinality, blocks_per_stage."""
    channels = _check_channels(channels)
    resolution = _check_resolution(resolution)
    _check_positive(expansion=expansion, kernel_size=kernel_size)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (3 or 5), so that 'same' padding keeps the feature map centred; "
                         f"got {kernel_size}.")
    _check_unconditional(num_classes)
    _check_flag(sync_batch_norm=sync_batch_norm)
    _check_name(name)
    return (channels, resolution, *_check_stages(part, resolution, stages, expansion))


def r3gan_generator(
    latent_dim: int = LATENT_DIM,
    channels: int = 3,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    widths: Sequence[int] = GENERATOR_STAGES["widths"],
    cardinality: Sequence[int] = GENERATOR_STAGES["cardinality"],
    blocks_per_stage: Sequence[int] = GENERATOR_STAGES["blocks_per_stage"],
    expansion: int = 2,
    kernel_size: int = 3,
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    name: str = "generator",
) -> keras.Model:
    """R3GAN's generator: z of shape (latent_dim,) to float32 images (resolution, resolution, channels), linear.

    The output is not squashed: trained against images in [-1, 1] it learns that range, and samplers clip to it.
    One stage per resolution 4x4, 8x8, ..., resolution, so widths, cardinality and blocks_per_stage have
    log2(resolution) - 1 entries, listed from 4x4 up. Stage 1 is the generative basis: "stage1_basis_linear"
    maps z to widths[0] channels that scale a learned 4x4 basis "stage1_basis". Every later stage starts with a
    1x1 conv "stage{i}_transition" (only when the width changes) and a filtered 2x "stage{i}_upsample". Each
    stage then has its residual blocks "stage{i}_block{j}_*": x + contract(act(grouped(act(expand(x))))), a 1x1
    conv widening by `expansion`, a k x k conv in `cardinality` groups and a 1x1 conv back, the last initialised
    to zero, so every block is the identity at first. A 1x1 conv "to_image" (float32) aggregates the last stage
    into `channels`. There is no normalisation layer, so sync_batch_norm has nothing to act on; num_classes
    must be 0.
    """
    _check_positive(latent_dim=latent_dim)
    stages = {"widths": widths, "cardinality": cardinality, "blocks_per_stage": blocks_per_stage}
    channels, resolution, widths, cardinality, blocks = _check_common(
        channels, resolution, stages, expansion, kernel_size, num_classes, sync_batch_norm, name, "generator")
    gain = _block_gain(sum(blocks))

    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(widths[0], use_bias=False, kernel_initializer=_msr(1.0, latent_dim),
                           name="stage1_basis_linear")(z)
    x = GenerativeBasis(name="stage1_basis")(x)
    for i, (width, groups, n_blocks) in enumerate(zip(widths, cardinality, blocks), start=1):
        if i > 1:
            if width != x.shape[-1]:
                x = _conv(x, width, 1, 1.0, f"stage{i}_transition")
            x = Upsample(name=f"stage{i}_upsample")(x)
        for j in range(1, n_blocks + 1):
            x = _residual_block(x, groups, expansion, kernel_size, gain, f"stage{i}_block{j}")
    image = _conv(x, channels, 1, 1.0, "to_image", dtype="float32")
    return keras.Model(z, image, name=name)


def r3gan_discriminator(
    channels: int = 3,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    widths: Sequence[int] = DISCRIMINATOR_STAGES["widths"],
    cardinality: Sequence[int] = DISCRIMINATOR_STAGES["cardinality"],
    blocks_per_stage: Sequence[int] = DISCRIMINATOR_STAGES["blocks_per_stage"],
    expansion: int = 2,
    kernel_size: int = 3,
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    name: str = "discriminator",
) -> keras.Model:
    """R3GAN's discriminator: images (resolution, resolution, channels) in [-1, 1] to one float32 logit per image,
    shape (N, 1), whose sigmoid is the probability that the image is real.

    The generator mirrored: widths, cardinality and blocks_per_stage are listed from the image's resolution
    down to 4x4 (the generator's, reversed). A 1x1 conv "from_image" extracts widths[0] channels; each stage
    has its residual blocks "stage{i}_block{j}_*", then (all but the last) a filtered 2x "stage{i}_downsample"
    and a 1x1 conv "stage{i}_transition" when the width changes. The last stage ends in the discriminative
    basis: a depthwise 4x4 valid conv "stage{n}_basis" and a linear "logit" (float32, no bias). No layer couples
    the samples of a batch (no normalisation, no minibatch std), so R1 and R2 apply; sync_batch_norm is accepted
    and ignored, num_classes must be 0.
    """
    stages = {"widths": widths, "cardinality": cardinality, "blocks_per_stage": blocks_per_stage}
    channels, resolution, widths, cardinality, blocks = _check_common(
        channels, resolution, stages, expansion, kernel_size, num_classes, sync_batch_norm, name, "discriminator")
    gain = _block_gain(sum(blocks))

    image = keras.Input((resolution, resolution, channels), name="image")
    x = _conv(image, widths[0], 1, 1.0, "from_image")
    for i, (width, groups, n_blocks) in enumerate(zip(widths, cardinality, blocks), start=1):
        for j in range(1, n_blocks + 1):
            x = _residual_block(x, groups, expansion, kernel_size, gain, f"stage{i}_block{j}")
        if i < len(widths):
            x = Downsample(name=f"stage{i}_downsample")(x)
            if widths[i] != width:
                x = _conv(x, widths[i], 1, 1.0, f"stage{i}_transition")
    x = keras.layers.DepthwiseConv2D(BASIS_SIZE, use_bias=False, depthwise_initializer=_msr(1.0, BASIS_SIZE**2),
                                     name=f"stage{len(widths)}_basis")(x)
    x = keras.layers.Flatten(name=f"stage{len(widths)}_basis_flatten")(x)
    logit = keras.layers.Dense(1, use_bias=False, kernel_initializer=_msr(1.0, widths[-1]), dtype="float32",
                               name="logit")(x)
    return keras.Model(image, logit, name=name)
