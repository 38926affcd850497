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
