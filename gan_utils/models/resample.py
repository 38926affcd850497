"""Low-pass filtered 2x resampling, the up- and down-sampling of StyleGAN2 and R3GAN.

Nearest-neighbour upsampling and strided convolutions alias: they fold high frequencies into the image as
checkerboards. Both papers instead insert zeros (or drop pixels) and filter with a separable low-pass kernel.
R3GAN names its filter [1, 2, 1]; for interpolation it convolves that with the box [1, 1], which gives the
[1, 3, 3, 1] filter that StyleGAN2 uses too, so DEFAULT_TAPS is that.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

DEFAULT_TAPS = (1, 3, 3, 1)  # [1, 2, 1] convolved with [1, 1] (R3GAN's interpolative resampler), StyleGAN2's filter


def lowpass_kernel(taps: Sequence[float] = DEFAULT_TAPS) -> np.ndarray:
    """The separable 2-D filter outer(taps, taps) / its sum: float32 (k, k), summing to 1."""
    taps = np.asarray(taps, dtype="float64")
    if taps.ndim != 1 or len(taps) < 1 or not np.all(np.isfinite(taps)) or np.any(taps < 0) or taps.sum() <= 0:
        raise ValueError(f"taps must be a non-empty list of non-negative numbers with a positive sum; got {taps!r}.")
    kernel = np.outer(taps, taps)
    return (kernel / kernel.sum()).astype("float32")


def _check_taps(taps) -> tuple[float, ...]:
    if isinstance(taps, (str, bytes)) or not isinstance(taps, Sequence) or not all(
            isinstance(t, numbers.Real) and not isinstance(t, bool) for t in taps):
        raise TypeError(f"taps must be a list of numbers, such as [1, 3, 3, 1]; got {taps!r}.")
    if len(taps) % 2:
        raise ValueError(f"taps must have an even length (4 for [1, 3, 3, 1]), so that resampling by 2 keeps the "
                         f"image centred; got {len(taps)}: {list(taps)!r}.")
    lowpass_kernel(taps)  # the value checks
    return tuple(float(t) for t in taps)


class _Resample(keras.layers.Layer):
    """Shared by Upsample and Downsample: a fixed per-channel filter, no weights."""

    def __init__(self, taps: Sequence[float] = DEFAULT_TAPS, **kwargs):
        super().__init__(**kwargs)
        self.taps = _check_taps(taps)

    def _depthwise(self, x, gain: float, strides: int):
        """x (N, H, W, C) filtered with gain * kernel per channel, 'valid', at the given stride."""
        kernel = gain * lowpass_kernel(self.taps)
        channels = x.shape[-1]
        kernel = ops.cast(np.tile(kernel[:, :, None, None], (1, 1, channels, 1)), x.dtype)
        return ops.depthwise_conv(x, kernel, strides=strides, padding="valid")

    def get_config(self):
        return {**super().get_config(), "taps": list(self.taps)}


@keras.saving.register_keras_serializable(package="gan_utils")
class Upsample(_Resample):
    """Images (N, H, W, C) to (N, 2H, 2W, C): zeros inserted after every pixel, then the low-pass filter with gain
    4, so a constant image stays constant away from the border (upfirdn2d's upsample2d with zero padding)."""

    def __init__(self, taps: Sequence[float] = DEFAULT_TAPS, **kwargs):
        super().__init__(taps, **kwargs)
        self.built = True  # no weights to build (Keras' fit under a strategy checks that every layer is built)

    def call(self, inputs):
        n, h, w, c = ops.shape(inputs)
        zeros = ops.zeros_like(inputs)
        x = ops.stack([inputs, zeros], axis=3)  # (N, H, W, 2, C): each pixel, then a zero to its right
        x = ops.reshape(x, (n, h, 2 * w, c))
        x = ops.stack([x, ops.zeros_like(x)], axis=2)  # each row, then a row of zeros below it
        x = ops.reshape(x, (n, 2 * h, 2 * w, c))
        k = len(self.taps)
        before, after = (k + 1) // 2, (k - 2) // 2  # upfirdn2d's padding for up=2: (k + up - 1) // 2, (k - up) // 2
        x = ops.pad(x, ((0, 0), (before, after), (before, after), (0, 0)))
        return self._depthwise(x, 4.0, strides=1)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else 2 * h, None if w is None else 2 * w, c)


@keras.saving.register_keras_serializable(package="gan_utils")
class Downsample(_Resample):
    """Images (N, H, W, C) with even H and W to (N, H/2, W/2, C): the low-pass filter, then every second pixel
    (upfirdn2d's downsample2d with zero padding); a constant image stays constant away from the border."""

    def build(self, input_shape):
        h, w = input_shape[1:3]
        if (h is not None and h % 2) or (w is not None and w % 2):
            raise ValueError(f"Downsample halves the image, so its height and width must be even; got {h}x{w}.")
        super().build(input_shape)

    def call(self, inputs):
        k = len(self.taps)
        pad = (k - 1) // 2, (k - 2) // 2  # upfirdn2d's padding for down=2: (k - down + 1) // 2, (k - down) // 2
        x = ops.pad(inputs, ((0, 0), pad, pad, (0, 0)))
        return self._depthwise(x, 1.0, strides=2)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else h // 2, None if w is None else w // 2, c)
