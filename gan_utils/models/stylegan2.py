"""StyleGAN2's generator (Karras et al. 2020): a mapping network z -> w, a synthesis network of convolutions
modulated by styles from w, per-pixel noise inputs and skip ToRGB outputs; and its path length regulariser.

Images come out linear, as in the paper (no tanh): training pulls them into the data's range [-1, 1], and
clipping to [-1, 1] for display and evaluation is the sampler's job, not the network's.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import ops

from gan_utils import distribute
from gan_utils.models.dcgan import (_check_channels, _check_flag, _check_name, _check_positive, _check_resolution,
                                    _int_tuple)
from gan_utils.models.equalized import EqualizedConv2D, EqualizedDense, ScaledLeakyReLU
from gan_utils.models.resample import Upsample

START = 4  # the side of the learned constant the synthesis network starts from
DEMODULATION_EPSILON = 1e-8  # inside the rsqrt, as in the paper: keeps an all-zero style finite
PIXEL_NORM_EPSILON = 1e-8
MAPPING_LR_MULTIPLIER = 0.01  # the paper's: the mapping network learns 100 times slower than the synthesis
CHANNEL_BASE, CHANNEL_MAX = 2048, 256  # default width at side s: min(CHANNEL_BASE // s, CHANNEL_MAX)


def default_filters(resolution: int) -> tuple[int, ...]:
    """One width per side 4, 8, ..., resolution: min(2048 // side, 256), so (256, 256, 128, 64, 32) at 64x64.

    Halving the width at each doubling from 8x8 on keeps a 3x3 convolution's cost the same at every side
    (9 * 2048^2 multiply-adds per image); the whole 64x64 generator then needs about 0.4 G multiply-adds per
    image, some 60 times fewer than the paper's 512 channels, which a 2-core CPU can train in minutes.
    """
    sides = [START * 2**i for i in range(int(math.log2(resolution // START)) + 1)]
    return tuple(min(CHANNEL_BASE // side, CHANNEL_MAX) for side in sides)


def _check_fraction(name: str, value, *, below_one: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}.")
    if not (0.0 <= value < 1.0 if below_one else 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be in [0, {'1)' if below_one else '1]'}; got {value!r}.")
    return float(value)


@keras.saving.register_keras_serializable(package="gan_utils")
class PixelNorm(keras.layers.Layer):
    """Each vector divided by its root mean square over the last axis (plus 1e-8), in float32: the mapping
    network sees z with unit second moment, whatever scale z was drawn at."""

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + PIXEL_NORM_EPSILON)
        return ops.cast(x, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="gan_utils")
class ModulatedConv2D(keras.layers.Layer):
    """StyleGAN2's modulated convolution: call(x, w) with x (N, H, W, C) and w (N, w_dim), no bias.

    The style s = affine(w) (an EqualizedDense with bias 1, in float32) scales the kernel's input channels per
    sample; with demodulate=True each output channel is then divided by d = sqrt(sum over input channels and
    taps of (kernel * s)^2 + 1e-8), computed in float32, so a unit-variance input gives unit-variance outputs.
    It is computed as x * s -> one shared convolution -> * (1 / d): the same sums as convolving each sample with
    its own modulated kernel, without a grouped convolution (one group per sample), which CPUs run slowly.
    up=True first doubles the size with resample.Upsample (zeros inserted, then the [1, 3, 3, 1] filter): zero
    insertion, the filter and the convolution are all linear and shift-invariant, so this equals the paper's
    transposed convolution followed by the filter, except within a pixel or two of the border (and with the
    kernel flipped, which only renames learned weights).
    """

    def __init__(self, filters: int, kernel_size: int = 3, *, demodulate: bool = True, up: bool = False, **kwargs):
        super().__init__(**kwargs)
        _check_positive(filters=filters, kernel_size=kernel_size)
        _check_flag(demodulate=demodulate, up=up)
        self.filters, self.kernel_size, self.demodulate, self.up = int(filters), int(kernel_size), demodulate, up
        self.conv = EqualizedConv2D(filters, kernel_size, use_bias=False, dtype=self.dtype_policy, name="conv")
        self.upsample = Upsample(dtype=self.dtype_policy, name="upsample") if up else None

    def build(self, inputs_shape, w_shape):
        self.affine = EqualizedDense(inputs_shape[-1], bias_init=1.0, dtype="float32", name="affine")
        self.affine.build(w_shape)
        self.conv.build(inputs_shape)

    def styles(self, w):
        """s = affine(w), float32 (N, input channels)."""
        return self.affine(w)

    def demodulation(self, styles):
        """1 / d for each sample and output channel, float32 (N, filters), from the styles s (N, channels)."""
        squares = ops.sum(ops.square(self.conv.effective_kernel()), axis=(0, 1))  # (channels, filters), float32
        return ops.rsqrt(ops.matmul(ops.square(ops.cast(styles, "float32")), squares) + DEMODULATION_EPSILON)

    def call(self, inputs, w):
        styles = self.styles(w)
        x = inputs * ops.cast(styles[:, None, None, :], inputs.dtype)
        if self.upsample is not None:
            x = self.upsample(x)
        x = self.conv(x)
        if self.demodulate:
            x = x * ops.cast(self.demodulation(styles)[:, None, None, :], x.dtype)
        return x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "demodulate": self.demodulate, "up": self.up}


@keras.saving.register_keras_serializable(package="gan_utils")
class SynthesisLayer(keras.layers.Layer):
    """One layer of the synthesis network, call(x, w, noise=None): a 3x3 modulated, demodulated convolution
    (up=True doubles the size first), plus noise (N, H, W, 1) times a learned strength that starts at 0, plus a
    bias, then LeakyReLU(0.2) * sqrt(2); noise=None leaves the noise out."""

    def __init__(self, filters: int, *, up: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.up = int(filters), up
        self.conv = ModulatedConv2D(filters, 3, up=up, dtype=self.dtype_policy, name="modulated_conv")
        self.activation = ScaledLeakyReLU(dtype=self.dtype_policy, name="activation")

    def build(self, inputs_shape, w_shape):
        self.conv.build(inputs_shape, w_shape)
        self.noise_strength = self.add_weight(shape=(), initializer="zeros", name="noise_strength")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, inputs, w, noise=None):
        x = self.conv(inputs, w)
        if noise is not None:
            x = x + self.noise_strength * noise
        return self.activation(x + self.bias)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "up": self.up}


@keras.saving.register_keras_serializable(package="gan_utils")
class ToRGB(keras.layers.Layer):
    """call(x, w): a 1x1 modulated convolution to `channels` without demodulation, plus a bias; linear."""

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.conv = ModulatedConv2D(channels, 1, demodulate=False, dtype=self.dtype_policy, name="modulated_conv")

    def build(self, inputs_shape, w_shape):
        self.conv.build(inputs_shape, w_shape)
        self.bias = self.add_weight(shape=(self.channels,), initializer="zeros", name="bias")

    def call(self, inputs, w):
        return self.conv(inputs, w) + self.bias

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable(package="gan_utils")
class SynthesisNetwork(keras.Model):
    """ws (N, num_ws, w_dim) -> images (N, resolution, resolution, channels), float32, linear.

    A learned 4x4 constant, then per side 4, 8, ..., resolution (one width per side in `filters`) a block of
    SynthesisLayers (one at 4x4; elsewhere an upsampling one and a plain one) and a ToRGB; the image is the sum
    of the ToRGB outputs, each earlier one upsampled (the paper's skip generator). Layer i reads ws[:, i] and
    each block's ToRGB reads the w of the next block's first layer, so num_ws = 2 log2(resolution) - 2.
    Noise is drawn from one SeedGenerator, `noise_seeds`: seed_noise(seed) restarts it; call(ws, noise=False)
    leaves the noise out, and call(ws, shared_noise=True) gives every image in the batch the same noise maps
    (StyleGAN2-ADA's "const" noise), so that after seed_noise(seed) an image depends on its ws alone. The ToRGB outputs and their sum stay in float32 under mixed precision.
    """

    def __init__(self, resolution: int, channels: int, w_dim: int, filters: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.resolution, self.channels = _check_resolution(resolution), _check_channels(channels)
        _check_positive(w_dim=w_dim)
        self.w_dim, self.filters = int(w_dim), _int_tuple("filters", filters)
        self.sides = tuple(START * 2**i for i in range(len(self.filters)))
        if not self.sides or self.sides[-1] != self.resolution:
            raise ValueError(f"filters must give one width per side 4, 8, ..., {self.resolution} "
                             f"({len(default_filters(self.resolution))} widths, such as "
                             f"{default_filters(self.resolution)}); got {len(self.filters)}: {self.filters}.")
        self.const = self.add_weight(shape=(START, START, self.filters[0]), name="const",
                                     initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.noise_seeds = keras.random.SeedGenerator(name="noise_seeds")
        self.convs, self.to_rgbs = [], []
        for side, width in zip(self.sides, self.filters):
            if side > START:
                self.convs.append(SynthesisLayer(width, up=True, dtype=self.dtype_policy, name=f"b{side}_conv0"))
            self.convs.append(SynthesisLayer(width, dtype=self.dtype_policy, name=f"b{side}_conv1"))
            self.to_rgbs.append(ToRGB(self.channels, dtype="float32", name=f"b{side}_torgb"))
        self.upsample = Upsample(dtype="float32", name="upsample_rgb")
        self.num_ws = len(self.convs) + 1
        self.build((None, self.num_ws, self.w_dim))

    def _blocks(self):
        """(side, the block's SynthesisLayers, its ToRGB) for each side from 4x4 up."""
        convs = iter(self.convs)
        for side, to_rgb in zip(self.sides, self.to_rgbs):
            yield side, [next(convs) for _ in range(1 if side == START else 2)], to_rgb

    def build(self, input_shape):
        batch, w_shape = input_shape[0], (input_shape[0], input_shape[-1])
        x_shape = (batch, START, START, self.filters[0])
        for side, convs, to_rgb in self._blocks():
            for conv in convs:
                conv.build(x_shape, w_shape)
                x_shape = (batch, side, side, conv.filters)
            to_rgb.build(x_shape, w_shape)

    def seed_noise(self, seed: int) -> None:
        """Restart the noise stream at `seed` (as SeedGenerator(seed) starts), so the next calls draw the same
        noise again."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an integer; got {seed!r}.")
        self.noise_seeds.state.assign(ops.convert_to_tensor([int(seed), 0], dtype=self.noise_seeds.state.dtype))

    def _noise(self, batch, side: int, shared: bool):
        """N(0, 1) noise (batch, side, side, 1); replicas of a distribution strategy draw different rows. shared:
        one map (1, side, side, 1) broadcast to the batch."""
        if shared:
            return ops.broadcast_to(keras.random.normal((1, side, side, 1), seed=self.noise_seeds),
                                    (batch, side, side, 1))
        return distribute.per_replica(lambda shape: keras.random.normal(shape, seed=self.noise_seeds),
                                      (batch, side, side, 1))

    def call(self, ws, noise=True, shared_noise=False):
        _check_flag(noise=noise, shared_noise=shared_noise)
        batch = ops.shape(ws)[0]
        x = ops.broadcast_to(ops.cast(self.const, self.compute_dtype)[None], (batch, *ops.shape(self.const)))
        images, index = None, 0
        for side, convs, to_rgb in self._blocks():
            for conv in convs:
                x = conv(x, ws[:, index], noise=self._noise(batch, side, shared_noise) if noise else None)
                index += 1
            rgb = to_rgb(x, ws[:, index])
            images = rgb if images is None else self.upsample(images) + rgb
        return images

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution, "channels": self.channels,
                "w_dim": self.w_dim, "filters": list(self.filters)}


def mapping_network(latent_dim: int, w_dim: int, num_layers: int, name: str = "mapping") -> keras.Model:
    """z (N, latent_dim) -> w (N, w_dim), float32: PixelNorm, then num_layers EqualizedDense layers with learning
    rate multiplier 0.01, each followed by LeakyReLU(0.2) * sqrt(2). Always float32, as in the paper's code: it
    costs little next to the convolutions, and w, its running mean and truncation keep full precision."""
    _check_positive(latent_dim=latent_dim, w_dim=w_dim, mapping_layers=num_layers)
    z = keras.Input((latent_dim,), name="z")
    x = PixelNorm(dtype="float32", name="normalise_z")(z)
    for i in range(num_layers):
        x = EqualizedDense(w_dim, lr_multiplier=MAPPING_LR_MULTIPLIER, dtype="float32", name=f"fc{i}")(x)
        x = ScaledLeakyReLU(dtype="float32", name=f"fc{i}_activation")(x)
    return keras.Model(z, x, name=name)


@keras.saving.register_keras_serializable(package="gan_utils")
class StyleGAN2Generator(keras.Model):
    """z (N, latent_dim) -> images (N, resolution, resolution, channels), float32, linear; see stylegan2_generator.

    `mapping` (z -> w) and `synthesis` (ws -> images) are keras.Models; w_avg, the running mean of w, is a
    float32 non-trainable variable, so checkpoints hold it. call(z, training=True) moves w_avg towards the
    batch's mean w and applies style mixing; call(z, training=False, truncation_psi=psi) truncates towards
    w_avg instead. noise=False leaves the noise inputs out. Randomness comes from two SeedGenerators made
    here: `mixing_seeds` and the synthesis network's `noise_seeds` (seed_noise restarts it).
    """

    def __init__(self, latent_dim: int, channels: int, *, resolution: int, w_dim: int, mapping_layers: int,
                 filters: Sequence[int], style_mixing: float, w_avg_beta: float, **kwargs):
        super().__init__(**kwargs)
        self.style_mixing = _check_fraction("style_mixing", style_mixing, below_one=False)
        self.w_avg_beta = _check_fraction("w_avg_beta", w_avg_beta, below_one=True)
        self.mapping = mapping_network(latent_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(resolution, channels, w_dim, filters, dtype=self.dtype_policy,
                                          name="synthesis")
        self.latent_dim, self.w_dim, self.mapping_layers = int(latent_dim), int(w_dim), int(mapping_layers)
        self.num_ws = self.synthesis.num_ws
        self.mixing_seeds = keras.random.SeedGenerator(name="mixing_seeds")
        self.build((None, self.latent_dim))

    def build(self, input_shape):
        # autocast=False: read in float32 even inside a mixed-precision call; "mean": replicas average their updates
        self.w_avg = self.add_weight(shape=(self.w_dim,), initializer="zeros", trainable=False, autocast=False,
                                     dtype="float32", aggregation="mean", name="w_avg")

    @property
    def input_shape(self) -> tuple:
        """(None, latent_dim), as a functional generator reports it (train.sample reads the latent size here)."""
        return (None, self.latent_dim)

    @property
    def output_shape(self) -> tuple:
        """(None, resolution, resolution, channels), as a functional generator reports it."""
        return (None, self.synthesis.resolution, self.synthesis.resolution, self.synthesis.channels)

    @property
    def inputs(self) -> list:
        """One symbolic input, z: an unconditional generator, as train.num_classes counts inputs."""
        return [keras.KerasTensor((None, self.latent_dim), name="z")]

    @property
    def ema_copies(self) -> list:
        """The variables an EMA copy of this generator copies instead of averaging: w_avg, already an average."""
        return [self.w_avg]

    def seed_noise(self, seed: int) -> None:
        """Restart the noise stream at `seed`: seed_noise(s) then generator(z) gives the same images every time."""
        self.synthesis.seed_noise(seed)

    def truncate(self, ws, psi):
        """w_avg + psi * (ws - w_avg), float32, for ws of any shape ending in w_dim: psi = 0 gives w_avg for every
        sample, psi = 1 leaves ws as they are, 0 < psi < 1 trades variety for typical-looking samples."""
        w_avg = ops.convert_to_tensor(self.w_avg)
        return w_avg + ops.cast(psi, "float32") * (ops.cast(ws, "float32") - w_avg)

    def w_plus(self, z, *, training=False, truncation_psi=1.0, track_w_avg=True):
        """The per-layer latents ws (N, num_ws, w_dim), float32, that call() draws z with: training=True updates
        w_avg (unless track_w_avg is False) and mixes styles, training=False truncates by truncation_psi (1: not at
        all)."""
        w = self.mapping(z)
        ws = ops.repeat(w[:, None, :], self.num_ws, axis=1)
        if training:
            if not isinstance(truncation_psi, numbers.Real) or truncation_psi != 1:
                raise ValueError(f"truncation_psi={truncation_psi!r} with training=True: truncation is for "
                                 "sampling. Call with training=False, or leave truncation_psi at 1.")
            if track_w_avg:
                self._track_w_avg(w)
            return self._mix_styles(ws) if self.style_mixing else ws
        if isinstance(truncation_psi, numbers.Real) and truncation_psi == 1:
            return ws
        return self.truncate(ws, truncation_psi)

    def _track_w_avg(self, w) -> None:
        """w_avg <- w_avg + (1 - w_avg_beta) * (batch mean of w - w_avg), without gradient."""
        mean = ops.mean(ops.stop_gradient(ops.cast(w, "float32")), axis=0)
        w_avg = ops.convert_to_tensor(self.w_avg)
        self.w_avg.assign(w_avg + (1.0 - self.w_avg_beta) * (mean - w_avg))

    def _mix_styles(self, ws):
        """Style mixing regularisation: for a `style_mixing` fraction of the samples, the ws from a crossover layer
        drawn from [1, num_ws) on are replaced by the w of a second, fresh z (which leaves w_avg alone)."""
        batch = ops.shape(ws)[0]

        def draw(sample, shape):
            return distribute.per_replica(lambda s: sample(s, seed=self.mixing_seeds), shape)

        second = self.mapping(draw(keras.random.normal, (batch, self.latent_dim)))
        crossover = draw(lambda s, seed: keras.random.randint(s, 1, self.num_ws, seed=seed), (batch, 1))
        mixed = draw(keras.random.uniform, (batch, 1)) < self.style_mixing
        crossover = ops.where(mixed, crossover, self.num_ws)
        from_second = ops.arange(self.num_ws)[None, :] >= crossover  # (N, num_ws)
        return ops.where(from_second[:, :, None], ops.cast(second, ws.dtype)[:, None, :], ws)

    def call(self, z, training=None, truncation_psi=1.0, noise=True):
        ws = self.w_plus(z, training=bool(training), truncation_psi=truncation_psi)
        return self.synthesis(ws, noise=noise)

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "channels": self.synthesis.channels,
                "resolution": self.synthesis.resolution, "w_dim": self.w_dim, "mapping_layers": self.mapping_layers,
                "filters": list(self.synthesis.filters), "style_mixing": self.style_mixing,
                "w_avg_beta": self.w_avg_beta}


def stylegan2_generator(
    latent_dim: int = 256,
    channels: int = 3,
    *,
    resolution: int = 64,
    w_dim: int = 256,
    mapping_layers: int = 2,
    filters: Sequence[int] | None = None,
    style_mixing: float = 0.9,
    w_avg_beta: float = 0.995,
    num_classes: int = 0,
    sync_batch_norm: bool = False,
    name: str = "generator",
) -> StyleGAN2Generator:
    """A StyleGAN2 generator from z of shape (latent_dim,) to images (resolution, resolution, channels), float32,
    linear (trained towards [-1, 1]; the sampler clips).

    filters gives one width per side 4, 8, ..., resolution (default_filters: (256, 256, 128, 64, 32) at 64x64);
    style_mixing is the fraction of training samples drawn from two latents (0.9 as in the paper), w_avg_beta the
    decay of w's running mean (0.995 as in the paper's code). The defaults are sized for a CPU: widths halve from
    8x8 on (default_filters says why), w_dim = latent_dim = 256 rather than 512 (w only feeds the affine layers,
    whose size it sets), and 2 mapping layers rather than 8, as StyleGAN2-ADA's configurations for small datasets.
    num_classes must be 0 (the generator is unconditional); sync_batch_norm is accepted for the common builder
    interface and does nothing (there is no batch normalisation).
    """
    if num_classes != 0 or isinstance(num_classes, bool):
        raise ValueError(f"stylegan2_generator is unconditional: num_classes must be 0; got {num_classes!r}. Train "
                         "it without class labels (recipe num_classes 0), or use the dcgan family for a "
                         "class-conditional GAN.")
    _check_flag(sync_batch_norm=sync_batch_norm)
    _check_name(name)
    resolution = _check_resolution(resolution)
    return StyleGAN2Generator(latent_dim, channels, resolution=resolution, w_dim=w_dim, mapping_layers=mapping_layers,
                              filters=default_filters(resolution) if filters is None else filters,
                              style_mixing=style_mixing, w_avg_beta=w_avg_beta, name=name)


def path_length_penalty(generator: StyleGAN2Generator, z, pl_mean, seed_generator: keras.random.SeedGenerator,
                        decay: float = 0.01):
    """StyleGAN2's path length regulariser for the generator's images from z: (penalty, new_pl_mean), float32.

    With y ~ N(0, I) / sqrt(H W) drawn from seed_generator, the length for each sample is sqrt(mean over the
    num_ws layers of |J_w^T y|^2), J_w the Jacobian of the image with respect to that layer's w (the paper's
    |J_w^T y| with the reference code's average over layers); ws come from w_plus(z, training=True), with style
    mixing as in a training step but without moving w_avg (the reference code moves it here too; the generator
    step moves it anyway, and a lazy regulariser runs under tf.cond, where a replica-synchronised update cannot). a = pl_mean + decay * (mean length - pl_mean), the running
    mean, and penalty = mean((length - a)^2); as in the reference code the penalty's `a` keeps its gradient
    through the batch's mean length. new_pl_mean is `a` without gradient: store it for the next call (under a
    distribution strategy each replica's `a` is its own batch's, and a variable with "mean" aggregation keeps their
    mean, which is the global batch's). Call it
    inside the trainer's tape: the inner gradient is taken with a nested GradientTape, so the penalty is
    differentiable with respect to the generator's weights.
    """
    decay = _check_fraction("decay", decay, below_one=False)
    ws = ops.cast(generator.w_plus(z, training=True, track_w_avg=False), "float32")
    with tf.GradientTape() as tape:
        tape.watch(ws)
        images = ops.cast(generator.synthesis(ws), "float32")
        pixels = images.shape[1] * images.shape[2]
        y = keras.random.normal(ops.shape(images), seed=seed_generator) / math.sqrt(pixels)
        total = ops.sum(images * y)
    gradients = ops.cast(tape.gradient(total, ws), "float32")
    lengths = ops.sqrt(ops.mean(ops.sum(ops.square(gradients), axis=2), axis=1))
    pl_mean = ops.cast(pl_mean, "float32")
    a = pl_mean + decay * (ops.mean(lengths) - pl_mean)
    return ops.mean(ops.square(lengths - a)), ops.stop_gradient(a)
