"""Exact mode coverage on shapes: combination indices, the combination classifier and the coverage count."""
import dataclasses
import itertools

import numpy as np
import pytest

from gan_utils import coverage, data, features


def test_combination_index_is_a_bijection_in_factor_order():
    grids = list(itertools.product(*(range(data.SHAPE_FACTORS[name]) for name in coverage.FACTORS)))
    factors = {name: np.array([g[i] for g in grids]) for i, name in enumerate(coverage.FACTORS)}
    index = coverage.combination_index(factors)
    np.testing.assert_array_equal(index, np.arange(coverage.COMBINATIONS))  # product order = mixed radix order
    back = coverage.combination_factors(index)
    for name in coverage.FACTORS:
        np.testing.assert_array_equal(back[name], factors[name])
    assert coverage.COMBINATIONS == 3 * 4 * 3 * 3 * 3


def test_bad_factors_are_refused():
    with pytest.raises(ValueError, match="factors lacks"):
        coverage.combination_index({"kind": np.array([0])})
    good = {name: np.zeros(2, int) for name in coverage.FACTORS}
    with pytest.raises(ValueError, match="factor 'kind' must lie in"):
        coverage.combination_index({**good, "kind": np.array([0, 3])})
    with pytest.raises(ValueError, match="no known factors"):
        coverage.combination_dataset(data.load("digits"))


@dataclasses.dataclass
class _FixedClassifier:
    """Stands in for a FeatureExtractor: returns given probabilities whatever the images."""

    table: np.ndarray
    name: str = "fixed"

    def probabilities(self, images):
        return self.table


def test_coverage_counts_confident_predictions_only():
    table = np.full((4, coverage.COMBINATIONS), 0.0, np.float32)
    table[0, 5], table[1, 5], table[2, 300] = 1.0, 0.9, 0.95
    table[3, :] = 1 / coverage.COMBINATIONS  # an image the classifier cannot place
    report = coverage.coverage(_FixedClassifier(table), np.zeros((4, 32, 32, 3), np.float32))
    assert report.covered == 2 and report.total == coverage.COMBINATIONS and report.confident_fraction == 0.75
    assert report.counts[5] == 2 and report.counts[300] == 1 and report.fraction == pytest.approx(2 / 324)
    expected = coverage.combination_factors(np.array([5, 300]))
    assert report.per_factor == {name: len(set(expected[name])) for name in coverage.FACTORS}
    with pytest.raises(ValueError, match="min_confidence must be in"):
        coverage.coverage(_FixedClassifier(table), None, min_confidence=0)
    with pytest.raises(ValueError, match="build it with combination_classifier"):
        coverage.coverage(_FixedClassifier(table[:, :10]), None)


def test_the_combination_classifier_trains_on_shapes_and_reports_its_accuracy():
    shapes = data.make_shapes(600, seed=0)
    classifier = coverage.combination_classifier(shapes, features.ClassifierSettings(epochs=1), verbose=False)
    probabilities = classifier.probabilities(shapes.images[:5])
    assert probabilities.shape == (5, coverage.COMBINATIONS) and 0 <= classifier.accuracy <= 1
    report = coverage.coverage(classifier, shapes.images, min_confidence=1e-9)  # one weak epoch: count every top guess
    assert 1 <= report.covered <= coverage.COMBINATIONS


def test_coverage_trace_counts_after_every_epoch_from_the_gan_samples(tmp_path):
    from fixtures import TINY_RECIPE
    from gan_utils import train

    shapes = data.make_shapes(64, seed=0)
    recipe = dataclasses.replace(TINY_RECIPE, batch_size=32)
    table = np.zeros((16, coverage.COMBINATIONS), np.float32)
    table[np.arange(16), np.arange(16) % 4] = 1.0  # four combinations, whatever the images

    class Recording(_FixedClassifier):
        seen: list

        def probabilities(self, images):
            self.seen.append(np.asarray(images))
            return self.table

    classifier = Recording(table)
    classifier.seen = []
    z = np.random.default_rng(0).normal(size=(16, recipe.latent_dim)).astype("float32")
    trace = coverage.CoverageTrace(classifier, z)
    result = train.train_run(tmp_path, shapes, recipe, epochs=2, callbacks=[trace], verbose=False)
    assert trace.epochs == [1, 2] and trace.covered == [4, 4]
    assert [images.shape for images in classifier.seen] == [(16, 32, 32, 3)] * 2
    np.testing.assert_allclose(classifier.seen[-1], np.asarray(result.gan.generate(z)), atol=1e-5)
