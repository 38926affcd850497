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
    averaged = ema.EMAGenerator(generator, 0.999)
    assert averaged.model is not generator and averaged.model.name == "generator_ema"
    for a, b in zip(averaged.model.variables, generator.variables):
        assert a is not b
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not averaged.model.trainable_variables  # nothing ever trains the copy directly


def test_updates_follow_the_moving_average_with_its_warm_up():
    generator = _generator()
    averaged = ema.EMAGenerator(generator, 0.95)
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
    averaged = ema.EMAGenerator(generator, 0.5)
    for variable in averaged.model.variables:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    averaged.update()
    for a, b in zip(before, generator.variables):
        np.testing.assert_array_equal(a, b.numpy())


def test_the_average_of_a_constant_generator_is_that_generator():
    generator = _generator()
    averaged = ema.EMAGenerator(generator, 0.999)
    for _ in range(5):
        averaged.update()
    z = np.random.default_rng(1).normal(size=(3, 8)).astype("float32")
    np.testing.assert_allclose(averaged.model(z, training=False), generator(z, training=False), atol=1e-6)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5])
def test_a_decay_outside_the_open_unit_interval_is_refused(decay):
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\)"):
        ema.EMAGenerator(_generator(), decay)


def test_variables_the_generator_lists_in_ema_copies_are_copied_not_averaged():
    generator = _generator()
    generator.ema_copies = [generator.variables[0]]  # as a style-based generator lists its running mean w_avg
    averaged = ema.EMAGenerator(generator, 0.9)
    for variable in generator.variables[:2]:
        variable.assign(variable.numpy() + 1.0)
    averaged.update()
    np.testing.assert_array_equal(averaged.model.variables[0].numpy(), generator.variables[0].numpy())
    assert not np.allclose(averaged.model.variables[1].numpy(), generator.variables[1].numpy())
