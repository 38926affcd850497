"""Controlled comparisons of recipes: the same data, budget and evaluation for each, over several seeds.

Chapter 6 uses it to measure what each quality technique is worth: every recipe trains for the same
number of epochs on the same images from the same seeds, and is scored by gan_utils.evaluate at the
same N, with the same z for its samples.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time

import numpy as np

from gan_utils import evaluate, train
from gan_utils.data import ImageDataset
from gan_utils.recipes import Recipe

SCORES = ("fid", "kid", "precision", "recall", "memorisation_ratio")
SAMPLE_SEED = 1  # every run is scored on images drawn from the same z


@dataclasses.dataclass
class RunScore:
    """One recipe trained from one seed: its scores at N, its training time and a few samples to look at."""

    recipe: str
    seed: int
    scores: dict  # the SCORES of gan_utils.evaluate's "generated" block
    seconds: float
    samples: np.ndarray


def compare(recipes: dict[str, Recipe], dataset: ImageDataset, ref: evaluate.Reference, *, epochs: int,
            seeds, n: int, jit_compile=False, keep: int = 16, log=print) -> list[RunScore]:
    """Train every recipe from every seed for `epochs` epochs on `dataset`, and score each run at N = n.

    Each run starts in a fresh temporary directory (nothing is resumed) and keeps `keep` samples.
    """
    if not recipes:
        raise ValueError("recipes is empty: pass a dict of name -> Recipe to compare.")
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of integers; got {seeds!r}.")
    results = []
    for name, recipe in recipes.items():
        for seed in seeds:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="gan_compare_") as run_dir:
                run = train.train_run(run_dir, dataset, recipe, epochs=epochs, seed=seed, jit_compile=jit_compile,
                                      verbose=False)
            seconds = time.perf_counter() - started
            images = train.sample(run.gan.sampler, n, seed=SAMPLE_SEED)
            generated = evaluate.evaluate(images, ref, n=n, seed=seed)["generated"]
            results.append(RunScore(name, seed, {k: generated[k] for k in SCORES}, seconds, images[:keep]))
            if log:
                log(f"{name:<26} seed {seed}: FID {generated['fid']:7.1f}  precision {generated['precision']:.2f}  "
                    f"recall {generated['recall']:.2f}  ({seconds:.0f} s)")
    return results


def summarise(results: list[RunScore]) -> dict[str, dict]:
    """Per recipe, in first-seen order: the mean and the spread (max - min) over seeds of every score,
    and the mean training seconds."""
    table = {}
    for name in dict.fromkeys(r.recipe for r in results):
        runs = [r for r in results if r.recipe == name]
        row = {"seeds": len(runs), "seconds": float(np.mean([r.seconds for r in runs]))}
        for score in SCORES:
            values = np.array([np.nan if r.scores[score] is None else r.scores[score] for r in runs], float)
            row[score] = float(np.mean(values))
            row[f"{score}_spread"] = float(np.ptp(values))
        table[name] = row
    return table
