"""Controlled comparisons of recipes: the same data, budget and evaluation for each, over several seeds.

Chapter 6 uses it to measure what each quality technique is worth: every recipe trains for the same
number of epochs on the same images from the same seeds, and is scored by gan_utils.evaluate at the
same N, with the same z for its samples. A technique's effect is the paired, same-seed difference of a
score between two recipes, with a t-based confidence interval (paired_difference, paired_effects).
Every comparison the book words goes through recipe_verdict (which recipe wins, if resolved) or trend_verdict
(whether a run is still improving), each with a sentence for the prose.
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


MIN_SEEDS = 3  # per side for ranges to decide, and pairs for the paired interval to decide
RULES = ("ranges separate", "paired interval excludes zero")


def _format(x: float, decimals: int) -> str:
    """x with `decimals` decimals, and no sign on a value that rounds to zero."""
    text = f"{x:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def _decimals(values) -> int:
    """Decimals that give the largest of `values` three significant figures, and at least one."""
    largest = float(np.max(np.abs(values)))
    return max(1, 2 - int(np.floor(np.log10(largest)))) if largest > 0 else 1


def _plural(n: int, noun: str) -> str:
    """'1 seed', '2 seeds': n and the noun, plural unless n is 1."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclasses.dataclass(frozen=True)
class RecipeVerdict:
    """Which of two recipes scored better at one budget (see recipe_verdict), by which rule, and the numbers."""

    winner: str | None  # "a", "b", or None: not resolved at this budget
    rule: str | None  # the one of RULES that decided, or None when unresolved
    mean_a: float
    mean_b: float
    range_a: tuple[float, float]  # (min, max) over seeds
    range_b: tuple[float, float]
    n_a: int  # seeds on each side
    n_b: int
    ratio: float  # mean_a / mean_b; NaN when mean_b is 0
    paired: PairedDifference | None  # a - b seed by seed, when both sides ran from the same seeds
    lower_is_better: bool

    def sentence(self, name_a: str, name_b: str, score: str = "FID") -> str:
        """One plain sentence for the book: who beats whom on `score` and why, or that it is not resolved."""
        d = _decimals([*self.range_a, *self.range_b])
        low_a, high_a = (_format(x, d) for x in self.range_a)
        low_b, high_b = (_format(x, d) for x in self.range_b)
        if self.winner is None:
            if min(self.n_a, self.n_b) < MIN_SEEDS:
                seeds = (f"{self.n_a} seeds each are" if self.n_a == self.n_b
                         else f"{self.n_a} and {self.n_b} seeds are")
                ranges = f"{seeds} too few for the ranges to decide"
            else:
                ranges = "ranges overlap"
            if self.paired is None:
                interval = "the runs are not paired by seed"
            elif self.paired.n < MIN_SEEDS:
                interval = (f"{_plural(self.paired.n, 'paired seed')} {'is' if self.paired.n == 1 else 'are'} "
                            f"too few for an interval to decide")
            else:
                interval = (f"the paired {self.paired.confidence:.0%} interval of {name_a} minus {name_b}, "
                            f"{_format(self.paired.low, d)} to {_format(self.paired.high, d)}, contains 0")
            return (f"{name_a} against {name_b} on {score} is not resolved at this budget (means "
                    f"{_format(self.mean_a, d)} and {_format(self.mean_b, d)}; {ranges} and {interval}).")
        a_wins = self.winner == "a"
        winner, loser = (name_a, name_b) if a_wins else (name_b, name_a)
        sides = [f"{_format(self.mean_a, d)}, range {low_a}-{high_a} over {_plural(self.n_a, 'seed')}",
                 f"{_format(self.mean_b, d)}, range {low_b}-{high_b} over {_plural(self.n_b, 'seed')}"]
        if not a_wins:
            sides.reverse()
        opening = f"{winner} beats {loser} on {score} (mean {sides[0]}, against {sides[1]})"
        if self.rule == RULES[0]:
            return f"{opening}: the seeds' ranges separate."
        sign = 1 if a_wins else -1  # state the difference as winner minus loser
        low, high = sorted((sign * self.paired.low, sign * self.paired.high))
        return (f"{opening}: paired by seed, {winner} minus {loser} averages {_format(sign * self.paired.mean, d)}, "
                f"and its {self.paired.confidence:.0%} interval, {_format(low, d)} to {_format(high, d)}, "
                f"excludes 0.")


def _seeds(seeds, n: int, name: str) -> tuple[int, ...]:
    """seeds as a tuple of ints, checked to name each of n runs once (or to be empty)."""
    seeds = tuple(int(s) for s in seeds)
    if seeds and len(seeds) != n:
        raise ValueError(f"seeds_{name} names {len(seeds)} seeds for {n} scores in scores_{name}; pass one seed per "
                         f"score, in the same order.")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"seeds_{name} repeats seed {repeated[0]}: pass each run once.")
    return seeds


def recipe_verdict(scores_a, scores_b, *, seeds_a=(), seeds_b=(), lower_is_better: bool = True,
                   confidence: float = CONFIDENCE) -> RecipeVerdict:
    """Which recipe's per-seed scores (such as FID at one budget) are better, a's or b's, if that is resolved.

    A recipe wins only when (RULES) each side has at least MIN_SEEDS seeds and the ranges separate (every
    score of the winner better than every score of the loser), or both sides ran from the same seeds, at least
    MIN_SEEDS of them, and the paired t interval of a - b at `confidence` excludes 0 (paired_difference).
    Otherwise winner is None: not resolved at this budget. seeds_a and seeds_b name each score's seed (both or
    neither); lower_is_better=False for scores such as precision and recall."""
    a, b = np.asarray(scores_a, float).ravel(), np.asarray(scores_b, float).ravel()
    for name, values in (("a", a), ("b", b)):
        if not len(values):
            raise ValueError(f"scores_{name} is empty: pass one score per seed, such as each run's FID at the "
                             f"same budget.")
        if not np.isfinite(values).all():
            raise ValueError(f"scores_{name} must be finite; a NaN or infinite score means a run failed. Look at "
                             f"its log, or leave that seed out.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95 for a 95% interval); got {confidence!r}.")
    seeds_a, seeds_b = _seeds(seeds_a, len(a), "a"), _seeds(seeds_b, len(b), "b")
    if bool(seeds_a) != bool(seeds_b):
        raise ValueError("seeds are given for one side only: pass both seeds_a and seeds_b to pair the runs by "
                         "seed, or neither.")
    paired = None
    if seeds_a and sorted(seeds_a) == sorted(seeds_b):
        by_seed_a, by_seed_b = dict(zip(seeds_a, a)), dict(zip(seeds_b, b))
        seeds = sorted(seeds_a)
        paired = paired_difference([by_seed_a[s] for s in seeds], [by_seed_b[s] for s in seeds], seeds=seeds,
                                   confidence=confidence)
    sign = 1.0 if lower_is_better else -1.0  # below, smaller signed scores are better
    winner = rule = None
    if min(len(a), len(b)) >= MIN_SEEDS and (sign * a).max() < (sign * b).min():
        winner, rule = "a", RULES[0]
    elif min(len(a), len(b)) >= MIN_SEEDS and (sign * b).max() < (sign * a).min():
        winner, rule = "b", RULES[0]
    elif paired is not None and paired.n >= MIN_SEEDS and paired.excludes_zero:
        a_better = paired.high < 0 if lower_is_better else paired.low > 0
        winner, rule = ("a" if a_better else "b"), RULES[1]
    mean_a, mean_b = float(np.mean(a)), float(np.mean(b))
    return RecipeVerdict(winner, rule, mean_a, mean_b, (float(a.min()), float(a.max())),
                         (float(b.min()), float(b.max())), len(a), len(b),
                         mean_a / mean_b if mean_b != 0 else float("nan"), paired, bool(lower_is_better))


TRENDS = ("still improving", "levelled off", "getting worse", "not resolved")


@dataclasses.dataclass(frozen=True)
class TrendVerdict:
    """Where one run's score is heading over its last evaluations, against a noise band (see trend_verdict)."""

    trend: str  # one of TRENDS
    n: int  # evaluations judged
    window: int  # the last `window` evaluations are compared with all those before them
    noise: float
    best_recent: float  # the best of the last `window` evaluations; NaN with too few evaluations
    best_before: float  # the best of the evaluations before them; NaN with too few evaluations
    recent_range: tuple[float, float]  # (min, max) of the last `window` evaluations; NaNs with too few
    lower_is_better: bool

    def sentence(self, name: str, score: str = "FID") -> str:
        """One plain sentence for the book: the trend of `name`'s `score` and the numbers that decided it."""
        if self.n <= self.window:
            return (f"The trend of {name}'s {score} is not resolved: {_plural(self.n, 'evaluation')}, and at least "
                    f"{self.window + 1} are needed.")
        d = _decimals([self.best_before, *self.recent_range, self.noise])
        recent, before = _format(self.best_recent, d), _format(self.best_before, d)
        low, high = (_format(x, d) for x in self.recent_range)
        last, band = f"last {self.window} evaluations", f"the noise band of {_format(self.noise, d)}"
        if self.trend == "still improving":
            return (f"{name}'s {score} is still improving: the best of its {last}, {recent}, beats the best before "
                    f"them, {before}, by more than {band}.")
        if self.trend == "getting worse":
            return (f"{name}'s {score} is getting worse: all of its {last} ({low}-{high}) are worse than the best "
                    f"before them, {before}, by more than {band}.")
        if self.trend == "levelled off":
            return (f"{name}'s {score} has levelled off: its {last} ({low}-{high}) stay within {band}, and their "
                    f"best is within it of the best before them, {before}.")
        return (f"The trend of {name}'s {score} is not resolved: its {last} ({low}-{high}) spread wider than {band}, "
                f"yet their best, {recent}, is within it of the best before them, {before}.")


def trend_verdict(values, *, noise: float, window: int = 3, lower_is_better: bool = True) -> TrendVerdict:
    """Whether one run's score over successive evaluations (such as FID at each checkpoint, in order) is
    "still improving", has "levelled off", is "getting worse", or is "not resolved", judged against `noise`.

    noise: how far apart two evaluations of equally good generators can land by chance, in the score's units,
    such as the range (max - min) of the score over seeds at one budget (summarise's "fid_spread").
    The last `window` evaluations are compared with all those before them (so at least window + 1 are needed,
    else "not resolved"): "still improving" when their best beats the best before by more than noise, "getting
    worse" when their best is worse than the best before by more than noise, "levelled off" when neither and
    they lie within noise of each other (max - min <= noise), and "not resolved" when they spread wider."""
    values = np.asarray(values, float).ravel()
    if not len(values):
        raise ValueError("values is empty: pass the score of each evaluation of the run, in order.")
    if not np.isfinite(values).all():
        raise ValueError("values must be finite; a NaN or infinite score means an evaluation failed. Look at its "
                         "log, or leave it out.")
    if not (np.isfinite(noise) and noise > 0):
        raise ValueError(f"noise must be a positive, finite spread in the score's units, such as the range of the "
                         f"score over seeds at one budget; got {noise!r}.")
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an integer of at least 2 (a band needs two evaluations); got {window!r}.")
    nan = float("nan")
    if len(values) <= window:
        return TrendVerdict("not resolved", len(values), window, float(noise), nan, nan, (nan, nan),
                            bool(lower_is_better))
    sign = 1.0 if lower_is_better else -1.0  # below, smaller signed scores are better
    recent, before = values[-window:], values[:-window]
    best_recent, best_before = sign * (sign * recent).min(), sign * (sign * before).min()
    change = sign * (best_recent - best_before)  # negative: the recent best is better
    if change < -noise:
        trend = "still improving"
    elif change > noise:
        trend = "getting worse"
    elif np.ptp(recent) <= noise:
        trend = "levelled off"
    else:
        trend = "not resolved"
    return TrendVerdict(trend, len(values), window, float(noise), float(best_recent), float(best_before),
                        (float(recent.min()), float(recent.max())), bool(lower_is_better))
