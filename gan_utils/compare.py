"""Controlled comparisons of recipes: the same data, budget and evaluation for each, over several seeds.

Chapter 6 uses it to measure what each quality technique is worth: every recipe trains for the same
number of epochs on the same images from the same seeds, and is scored by gan_utils.evaluate at the
same N, with the same z for its samples. A technique's effect is the paired, same-seed difference of a
score between two recipes, with a t-based confidence interval (paired_difference, paired_effects).
"""
from __future__ import annotations

import dataclasses
import tempfile
import time

import numpy as np
from scipy import stats

from gan_utils import evaluate, train
from gan_utils.data import ImageDataset
from gan_utils.recipes import Recipe

SCORES = ("fid", "kid", "precision", "recall", "memorisation_ratio")
SAMPLE_SEED = 1  # every run is scored on images drawn from the same z
CONFIDENCE = 0.95  # of the paired differences' intervals


@dataclasses.dataclass
class RunScore:
    """One recipe trained from one seed: its scores at N, its training time and a few samples to look at."""

    recipe: str
    seed: int
    scores: dict  # the SCORES of gan_utils.evaluate's "generated" block
    seconds: float
    samples: np.ndarray


def compare(recipes: dict[str, Recipe], dataset: ImageDataset, ref: evaluate.Reference, *, epochs: int,
            seeds, n: int, jit_compile=False, run_eagerly=False, keep: int = 16, log=print) -> list[RunScore]:
    """Train every recipe from every seed for `epochs` epochs on `dataset`, and score each run at N = n.

    Each run starts in a fresh temporary directory (nothing is resumed) and keeps `keep` samples. run_eagerly
    skips tracing the step: faster for the few steps of a smoke run, slower for anything longer.
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
                                      run_eagerly=run_eagerly, verbose=False)
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


@dataclasses.dataclass(frozen=True)
class PairedDifference:
    """A score of one recipe minus the same score of another, seed by seed, and the mean difference's
    two-sided t interval (see paired_difference). With one seed the interval, t and p are NaN: undefined."""

    differences: tuple[float, ...]  # variant minus baseline, one per seed, in seed order
    seeds: tuple[int, ...]  # the seed of each difference (empty when the values were paired by position)
    mean: float  # mean difference
    std: float  # sample standard deviation of the differences (ddof=1); NaN with one seed
    low: float  # the interval's bounds, mean -/+ t_{(1+confidence)/2, n-1} * std / sqrt(n)
    high: float
    confidence: float
    t_statistic: float  # mean / (std / sqrt(n)): scipy.stats.ttest_rel's statistic
    p_value: float  # two-sided, n - 1 degrees of freedom

    @property
    def n(self) -> int:
        """The number of paired seeds."""
        return len(self.differences)

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0, so the sign of the effect is resolved at this
        confidence; always False when the interval is undefined (one seed)."""
        return bool(self.low > 0 or self.high < 0)  # comparisons with NaN are False


def paired_difference(variant, baseline, *, seeds=(), confidence: float = CONFIDENCE) -> PairedDifference:
    """variant[i] - baseline[i] for each pair i (the same seed), their mean and its t-based interval at
    `confidence` (0.95: 95%). Pairing removes what the two runs of a seed share, such as the initial weights
    and the order of the batches, so it resolves smaller effects than comparing the two means."""
    variant, baseline = np.asarray(variant, float).ravel(), np.asarray(baseline, float).ravel()
    if len(variant) != len(baseline) or not len(variant):
        raise ValueError(f"variant and baseline must hold one score per seed, the same seeds in the same order; "
                         f"got {len(variant)} and {len(baseline)} values.")
    if not (np.isfinite(variant).all() and np.isfinite(baseline).all()):
        raise ValueError("scores must be finite; a NaN or infinite score means a run failed. Look at its log, "
                         "or leave that seed out of both recipes.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for a 95% interval); got {confidence!r}.")
    seeds = tuple(int(s) for s in seeds)
    if seeds and len(seeds) != len(variant):
        raise ValueError(f"seeds names {len(seeds)} seeds for {len(variant)} pairs of scores.")
    differences = variant - baseline
    n, mean = len(differences), float(np.mean(differences))
    if n < 2:  # no spread to estimate: the interval is undefined, not zero-width
        std = low = high = t_statistic = p_value = float("nan")
    else:
        std = float(np.std(differences, ddof=1))
        standard_error = std / np.sqrt(n)
        half_width = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * standard_error
        low, high = mean - half_width, mean + half_width
        if standard_error > 0:
            t_statistic = mean / standard_error
            p_value = float(2 * stats.t.sf(abs(t_statistic), n - 1))
        elif mean == 0:  # identical differences, reported as scipy.stats.ttest_rel reports them
            t_statistic = p_value = float("nan")
        else:
            t_statistic, p_value = float(np.copysign(np.inf, mean)), 0.0
    return PairedDifference(tuple(float(d) for d in differences), seeds, mean, std, float(low), float(high),
                            float(confidence), float(t_statistic), float(p_value))


def paired_effects(results: list[RunScore], baseline: str, *, score: str = "fid",
                   confidence: float = CONFIDENCE) -> dict[str, PairedDifference]:
    """For every recipe in `results` other than `baseline`, in first-seen order: its `score` minus the
    baseline's, seed by seed (paired_difference). Every recipe must have run from the baseline's seeds."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}; got {score!r}.")
    by_recipe: dict[str, dict[int, float]] = {}
    for r in results:
        runs = by_recipe.setdefault(r.recipe, {})
        if r.seed in runs:
            raise ValueError(f"recipe {r.recipe!r} has two runs from seed {r.seed}; pass each run once.")
        runs[r.seed] = np.nan if r.scores[score] is None else r.scores[score]
    if baseline not in by_recipe:
        raise ValueError(f"baseline {baseline!r} is not among the recipes compared: {', '.join(by_recipe)}.")
    seeds = sorted(by_recipe[baseline])
    effects = {}
    for name, runs in by_recipe.items():
        if name == baseline:
            continue
        if sorted(runs) != seeds:
            raise ValueError(f"recipe {name!r} ran from seeds {sorted(runs)}, the baseline {baseline!r} from "
                             f"{seeds}: a paired difference needs the same seeds for both.")
        effects[name] = paired_difference([runs[s] for s in seeds], [by_recipe[baseline][s] for s in seeds],
                                          seeds=seeds, confidence=confidence)
    return effects


VERDICTS = ("helps", "hurts", "unresolved")


def technique_verdict(effect: PairedDifference, *, in_baseline: bool) -> str:
    """What a technique did to a lower-is-better score (FID), from the paired difference variant - baseline:
    "helps", "hurts", or "unresolved" when the interval contains 0 (or is undefined, with one seed).

    in_baseline: the baseline uses the technique, so the variant leaves it out and a positive difference
    (worse without it) means it helps; otherwise the variant adds it and a negative difference means it helps."""
    if not effect.excludes_zero:
        return "unresolved"
    worse_with_variant = effect.low > 0
    return "helps" if worse_with_variant == in_baseline else "hurts"
