"""FastGAN (Liu et al. 2021, "Towards faster and stabilized GAN training for high-fidelity few-shot image
synthesis") at 64x64: a generator with skip-layer excitation and a self-supervised discriminator that
reconstructs its input from its own low-resolution features.

Written from the paper and its official models.py, sized for a 2-core CPU. Departures, each for a CPU or for
offline use: no noise injection in the generator's blocks; no spectral normalisation in the generator (batch
normalisation follows every convolution there and undoes a kernel's scale); the reconstruction loss is the mean
absolute pixel error, where the paper uses a perceptual distance from a pretrained VGG; the decoders reconstruct
32x32 images from 8x8 features with two up-blocks, not 128x128 ones with four.
"""
from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from gan_utils.models.dcgan import (LEAKY_SLOPE, _check_channels, _check_flag, _check_name, _check_num_classes,
                                    _check_positive, _int_tuple)
from gan_utils.models.layers import SpectralNormalization

RESOLUTION = 64  # the only size these networks are built for
GENERATOR_WIDTHS = (128, 64, 32, 16, 8)  # channels at 4, 8, 16, 32 and 64 pixels: about dcgan64's cost per image
DISCRIMINATOR_WIDTHS = (8, 16, 32, 64)  # channels at 64, 32, 16 and 8 pixels (the whole image's path)
DECODER_WIDTHS = (16, 8)  # each decoder's channels at 16 and 32 pixels
RECONSTRUCTION_SIDE = 32  # the decoders draw 32x32 images: the image halved, or a quarter of it at full size


@keras.saving.register_keras_serializable(package="gan_utils")
class GLU(keras.layers.Layer):
    """Gated linear unit over channels: the first half times the sigmoid of the second, (N, H, W, 2C) to
    (N, H, W, C). FastGAN's activation after every generator and decoder convolution."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights

    def call(self, inputs):
        half = inputs.shape[-1] // 2
        return inputs[..., :half] * ops.sigmoid(inputs[..., half:])

    def compute_output_shape(self, input_shape):
        if input_shape[-1] % 2:
            raise ValueError(f"GLU halves the channels, so their number must be even; got {input_shape[-1]}.")
        return (*input_shape[:-1], input_shape[-1] // 2)


@keras.saving.register_keras_serializable(package="gan_utils")
class QuarterCrop(keras.layers.Layer):
    """The quarter `part` (0: top left, 1: top right, 2: bottom left, 3: bottom right) of each feature map or image,
    (N, H, W, C) to (N, H/2, W/2, C); part is an int32 tensor of shape (1,), one quarter for the whole batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # no weights

    def call(self, inputs, part):
        side = inputs.shape[1] // 2
        part = ops.reshape(ops.cast(part, "int32"), ())
        top, left = (part // 2) * side, (part % 2) * side
        return tf.slice(inputs, ops.stack([0, top, left, 0]), [-1, side, side, inputs.shape[-1]])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] // 2, input_shape[2] // 2, input_shape[3])


# Rows: the 4 taps of a stride-2 transposed convolution; columns: the 3 taps of a 3x3 convolution applied after
# nearest-neighbour 2x upsampling. An output pixel of phase 0 reads input rows i - 1 (tap -1) and i (taps 0 and +1);
# of phase 1, rows i (taps -1 and 0) and i + 1 (tap +1).
_NEAREST_TAPS = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], "float32")


@keras.saving.register_keras_serializable(package="gan_utils")
class NearestUpConv2D(keras.layers.Layer):
    """Nearest-neighbour 2x upsampling then a 3x3 'same' convolution without bias, (N, H, W, C) to (N, 2H, 2W,
    filters), computed exactly as one stride-2 transposed convolution whose 4x4 kernel sums the 3x3 kernel's taps
    that read the same input pixel: 4 products per output pixel and channel pair instead of 9."""

    def __init__(self, filters: int, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(3, 3, input_shape[-1], self.filters), name="kernel",
                                      initializer=self.kernel_initializer)

    def transposed_kernel(self):
        """The (4, 4, filters, in) kernel of the equivalent stride-2 transposed convolution."""
        taps = ops.convert_to_tensor(_NEAREST_TAPS, dtype=self.compute_dtype)
        return ops.einsum("pu,qv,uvio->pqoi", taps, taps, ops.cast(self.kernel, self.compute_dtype))

    def call(self, inputs):
        return ops.conv_transpose(ops.cast(inputs, self.compute_dtype), self.transposed_kernel(), strides=2,
                                  padding="same")

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        return (n, None if h is None else 2 * h, None if w is None else 2 * w, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def _spectral(layer, name):
    return SpectralNormalization(layer, name=name)


def _batch_norm(x, sync: bool, name: str):
    return keras.layers.BatchNormalization(synchronized=sync, name=name)(x)


def _up_block(x, filters: int, sync: bool, prefix: str, *, second_conv: bool):
    """Nearest-neighbour 2x upsampling and a 3x3 convolution to 2 * filters (NearestUpConv2D), batch norm and GLU
    (FastGAN's UpBlock); second_conv adds a second 3x3 convolution, batch norm and GLU at the new size (its
    UpBlockComp)."""
    for i in range(2 if second_conv else 1):
        conv = NearestUpConv2D(2 * filters, name=f"{prefix}_conv1") if i == 0 else \
            keras.layers.Conv2D(2 * filters, 3, padding="same", use_bias=False, name=f"{prefix}_conv{i + 1}")
        x = GLU(name=f"{prefix}_glu{i + 1}")(_batch_norm(conv(x), sync, f"{prefix}_norm{i + 1}"))
    return x


def _excitation(small, big, prefix: str, *, spectral: bool):
    """Skip-layer excitation: `big` (N, H, W, C) times per-channel gates in (0, 1) computed from `small`, a
    feature map of another resolution: pooled to 4x4, a 4x4 convolution, swish, a 1x1 convolution, sigmoid."""
    def conv(size, name):
        layer = keras.layers.Conv2D(big.shape[-1], size, use_bias=False, name=f"{name}_kernel" if spectral else name)
        return _spectral(layer, name) if spectral else layer

    if small.shape[1] > 4:
        small = keras.layers.AveragePooling2D(small.shape[1] // 4, name=f"{prefix}_pool")(small)
    gates = keras.layers.Activation("swish", name=f"{prefix}_swish")(conv(4, f"{prefix}_conv1")(small))
    gates = keras.layers.Activation("sigmoid", name=f"{prefix}_gates")(conv(1, f"{prefix}_conv2")(gates))
    return keras.layers.Multiply(name=f"{prefix}_excite")([big, gates])


def _check_widths(name: str, widths, count: int) -> tuple[int, ...]:
    widths = _int_tuple(name, widths)
    if len(widths) != count:
        raise ValueError(f"{name} must give {count} channel counts; got {len(widths)}: {widths!r}.")
    return widths


def _check_common(channels, num_classes, sync_batch_norm, resolution, name) -> int:
    channels = _check_channels(channels)
    _check_num_classes(num_classes)
    if num_classes:
        raise ValueError("the fastgan networks are unconditional; set num_classes to 0 or choose the dcgan family.")
    _check_flag(sync_batch_norm=sync_batch_norm)
    if resolution != RESOLUTION:
        raise ValueError(f"the fastgan networks are built for {RESOLUTION}x{RESOLUTION} images; got resolution "
                         f"{resolution!r}. Choose a dcgan recipe for other sizes.")
    _check_name(name)
    return channels


def fastgan_generator(latent_dim: int = 128, channels: int = 3, *, widths: Sequence[int] = GENERATOR_WIDTHS,
                      num_classes: int = 0, sync_batch_norm: bool = False, resolution: int = RESOLUTION,
                      name: str = "generator") -> keras.Model:
    """FastGAN's generator from z (latent_dim,) to images (64, 64, channels), float32 in [-1, 1].

    z -> Dense to 4x4x(2 widths[0]), batch norm, GLU -> up-blocks to 8 (two convolutions), 16 (one), 32 (two) and
    64 (one) pixels with widths[1:] channels -> 3x3 convolution to the image -> tanh. Skip-layer excitation gates
    the 32-pixel features by the 4-pixel ones and the 64-pixel features by the 8-pixel ones, so the coarse layout
    steers the fine detail directly. Every upsampling is nearest-neighbour, which keeps flat colours flat.
    """
    _check_positive(latent_dim=latent_dim)
    channels = _check_common(channels, num_classes, sync_batch_norm, resolution, name)
    widths = _check_widths("widths", widths, 5)
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(4 * 4 * 2 * widths[0], use_bias=False, name="project")(z)
    x = keras.layers.Reshape((4, 4, 2 * widths[0]), name="reshape")(x)
    feat4 = GLU(name="project_glu")(_batch_norm(x, sync_batch_norm, "project_norm"))
    feat8 = _up_block(feat4, widths[1], sync_batch_norm, "up8", second_conv=True)
    feat16 = _up_block(feat8, widths[2], sync_batch_norm, "up16", second_conv=False)
    feat32 = _excitation(feat4, _up_block(feat16, widths[3], sync_batch_norm, "up32", second_conv=True), "sle32",
                         spectral=False)
    feat64 = _excitation(feat8, _up_block(feat32, widths[4], sync_batch_norm, "up64", second_conv=False), "sle64",
                         spectral=False)
    x = keras.layers.Conv2D(channels, 3, padding="same", name="to_image")(feat64)
    image = keras.layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, image, name=name)


def _leaky(x, name):
    return keras.layers.LeakyReLU(LEAKY_SLOPE, name=name)(x)


def _down_block(x, filters: int, sync: bool, prefix: str):
    """FastGAN's DownBlockComp: the mean of a main path (4x4 stride-2 convolution, batch norm, LeakyReLU, 3x3
    convolution, batch norm, LeakyReLU) and a shortcut (2x2 average pooling, 1x1 convolution, batch norm,
    LeakyReLU); every convolution spectrally normalised."""
    main = _spectral(keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False,
                                         name=f"{prefix}_conv1_kernel"), f"{prefix}_conv1")(x)
    main = _leaky(_batch_norm(main, sync, f"{prefix}_norm1"), f"{prefix}_act1")
    main = _spectral(keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{prefix}_conv2_kernel"),
                     f"{prefix}_conv2")(main)
    main = _leaky(_batch_norm(main, sync, f"{prefix}_norm2"), f"{prefix}_act2")
    short = keras.layers.AveragePooling2D(2, name=f"{prefix}_pool")(x)
    short = _spectral(keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}_skip_kernel"),
                      f"{prefix}_skip")(short)
    short = _leaky(_batch_norm(short, sync, f"{prefix}_skip_norm"), f"{prefix}_skip_act")
    return keras.layers.Average(name=f"{prefix}_mean")([main, short])


def _decoder(features: int, channels: int, widths: tuple[int, ...], sync: bool, name: str) -> keras.Model:
    """FastGAN's SimpleDecoder at CPU size: 8x8 features to a (32, 32, channels) image in [-1, 1] through two
    up-blocks and a 3x3 convolution."""
    x = inputs = keras.Input((8, 8, features), name=f"{name}_features")
    for i, width in enumerate(widths, start=1):
        x = _up_block(x, width, sync, f"{name}_up{i}", second_conv=False)
    x = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_to_image")(x)
    return keras.Model(inputs, keras.layers.Activation("tanh", dtype="float32", name=f"{name}_tanh")(x), name=name)


@keras.saving.register_keras_serializable(package="gan_utils")
class FastGANDiscriminator(keras.Model):
    """FastGAN's discriminator: call(images) gives logits (N, 50), 5x5 patches from the whole 64x64 image and 5x5
    from the image halved to 32x32; self_supervised(images, part) also gives the reconstruction loss on real
    images (reconstruction_loss). A subclassed model around functional parts, so that its decoders, which only
    real images use, belong to it."""

    def __init__(self, encoder: keras.Model, decoders: dict[str, keras.Model], **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder_whole, self.decoder_part, self.decoder_small = (decoders[k] for k in ("whole", "part", "small"))
        self.crop = QuarterCrop(name="quarter")
        self.built = True

    @property
    def input_shape(self) -> tuple:
        """(None, 64, 64, channels), as a functional discriminator reports it."""
        return self.encoder.input_shape

    @property
    def output_shape(self) -> tuple:
        """(None, 50): the patch logits, as a functional discriminator reports its output."""
        return self.encoder.output_shape[0]

    def call(self, images, training=False):
        return self.encoder(images, training=training)[0]

    def self_supervised(self, images, part, training=True):
        """(logits, reconstruction loss): the loss is the mean absolute error of the three decoders' images against
        the image halved (from the whole image's 8x8 features and from the half-size path's), and against its
        quarter `part` at full size (from that quarter of the 16x16 features); a float32 scalar."""
        logits, feat8, feat16, small8 = self.encoder(images, training=training)
        images = ops.cast(images, "float32")
        halved = ops.average_pool(images, 2, strides=2)
        reconstructions = [(self.decoder_whole(feat8, training=training), halved),
                           (self.decoder_small(small8, training=training), halved),
                           (self.decoder_part(self.crop(feat16, part), training=training), self.crop(images, part))]
        loss = sum(ops.mean(ops.abs(ops.cast(r, "float32") - t)) for r, t in reconstructions)
        return logits, loss


def fastgan_discriminator(channels: int = 3, *, widths: Sequence[int] = DISCRIMINATOR_WIDTHS,
                          decoder_widths: Sequence[int] = DECODER_WIDTHS, num_classes: int = 0,
                          sync_batch_norm: bool = False, resolution: int = RESOLUTION,
                          name: str = "discriminator") -> FastGANDiscriminator:
    """FastGAN's discriminator for (64, 64, channels) images in [-1, 1]: float32 logits (N, 50).

    The whole image: 3x3 convolution with widths[0] channels at 64 pixels, down-blocks to 32, 16 and 8 pixels
    (widths[1:]), skip-layer excitation of the 8-pixel features by the 64-pixel ones, then a 1x1 convolution,
    batch norm, LeakyReLU and a 4x4 convolution to 5x5 logits. The image halved to 32x32: a 4x4 stride-2
    convolution and one plain down-block (FastGAN's DownBlock) to 8x8, then a 4x4 convolution to 5x5 logits.
    Every convolution is spectrally normalised, as in the paper, and batch norm follows most of them, so the
    discriminator couples the samples of a batch: it takes no R1 or gradient penalty.
    """
    channels = _check_common(channels, num_classes, sync_batch_norm, resolution, name)
    widths = _check_widths("widths", widths, 4)
    decoder_widths = _check_widths("decoder_widths", decoder_widths, 2)
    sync = sync_batch_norm
    image = keras.Input((RESOLUTION, RESOLUTION, channels), name="image")
    feat64 = _leaky(_spectral(keras.layers.Conv2D(widths[0], 3, padding="same", name="stem_kernel"), "stem")(image),
                    "stem_act")
    feat32 = _down_block(feat64, widths[1], sync, "down32")
    feat16 = _down_block(feat32, widths[2], sync, "down16")
    feat8 = _excitation(feat64, _down_block(feat16, widths[3], sync, "down8"), "sle8", spectral=True)
    x = _spectral(keras.layers.Conv2D(widths[2], 1, use_bias=False, name="logits_conv1_kernel"), "logits_conv1")(feat8)
    x = _leaky(_batch_norm(x, sync, "logits_norm"), "logits_act")
    whole = _spectral(keras.layers.Conv2D(1, 4, padding="valid", dtype="float32", name="logits_whole_kernel"),
                      "logits_whole")(x)
    halved = keras.layers.AveragePooling2D(2, name="halve")(image)
    small = _leaky(_spectral(keras.layers.Conv2D(widths[1], 4, strides=2, padding="same", name="small1_kernel"),
                             "small1")(halved), "small1_act")
    small = _spectral(keras.layers.Conv2D(widths[3], 4, strides=2, padding="same", use_bias=False,
                                          name="small2_kernel"), "small2")(small)
    small8 = _leaky(_batch_norm(small, sync, "small2_norm"), "small2_act")
    small_logits = _spectral(keras.layers.Conv2D(1, 4, padding="valid", dtype="float32", name="logits_small_kernel"),
                             "logits_small")(small8)
    logits = keras.layers.Concatenate(axis=1, dtype="float32", name="logits")(
        [keras.layers.Flatten(name="whole_flat")(whole), keras.layers.Flatten(name="small_flat")(small_logits)])
    encoder = keras.Model(image, [logits, feat8, feat16, small8], name=f"{name}_encoder")
    decoders = {"whole": _decoder(widths[3], channels, decoder_widths, sync, "decoder_whole"),
                "part": _decoder(widths[2], channels, decoder_widths, sync, "decoder_part"),
                "small": _decoder(widths[3], channels, decoder_widths, sync, "decoder_small")}
    return FastGANDiscriminator(encoder, decoders, name=name)
