"""The training step, the keras.Model trainer and resumable runs: updates, seeds, resume, kills."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from fixtures import TINY_RECIPE, TINY_TRICKS_RECIPE, tiny_dataset
from gan_utils import checkpoints, data, losses, models, settings, train

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


def test_two_step_sequences_with_one_seed_repeat_exactly():
    generator_a, _, step_a = _setup(3)
    losses_a = [float(step_a(REAL)["g_loss"]) for _ in range(3)]
    generator_b, _, step_b = _setup(3)
    losses_b = [float(step_b(REAL)["g_loss"]) for _ in range(3)]
    assert losses_a == losses_b
    for a, b in zip(generator_a.trainable_variables, generator_b.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_every_step_draws_fresh_noise():
    settings.seed_everything(0)
    generator = models.mlp_generator(LATENT_DIM, 2, width=16, depth=2)
    discriminator = models.mlp_discriminator(2, width=16, depth=2)
    frozen = [keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0)]  # weights never move
    step = train.make_train_step(generator, discriminator, *frozen, latent_dim=LATENT_DIM,
                                 seed_generator=keras.random.SeedGenerator(0))
    losses = [float(step(REAL)["g_loss"]) for _ in range(3)]
    assert len(set(losses)) == 3  # same weights, same real batch: only z can differ


def test_one_optimiser_for_both_networks_is_refused():
    generator = models.mlp_generator(LATENT_DIM, 2)
    discriminator = models.mlp_discriminator(2)
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimisers"):
        train.make_train_step(generator, discriminator, shared, shared, latent_dim=LATENT_DIM,
                              seed_generator=keras.random.SeedGenerator(0))


# ---------------------------------------------------------------- the keras.Model trainer and runs



def _all_weights(gan):
    """Every variable a checkpoint holds: networks, optimisers, seed states and the EMA generator."""
    return [v.numpy() for group in checkpoints._state(gan).values() for v in group]


def test_fit_trains_both_networks_and_reports_the_four_metrics():
    gan = train.build_gan(TINY_RECIPE, 1, seed=0)
    before = [w.numpy().copy() for w in gan.generator.trainable_variables]
    images = tiny_dataset().images
    from gan_utils.data import make_pipeline

    history = gan.fit(make_pipeline(images, batch_size=16, seed=0), steps_per_epoch=4, verbose=0, shuffle=False)
    assert set(history.history) == set(train.METRICS)
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(before, gan.generator.trainable_variables))
    assert gan(np.zeros((2, TINY_RECIPE.latent_dim), "float32")).shape == (2, 32, 32, 1)


def test_two_runs_with_one_seed_give_identical_weights(tmp_path):
    a = train.train_run(tmp_path / "a", tiny_dataset(), TINY_RECIPE, epochs=2, seed=5, verbose=False)
    b = train.train_run(tmp_path / "b", tiny_dataset(), TINY_RECIPE, epochs=2, seed=5, verbose=False)
    for x, y in zip(_all_weights(a.gan), _all_weights(b.gan)):
        np.testing.assert_array_equal(x, y)
    c = train.train_run(tmp_path / "c", tiny_dataset(), TINY_RECIPE, epochs=2, seed=6, verbose=False)
    assert any(not np.array_equal(x, y) for x, y in zip(_all_weights(a.gan), _all_weights(c.gan)))


@pytest.mark.parametrize("recipe", [TINY_RECIPE, TINY_TRICKS_RECIPE], ids=["plain", "every-technique"])
def test_resuming_at_epoch_k_matches_an_uninterrupted_run(tmp_path, recipe):
    whole = train.train_run(tmp_path / "whole", tiny_dataset(), recipe, epochs=4, seed=3, verbose=False)
    first = train.train_run(tmp_path / "split", tiny_dataset(), recipe, epochs=2, seed=3, verbose=False)
    assert first.epochs_done == 2
    resumed = train.train_run(tmp_path / "split", tiny_dataset(), recipe, epochs=4, seed=3, verbose=False)
    assert resumed.epochs_done == 4 and [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    for x, y in zip(_all_weights(whole.gan), _all_weights(resumed.gan)):
        np.testing.assert_array_equal(x, y)
    assert resumed.history == whole.history


def test_a_finished_run_is_not_trained_again(tmp_path):
    train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=1, seed=0, verbose=False)
    stamp = (tmp_path / "checkpoint.npz").stat().st_mtime_ns
    again = train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=1, seed=0, verbose=False)
    assert again.epochs_done == 1 and (tmp_path / "checkpoint.npz").stat().st_mtime_ns == stamp


def test_run_directory_stores_recipe_and_refuses_another(tmp_path):
    import dataclasses

    train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=1, seed=0, verbose=False)
    assert train.stored_recipe(tmp_path) == TINY_RECIPE
    assert json.loads((tmp_path / "run.json").read_text()) == {"dataset": "shapes", "channels": 1, "seed": 0}
    with pytest.raises(ValueError, match="holds a run of recipe 'tiny', not 'other'"):
        train.train_run(tmp_path, tiny_dataset(), dataclasses.replace(TINY_RECIPE, name="other"), epochs=2)
    with pytest.raises(ValueError, match="resume it with the same dataset and seed"):
        train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=2, seed=1)


def test_run_json_records_the_held_out_items_it_is_given(tmp_path):
    train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=1, seed=0, verbose=False, heldout=["1f476", "x"])
    assert json.loads((tmp_path / "run.json").read_text())["heldout"] == ["1f476", "x"]


def test_bad_run_arguments_are_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=0)
    big = data.ImageDataset("big", np.zeros((32, 64, 64, 1), np.float32), None, None)
    with pytest.raises(ValueError, match=r"builds 32x32 images, but big images are 64x64; use recipe.at_resolution\(64\)"):
        train.train_run(tmp_path, big, TINY_RECIPE, epochs=1)
    with pytest.raises(ValueError, match="fewer than one training step's 1 batch\\(es\\) of 16"):
        train.train_run(tmp_path, tiny_dataset(8), TINY_RECIPE, epochs=1)
    with pytest.raises(ValueError, match="fewer than one training step's 2 batch\\(es\\) of 16.*n_critic"):
        train.train_run(tmp_path, tiny_dataset(24), dataclasses.replace(TINY_RECIPE, n_critic=2), epochs=1)
    assert not (tmp_path / "recipe.json").exists()


def test_minutes_stop_at_an_epoch_boundary_and_say_so(tmp_path):
    result = train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=10_000, seed=0, minutes=0.02,
                             verbose=False)
    assert result.stopped_by == "minutes" and 1 <= result.epochs_done < 10_000
    assert checkpoints.read_json(tmp_path / "history.json")[-1]["epoch"] == result.epochs_done


_KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from fixtures import TINY_RECIPE, TINY_TRICKS_RECIPE, tiny_dataset
    from gan_utils import train
    train.train_run({run_dir!r}, tiny_dataset(), TINY_RECIPE, epochs=100_000, seed=0, verbose=False)
""")


def test_sigkill_at_any_moment_leaves_a_loadable_checkpoint_and_resume_continues(tmp_path):
    run_dir = tmp_path / "run"
    script = _KILL_SCRIPT.format(tests=os.path.dirname(__file__), run_dir=str(run_dir))
    rng = np.random.default_rng(0)
    last_epoch = 0
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        deadline = time.time() + 120
        while time.time() < deadline and not (run_dir / "checkpoint.npz").exists():
            time.sleep(0.05)
        time.sleep(float(rng.uniform(0.2, 1.5)))  # a moment somewhere in the middle of training
        process.send_signal(signal.SIGKILL)
        process.wait()
        gan = train.build_gan(TINY_RECIPE, 1, seed=0)
        epoch = checkpoints.restore_checkpoint(run_dir / "checkpoint.npz", gan)
        assert epoch >= last_epoch
        train.load_generator(run_dir)  # the exported generator loads too
        last_epoch = epoch
    resumed = train.train_run(run_dir, tiny_dataset(), TINY_RECIPE, epochs=last_epoch + 1, seed=0, verbose=False)
    assert resumed.epochs_done == last_epoch + 1
    assert [h["epoch"] for h in resumed.history] == list(range(1, last_epoch + 2))
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no half-written files left


def test_sample_returns_images_in_range_and_repeats_with_the_seed(tmp_path):
    train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=1, seed=0, verbose=False)
    generator = train.load_generator(tmp_path)
    images = train.sample(generator, 5, seed=1, batch_size=2)
    assert images.shape == (5, 32, 32, 1) and images.dtype == np.float32 and np.abs(images).max() <= 1
    np.testing.assert_array_equal(images, train.sample(generator, 5, seed=1, batch_size=2))
    # another batch size draws the same z; only float rounding may differ (oneDNN picks kernels by batch size)
    np.testing.assert_allclose(images, train.sample(generator, 5, seed=1), atol=1e-6)
    with pytest.raises(ValueError, match="num must be a positive integer"):
        train.sample(generator, 0)
    with pytest.raises(ValueError, match="train into .* first"):
        train.load_generator(tmp_path / "nothing")


def test_a_callback_that_stops_training_is_reported_as_such(tmp_path):
    class StopAfterOneEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    result = train.train_run(tmp_path, tiny_dataset(), TINY_RECIPE, epochs=5, seed=0, verbose=False,
                             callbacks=[StopAfterOneEpoch()])
    assert result.epochs_done == 1 and result.stopped_by == "a callback"


# Chapter 6's techniques inside the step.

def _tiny_networks(seed=0):
    """The tiny recipe's networks without dropout, so the discriminator is deterministic."""
    settings.seed_everything(seed)
    return dataclasses.replace(TINY_RECIPE, discriminator={**TINY_RECIPE.discriminator, "dropout": 0.0}).build_models(1)


IMAGES = tf.constant(tiny_dataset(16).images)


def test_gan_update_shows_the_discriminator_the_augmented_images_and_adds_the_penalty():
    flip = lambda images: tf.reverse(images, axis=[2])  # a deterministic stand-in for DiffAugment
    generator, discriminator = _tiny_networks()
    z_d, z_g = (tf.constant(np.random.default_rng(i).normal(size=(16, 8)).astype("float32")) for i in (1, 2))
    real_logits = discriminator(flip(IMAGES), training=True)
    fake_logits = discriminator(flip(generator(z_d, training=True)), training=True)
    expected = losses.hinge_discriminator_loss(real_logits, fake_logits) + 2.5
    metrics = train.gan_update(generator, discriminator, keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                               IMAGES, z_d, z_g, losses.hinge_generator_loss,
                               discriminator_loss=losses.hinge_discriminator_loss, augment_real=flip,
                               augment_fake=flip, penalty=lambda d, real, fake: tf.constant(2.5))
    np.testing.assert_allclose(float(metrics["d_loss"]), float(expected), rtol=1e-5)
    np.testing.assert_allclose(float(metrics["d_real"]), float(tf.reduce_mean(tf.sigmoid(real_logits))), rtol=1e-5)


def _record_updates(monkeypatch) -> dict:
    """Replace the two updates with recorders: seen["d"] and seen["g"] list each call's keyword arguments."""
    seen = {"d": [], "g": []}

    def discriminator_update(generator, discriminator, d_opt, real, z_d, **kwargs):
        seen["d"].append({"real": np.asarray(real), **kwargs})
        return {"d_loss": tf.constant(0.0), "d_real": tf.constant(0.0), "d_fake": tf.constant(0.0)}

    def generator_update(generator, discriminator, g_opt, z_g, generator_loss, **kwargs):
        seen["g"].append(kwargs)
        return tf.constant(0.0)

    monkeypatch.setattr(train, "discriminator_update", discriminator_update)
    monkeypatch.setattr(train, "generator_update", generator_update)
    return seen


def test_the_trainer_applies_one_augmentation_to_real_and_fake_images_in_both_steps(monkeypatch):
    seen = _record_updates(monkeypatch)
    both = train.build_gan(TINY_TRICKS_RECIPE, 1, seed=0)
    both.train_step(IMAGES)
    d, g = seen["d"][-1], seen["g"][-1]
    assert d["augment_real"] is not None and d["augment_fake"] == d["augment_real"] == g["augment_fake"]
    assert d["discriminator_loss"] is losses.hinge_discriminator_loss and d["penalty"] is not None
    real_only = train.build_gan(TINY_TRICKS_RECIPE, 1, seed=0, augment_fakes=False)  # the leak, for demonstrations
    real_only.train_step(IMAGES)
    assert seen["d"][-1]["augment_real"] is not None and seen["d"][-1]["augment_fake"] is None
    assert seen["g"][-1]["augment_fake"] is None
    train.build_gan(TINY_RECIPE, 1, seed=0).train_step(IMAGES)
    assert seen["d"][-1]["augment_real"] is None and seen["d"][-1]["augment_fake"] is None
    assert seen["d"][-1]["penalty"] is None


def test_n_critic_takes_that_many_discriminator_steps_on_consecutive_real_batches(monkeypatch):
    seen = _record_updates(monkeypatch)
    gan = train.build_gan(dataclasses.replace(TINY_RECIPE, n_critic=3, batch_size=4), 1, seed=0)
    images = np.asarray(keras.random.uniform((12, 32, 32, 1), -1, 1, seed=5))
    gan.train_step(tf.constant(images))
    assert len(seen["d"]) == 3 and len(seen["g"]) == 1
    for step, call in enumerate(seen["d"]):
        np.testing.assert_array_equal(call["real"], images[4 * step:4 * (step + 1)])


def test_n_critic_runs_the_real_updates_and_moves_g_once_per_n_critic_d_steps(tmp_path):
    recipe = dataclasses.replace(TINY_RECIPE, n_critic=2)
    result = train.train_run(tmp_path, tiny_dataset(64), recipe, epochs=1, seed=0, verbose=False)
    assert int(result.gan.d_opt.iterations) == 4 and int(result.gan.g_opt.iterations) == 2  # 64 / 16 d-steps


def test_the_penalties_are_taken_through_the_augmentation_with_respect_to_the_images_before_it(monkeypatch):
    # Without spectral normalisation, whose training calls refine u between the penalty calls compared here.
    recipe = dataclasses.replace(TINY_TRICKS_RECIPE, discriminator={**TINY_TRICKS_RECIPE.discriminator,
                                                                    "spectral_norm": False})
    gan = train.build_gan(recipe, 1, seed=0)
    monkeypatch.setattr(gan, "_augment", lambda images: 2.0 * images)  # a deterministic, non-isometric stand-in
    generator_images = gan.generator(tf.zeros((16, 8)))
    state = gan.trick_seeds.state.numpy().copy()
    penalty = gan._penalty(gan.discriminator, IMAGES, generator_images)
    gan.trick_seeds.state.assign(state)  # the same interpolation weights again
    doubled = lambda images, training=True: gan.discriminator(2.0 * images, training=training)
    gp = losses.gradient_penalty(doubled, IMAGES, generator_images, gan.trick_seeds)
    r1 = 4.0 * losses.r1_penalty(gan.discriminator, 2.0 * IMAGES)  # grad_x D(2x) = 2 D'(2x): R1 of D at 2x, times 4
    np.testing.assert_allclose(float(penalty), float(1.0 * gp + 0.25 * r1), rtol=1e-5)
    assert penalty.dtype == tf.float32


def test_a_run_with_every_technique_trains_finitely_and_exports_the_ema_generator(tmp_path):
    result = train.train_run(tmp_path, tiny_dataset(), TINY_TRICKS_RECIPE, epochs=2, seed=0, verbose=False)
    assert result.stopped_by == "epochs" and all(np.isfinite(h["d_loss"]) for h in result.history)
    gan, z = result.gan, np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    assert gan.sampler is gan.ema.model and float(gan.ema.updates.value) == 2 * (64 // 16)
    exported = train.load_generator(tmp_path)
    np.testing.assert_allclose(exported(z), gan.ema.model(z, training=False), atol=1e-6)
    assert not np.allclose(exported(z), gan.generator(z, training=False), atol=1e-3)


# Class-conditional training and sampling (chapter 7).

CONDITIONAL = dataclasses.replace(TINY_RECIPE, name="tiny-conditional", num_classes=3)  # shapes: three kinds


def test_a_conditional_run_trains_resumes_and_samples_the_requested_class(tmp_path):
    whole = train.train_run(tmp_path / "whole", tiny_dataset(), CONDITIONAL, epochs=2, seed=0, verbose=False)
    train.train_run(tmp_path / "split", tiny_dataset(), CONDITIONAL, epochs=1, seed=0, verbose=False)
    resumed = train.train_run(tmp_path / "split", tiny_dataset(), CONDITIONAL, epochs=2, seed=0, verbose=False)
    for x, y in zip(_all_weights(whole.gan), _all_weights(resumed.gan)):
        np.testing.assert_array_equal(x, y)
    generator = train.load_generator(tmp_path / "whole")
    assert train.num_classes(generator) == 3
    squares = train.sample(generator, 4, seed=2, labels=0)
    circles = train.sample(generator, 4, seed=2, labels=1)
    assert squares.shape == (4, 32, 32, 1) and not np.allclose(squares, circles)  # same z, another class
    cycled = train.sample(generator, 6, seed=2)  # no labels: 0, 1, 2, 0, 1, 2
    np.testing.assert_allclose(cycled[:1], train.sample(generator, 1, seed=2, labels=0), atol=1e-6)
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\)"):
        train.sample(generator, 2, labels=3)


def test_conditional_recipes_need_a_dataset_with_that_many_classes(tmp_path):
    unlabelled = dataclasses.replace(tiny_dataset(), labels=None, class_names=None)
    with pytest.raises(ValueError, match="conditional on 3 classes, but shapes has no labels"):
        train.train_run(tmp_path, unlabelled, CONDITIONAL, epochs=1)
    with pytest.raises(ValueError, match="conditional on 5 classes, but shapes has 3 classes"):
        train.train_run(tmp_path, tiny_dataset(), dataclasses.replace(CONDITIONAL, num_classes=5), epochs=1)
    plain = train.train_run(tmp_path / "plain", tiny_dataset(), TINY_RECIPE, epochs=1, verbose=False)
    with pytest.raises(ValueError, match="this generator is unconditional"):
        train.sample(plain.gan.sampler, 2, labels=1)


# Chapter 8's techniques: the relativistic pairing, R2 and lazy R1, gamma schedules and adaptive augmentation.

MODERN = dataclasses.replace(TINY_RECIPE, name="tiny-modern", g_loss="relativistic", d_loss="relativistic",
                             discriminator={**TINY_RECIPE.discriminator, "dropout": 0.0}, r1_gamma=0.5,
                             r2_gamma=0.5, ema_half_life_images=100.0, ada_target=0.6, ada_speed_images=1000,
                             beta_1=0.0)


def test_a_paired_generator_loss_sees_the_real_images_logits():
    generator, discriminator = _tiny_networks()
    z = tf.constant(np.random.default_rng(3).normal(size=(16, 8)).astype("float32"))
    expected = losses.relativistic_generator_loss(discriminator(generator(z, training=True), training=True),
                                                  discriminator(IMAGES, training=True))
    g_loss = train.generator_update(generator, discriminator, keras.optimizers.Adam(1e-3), z,
                                    losses.relativistic_generator_loss, real_images=IMAGES)
    np.testing.assert_allclose(float(g_loss), float(expected), rtol=1e-5)


def test_the_trainer_passes_the_real_batch_to_a_paired_loss_and_observes_real_logits(monkeypatch):
    seen = _record_updates(monkeypatch)
    gan = train.build_gan(MODERN, 1, seed=0)
    gan.train_step(IMAGES)
    d, g = seen["d"][-1], seen["g"][-1]
    np.testing.assert_array_equal(np.asarray(g["real_images"]), np.asarray(IMAGES))
    assert g["augment_real"] is d["augment_real"] is not None and d["observe"] == gan.ada.observe
    train.build_gan(TINY_RECIPE, 1, seed=0).train_step(IMAGES)
    assert seen["g"][-1]["real_images"] is None and seen["d"][-1]["observe"] is None


def test_r1_and_r2_are_weighted_by_half_their_gammas_and_follow_the_schedule():
    recipe = dataclasses.replace(MODERN, r1_gamma=2.0, r2_gamma=0.5, horizon_images=160, gamma_final_ratio=0.1)
    gan = train.build_gan(recipe, 1, seed=0)
    fakes = gan.generator(tf.zeros((16, 8)))
    r1, r2 = losses.r1_penalty(gan.discriminator, IMAGES), losses.r2_penalty(gan.discriminator, fakes)
    np.testing.assert_allclose(float(gan._penalty(gan.discriminator, IMAGES, fakes)), float(r1 + 0.25 * r2),
                               rtol=1e-5)
    gan.d_opt.iterations.assign(5)  # 5 steps of 16 images: halfway along the horizon
    np.testing.assert_allclose(float(gan.gamma_factor()), 0.55, rtol=1e-6)
    np.testing.assert_allclose(float(gan._penalty(gan.discriminator, IMAGES, fakes)),
                               0.55 * float(r1 + 0.25 * r2), rtol=1e-5)


def test_lazy_regularisation_adds_k_times_the_penalty_on_every_kth_step_only():
    gan = train.build_gan(dataclasses.replace(MODERN, r1_interval=4), 1, seed=0)
    fakes = gan.generator(tf.zeros((16, 8)))
    every_step = float(train.build_gan(MODERN, 1, seed=0)._penalty(gan.discriminator, IMAGES, fakes))
    values = []
    for step in range(5):
        gan.d_opt.iterations.assign(step)
        values.append(float(gan._penalty(gan.discriminator, IMAGES, fakes)))
    np.testing.assert_allclose(values, [4 * every_step, 0, 0, 0, 4 * every_step], rtol=1e-5)


def test_a_modern_run_trains_logs_and_resumes_the_augmentation_probability(tmp_path):
    result = train.train_run(tmp_path, tiny_dataset(64), MODERN, epochs=1, seed=0, verbose=False)
    assert {"augment_p", "r_t"} <= set(result.history[-1]) and all(np.isfinite(v) for v in result.history[-1].values()
                                                                  if isinstance(v, float))
    p = float(result.gan.ada.p)
    resumed = train.train_run(tmp_path, tiny_dataset(64), MODERN, epochs=1, seed=0, verbose=False)
    assert resumed.epochs_done == 1 and float(resumed.gan.ada.p) == p
    r_t = float(result.gan.ada.r_t)  # one adjustment, after 4 steps of 16 real images: up if r_t > 0.6, else 0
    assert p == (pytest.approx(16 * 4 / 1000) if r_t > 0.6 else 0.0)


def test_eager_steps_train_as_the_compiled_ones(tmp_path):
    """The smoke profile's run_eagerly changes speed only: one epoch of a modern recipe (ADA, lazy R1/R2, EMA)
    moves the weights to the same place, up to float rounding (the compiled graph fuses operations)."""
    assert settings.PROFILES["smoke"].run_eagerly and not settings.PROFILES["cpu"].run_eagerly
    def networks(gan):
        return [v.numpy() for v in gan.generator.weights + gan.discriminator.weights]

    start = networks(train.build_gan(MODERN, 1, 0))
    compiled = train.train_run(tmp_path / "compiled", tiny_dataset(64), MODERN, epochs=1, seed=0, verbose=False)
    eager = train.train_run(tmp_path / "eager", tiny_dataset(64), MODERN, epochs=1, seed=0, verbose=False,
                            run_eagerly=True)
    assert eager.gan.run_eagerly and not compiled.gan.run_eagerly
    moved = np.concatenate([(x - s).ravel() for x, s in zip(networks(compiled.gan), start)])
    apart = np.concatenate([(x - y).ravel() for x, y in zip(networks(compiled.gan), networks(eager.gan))])
    assert np.linalg.norm(moved) > 0 and np.linalg.norm(apart) < 1e-3 * np.linalg.norm(moved)
    assert float(eager.gan.ada.p) == pytest.approx(float(compiled.gan.ada.p))


def test_two_augmentations_at_once_are_refused():
    with pytest.raises(ValueError, match="choose one augmentation"):
        dataclasses.replace(MODERN, augment=("translation",))


def test_sample_clips_a_linear_generator_and_seeds_its_noise():
    class Noisy(keras.Model):
        """A linear generator with noise: twice z's first entries plus noise it draws after seed_noise."""

        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(4 * 4, use_bias=False, kernel_initializer="ones")
            self.noise = np.random.default_rng(0)

        input_shape, inputs = (None, 2), [keras.KerasTensor((None, 2))]  # as the stylegan2 generator reports them

        def seed_noise(self, seed):
            self.noise = np.random.default_rng(seed + 1000)

        def call(self, z, training=False):
            return tf.reshape(3.0 * self.dense(z), (-1, 4, 4, 1)) + self.noise.normal()

    generator = Noisy()
    generator(np.zeros((1, 2), "float32"))  # built before sampling, as a trained generator is
    first, again = train.sample(generator, 40, seed=1), train.sample(generator, 40, seed=1)
    assert first.min() == -1.0 and first.max() == 1.0
    np.testing.assert_array_equal(first, again)
