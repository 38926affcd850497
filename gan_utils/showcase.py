"""A trained generator shipped in the repository: its weights in float16, checked by sha256, rebuilt in code.

A shipped run directory holds recipe.json, run.json (with the weights' sha256 and the training record),
history.json and WEIGHTS, the EMA generator's float variables as float16 arrays (its random-seed states as
they are). Loading builds the recipe's
architecture in code and assigns the stored values, so it needs no pickled layer classes and loads in any
Keras 3 (Colab's too). `train.load_generator` reads such a directory like any other run.
"""
from __future__ import annotations

import json
import pathlib

import keras
import numpy as np

from gan_utils import checkpoints, registry
from gan_utils.recipes import Recipe

WEIGHTS = "generator_float16.npz"
SHAPES = "__shapes__"  # the key of the variables' shapes, stored beside their values to check the architecture


def is_showcase(run_dir) -> bool:
    """Whether run_dir is a shipped run directory (weights in WEIGHTS rather than generator.keras)."""
    return (pathlib.Path(run_dir) / WEIGHTS).is_file()


def _shapes(generator: keras.Model) -> list[str]:
    return [str(tuple(variable.shape)) for variable in generator.variables]


def export(generator: keras.Model, run_dir, out_dir, record: dict) -> pathlib.Path:
    """Write `generator`, run_dir's (train.load_generator: the EMA generator), into out_dir as a shipped run
    directory with run_dir's recipe, history and run.json.

    record is added to run.json (images seen, wall clock, seeds tried...); the weights' sha256 goes with it.
    Returns the weights' path. Values outside float16's range raise ValueError rather than turn into inf.
    """
    run_dir, out_dir = pathlib.Path(run_dir), pathlib.Path(out_dir)
    values = {f"v{i:04d}": np.asarray(variable.value) for i, variable in enumerate(generator.variables)}
    floats = {key: value for key, value in values.items() if np.issubdtype(value.dtype, np.floating)}
    largest = max(float(np.abs(value).max(initial=0.0)) for value in floats.values())
    if largest > np.finfo("float16").max:
        raise ValueError(f"a weight of magnitude {largest:g} does not fit float16; ship this generator in float32.")
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / WEIGHTS
    with checkpoints.atomic_path(weights) as temporary:
        with open(temporary, "wb") as handle:  # integer variables (random-seed states) are kept exactly
            np.savez_compressed(handle, **{**values, **{k: v.astype("float16") for k, v in floats.items()}},
                                **{SHAPES: np.array(_shapes(generator))})
    for name in (checkpoints.RECIPE, checkpoints.HISTORY):
        checkpoints.write_text(out_dir / name, (run_dir / name).read_text())
    run_info = {**checkpoints.read_json(run_dir / checkpoints.RUN), **record,
                "weights": WEIGHTS, "weights_sha256": registry.sha256(weights)}
    checkpoints.write_text(out_dir / checkpoints.RUN, json.dumps(run_info, indent=2))
    return weights


def load(run_dir) -> keras.Model:
    """The generator shipped in run_dir, built from its recipe in code with the stored weights (as float32).

    Raises ValueError when the weights' sha256 differs from run.json's (a damaged or altered file), or when
    the stored variables do not fit the recipe's architecture.
    """
    run_dir = pathlib.Path(run_dir)
    run_info = checkpoints.read_json(run_dir / checkpoints.RUN)
    weights = run_dir / WEIGHTS
    expected, found = run_info.get("weights_sha256"), registry.sha256(weights)
    if found != expected:
        raise ValueError(f"{weights} has sha256 {found}, but run.json records {expected}: the file is damaged or "
                         "was changed. Restore it from the repository (git checkout -- that file).")
    recipe = Recipe.from_json((run_dir / checkpoints.RECIPE).read_text())
    generator = recipe.build_generator(run_info["channels"])
    generator(np.zeros((1, recipe.latent_dim), "float32"))  # creates every variable
    with np.load(weights) as stored:
        shapes = [str(shape) for shape in stored[SHAPES]]
        if shapes != _shapes(generator):
            raise ValueError(f"{weights} holds {len(shapes)} variables that do not match recipe "
                             f"{recipe.name!r}'s generator ({len(generator.variables)} variables); it was "
                             "written for another architecture or library version.")
        for i, variable in enumerate(generator.variables):
            variable.assign(stored[f"v{i:04d}"].astype(variable.dtype))
    return generator
