"""Controlled recipe comparisons: every recipe and seed trained and scored alike, and the summary table."""
import dataclasses

import numpy as np
import pytest

from fixtures import TINY_RECIPE, TINY_TRICKS_RECIPE
from gan_utils import compare, data, evaluate, settings


@pytest.fixture(scope="module")
def setting():
    ref = evaluate.reference("digits", settings.PROFILES["smoke"], verbose=False)
    training = evaluate.training_part(ref.dataset)
    small = data.ImageDataset("digits", training.images[:64], training.labels[:64], training.class_names)
    return ref, small


def test_every_recipe_and_seed_is_trained_scored_and_kept(setting):
    ref, small = setting
    recipes = {"plain": TINY_RECIPE, "tricks": TINY_TRICKS_RECIPE}
    results = compare.compare(recipes, small, ref, epochs=1, seeds=[0, 1], n=96, keep=4, log=None)
    assert [(r.recipe, r.seed) for r in results] == [("plain", 0), ("plain", 1), ("tricks", 0), ("tricks", 1)]
    for r in results:
        assert set(r.scores) == set(compare.SCORES) and np.isfinite(r.scores["fid"]) and r.seconds > 0
        assert r.samples.shape == (4, 32, 32, 1)
    assert results[0].scores != results[1].scores  # another seed, another run
    again = compare.compare({"plain": TINY_RECIPE}, small, ref, epochs=1, seeds=[0], n=96, keep=4, log=None)
    assert again[0].scores == results[0].scores  # one seed repeats exactly


def test_summary_gives_each_recipes_mean_and_spread_over_seeds():
    def run(name, seed, fid, recall):
        scores = {"fid": fid, "kid": 0.0, "precision": 0.5, "recall": recall, "memorisation_ratio": None}
        return compare.RunScore(name, seed, scores, 10.0 + seed, np.zeros((1, 32, 32, 1), "float32"))

    table = compare.summarise([run("b", 0, 10.0, 0.2), run("b", 1, 14.0, 0.4), run("a", 0, 30.0, 0.1)])
    assert list(table) == ["b", "a"]
    assert table["b"]["fid"] == 12.0 and table["b"]["fid_spread"] == 4.0 and table["b"]["seeds"] == 2
    assert table["b"]["recall"] == pytest.approx(0.3) and table["b"]["seconds"] == 10.5
    assert np.isnan(table["a"]["memorisation_ratio"]) and table["a"]["fid_spread"] == 0.0


def test_bad_arguments_are_refused_before_training(setting):
    ref, small = setting
    with pytest.raises(ValueError, match="recipes is empty"):
        compare.compare({}, small, ref, epochs=1, seeds=[0], n=32)
    with pytest.raises(ValueError, match="seeds must be a non-empty sequence of integers"):
        compare.compare({"plain": TINY_RECIPE}, small, ref, epochs=1, seeds=[], n=32)


def test_paired_difference_matches_a_hand_computation():
    # differences 2, 4, 3, 5, 1: mean 3, sample sd sqrt(2.5); t_{0.975, 4} = 2.7764451051977987
    effect = compare.paired_difference([12.0, 14.0, 13.0, 15.0, 11.0], [10.0, 10.0, 10.0, 10.0, 10.0],
                                       seeds=range(5))
    half_width = 2.7764451051977987 * np.sqrt(2.5) / np.sqrt(5)
    assert effect.differences == (2.0, 4.0, 3.0, 5.0, 1.0) and effect.seeds == (0, 1, 2, 3, 4) and effect.n == 5
    assert effect.mean == 3.0 and effect.std == pytest.approx(np.sqrt(2.5))
    assert (effect.low, effect.high) == pytest.approx((3.0 - half_width, 3.0 + half_width))
    assert effect.t_statistic == pytest.approx(3.0 / (np.sqrt(2.5) / np.sqrt(5)))
    assert effect.excludes_zero and effect.confidence == 0.95


def test_paired_difference_agrees_with_scipys_paired_t_test():
    from scipy import stats

    rng = np.random.default_rng(0)
    baseline = rng.normal(30.0, 5.0, size=6)
    variant = baseline + rng.normal(0.5, 2.0, size=6)
    effect = compare.paired_difference(variant, baseline)
    reference = stats.ttest_rel(variant, baseline)
    assert effect.t_statistic == pytest.approx(reference.statistic)
    assert effect.p_value == pytest.approx(reference.pvalue)
    interval = reference.confidence_interval(0.95)
    assert (effect.low, effect.high) == pytest.approx((interval.low, interval.high))
    # the 95% interval excludes 0 exactly when the two-sided p-value is below 0.05
    assert effect.excludes_zero == (effect.p_value < 0.05)


def test_pairing_resolves_an_effect_that_the_seed_to_seed_spread_hides():
    baseline = np.array([10.0, 30.0, 20.0, 50.0, 40.0])  # seeds differ a lot
    variant = baseline + np.array([1.9, 2.1, 2.0, 1.8, 2.2])  # every seed is about 2 worse
    assert compare.paired_difference(variant, baseline).excludes_zero
    assert not compare.paired_difference(np.sort(variant), baseline).excludes_zero  # the same values, unpaired


def test_one_seed_gives_the_difference_and_an_undefined_interval():
    effect = compare.paired_difference([12.0], [10.0], seeds=[3])
    assert effect.mean == 2.0 and effect.n == 1 and effect.seeds == (3,)
    assert all(np.isnan(x) for x in (effect.std, effect.low, effect.high, effect.t_statistic, effect.p_value))
    assert not effect.excludes_zero  # an undefined interval resolves nothing


def test_identical_differences_give_a_zero_width_interval():
    effect = compare.paired_difference([12.0, 13.0], [10.0, 11.0])
    assert (effect.low, effect.high) == (2.0, 2.0) and effect.excludes_zero
    assert effect.t_statistic == np.inf and effect.p_value == 0.0
    none = compare.paired_difference([10.0, 11.0], [10.0, 11.0])
    assert (none.low, none.high) == (0.0, 0.0) and not none.excludes_zero and np.isnan(none.p_value)


@pytest.mark.parametrize("variant, baseline, kwargs, message", [
    ([1.0, 2.0], [1.0], {}, "one score per seed"),
    ([], [], {}, "one score per seed"),
    ([1.0, np.nan], [1.0, 2.0], {}, "scores must be finite"),
    ([1.0, 2.0], [1.0, 2.0], {"confidence": 95}, "confidence must be between 0 and 1"),
    ([1.0, 2.0], [1.0, 2.0], {"seeds": [0]}, "seeds names 1 seeds for 2 pairs"),
])
def test_paired_difference_refuses_bad_input(variant, baseline, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare.paired_difference(variant, baseline, **kwargs)


def _run_score(name, seed, fid):
    scores = {"fid": fid, "kid": 0.0, "precision": 0.5, "recall": 0.5, "memorisation_ratio": None}
    return compare.RunScore(name, seed, scores, 1.0, np.zeros((1, 32, 32, 1), "float32"))


def test_paired_effects_pairs_each_recipe_with_the_baseline_by_seed():
    results = [_run_score("best", 0, 10.0), _run_score("best", 1, 20.0), _run_score("best", 2, 15.0),
               _run_score("best - x", 2, 18.0), _run_score("best - x", 0, 12.0), _run_score("best - x", 1, 21.0),
               _run_score("best + y", 0, 9.0), _run_score("best + y", 1, 19.0), _run_score("best + y", 2, 14.0)]
    effects = compare.paired_effects(results, "best")
    assert list(effects) == ["best - x", "best + y"]
    assert effects["best - x"].differences == (2.0, 1.0, 3.0) and effects["best - x"].seeds == (0, 1, 2)
    assert effects["best + y"].differences == (-1.0, -1.0, -1.0) and effects["best + y"].high == -1.0


def test_paired_effects_refuses_unmatched_seeds_and_a_missing_baseline():
    results = [_run_score("best", 0, 10.0), _run_score("best", 1, 20.0), _run_score("best - x", 0, 12.0)]
    with pytest.raises(ValueError, match=r"ran from seeds \[0\], the baseline 'best' from \[0, 1\]"):
        compare.paired_effects(results, "best")
    with pytest.raises(ValueError, match="baseline 'dcgan' is not among the recipes compared"):
        compare.paired_effects(results, "dcgan")
    with pytest.raises(ValueError, match="two runs from seed 0"):
        compare.paired_effects(results + [_run_score("best", 0, 11.0)], "best")
    with pytest.raises(ValueError, match="score must be one of"):
        compare.paired_effects(results, "best", score="is")


@pytest.mark.parametrize("differences, in_baseline, expected", [
    ([3.0, 4.0, 5.0], True, "helps"),  # leaving it out made FID worse
    ([-3.0, -4.0, -5.0], True, "hurts"),  # best did better without it
    ([-3.0, -4.0, -5.0], False, "helps"),  # adding it made FID better
    ([3.0, 4.0, 5.0], False, "hurts"),
    ([-3.0, 4.0, 1.0], True, "unresolved"),  # the interval contains 0
    ([5.0], False, "unresolved"),  # one seed: no interval
])
def test_technique_verdict_reads_the_sign_by_whether_the_baseline_uses_it(differences, in_baseline, expected):
    effect = compare.paired_difference(np.array(differences) + 10.0, np.full(len(differences), 10.0))
    assert compare.technique_verdict(effect, in_baseline=in_baseline) == expected


@pytest.mark.parametrize("a, b, lower_is_better, winner", [
    ([50.0, 48.0, 55.0], [120.0, 110.0, 131.0], True, "a"),  # a's FIDs are all lower
    ([120.0, 110.0, 131.0], [50.0, 48.0, 55.0], True, "b"),
    ([0.7, 0.72, 0.71], [0.6, 0.62, 0.65, 0.61], False, "a"),  # a's recalls are all higher
    ([0.6, 0.62, 0.65], [0.7, 0.72, 0.71], False, "b"),
])
def test_recipe_verdict_names_the_winner_when_three_seeds_ranges_separate(a, b, lower_is_better, winner):
    verdict = compare.recipe_verdict(a, b, lower_is_better=lower_is_better)
    assert (verdict.winner, verdict.rule) == (winner, "ranges separate") and verdict.paired is None
    assert verdict.mean_a == pytest.approx(np.mean(a)) and verdict.range_b == (min(b), max(b))
    assert (verdict.n_a, verdict.n_b) == (len(a), len(b)) and verdict.ratio == pytest.approx(np.mean(a) / np.mean(b))


def test_two_unpaired_seeds_are_too_few_even_when_the_ranges_separate():
    verdict = compare.recipe_verdict([50.0, 51.0], [60.0, 61.0])
    assert verdict.winner is None and verdict.rule is None
    assert verdict.sentence("fastgan", "dcgan64") == (
        "fastgan against dcgan64 on FID is not resolved at this budget (means 50.5 and 60.5; 2 seeds each are too "
        "few for the ranges to decide and the runs are not paired by seed).")


def test_two_paired_seeds_are_too_few_for_the_interval():
    verdict = compare.recipe_verdict([50.0, 51.0], [60.0, 62.0], seeds_a=[0, 1], seeds_b=[1, 0])
    assert verdict.winner is None and verdict.paired.differences == (-12.0, -9.0)
    assert "2 paired seeds are too few for an interval to decide" in verdict.sentence("a", "b")


def test_pairing_by_seed_resolves_overlapping_ranges():
    baseline = {0: 10.0, 1: 30.0, 2: 20.0, 3: 50.0, 4: 40.0}  # seeds differ a lot
    variant = {seed: fid - 2.0 + shift for (seed, fid), shift in zip(baseline.items(), [0.1, -0.1, 0.0, 0.2, -0.2])}
    seeds_b = [4, 3, 2, 1, 0]  # any order: the runs are matched by seed
    verdict = compare.recipe_verdict(list(variant.values()), [baseline[s] for s in seeds_b],
                                     seeds_a=list(variant), seeds_b=seeds_b)
    assert (verdict.winner, verdict.rule) == ("a", "paired interval excludes zero")
    assert verdict.paired.seeds == (0, 1, 2, 3, 4) and verdict.paired.mean == pytest.approx(-2.0)
    assert verdict.range_a == pytest.approx((8.1, 48.2)) and verdict.range_b == (10.0, 50.0)  # they overlap
    half_width = 2.7764451051977987 * np.std([0.1, -0.1, 0.0, 0.2, -0.2], ddof=1) / np.sqrt(5)
    assert (verdict.paired.low, verdict.paired.high) == pytest.approx((-2.0 - half_width, -2.0 + half_width))
    assert verdict.sentence("fastgan", "dcgan64") == (
        "fastgan beats dcgan64 on FID (mean 28.0, range 8.1-48.2 over 5 seeds, against 30.0, range 10.0-50.0 over "
        "5 seeds): paired by seed, fastgan minus dcgan64 averages -2.0, and its 95% interval, -2.2 to -1.8, "
        "excludes 0.")
    flipped = compare.recipe_verdict([baseline[s] for s in seeds_b], list(variant.values()), seeds_a=seeds_b,
                                     seeds_b=list(variant))
    assert flipped.winner == "b" and flipped.paired.mean == pytest.approx(2.0)
    assert "fastgan beats dcgan64" in flipped.sentence("dcgan64", "fastgan")
    assert "fastgan minus dcgan64 averages -2.0, and its 95% interval, -2.2 to -1.8" in flipped.sentence(
        "dcgan64", "fastgan")
    higher = compare.recipe_verdict(list(variant.values()), [baseline[s] for s in seeds_b], seeds_a=list(variant),
                                    seeds_b=seeds_b, lower_is_better=False)
    assert (higher.winner, higher.rule) == ("b", "paired interval excludes zero")  # a higher score is better


def test_noisy_paired_differences_with_overlapping_ranges_are_not_resolved():
    verdict = compare.recipe_verdict([50.0, 60.0, 55.0], [52.0, 58.0, 57.0], seeds_a=[0, 1, 2], seeds_b=[0, 1, 2])
    assert verdict.winner is None and verdict.paired.differences == (-2.0, 2.0, -2.0)
    assert verdict.paired.low < 0 < verdict.paired.high
    assert verdict.sentence("fastgan", "dcgan64", score="KID") == (
        "fastgan against dcgan64 on KID is not resolved at this budget (means 55.0 and 55.7; ranges overlap and "
        f"the paired 95% interval of fastgan minus dcgan64, {verdict.paired.low:.1f} to {verdict.paired.high:.1f}, "
        "contains 0).")


def test_separated_ranges_sentence_names_the_winner_first_with_its_numbers():
    verdict = compare.recipe_verdict([120.4, 110.2, 131.9], [52.1, 48.3, 55.0, 50.0])
    assert verdict.sentence("dcgan64", "fastgan") == (
        "fastgan beats dcgan64 on FID (mean 51.4, range 48.3-55.0 over 4 seeds, against 120.8, range 110.2-131.9 "
        "over 3 seeds): the seeds' ranges separate.")
    small = compare.recipe_verdict([0.712, 0.724, 0.731], [0.61, 0.62, 0.6], lower_is_better=False)
    assert small.sentence("fastgan", "dcgan64", score="recall").startswith(
        "fastgan beats dcgan64 on recall (mean 0.722, range 0.712-0.731 over 3 seeds, against 0.610, range")


@pytest.mark.parametrize("a, b, kwargs, message", [
    ([], [1.0], {}, "scores_a is empty"),
    ([1.0], [1.0, np.inf], {}, "scores_b must be finite"),
    ([1.0, 2.0], [1.0, 2.0], {"seeds_a": [0], "seeds_b": [0, 1]}, "seeds_a names 1 seeds for 2 scores"),
    ([1.0, 2.0], [1.0, 2.0], {"seeds_a": [0, 1], "seeds_b": [3, 3]}, "seeds_b repeats seed 3"),
    ([1.0, 2.0], [1.0, 2.0], {"seeds_a": [0, 1]}, "seeds are given for one side only"),
    ([1.0, 2.0], [1.0, 2.0], {"confidence": 95}, "confidence must be between 0 and 1"),
])
def test_recipe_verdict_refuses_bad_input(a, b, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare.recipe_verdict(a, b, **kwargs)


def test_runs_from_different_seeds_are_not_paired():
    verdict = compare.recipe_verdict([50.0, 51.0, 52.0], [51.5, 53.0, 54.0], seeds_a=[0, 1, 2], seeds_b=[0, 1, 3])
    assert verdict.paired is None and verdict.winner is None


@pytest.mark.parametrize("values, lower_is_better, trend", [
    ([100.0, 80.0, 60.0, 40.0, 20.0], True, "still improving"),  # the last 3 beat 80 by more than 5
    ([0.2, 0.3, 0.4, 0.5, 0.6], False, "still improving"),  # recall rising
    ([30.0, 30.5, 29.8, 30.2, 30.1], True, "levelled off"),
    ([30.0, 35.0, 45.0, 55.0, 65.0], True, "getting worse"),
    ([50.0, 40.0, 52.0, 38.0, 45.0], True, "not resolved"),  # the last 3 span 14, their best is within 5 of 40
    ([30.0, 40.0, 50.0], True, "not resolved"),  # too few: nothing before the last 3
])
def test_trend_verdict_against_the_noise_band(values, lower_is_better, trend):
    noise = 5.0 if lower_is_better else 0.05
    assert compare.trend_verdict(values, noise=noise, lower_is_better=lower_is_better).trend == trend


def test_trend_sentences_give_the_numbers_that_decided():
    improving = compare.trend_verdict([100.0, 80.0, 60.0, 40.0, 20.0], noise=5.0)
    assert (improving.best_recent, improving.best_before, improving.recent_range) == (20.0, 80.0, (20.0, 60.0))
    assert improving.sentence("fastgan") == (
        "fastgan's FID is still improving: the best of its last 3 evaluations, 20.0, beats the best before them, "
        "80.0, by more than the noise band of 5.0.")
    assert compare.trend_verdict([30.0, 30.5, 29.8, 30.2, 30.1], noise=5.0).sentence("fastgan") == (
        "fastgan's FID has levelled off: its last 3 evaluations (29.8-30.2) stay within the noise band of 5.0, and "
        "their best is within it of the best before them, 30.0.")
    assert compare.trend_verdict([30.0, 35.0, 45.0, 55.0, 65.0], noise=5.0).sentence("fastgan") == (
        "fastgan's FID is getting worse: all of its last 3 evaluations (45.0-65.0) are worse than the best before "
        "them, 30.0, by more than the noise band of 5.0.")
    assert compare.trend_verdict([50.0, 40.0, 52.0, 38.0, 45.0], noise=5.0).sentence("fastgan") == (
        "The trend of fastgan's FID is not resolved: its last 3 evaluations (38.0-52.0) spread wider than the noise "
        "band of 5.0, yet their best, 38.0, is within it of the best before them, 40.0.")
    few = compare.trend_verdict([30.0, 40.0], noise=5.0, window=2)
    assert np.isnan(few.best_recent) and few.sentence("fastgan") == (
        "The trend of fastgan's FID is not resolved: 2 evaluations, and at least 3 are needed.")


@pytest.mark.parametrize("values, kwargs, message", [
    ([], {"noise": 1.0}, "values is empty"),
    ([1.0, np.nan, 2.0, 3.0], {"noise": 1.0}, "values must be finite"),
    ([1.0, 2.0, 3.0, 4.0], {"noise": 0.0}, "noise must be a positive, finite spread"),
    ([1.0, 2.0, 3.0, 4.0], {"noise": 1.0, "window": 1}, "window must be an integer of at least 2"),
])
def test_trend_verdict_refuses_bad_input(values, kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare.trend_verdict(values, **kwargs)
