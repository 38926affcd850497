"""Each loss checked against the direct formula on probabilities, and for stability at extreme logits."""
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import losses

RNG = np.random.default_rng(0)
REAL = RNG.normal(1.0, 2.0, 64).astype("float32")
FAKE = RNG.normal(-1.0, 2.0, 64).astype("float32")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype("float64")))


def test_value_function_matches_the_definition_on_probabilities():
    expected = np.mean(np.log(sigmoid(REAL))) + np.mean(np.log(1 - sigmoid(FAKE)))
    np.testing.assert_allclose(losses.value_function(REAL, FAKE).numpy(), expected, rtol=1e-5)


def test_discriminator_loss_is_binary_cross_entropy_with_real_1_and_fake_0():
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    expected = bce(np.ones_like(REAL), REAL).numpy() + bce(np.zeros_like(FAKE), FAKE).numpy()
    np.testing.assert_allclose(losses.discriminator_loss(REAL, FAKE).numpy(), expected, rtol=1e-5)


def test_generator_losses_match_their_formulas():
    np.testing.assert_allclose(losses.saturating_generator_loss(FAKE).numpy(),
                               np.mean(np.log(1 - sigmoid(FAKE))), rtol=1e-5)
    np.testing.assert_allclose(losses.non_saturating_generator_loss(FAKE).numpy(),
                               -np.mean(np.log(sigmoid(FAKE))), rtol=1e-5)


def test_at_the_equilibrium_d_is_one_half_and_v_is_minus_log_4():
    zeros = np.zeros(8, "float32")
    np.testing.assert_allclose(losses.value_function(zeros, zeros).numpy(), -np.log(4.0), rtol=1e-6)


def test_losses_stay_finite_for_extreme_logits():
    extreme = tf.constant([-200.0, 200.0])
    for value in (losses.value_function(extreme, extreme), losses.saturating_generator_loss(extreme),
                  losses.non_saturating_generator_loss(extreme)):
        assert np.isfinite(value.numpy())


def test_gradients_match_closed_forms_and_show_saturation():
    logits = tf.constant([-6.0, 0.0, 6.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        saturating = tf.reduce_sum(-tf.nn.softplus(logits))  # sum of log(1 - D)
        non_saturating = tf.reduce_sum(tf.nn.softplus(-logits))  # sum of -log D
    d = sigmoid(logits.numpy())
    np.testing.assert_allclose(tape.gradient(saturating, logits).numpy(), -d, rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(non_saturating, logits).numpy(), -(1 - d), rtol=1e-5)
    # When D confidently rejects a fake (logit -6), the saturating gradient is ~400x weaker.
    assert abs(tape.gradient(saturating, logits)[0]) < abs(tape.gradient(non_saturating, logits)[0]) / 100


def test_generator_loss_lookup_rejects_unknown_names():
    assert losses.generator_loss("saturating") is losses.saturating_generator_loss
    with pytest.raises(ValueError, match="choose one of saturating, non_saturating"):
        losses.generator_loss("wasserstein")
