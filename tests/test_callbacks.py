"""Training callbacks, driven by short real fits of a tiny GAN."""
import io
import math

import keras
import numpy as np
import pytest

from fixtures import TINY_RECIPE, tiny_dataset
from gan_utils import callbacks, data, train


def _fit(gan, epochs, extra, images=None):
    images = tiny_dataset().images if images is None else images
    pipeline = data.make_pipeline(images, batch_size=TINY_RECIPE.batch_size, seed=0, epochs=epochs)
    gan.fit(pipeline, epochs=epochs, steps_per_epoch=len(images) // TINY_RECIPE.batch_size, verbose=0, shuffle=False,
            callbacks=extra)


def test_sample_grid_keeps_one_frame_per_epoch_from_the_same_z(tmp_path):
    gan = train.build_gan(TINY_RECIPE, 1, seed=0)
    z = np.random.default_rng(0).standard_normal((6, TINY_RECIPE.latent_dim)).astype("float32")
    grid = callbacks.SampleGrid(z)
    _fit(gan, 3, [grid])
    assert grid.epochs == [1, 2, 3] and len(grid.frames) == 3
    assert grid.frames[0].shape == (6, 32, 32, 1) and np.abs(grid.frames[-1]).max() <= 1
    np.testing.assert_allclose(grid.frames[-1], gan.generator(z, training=False).numpy(), atol=1e-6)
    assert not np.allclose(grid.frames[0], grid.frames[-1])  # training moved the generator
    assert grid.grid().axes[0].get_title() == "samples from a fixed z after epoch 3"
    path = grid.animation(tmp_path / "training.gif")
    assert path.exists() and path.stat().st_size < 2_000_000


def test_curves_record_epoch_means_matching_keras_history():
    gan = train.build_gan(TINY_RECIPE, 1, seed=0)
    curves = callbacks.Curves()
    history = keras.callbacks.History()
    _fit(gan, 2, [curves, history])
    for name in callbacks.CURVE_NAMES:
        np.testing.assert_allclose(curves.history[name], history.history[name], rtol=1e-6)
    assert all(0 < p < 1 for p in curves.history["d_real"] + curves.history["d_fake"])
    fig = curves.figure()
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == ["epoch", "epoch"]


def test_epoch_line_prints_one_line_per_epoch():
    gan = train.build_gan(TINY_RECIPE, 1, seed=0)
    stream = io.StringIO()
    _fit(gan, 2, [callbacks.EpochLine(stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and "d_loss" in lines[1] and lines[1].endswith("s)")


def test_progress_is_a_bar_only_in_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert callbacks.progress_verbosity(Terminal()) == 1
    assert callbacks.progress_verbosity(io.StringIO()) == 0


def test_a_non_finite_loss_stops_training_with_a_message_and_no_checkpoint(tmp_path):
    gan = train.build_gan(TINY_RECIPE, 1, seed=0)
    gan.g_opt.learning_rate.assign(math.inf)  # the first generator update produces NaN weights
    stop, saver = callbacks.StopOnNonFinite(), callbacks.Checkpoint(tmp_path)
    _fit(gan, 5, [stop, saver])
    assert stop.message is not None and "became nan" in stop.message and "Lower the learning rates" in stop.message
    assert gan.stop_training
    assert not (tmp_path / "checkpoint.npz").exists()


def test_time_budget_stops_before_the_next_epoch_would_overrun(monkeypatch):
    clock = iter(np.arange(0.0, 1000.0, 25.0))  # every call advances 25 s: each epoch "takes" 25 s
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: float(next(clock)))
    budget = callbacks.TimeBudget(minutes=1.0)

    class Model:
        stop_training = False

    budget.set_model(Model())
    budget.on_train_begin()
    budget.on_epoch_end(0)  # 25 s used; 25 more fit in 60
    assert not budget.stopped_early
    budget.on_epoch_end(1)  # 50 s used; another 25 s epoch would overrun
    assert budget.stopped_early and budget.model.stop_training


def test_time_budget_must_be_positive():
    with pytest.raises(ValueError, match="minutes must be positive"):
        callbacks.TimeBudget(0)
