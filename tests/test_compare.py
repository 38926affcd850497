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
