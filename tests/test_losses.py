"""Each loss checked against the direct formula on probabilities, and for stability at extreme logits."""
import keras
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
    assert losses.generator_loss("hinge") is losses.hinge_generator_loss
    assert losses.generator_loss("wasserstein") is losses.wasserstein_generator_loss
    assert losses.generator_loss("relativistic") is losses.relativistic_generator_loss
    with pytest.raises(ValueError, match="Unknown generator loss 'rpgan'; choose one of saturating, "
                                         "non_saturating, hinge, least_squares, wasserstein, relativistic"):
        losses.generator_loss("rpgan")


# Wasserstein, hinge, least squares and label smoothing: values against NumPy, gradients against closed forms.

N = len(REAL)
T = 0.9  # the smoothed real label

# name: (loss on (REAL, FAKE) tensors, NumPy formula, d loss / d real, d loss / d fake) for one-sided losses
TWO_SIDED = {
    "wasserstein_critic": (losses.wasserstein_critic_loss, lambda r, f: f.mean() - r.mean(),
                           lambda r: -np.ones_like(r) / N, lambda f: np.ones_like(f) / N),
    "hinge_discriminator": (losses.hinge_discriminator_loss,
                            lambda r, f: np.maximum(0, 1 - r).mean() + np.maximum(0, 1 + f).mean(),
                            lambda r: -(r < 1).astype(float) / N, lambda f: (f > -1).astype(float) / N),
    "least_squares_discriminator": (losses.least_squares_discriminator_loss,
                                    lambda r, f: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2),
                                    lambda r: (r - 1) / N, lambda f: f / N),
    "smoothed_discriminator": (lambda r, f: losses.smoothed_discriminator_loss(r, f, real_label=T),
                               lambda r, f: -np.mean(T * np.log(sigmoid(r)) + (1 - T) * np.log(1 - sigmoid(r)))
                               - np.mean(np.log(1 - sigmoid(f))),
                               lambda r: (sigmoid(r) - T) / N, lambda f: sigmoid(f) / N),
    "relativistic_discriminator": (losses.relativistic_discriminator_loss,
                                   lambda r, f: -np.mean(np.log(sigmoid(r - f))),
                                   lambda r: -(1 - sigmoid(r - FAKE)) / N, lambda f: (1 - sigmoid(REAL - f)) / N),
}
ONE_SIDED = {
    "wasserstein_generator": (losses.wasserstein_generator_loss, lambda f: -f.mean(), lambda f: -np.ones_like(f) / N),
    "hinge_generator": (losses.hinge_generator_loss, lambda f: -f.mean(), lambda f: -np.ones_like(f) / N),
    "least_squares_generator": (losses.least_squares_generator_loss, lambda f: 0.5 * np.mean((f - 1) ** 2),
                                lambda f: (f - 1) / N),
}


@pytest.mark.parametrize("name", TWO_SIDED)
def test_discriminator_losses_match_numpy_values_and_closed_form_gradients(name):
    loss_fn, formula, d_real, d_fake = TWO_SIDED[name]
    real, fake = tf.constant(REAL), tf.constant(FAKE)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        value = loss_fn(real, fake)
    assert value.shape == () and value.dtype == tf.float32
    np.testing.assert_allclose(value.numpy(), formula(REAL.astype("float64"), FAKE.astype("float64")), rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(value, real).numpy(), d_real(REAL.astype("float64")), atol=1e-7)
    np.testing.assert_allclose(tape.gradient(value, fake).numpy(), d_fake(FAKE.astype("float64")), atol=1e-7)


@pytest.mark.parametrize("name", ONE_SIDED)
def test_generator_losses_match_numpy_values_and_closed_form_gradients(name):
    loss_fn, formula, d_fake = ONE_SIDED[name]
    fake = tf.constant(FAKE)
    with tf.GradientTape() as tape:
        tape.watch(fake)
        value = loss_fn(fake)
    assert value.shape == ()
    np.testing.assert_allclose(value.numpy(), formula(FAKE.astype("float64")), rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(value, fake).numpy(), d_fake(FAKE.astype("float64")), atol=1e-7)


def test_losses_give_the_same_value_for_n_by_1_and_flat_scores():
    for loss_fn, *_ in TWO_SIDED.values():
        np.testing.assert_allclose(loss_fn(REAL[:, None], FAKE[:, None]).numpy(), loss_fn(REAL, FAKE).numpy())
    for loss_fn, *_ in ONE_SIDED.values():
        np.testing.assert_allclose(loss_fn(FAKE[:, None]).numpy(), loss_fn(FAKE).numpy())


def test_hinge_discriminator_loss_is_zero_beyond_the_margin():
    assert losses.hinge_discriminator_loss(np.array([1.0, 5.0], "float32"), np.array([-1.0, -7.0], "float32")) == 0.0


def test_smoothing_with_real_label_1_equals_discriminator_loss():
    np.testing.assert_allclose(losses.smoothed_discriminator_loss(REAL, FAKE, real_label=1.0).numpy(),
                               losses.discriminator_loss(REAL, FAKE).numpy(), rtol=1e-5)


def test_smoothed_loss_stays_finite_for_extreme_logits():
    extreme = tf.constant([-200.0, 200.0])
    assert np.isfinite(losses.smoothed_discriminator_loss(extreme, extreme).numpy())


@pytest.mark.parametrize("real_label", [0.5, 0.3, 1.1, -1.0])
def test_smoothing_refuses_real_labels_outside_one_half_to_one(real_label):
    with pytest.raises(ValueError, match=r"real_label must be in \(0.5, 1\]"):
        losses.smoothed_discriminator_loss(REAL, FAKE, real_label=real_label)


# Gradient penalties.

SHAPE = (4, 4, 1)
IMAGES = RNG.uniform(-1, 1, (6,) + SHAPE).astype("float32")
OTHER_IMAGES = RNG.uniform(-1, 1, (6,) + SHAPE).astype("float32")
W = RNG.normal(0.0, 0.5, (int(np.prod(SHAPE)), 1)).astype("float32")


def linear_critic(weights=W, dtype=None):
    """f(x) = sum(w * x): its input gradient is w everywhere."""
    critic = keras.Sequential([keras.Input(SHAPE), keras.layers.Flatten(),
                               keras.layers.Dense(1, use_bias=False, dtype=dtype)])
    critic.layers[-1].kernel.assign(weights)
    return critic


class SquareCritic:
    """f(x) = sum(x^2) / 2 per sample, so grad f(x) = x; remembers its last input and training flag."""

    def __call__(self, x, training=False):
        self.inputs, self.training = x, training
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]


def test_gradient_penalty_of_a_linear_critic_is_norm_w_minus_1_squared():
    penalty = losses.gradient_penalty(linear_critic(), IMAGES, OTHER_IMAGES, keras.random.SeedGenerator(0))
    assert penalty.shape == () and penalty.dtype == tf.float32
    np.testing.assert_allclose(penalty.numpy(), (np.linalg.norm(W) - 1) ** 2, rtol=1e-5)


def test_gradient_penalty_backpropagates_to_the_critic_weights():
    critic = linear_critic()
    kernel = critic.layers[-1].kernel
    with tf.GradientTape() as tape:
        penalty = losses.gradient_penalty(critic, IMAGES, OTHER_IMAGES, keras.random.SeedGenerator(0))
    norm = np.linalg.norm(W)  # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    np.testing.assert_allclose(tape.gradient(penalty, kernel).numpy(), 2 * (norm - 1) * W / norm, rtol=1e-4)


def test_gradient_penalty_interpolates_with_one_fresh_uniform_weight_per_sample():
    critic, seeds = SquareCritic(), keras.random.SeedGenerator(7)
    ones, zeros = np.ones_like(IMAGES), np.zeros_like(IMAGES)
    penalty = losses.gradient_penalty(critic, ones, zeros, seeds)  # x_hat = eps * 1 + (1 - eps) * 0 = eps
    x_hat = critic.inputs.numpy()
    assert critic.training is True
    eps = x_hat[:, 0, 0, 0]
    np.testing.assert_array_equal(x_hat, np.broadcast_to(eps[:, None, None, None], x_hat.shape))  # one per sample
    assert np.all((eps >= 0) & (eps <= 1)) and len(np.unique(eps)) == len(eps)
    # grad f(x_hat) = x_hat, so the penalty is the mean of (||x_hat_i|| - 1)^2.
    expected = np.mean((np.linalg.norm(x_hat.reshape(len(x_hat), -1), axis=1) - 1) ** 2)
    np.testing.assert_allclose(penalty.numpy(), expected, rtol=1e-5)
    losses.gradient_penalty(critic, ones, zeros, seeds)
    assert not np.allclose(critic.inputs.numpy(), x_hat)  # the same SeedGenerator draws fresh weights
    losses.gradient_penalty(critic, ones, zeros, keras.random.SeedGenerator(7))
    np.testing.assert_array_equal(critic.inputs.numpy(), x_hat)  # a new one with the same seed repeats them


def test_gradient_penalty_is_float32_when_the_critic_computes_in_float16():
    critic = linear_critic(dtype="mixed_float16")
    assert critic(IMAGES).dtype == "float16"
    penalty = losses.gradient_penalty(critic, IMAGES.astype("float16"), OTHER_IMAGES.astype("float16"),
                                      keras.random.SeedGenerator(0))
    assert penalty.dtype == tf.float32
    np.testing.assert_allclose(penalty.numpy(), (np.linalg.norm(W) - 1) ** 2, rtol=1e-2)


def test_gradient_penalty_refuses_an_int_seed():
    with pytest.raises(TypeError, match="keras.random.SeedGenerator"):
        losses.gradient_penalty(linear_critic(), IMAGES, OTHER_IMAGES, 0)


def test_r1_penalty_of_a_linear_discriminator_is_norm_w_squared():
    penalty = losses.r1_penalty(linear_critic(), IMAGES)
    assert penalty.shape == () and penalty.dtype == tf.float32
    np.testing.assert_allclose(penalty.numpy(), np.sum(W.astype("float64") ** 2), rtol=1e-5)


def test_r1_penalty_of_half_squared_norm_is_mean_squared_norm_of_the_real_images():
    discriminator = SquareCritic()
    penalty = losses.r1_penalty(discriminator, IMAGES)
    np.testing.assert_array_equal(discriminator.inputs.numpy(), IMAGES)  # on the real images, not interpolates
    np.testing.assert_allclose(penalty.numpy(), np.mean(np.sum(IMAGES.reshape(len(IMAGES), -1) ** 2, axis=1)),
                               rtol=1e-5)


def test_r1_penalty_is_float32_when_the_discriminator_computes_in_float16():
    penalty = losses.r1_penalty(linear_critic(dtype="mixed_float16"), IMAGES.astype("float16"))
    assert penalty.dtype == tf.float32
    np.testing.assert_allclose(penalty.numpy(), np.sum(W.astype("float64") ** 2), rtol=1e-2)


def test_r2_penalty_is_r1_on_the_generated_images():
    discriminator = SquareCritic()
    penalty = losses.r2_penalty(discriminator, OTHER_IMAGES)
    np.testing.assert_array_equal(discriminator.inputs.numpy(), OTHER_IMAGES)
    np.testing.assert_allclose(penalty.numpy(), np.mean(np.sum(OTHER_IMAGES.reshape(6, -1) ** 2, axis=1)), rtol=1e-5)


@pytest.mark.parametrize("penalty", [losses.r1_penalty, losses.r2_penalty])
def test_r1_and_r2_gradients_with_respect_to_the_weights_are_two_w(penalty):
    critic = linear_critic()
    with tf.GradientTape() as tape:  # R = ||w||^2 for f(x) = w . x, so dR/dw = 2 w: the penalty shrinks w
        value = penalty(critic, IMAGES)
    gradient = tape.gradient(value, critic.trainable_variables[0])
    np.testing.assert_allclose(gradient.numpy(), 2 * W, rtol=1e-5)


def test_r1_gradient_of_a_quadratic_critic_matches_a_finite_difference():
    scale = tf.Variable(0.7)  # f(x) = scale * sum(x^2) / 2: grad f = scale * x, R1 = scale^2 E||x||^2

    def critic(x, training=False):
        return scale * 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]

    with tf.GradientTape() as tape:
        value = losses.r1_penalty(critic, IMAGES)
    squared_norms = np.mean(np.sum(IMAGES.astype("float64").reshape(6, -1) ** 2, axis=1))
    np.testing.assert_allclose(value.numpy(), 0.49 * squared_norms, rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(value, scale).numpy(), 2 * 0.7 * squared_norms, rtol=1e-5)


# Relativistic pairing (R3GAN).

def test_relativistic_generator_loss_is_the_discriminator_loss_with_the_roles_swapped():
    np.testing.assert_allclose(losses.relativistic_generator_loss(FAKE, REAL).numpy(),
                               losses.relativistic_discriminator_loss(FAKE, REAL).numpy(), rtol=1e-6)
    fake, real = tf.constant(FAKE), tf.constant(REAL)
    with tf.GradientTape() as tape:
        tape.watch(fake)
        value = losses.relativistic_generator_loss(fake, real)
    np.testing.assert_allclose(tape.gradient(value, fake).numpy(), -(1 - sigmoid(FAKE - REAL)) / N, atol=1e-7)


def test_relativistic_losses_depend_only_on_the_differences_and_stay_finite():
    shifted = losses.relativistic_discriminator_loss(REAL + 100.0, FAKE + 100.0).numpy()
    np.testing.assert_allclose(shifted, losses.relativistic_discriminator_loss(REAL, FAKE).numpy(), rtol=1e-4)
    extreme = tf.constant([-300.0, 300.0])
    assert np.isfinite(losses.relativistic_discriminator_loss(extreme, -extreme).numpy())
    assert np.isfinite(losses.relativistic_generator_loss(extreme, -extreme).numpy())


def test_relativistic_losses_refuse_unpaired_batches():
    with pytest.raises(ValueError, match="pairs each real image with one generated image"):
        losses.relativistic_discriminator_loss(REAL, FAKE[:10])
    assert "relativistic" in losses.PAIRED_GENERATOR_LOSSES


# Name lookups.

def test_discriminator_loss_lookup_finds_each_loss_and_rejects_unknown_names():
    assert losses.discriminator_loss_fn("minimax") is losses.discriminator_loss
    assert losses.discriminator_loss_fn("hinge") is losses.hinge_discriminator_loss
    assert losses.discriminator_loss_fn("least_squares") is losses.least_squares_discriminator_loss
    assert losses.discriminator_loss_fn("wasserstein") is losses.wasserstein_critic_loss
    assert losses.discriminator_loss_fn("minimax_smoothed") is losses.smoothed_discriminator_loss
    assert losses.discriminator_loss_fn("keras_io_noisy") is losses.keras_io_noisy_discriminator_loss
    assert losses.discriminator_loss_fn("relativistic") is losses.relativistic_discriminator_loss
    with pytest.raises(ValueError, match="Unknown discriminator loss 'rpgan'; choose one of minimax, "
                                         "minimax_smoothed, keras_io_noisy, hinge, least_squares, wasserstein, "
                                         "relativistic"):
        losses.discriminator_loss_fn("rpgan")


# keras-io's noisy labels (recipe classic64), in the book's convention: logits for "real".

U_REAL = RNG.uniform(0, 1, N).astype("float32")
U_FAKE = RNG.uniform(0, 1, N).astype("float32")


def _bce(targets, logits):
    """-t log p - (1 - t) log(1 - p) with p = sigmoid(logits), per sample, in float64; any real t."""
    p = sigmoid(logits)
    return -(targets * np.log(p) + (1 - targets) * np.log(1 - p))


def test_keras_io_loss_is_the_mean_bce_over_both_batches_with_noisy_targets():
    value = losses.keras_io_noisy_targets_loss(REAL, FAKE, U_REAL, U_FAKE).numpy()
    expected = np.mean(np.concatenate([_bce(1 - 0.05 * U_REAL.astype("float64"), REAL),
                                       _bce(-0.05 * U_FAKE.astype("float64"), FAKE)]))
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_keras_io_loss_without_noise_is_half_the_minimax_loss():
    zeros = np.zeros(N, "float32")
    np.testing.assert_allclose(losses.keras_io_noisy_targets_loss(REAL, FAKE, zeros, zeros).numpy(),
                               losses.discriminator_loss(REAL, FAKE).numpy() / 2, rtol=1e-5)


def test_keras_io_loss_gradients_are_sigmoid_minus_target_over_the_whole_batch():
    real, fake = tf.constant(REAL), tf.constant(FAKE)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        value = losses.keras_io_noisy_targets_loss(real, fake, U_REAL, U_FAKE)
    np.testing.assert_allclose(tape.gradient(value, real).numpy(),
                               (sigmoid(REAL) - (1 - 0.05 * U_REAL)) / (2 * N), atol=1e-7)
    np.testing.assert_allclose(tape.gradient(value, fake).numpy(), (sigmoid(FAKE) + 0.05 * U_FAKE) / (2 * N),
                               atol=1e-7)


def test_flipping_the_convention_gives_keras_ios_binary_cross_entropy_exactly():
    # keras-io: [generated, real] images, labels [1, 0] + 0.05 u, its sigmoid output the probability of FAKE.
    labels = np.concatenate([np.ones(N), np.zeros(N)]) + 0.05 * np.concatenate([U_FAKE, U_REAL])
    p_fake = 1 - sigmoid(np.concatenate([FAKE, REAL]))  # = sigmoid(-logit)
    keras_io = keras.losses.BinaryCrossentropy()(labels[:, None].astype("float32"), p_fake[:, None].astype("float32"))
    ours = losses.keras_io_noisy_targets_loss(REAL[:, None], FAKE[:, None], U_REAL[:, None], U_FAKE[:, None])
    np.testing.assert_allclose(ours.numpy(), keras_io.numpy(), rtol=1e-5)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_keras_io_loss_with_fresh_noise_lies_between_its_values_for_u_0_and_u_1(sign):
    # Each term is linear in its u with slope 0.05 * logit / (2N), so with logits of one sign the loss is
    # monotone in every u and bounded by the losses at u = 0 and u = 1.
    real, fake = sign * (np.abs(REAL) + 0.5), sign * (np.abs(FAKE) + 0.5)
    bounds = sorted(losses.keras_io_noisy_targets_loss(real, fake, np.full(N, u, "float32"), np.full(N, u, "float32"))
                    .numpy() for u in (0.0, 1.0))
    draws = [losses.keras_io_noisy_discriminator_loss(tf.constant(real), tf.constant(fake)).numpy() for _ in range(5)]
    assert all(bounds[0] < d < bounds[1] for d in draws), (bounds, draws)
    # Fresh noise on every call: reused noise would repeat one value five times. The draws differ by about
    # 1e-3 around 1.2, so two of them can round to the same float32 (it happened once, in a run of the suite).
    assert len(set(draws)) >= len(draws) - 1, draws


def test_keras_io_loss_draws_fresh_noise_on_every_step_of_a_compiled_function():
    step = tf.function(losses.keras_io_noisy_discriminator_loss)
    draws = {float(step(tf.constant(REAL), tf.constant(FAKE))) for _ in range(4)}
    assert len(draws) == 4


def test_keras_io_loss_stays_finite_for_extreme_logits():
    extreme = tf.constant([-200.0, 200.0])
    assert np.isfinite(losses.keras_io_noisy_discriminator_loss(extreme, extreme).numpy())
