"""The explicit training step: what it updates, what it reports, and that a seed repeats a run."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import models, settings, train

LATENT_DIM = 4


def _setup(seed=0):
    settings.seed_everything(seed)
    generator = models.mlp_generator(LATENT_DIM, 2, width=16, depth=2)
    discriminator = models.mlp_discriminator(2, width=16, depth=2)
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    step = train.make_train_step(generator, discriminator, g_opt, d_opt, latent_dim=LATENT_DIM,
                                 seed_generator=keras.random.SeedGenerator(seed))
    return generator, discriminator, step


REAL = tf.constant(np.random.default_rng(0).normal(size=(32, 2)).astype("float32"))


def test_one_step_updates_both_networks_and_reports_probabilities():
    generator, discriminator, step = _setup()
    g_before = [w.numpy().copy() for w in generator.trainable_variables]
    d_before = [w.numpy().copy() for w in discriminator.trainable_variables]
    metrics = step(REAL)
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert 0 < float(metrics["d_real"]) < 1 and 0 < float(metrics["d_fake"]) < 1
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_before, generator.trainable_variables))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(d_before, discriminator.trainable_variables))


def test_reported_discriminator_loss_matches_the_formula_before_the_update():
    generator, discriminator, step = _setup()
    metrics = step(REAL)
    # d_loss = -log D(x) - log(1 - D(G(z))) in batch means; D(x) was measured before the update.
    assert float(metrics["d_loss"]) > 0
    assert abs(float(metrics["d_loss"]) - np.log(4.0)) < 0.5  # an untrained D sits near 1/2 everywhere


def test_noise_is_fresh_each_step_yet_two_runs_with_one_seed_repeat_exactly():
    first_run = [float(_setup(3)[2](REAL)["g_loss"]) for _ in range(1)]
    generator_a, _, step_a = _setup(3)
    losses_a = [float(step_a(REAL)["g_loss"]) for _ in range(3)]
    generator_b, _, step_b = _setup(3)
    losses_b = [float(step_b(REAL)["g_loss"]) for _ in range(3)]
    assert losses_a == losses_b and losses_a[0] == first_run[0]
    for a, b in zip(generator_a.trainable_variables, generator_b.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    z_a = keras.random.normal((2, LATENT_DIM), seed=keras.random.SeedGenerator(1))
    assert len(set(losses_a)) == 3 and z_a.shape == (2, LATENT_DIM)


def test_one_optimiser_for_both_networks_is_refused():
    generator = models.mlp_generator(LATENT_DIM, 2)
    discriminator = models.mlp_discriminator(2)
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimisers"):
        train.make_train_step(generator, discriminator, shared, shared, latent_dim=LATENT_DIM,
                              seed_generator=keras.random.SeedGenerator(0))
