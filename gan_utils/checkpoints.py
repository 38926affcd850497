"""Atomic, complete training checkpoints and the files of a run directory.

A checkpoint holds both networks (with their random-seed state), both optimisers, the trainer's
noise and augmentation generators, the EMA generator (when the recipe has one) and the number of
finished epochs. Every file is written to a temporary name and
moved into place with os.replace, so a kill at any moment leaves the previous file intact.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile

import numpy as np

CHECKPOINT = "checkpoint.npz"
GENERATOR = "generator.keras"
REVERSE_GENERATOR = "reverse.keras"  # CycleGAN's target-to-source generator
RECIPE = "recipe.json"
RUN = "run.json"
HISTORY = "history.json"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; on success move it onto `path` in one step."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    try:
        yield pathlib.Path(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def remove_stale_temporaries(run_dir) -> list[pathlib.Path]:
    """Delete half-written temporaries that a killed run left in run_dir; returns what was removed."""
    stale = [p for p in pathlib.Path(run_dir).glob(".*.*") if p.is_file() and p.stem.split(".")[1] in
             {pathlib.Path(name).stem for name in (CHECKPOINT, GENERATOR, REVERSE_GENERATOR, RECIPE, RUN, HISTORY)}]
    for path in stale:
        path.unlink()
    return stale


def write_text(path, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def _state(gan) -> dict[str, list]:
    """Every variable a resumed run needs, grouped by owner, in a fixed order (a translator names its own)."""
    if hasattr(gan, "checkpoint_state"):
        return gan.checkpoint_state()
    return {
        "generator": gan.generator.variables,
        "discriminator": gan.discriminator.variables,
        "g_opt": gan.g_opt.variables,
        "d_opt": gan.d_opt.variables,
        "noise": [gan.seed_generator.state],
        "tricks": [gan.trick_seeds.state] if gan.trick_seeds else [],
        "ema": gan.ema.variables if gan.ema else [],
        "regularisers": gan.trick_variables,
    }


def build_optimizers(gan) -> None:
    """Create every optimiser's slots now (once), so a restore has variables to fill."""
    pairs = gan.optimizer_pairs() if hasattr(gan, "optimizer_pairs") else (
        (gan.g_opt, gan.generator.trainable_variables), (gan.d_opt, gan.discriminator.trainable_variables))
    for optimizer, variables in pairs:
        if not optimizer.built:
            optimizer.build(variables)


def save_checkpoint(path, gan, epoch: int) -> None:
    """Write the complete training state after `epoch` finished epochs to `path`, atomically."""
    arrays = {f"{owner}/{index:04d}": np.asarray(variable.numpy())
              for owner, variables in _state(gan).items() for index, variable in enumerate(variables)}
    arrays["epoch"] = np.asarray(epoch, dtype=np.int64)
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **arrays)


def restore_checkpoint(path, gan) -> int:
    """Load the state saved by save_checkpoint into `gan` (optimisers built first); returns the epoch."""
    build_optimizers(gan)
    try:
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"{path} is not a readable checkpoint ({error}); delete it to start the run afresh.") from None
    for owner, variables in _state(gan).items():
        keys = sorted(k for k in arrays if k.startswith(f"{owner}/"))
        if len(keys) != len(variables) or any(arrays[k].shape != tuple(v.shape) for k, v in zip(keys, variables)):
            raise ValueError(
                f"{path} does not match this model's {owner} ({len(keys)} stored arrays, {len(variables)} "
                "variables): it was written by another recipe or dataset. Use a new run directory."
            )
        for key, variable in zip(keys, variables):
            variable.assign(arrays[key])
    return int(arrays["epoch"])


def save_model(path, model) -> None:
    """Save a Keras model as a .keras file, atomically (the generator alone, for sampling, say)."""
    with atomic_path(path) as temporary:
        model.save(temporary)


def read_json(path) -> dict | list:
    """The JSON value stored at `path`."""
    return json.loads(pathlib.Path(path).read_text())
