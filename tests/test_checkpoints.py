"""Checkpoints: complete, atomic, and refused when they do not match the model."""
import os

import numpy as np
import pytest

from fixtures import TINY_RECIPE
from gan_utils import checkpoints, train


def _gan(seed=0):
    return train.build_gan(TINY_RECIPE, channels=1, seed=seed)


def _state(gan):
    return [v.numpy().copy() for group in checkpoints._state(gan).values() for v in group]


def test_restore_brings_back_every_variable_and_the_epoch(tmp_path):
    source = _gan(seed=1)
    checkpoints.build_optimizers(source)
    for variable in source.g_opt.variables + source.d_opt.variables:  # non-trivial optimiser state
        variable.assign(np.full(variable.shape, 0.5, variable.dtype))
    source.seed_generator.state.assign(np.array([7, 9], source.seed_generator.state.dtype))
    checkpoints.save_checkpoint(tmp_path / "c.npz", source, epoch=5)
    target = _gan(seed=2)
    assert checkpoints.restore_checkpoint(tmp_path / "c.npz", target) == 5
    for a, b in zip(_state(source), _state(target)):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_includes_the_dropout_seed_state(tmp_path):
    gan = _gan()
    seed_states = [v for v in gan.discriminator.variables if "seed_generator" in v.path]
    assert seed_states, "the discriminator's dropout keeps a seed state, which a resume must restore"
    checkpoints.save_checkpoint(tmp_path / "c.npz", gan, epoch=1)
    with np.load(tmp_path / "c.npz") as stored:
        assert len([k for k in stored.files if k.startswith("discriminator/")]) == len(gan.discriminator.variables)


def test_a_checkpoint_of_another_model_is_refused_clearly(tmp_path):
    import dataclasses

    other = dataclasses.replace(TINY_RECIPE, generator={**TINY_RECIPE.generator, "dense_filters": 32})
    checkpoints.save_checkpoint(tmp_path / "c.npz", train.build_gan(other, 1, 0), epoch=1)
    with pytest.raises(ValueError, match="does not match this model's generator.*new run directory"):
        checkpoints.restore_checkpoint(tmp_path / "c.npz", _gan())


def test_a_corrupt_checkpoint_is_refused_clearly(tmp_path):
    (tmp_path / "c.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint.*delete it"):
        checkpoints.restore_checkpoint(tmp_path / "c.npz", _gan())


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "history.json"
    checkpoints.write_text(target, "old")
    with pytest.raises(RuntimeError):
        with checkpoints.atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["history.json"]


def test_stale_temporaries_are_removed_but_other_files_stay(tmp_path):
    for name in (".checkpoint.abc.npz", ".generator.x1.keras", "notes.txt", "checkpoint.npz"):
        (tmp_path / name).write_text("x")
    removed = checkpoints.remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".checkpoint.abc.npz", ".generator.x1.keras"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "notes.txt"]


def test_saved_generator_loads_in_safe_mode_and_matches(tmp_path):
    gan = _gan()
    checkpoints.save_model(tmp_path / "generator.keras", gan.generator)
    loaded = train.load_generator(tmp_path)
    z = np.random.default_rng(0).standard_normal((3, TINY_RECIPE.latent_dim)).astype("float32")
    np.testing.assert_allclose(loaded(z).numpy(), gan.generator(z).numpy(), atol=1e-6)
