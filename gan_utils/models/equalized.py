"""The equalised learning rate (Karras et al. 2018, ProGAN): dense and convolution layers that store N(0, 1)
weights and scale them at run time, and the LeakyReLU that carries the He gain those layers leave out.

Adam's step moves each parameter by about the learning rate, whatever the parameter's scale. With weights
stored at unit scale and the He constant applied in the forward pass, every layer then moves at the same rate
relative to its weights, instead of wide layers (small weights) moving relatively faster than narrow ones.
"""
from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from gan_utils.models.dcgan import _check_flag, _check_positive

LEAKY_SLOPE = 0.2  # StyleGAN's LeakyReLU slope
LEAKY_GAIN = math.sqrt(2.0)  # He et al.'s gain: LeakyReLU(0.2) * sqrt(2) keeps a unit-variance input near unit scale


def _check_real(name: str, value, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number; got {value!r}.")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive; got {value!r}.")
    return float(value)


class _Equalized(keras.layers.Layer):
    """Shared by EqualizedDense and EqualizedConv2D: the stored kernel and bias, and their run-time scales."""

    def __init__(self, *, use_bias: bool = True, bias_init: float = 0.0, lr_multiplier: float = 1.0,
                 gain: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        _check_flag(use_bias=use_bias)
        self.use_bias = use_bias
        self.bias_init = _check_real("bias_init", bias_init, positive=False)
        self.lr_multiplier = _check_real("lr_multiplier", lr_multiplier, positive=True)
        self.gain = _check_real("gain", gain, positive=True)

    def _add_weights(self, kernel_shape: tuple, fan_in: int) -> None:
        # autocast=False: the float32 values are read as they are and cast explicitly (demodulation needs float32)
        self.kernel_scale = self.lr_multiplier * self.gain / math.sqrt(fan_in)
        self.kernel = self.add_weight(shape=kernel_shape, name="kernel", autocast=False,
                                      initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier))
        self.bias = self.add_weight(shape=kernel_shape[-1:], name="bias", autocast=False,
                                    initializer=keras.initializers.Constant(self.bias_init / self.lr_multiplier)
                                    ) if self.use_bias else None

    def effective_kernel(self):
        """The kernel the layer computes with, float32: the stored one times lr_multiplier * gain / sqrt(fan_in),
        so drawn from N(0, gain^2 / fan_in) at initialisation."""
        return ops.convert_to_tensor(self.kernel) * self.kernel_scale

    def _add_bias(self, outputs):
        if self.bias is None:
            return outputs
        return outputs + ops.cast(ops.convert_to_tensor(self.bias) * self.lr_multiplier, outputs.dtype)

    def get_config(self):
        return {**super().get_config(), "use_bias": self.use_bias, "bias_init": self.bias_init,
                "lr_multiplier": self.lr_multiplier, "gain": self.gain}


@keras.saving.register_keras_serializable(package="gan_utils")
class EqualizedDense(_Equalized):
    """A Dense layer with the equalised learning rate: the kernel is stored as N(0, 1) / lr_multiplier and used as
    kernel * lr_multiplier * gain / sqrt(fan_in); the bias is stored as bias_init / lr_multiplier and used times
    lr_multiplier, so bias_init is the bias it starts with. lr_multiplier < 1 slows the layer under any optimiser
    by that factor (StyleGAN's mapping network uses 0.01). Linear: no activation."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        _check_positive(units=units)
        self.units = int(units)

    def build(self, input_shape):
        self._add_weights((input_shape[-1], self.units), fan_in=input_shape[-1])

    def call(self, inputs):
        return self._add_bias(ops.matmul(inputs, ops.cast(self.effective_kernel(), inputs.dtype)))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="gan_utils")
class EqualizedConv2D(_Equalized):
    """A stride-1 'same' Conv2D on NHWC images with the equalised learning rate, as EqualizedDense; the fan-in is
    kernel_size^2 * input channels. Linear: no activation."""

    def __init__(self, filters: int, kernel_size: int, **kwargs):
        super().__init__(**kwargs)
        _check_positive(filters=filters, kernel_size=kernel_size)
        self.filters, self.kernel_size = int(filters), int(kernel_size)

    def build(self, input_shape):
        k, channels = self.kernel_size, input_shape[-1]
        self._add_weights((k, k, channels, self.filters), fan_in=k * k * channels)

    def call(self, inputs):
        kernel = ops.cast(self.effective_kernel(), inputs.dtype)
        return self._add_bias(ops.conv(inputs, kernel, strides=1, padding="same"))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="gan_utils")
class ScaledLeakyReLU(keras.layers.Layer):
    """LeakyReLU(0.2) times sqrt(2): the He gain moved out of the equalised layers' weights into the activation,
    so a unit-variance input leaves with a second moment near 1 (1.04) and depth does not shrink the signal."""

    def __init__(self, negative_slope: float = LEAKY_SLOPE, gain: float = LEAKY_GAIN, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = _check_real("negative_slope", negative_slope, positive=False)
        self.gain = _check_real("gain", gain, positive=True)
        self.built = True  # no weights to build (Keras' fit under a strategy checks that every layer is built)

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope) * self.gain

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope, "gain": self.gain}
