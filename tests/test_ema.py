"""The EMA generator: a separate copy whose weights follow the exact moving-average recurrence."""
import keras
import numpy as np
import pytest

from fixtures import TINY_RECIPE
from gan_utils import ema, settings


def _generator(seed=0):
    settings.seed_everything(seed)
    return TINY_RECIPE.build_models(1)[0]


def test_the_copy_starts_equal_and_is_a_separate_model():
    generator = _generator()
    averaged = ema.EMAGenerator(generator, 44_340, batch_size=64)
    assert averaged.model is not generator and averaged.model.name == "generator_ema"
    for a, b in zip(averaged.model.variables, generator.variables):
        assert a is not b
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not averaged.model.trainable_variables  # nothing ever trains the copy directly


def test_updates_follow_the_moving_average_with_part_ones_warm_up_at_batch_64():
    generator = _generator()
    averaged = ema.EMAGenerator(generator, ema.half_life_images(0.95, 64), batch_size=64)
    expected = [v.numpy().astype("float64") for v in generator.variables]
    rng = np.random.default_rng(0)
    for t in range(25):
        for variable in generator.variables:  # stand-in for a training step: new weights and statistics
            variable.assign(variable.numpy() + rng.normal(size=variable.shape).astype("float32"))
        decay = min(0.95, (1 + t) / (10 + t))
        np.testing.assert_allclose(float(averaged.current_decay()), decay, rtol=1e-6)
        averaged.update()
        expected = [decay * e + (1 - decay) * v.numpy() for e, v in zip(expected, generator.variables)]
    for e, a in zip(expected, averaged.model.variables):  # batch-norm moving statistics included
        np.testing.assert_allclose(a.numpy(), e, rtol=1e-4, atol=1e-4)
    assert float(averaged.updates.value) == 25


def test_updating_never_touches_the_trained_generator():
    generator = _generator()
    before = [v.numpy().copy() for v in generator.variables]
    averaged = ema.EMAGenerator(generator, 64, batch_size=64)
    for variable in averaged.model.variables:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    averaged.update()
    for a, b in zip(before, generator.variables):
        np.testing.assert_array_equal(a, b.numpy())


def test_the_average_of_a_constant_generator_is_that_generator():
    generator = _generator()
    averaged = ema.EMAGenerator(generator, 44_340, batch_size=64)
    for _ in range(5):
        averaged.update()
    z = np.random.default_rng(1).normal(size=(3, 8)).astype("float32")
    np.testing.assert_allclose(averaged.model(z, training=False), generator(z, training=False), atol=1e-6)


def test_a_half_life_in_images_is_the_per_step_decay_it_replaces():
    assert ema.half_life_images(0.999, 64) == pytest.approx(44_339.2, abs=0.1)  # part one's 0.999 per step
    assert 0.5 ** (64 / ema.half_life_images(0.999, 64)) == pytest.approx(0.999, abs=1e-12)


def test_the_same_half_life_forgets_alike_at_every_batch_size():
    small = ema.EMAGenerator(_generator(), 2_000, batch_size=64, ramp=0.05)
    large = ema.EMAGenerator(_generator(), 2_000, batch_size=256, ramp=0.05)
    small.updates.assign(4_000.0)  # 256,000 images each: the ramp (5% of them) is past the half-life
    large.updates.assign(1_000.0)
    np.testing.assert_allclose(float(large.current_decay()), float(small.current_decay()) ** 4, rtol=1e-5)
    np.testing.assert_allclose(float(small.current_decay()), 0.5 ** (64 / 2_000), rtol=1e-6)
    # part one's warm-up is stated in images too: at batch 256 one update is four updates of 64
    small, large = (ema.EMAGenerator(_generator(), 44_340, batch_size=b) for b in (64, 256))
    small.updates.assign(400.0)
    large.updates.assign(100.0)
    np.testing.assert_allclose(float(large.current_decay()), float(small.current_decay()) ** 4, rtol=1e-5)


def test_the_ramp_caps_the_half_life_at_a_share_of_the_images_seen():
    averaged = ema.EMAGenerator(_generator(), 20_000, batch_size=32, ramp=0.05)
    assert float(averaged.current_decay()) == pytest.approx(0.0, abs=1e-12)  # the first update copies
    averaged.updates.assign(1_000.0)  # 32,000 images: half-life 1,600 images, not 20,000
    assert float(averaged.current_decay()) == pytest.approx(0.5 ** (32 / 1_600), rel=1e-6)
    averaged.updates.assign(100_000.0)  # 3.2M images: the ramp is past the half-life
    assert float(averaged.current_decay()) == pytest.approx(0.5 ** (32 / 20_000), rel=1e-6)


@pytest.mark.parametrize("arguments, message", [
    ({"half_life": 0.0}, "half_life must be a positive number of images"),
    ({"half_life": -5.0}, "half_life must be a positive number of images"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"ramp": -0.1}, "ramp must be 0"),
])
def test_bad_settings_are_refused_with_what_to_use(arguments, message):
    with pytest.raises(ValueError, match=message):
        ema.EMAGenerator(_generator(), **{"half_life": 1_000.0, "batch_size": 64, **arguments})


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_a_decay_outside_the_open_unit_interval_has_no_half_life(decay):
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
        ema.half_life_images(decay, 64)


def test_variables_the_generator_lists_in_ema_copies_are_copied_not_averaged():
    generator = _generator()
    generator.ema_copies = [generator.variables[0]]  # as a style-based generator lists its running mean w_avg
    averaged = ema.EMAGenerator(generator, 400, batch_size=64)
    for variable in generator.variables[:2]:
        variable.assign(variable.numpy() + 1.0)
    averaged.update()
    np.testing.assert_array_equal(averaged.model.variables[0].numpy(), generator.variables[0].numpy())
    assert not np.allclose(averaged.model.variables[1].numpy(), generator.variables[1].numpy())
