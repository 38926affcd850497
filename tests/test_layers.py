"""Tests for gan_utils.models.layers' spectral normalisation: Miyato et al.'s reparameterisation, checked
against an SVD, with the raw kernel untouched and u refined once per training step."""
import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from fixtures import TINY_RECIPE
from gan_utils import losses, models, train

rng = np.random.default_rng(0)
CASES = {
    "dense": (lambda: keras.layers.Dense(5), rng.standard_normal((4, 7)).astype("float32")),
    "conv2d": (lambda: keras.layers.Conv2D(6, 3, strides=2, padding="same"),
               rng.standard_normal((2, 8, 8, 3)).astype("float32")),
}


def _converged(make_layer, x, iterations=500):
    layer = make_layer()
    wrapped = models.SpectralNormalization(layer)
    wrapped(x)
    layer.bias.assign(rng.standard_normal(layer.bias.shape).astype("float32"))
    for _ in range(iterations):
        wrapped.power_iteration()
    return wrapped, layer


def _exact_sigma(kernel) -> float:
    kernel = np.asarray(kernel)
    return float(np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0])


def _reference(layer, x, kernel, sigma=None):
    """layer's maths written out with tf ops, on W / sigma_exact(W), sigma from a differentiable SVD (or the
    number `sigma`, through which no gradient flows)."""
    if sigma is None:
        sigma = tf.linalg.svd(tf.reshape(kernel, (-1, kernel.shape[-1])), compute_uv=False)[0]
    normalised = kernel / sigma
    if isinstance(layer, keras.layers.Dense):
        return tf.matmul(x, normalised) + layer.bias
    return tf.nn.conv2d(x, normalised, layer.strides, layer.padding.upper()) + layer.bias


@pytest.mark.parametrize("case", CASES)
def test_gradient_with_respect_to_the_raw_kernel_matches_autodiff_through_an_exact_svd(case):
    make_layer, x = CASES[case]
    wrapped, layer = _converged(make_layer, x)
    weights = rng.standard_normal(wrapped(x).shape).astype("float32")  # a generic linear read-out
    with tf.GradientTape() as tape:
        ours = tf.reduce_sum(wrapped(x) * weights)
    ours_grad = tape.gradient(ours, layer.kernel)
    kernel = tf.Variable(np.asarray(layer.kernel))
    with tf.GradientTape() as tape:
        reference = tf.reduce_sum(_reference(layer, x, kernel) * weights)
    reference_grad = tape.gradient(reference, kernel)
    assert float(ours) == pytest.approx(float(reference), rel=1e-5)
    scale = float(tf.reduce_max(tf.abs(reference_grad)))
    np.testing.assert_allclose(np.asarray(ours_grad), np.asarray(reference_grad), atol=1e-5 * scale)
@pytest.mark.parametrize("case", CASES)
def test_sigma_is_the_largest_singular_value_once_u_has_converged(case):
    make_layer, x = CASES[case]
    wrapped, layer = _converged(make_layer, x)
    assert float(wrapped.sigma()) == pytest.approx(_exact_sigma(layer.kernel), rel=1e-5)
    assert _exact_sigma(wrapped.normalized_kernel()) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_training_calls_refine_u_but_never_overwrite_the_raw_kernel(case):
    make_layer, x = CASES[case]
    layer = make_layer()
    wrapped = models.SpectralNormalization(layer)
    wrapped(x)
    kernel = np.asarray(layer.kernel).copy()
    errors = []
    for _ in range(200):
        wrapped(x, training=True)
        errors.append(abs(float(wrapped.sigma()) - _exact_sigma(kernel)))
    np.testing.assert_array_equal(np.asarray(layer.kernel), kernel)
    assert errors[-1] < 1e-3 * _exact_sigma(kernel) < errors[0]
    u = np.asarray(wrapped.u).copy()
    wrapped(x, training=False)
    with models.power_iteration_paused(wrapped):
        wrapped(x, training=True)
    np.testing.assert_array_equal(np.asarray(wrapped.u), u)
    assert wrapped.update_u  # restored on leaving


@pytest.mark.parametrize("case", CASES)
def test_output_is_unchanged_when_the_raw_kernel_is_rescaled(case):
    make_layer, x = CASES[case]
    wrapped, layer = _converged(make_layer, x, iterations=5)  # holds for any u, converged or not
    before = np.asarray(wrapped(x))
    layer.kernel.assign(np.asarray(layer.kernel) * 7.5)
    np.testing.assert_allclose(np.asarray(wrapped(x)), before, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_a_constant_sigma_as_in_keras_projection_would_fail_the_gradient_test(case):
    make_layer, x = CASES[case]
    _, layer = _converged(make_layer, x)
    kernel = tf.Variable(np.asarray(layer.kernel))
    readout = np.asarray(_reference(layer, x, kernel)) - np.asarray(layer.bias)  # the normalised map's own output
    radial = {}  # each gradient's component along W itself
    for name, sigma in (("differentiable", None), ("constant", _exact_sigma(kernel))):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(_reference(layer, x, kernel, sigma) * readout)
        radial[name] = float(tf.reduce_sum(tape.gradient(total, kernel) * kernel))
    # W / sigma(W) does not change when W is scaled, so its gradient has no component along W; with a constant
    # sigma that component is the readout's squared norm. (A random readout can make the difference arbitrarily small.)
    expected = float(np.sum(readout.astype("float64") ** 2))
    assert abs(radial["differentiable"]) < 1e-3 * expected
    assert radial["constant"] == pytest.approx(expected, rel=1e-3)


def test_a_frobenius_normalisation_would_fail_the_gradient_test():
    """The SVD reference above is not matched by W / ||W||_F, so the gradient test can tell them apart."""
    make_layer, x = CASES["dense"]
    wrapped, layer = _converged(make_layer, x)
    kernel = np.asarray(layer.kernel)
    assert abs(np.linalg.norm(kernel) - _exact_sigma(kernel)) > 0.1 * _exact_sigma(kernel)


def test_embedding_is_normalised_by_its_largest_singular_value():
    layer = keras.layers.Embedding(6, 4)
    wrapped = models.SpectralNormalization(layer)
    labels = np.array([[0], [3], [5]])
    wrapped(labels)
    for _ in range(500):
        wrapped.power_iteration()
    table = np.asarray(layer.embeddings)
    np.testing.assert_allclose(np.asarray(wrapped(labels))[:, 0], table[[0, 3, 5]] / _exact_sigma(table), rtol=1e-5)


def test_unsupported_layers_are_refused_with_the_supported_ones_named():
    with pytest.raises(TypeError, match="Dense, Conv1D, Conv2D, Conv3D or Embedding.*Conv2DTranspose"):
        models.SpectralNormalization(keras.layers.Conv2DTranspose(2, 3))


def test_u_is_float32_non_trainable_mirrored_by_first_replica_and_saved():
    discriminator = models.dcgan_discriminator(1, filters=(4, 8), spectral_norm=True, num_classes=3)
    us = [v for v in discriminator.non_trainable_variables if v.path.endswith("/u")]
    assert len(us) == 4  # down1, down2, logit and the projection embedding
    assert all(v.dtype == "float32" and v.aggregation == "only_first_replica" for v in us)
    assert not any(v.path.endswith("/u") for v in discriminator.trainable_variables)


def test_a_mixed_precision_discriminator_keeps_u_and_sigma_in_float32():
    with models.dtype_policy("mixed_float16"):
        discriminator = models.dcgan_discriminator(1, filters=(4, 8), spectral_norm=True)
    logits = discriminator(np.zeros((2, 32, 32, 1), "float32"), training=True)
    wrapped = discriminator.get_layer("down2")
    assert wrapped.u.dtype == "float32" and wrapped.sigma().dtype == "float32"
    assert wrapped.layer.compute_dtype == "float16" and logits.dtype == "float32"


def test_a_train_step_refines_u_exactly_once_even_with_r1():
    recipe = dataclasses.replace(TINY_RECIPE, r1_gamma=1.0, gradient_penalty=1.0,
                                 discriminator={**TINY_RECIPE.discriminator, "spectral_norm": True, "dropout": 0.0})
    gan = train.build_gan(recipe, 1, seed=0)
    images = np.asarray(keras.random.uniform((16, 32, 32, 1), -1, 1, seed=3))
    gan.discriminator(images)  # built
    wrapped = [l for l in gan.discriminator.layers if isinstance(l, models.SpectralNormalization)]
    expected = []
    for layer in wrapped:  # one power-iteration step from the state before the step, computed in numpy
        matrix = np.asarray(layer.layer.kernel).reshape(-1, layer.layer.kernel.shape[-1]).astype("float64")
        u = np.asarray(layer.u) / np.linalg.norm(np.asarray(layer.u))
        v = matrix @ u
        v /= np.linalg.norm(v)
        expected.append(matrix.T @ v / np.linalg.norm(matrix.T @ v))
    gan.train_step(tf.constant(images))
    for layer, u in zip(wrapped, expected):
        np.testing.assert_allclose(np.asarray(layer.u), u, rtol=1e-4, atol=1e-6, err_msg=layer.name)


def test_penalties_refuse_a_discriminator_that_couples_the_batch():
    coupled = models.dcgan_discriminator(1, filters=(4, 8), minibatch_std=True)
    images = tf.zeros((4, 32, 32, 1))
    with pytest.raises(ValueError, match=r"\['minibatch_std'\].*minibatch_std=False"):
        losses.r1_penalty(coupled, images)
    with pytest.raises(ValueError, match="cross-sample"):
        losses.gradient_penalty(coupled, images, images, keras.random.SeedGenerator(0))
    batch_norm = models.dcgan_discriminator(1, filters=(4, 8), norm="batch")
    with pytest.raises(ValueError, match=r"down2_norm"):
        losses.r1_penalty(batch_norm, images)


def test_a_spectrally_normalised_discriminator_saves_and_loads_in_safe_mode(tmp_path):
    discriminator = models.dcgan_discriminator(1, filters=(4, 8), spectral_norm=True, num_classes=3)
    inputs = [np.asarray(keras.random.uniform((3, 32, 32, 1), -1, 1, seed=2)), np.array([[0], [1], [2]])]
    discriminator(inputs, training=True)  # u moves away from its initial value
    discriminator.save(tmp_path / "discriminator.keras")
    loaded = keras.saving.load_model(tmp_path / "discriminator.keras", safe_mode=True)
    assert isinstance(loaded.get_layer("down1"), models.SpectralNormalization)
    np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(discriminator(inputs)), rtol=1e-5, atol=1e-6)
