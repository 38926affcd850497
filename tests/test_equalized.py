"""The equalised learning rate: effective weights at the He scale, outputs equal to plain Keras layers holding the
scaled kernel, and gradients with respect to the stored weights scaled by the same constant."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import models
from gan_utils.models.equalized import EqualizedConv2D, EqualizedDense, ScaledLeakyReLU

rng = np.random.default_rng(0)


def _pair(kind: str, lr_multiplier: float):
    """(an equalised layer, the plain Keras layer holding its effective kernel and bias, an input batch)."""
    if kind == "dense":
        layer, plain = EqualizedDense(6, lr_multiplier=lr_multiplier, gain=1.5, bias_init=0.5), keras.layers.Dense(6)
        x = rng.standard_normal((5, 12)).astype("float32")
    else:
        layer = EqualizedConv2D(6, 3, lr_multiplier=lr_multiplier, gain=1.5, bias_init=0.5)
        plain = keras.layers.Conv2D(6, 3, padding="same")
        x = rng.standard_normal((2, 7, 7, 4)).astype("float32")
    layer(x)
    plain(x)
    layer.bias.assign(rng.standard_normal(6).astype("float32"))
    plain.set_weights([np.asarray(layer.effective_kernel()), np.asarray(layer.bias) * lr_multiplier])
    return layer, plain, x


@pytest.mark.parametrize("kind, fan_in", [("dense", 300), ("conv", 3 * 3 * 32)])
def test_stored_weights_are_n01_over_lr_and_effective_weights_have_std_gain_over_sqrt_fan_in(kind, fan_in):
    layer = EqualizedDense(400, lr_multiplier=0.01, gain=math.sqrt(2)) if kind == "dense" else \
        EqualizedConv2D(64, 3, lr_multiplier=0.01, gain=math.sqrt(2))
    layer.build((None, 300) if kind == "dense" else (None, 8, 8, 32))
    assert np.std(np.asarray(layer.kernel)) == pytest.approx(100.0, rel=0.03)
    assert np.std(np.asarray(layer.effective_kernel())) == pytest.approx(math.sqrt(2 / fan_in), rel=0.03)
    assert layer.kernel_scale == pytest.approx(0.01 * math.sqrt(2) / math.sqrt(fan_in))


def test_the_bias_starts_at_bias_init_whatever_the_lr_multiplier():
    layer = EqualizedDense(3, lr_multiplier=0.01, bias_init=1.0)
    out = np.asarray(layer(np.zeros((2, 4), "float32")))
    np.testing.assert_allclose(out, 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layer.bias), 100.0, rtol=1e-6)  # stored / 0.01


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("lr_multiplier", [1.0, 0.01])
def test_output_equals_the_plain_layer_with_the_scaled_kernel(kind, lr_multiplier):
    layer, plain, x = _pair(kind, lr_multiplier)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(plain(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["dense", "conv"])
@pytest.mark.parametrize("lr_multiplier", [1.0, 0.01])
def test_gradients_of_stored_weights_are_the_plain_gradients_times_the_run_time_scale(kind, lr_multiplier):
    """What "equalised learning rate" means: d loss / d stored kernel = lr * gain / sqrt(fan_in) * d loss / d kernel,
    and d loss / d stored bias = lr * d loss / d bias."""
    layer, plain, x = _pair(kind, lr_multiplier)
    readout = rng.standard_normal(plain(x).shape).astype("float32")
    with tf.GradientTape(persistent=True) as tape:
        ours, theirs = tf.reduce_sum(layer(x) * readout), tf.reduce_sum(plain(x) * readout)
    kernel_grad, bias_grad = tape.gradient(ours, [layer.kernel, layer.bias])
    plain_kernel_grad, plain_bias_grad = tape.gradient(theirs, [plain.kernel, plain.bias])
    np.testing.assert_allclose(np.asarray(kernel_grad), layer.kernel_scale * np.asarray(plain_kernel_grad),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(bias_grad), lr_multiplier * np.asarray(plain_bias_grad), rtol=1e-5,
                               atol=1e-6)


def test_scaled_leaky_relu_is_leaky_relu_times_sqrt_two_and_keeps_the_second_moment_near_one():
    act = ScaledLeakyReLU()
    np.testing.assert_allclose(np.asarray(act(np.array([2.0, -1.0], "float32"))),
                               [2 * math.sqrt(2), -0.2 * math.sqrt(2)], rtol=1e-6)
    x = rng.standard_normal(200_000).astype("float32")
    assert np.mean(np.asarray(act(x)) ** 2) == pytest.approx(1.04, abs=0.015)  # 2 * (1 + 0.2^2) / 2


def test_mixed_precision_computes_in_float16_with_float32_weights():
    with models.dtype_policy("mixed_float16"):
        layer = EqualizedConv2D(4, 3)
    out = layer(np.ones((1, 5, 5, 2), "float32"))
    assert out.dtype == "float16" and layer.kernel.dtype == "float32"
    assert layer.effective_kernel().dtype == "float32"


def test_layers_round_trip_through_keras_saving(tmp_path):
    inputs = keras.Input((6, 6, 3))
    x = EqualizedConv2D(4, 3, lr_multiplier=0.5, bias_init=0.2, name="conv")(inputs)
    x = ScaledLeakyReLU(negative_slope=0.1)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, EqualizedDense(2, lr_multiplier=0.01, gain=2.0, name="dense")(x))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    images = rng.standard_normal((2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(model(images)), rtol=1e-5, atol=1e-6)
    dense = loaded.get_layer("dense")
    assert (dense.lr_multiplier, dense.gain, loaded.get_layer("conv").bias_init) == (0.01, 2.0, 0.2)


@pytest.mark.parametrize("make, error, message", [
    (lambda: EqualizedDense(4, lr_multiplier=0), ValueError, r"lr_multiplier must be positive"),
    (lambda: EqualizedDense(0), ValueError, r"units must be a positive integer"),
    (lambda: EqualizedConv2D(4, 3, gain="2"), TypeError, r"gain must be a finite number"),
    (lambda: EqualizedConv2D(4, 3, use_bias=1), TypeError, r"use_bias must be True or False"),
])
def test_bad_arguments_are_refused_with_a_clear_sentence(make, error, message):
    with pytest.raises(error, match=message):
        make()
