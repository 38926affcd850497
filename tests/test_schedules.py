"""Schedules in images seen: the half cosine's closed form, and its use as an optimiser's learning rate."""
import math

import keras
import numpy as np
import pytest

from gan_utils import schedules


def test_the_cosine_starts_at_start_ends_at_end_and_passes_the_midpoint_halfway():
    values = [float(schedules.cosine(t, 2e-4, 5e-5, 1000)) for t in (0, 500, 1000, 5000)]
    np.testing.assert_allclose(values, [2e-4, (2e-4 + 5e-5) / 2, 5e-5, 5e-5], rtol=1e-6)


def test_the_cosine_matches_its_formula_and_falls_monotonically():
    t = np.linspace(0, 1200, 25)
    got = np.asarray(schedules.cosine(t, 2.0, 0.2, 1000))
    expected = 0.2 + 1.8 * 0.5 * (1 + np.cos(math.pi * np.minimum(t / 1000, 1)))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.all(np.diff(got) <= 0)


def test_a_rising_schedule_works_too():
    assert float(schedules.cosine(250, 0.0, 1.0, 1000)) == pytest.approx(0.5 * (1 - math.cos(math.pi / 4)))


def test_the_learning_rate_schedule_counts_images_not_steps():
    schedule = schedules.ImagesCosine(2e-4, 5e-5, horizon_images=6400, batch_size=64)
    assert float(schedule(50)) == pytest.approx(float(schedules.cosine(3200, 2e-4, 5e-5, 6400)))
    assert float(schedule(100)) == pytest.approx(5e-5)


def test_an_optimiser_follows_the_schedule_and_it_round_trips_through_its_config():
    schedule = schedules.ImagesCosine(1e-3, 1e-4, horizon_images=40, batch_size=4)
    optimizer = keras.optimizers.Adam(learning_rate=schedule)
    weight = keras.Variable(np.ones(3, "float32"))
    for _ in range(5):
        optimizer.apply_gradients([(np.ones(3, "float32"), weight)])
    assert float(optimizer.learning_rate) == pytest.approx(float(schedules.cosine(20, 1e-3, 1e-4, 40)))
    restored = keras.optimizers.schedules.deserialize(optimizer.get_config()["learning_rate"])
    assert isinstance(restored, schedules.ImagesCosine) and restored.get_config() == schedule.get_config()


@pytest.mark.parametrize("arguments, message", [((1.0, 0.1, 0), "horizon_images must be a finite positive"),
                                                ((float("nan"), 0.1, 10), "start must be a finite"),
                                                ((1.0, True, 10), "end must be a finite")])
def test_bad_schedules_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        schedules.cosine(0, *arguments)


def test_the_learning_rate_schedule_refuses_a_bad_batch_size_and_a_zero_rate():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        schedules.ImagesCosine(1e-3, 1e-4, 100, 0)
    with pytest.raises(ValueError, match="end must be a finite positive"):
        schedules.ImagesCosine(1e-3, 0.0, 100, 8)
