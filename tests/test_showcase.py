"""Shipped run directories: float16 weights rebuilt in code, checked by sha256, read like any run directory."""
import hashlib
import json
import pathlib

import numpy as np
import pytest

from fixtures import tiny_dataset
from gan_utils import checkpoints, showcase, train
from test_modern import TINY_STYLE


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A tiny style-based run trained for one epoch and exported: (run directory, shipped directory)."""
    run_dir, out_dir = tmp_path_factory.mktemp("run"), tmp_path_factory.mktemp("shipped")
    train.train_run(run_dir, tiny_dataset(64), TINY_STYLE, epochs=1, seed=0, verbose=False)
    showcase.export(train.load_generator(run_dir), run_dir, out_dir, {"images_seen": 64, "seeds_tried": [{"seed": 0}]})
    return run_dir, out_dir


def test_a_shipped_generator_draws_what_the_run_drew(shipped):
    run_dir, out_dir = shipped
    assert showcase.is_showcase(out_dir) and not showcase.is_showcase(run_dir)
    original, loaded = train.load_generator(run_dir), train.load_generator(out_dir)
    weights = [(a, b) for a, b in zip(original.variables, loaded.variables)  # random-seed states aside: sampling
               if np.issubdtype(a.numpy().dtype, np.floating)]                 # seeds them anew
    assert len(weights) == len(original.weights) == len(original.variables) - 2  # two seed states: noise, mixing
    for kept, stored in weights:  # rounded to float16, no more
        np.testing.assert_array_equal(stored.numpy(), kept.numpy().astype("float16").astype("float32"))
    np.testing.assert_allclose(train.sample(loaded, 8, seed=3), train.sample(original, 8, seed=3), atol=2e-2)
    np.testing.assert_array_equal(loaded.w_avg.numpy(), original.w_avg.numpy().astype("float16").astype("float32"))


def test_the_shipped_record_names_the_weights_and_their_checksum(shipped):
    _, out_dir = shipped
    run_info = checkpoints.read_json(out_dir / checkpoints.RUN)
    assert run_info["weights"] == showcase.WEIGHTS and len(run_info["weights_sha256"]) == 64
    assert run_info["images_seen"] == 64 and run_info["seeds_tried"] == [{"seed": 0}]
    assert run_info["dataset"] == "shapes" and (out_dir / checkpoints.HISTORY).is_file()


def test_a_changed_weights_file_is_refused(shipped, tmp_path):
    _, out_dir = shipped
    for name in (showcase.WEIGHTS, checkpoints.RECIPE, checkpoints.RUN):
        (tmp_path / name).write_bytes((out_dir / name).read_bytes())
    with open(tmp_path / showcase.WEIGHTS, "r+b") as weights:
        weights.seek(100)
        byte = weights.read(1)
        weights.seek(100)
        weights.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ValueError, match="has sha256 .* but run.json records .* damaged"):
        train.load_generator(tmp_path)


def test_weights_for_another_architecture_are_refused(shipped, tmp_path):
    _, out_dir = shipped
    for name in (showcase.WEIGHTS, checkpoints.RUN):
        (tmp_path / name).write_bytes((out_dir / name).read_bytes())
    recipe = json.loads((out_dir / checkpoints.RECIPE).read_text())
    recipe["generator"]["filters"] = [16, 8, 8, 8]
    (tmp_path / checkpoints.RECIPE).write_text(json.dumps(recipe))
    with pytest.raises(ValueError, match="do not match recipe 'tiny-style'"):
        train.load_generator(tmp_path)


SHIPPED = pathlib.Path(__file__).resolve().parents[1] / "showcase" / "emoji-stylegan2"


def test_the_books_showcase_model_loads_checks_its_weights_and_samples_reproducibly():
    run_info = checkpoints.read_json(SHIPPED / checkpoints.RUN)
    weights = SHIPPED / showcase.WEIGHTS
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == run_info["weights_sha256"]
    assert weights.stat().st_size <= 15 * 2**20  # the limit on shipped weights
    assert run_info["images_seen"] > 0 and run_info["seeds_tried"] and run_info["dataset"] == "emoji"
    generator = train.load_generator(SHIPPED)
    first, again = train.sample(generator, 4, seed=1), train.sample(generator, 4, seed=1)
    assert first.shape == (4, 64, 64, 3) and first.min() >= -1 and first.max() <= 1
    np.testing.assert_array_equal(first, again)  # noise inputs come from the sampling seed too
    assert not np.allclose(first, train.sample(generator, 4, seed=2))
    assert first.std() > 0.1  # a trained generator draws something, not a flat field
