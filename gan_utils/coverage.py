"""Exact mode coverage on `shapes`: every real image has known factors (kind, colour, size, x, y), so a
classifier of factor combinations can say which of the 324 combinations a generator draws.

On natural images "how many modes does the generator cover?" has no exact answer; here it does.
"""
from __future__ import annotations

import dataclasses
import itertools
import math

import keras
import numpy as np

from gan_utils import features
from gan_utils.data import SHAPE_FACTORS, ImageDataset

FACTORS = tuple(SHAPE_FACTORS)  # kind, colour, size, x, y: the order of the mixed-radix combination index
COMBINATIONS = math.prod(SHAPE_FACTORS.values())


def combination_index(factors: dict[str, np.ndarray]) -> np.ndarray:
    """The int64 index of each image's factor combination, in [0, COMBINATIONS): mixed radix over FACTORS."""
    missing = [name for name in FACTORS if name not in factors]
    if missing:
        raise ValueError(f"factors lacks {', '.join(missing)}; pass a shapes dataset's `factors`.")
    index = np.zeros(np.shape(factors[FACTORS[0]]), np.int64)
    for name in FACTORS:
        values = np.asarray(factors[name])
        if values.min(initial=0) < 0 or values.max(initial=0) >= SHAPE_FACTORS[name]:
            raise ValueError(f"factor {name!r} must lie in [0, {SHAPE_FACTORS[name]}); got {np.unique(values)!r}.")
        index = index * SHAPE_FACTORS[name] + values
    return index


def combination_factors(index) -> dict[str, np.ndarray]:
    """The factors of combination indices: the inverse of combination_index."""
    index = np.asarray(index, np.int64)
    factors = {}
    for name in reversed(FACTORS):
        index, factors[name] = np.divmod(index, SHAPE_FACTORS[name])
    return {name: factors[name] for name in FACTORS}


def combination_dataset(dataset: ImageDataset) -> ImageDataset:
    """`dataset` (shapes) relabelled by factor combination, to train the combination classifier on."""
    if not dataset.factors:
        raise ValueError(f"{dataset.name} has no known factors; exact coverage needs the shapes dataset.")
    names = tuple(" ".join(f"{name}{value}" for name, value in zip(FACTORS, values))
                  for values in itertools.product(*(range(SHAPE_FACTORS[name]) for name in FACTORS)))
    return ImageDataset(f"{dataset.name}-combinations", dataset.images, combination_index(dataset.factors), names)


def combination_classifier(dataset: ImageDataset, classifier_settings: features.ClassifierSettings, *,
                           verbose: bool = True) -> features.FeatureExtractor:
    """A classifier of the factor combination of shapes images (cached like the dataset classifiers);
    its `accuracy` is measured on held-out real images."""
    return features.dataset_classifier(combination_dataset(dataset), classifier_settings, verbose=verbose)


@dataclasses.dataclass
class CoverageReport:
    """Which factor combinations a set of images shows, by the classifier's confident predictions."""

    covered: int  # combinations predicted confidently at least once
    total: int  # COMBINATIONS
    confident_fraction: float  # images whose top prediction reached min_confidence
    counts: np.ndarray  # (COMBINATIONS,) confident predictions per combination
    per_factor: dict[str, int]  # for each factor, how many of its values appear

    @property
    def fraction(self) -> float:
        return self.covered / self.total


def coverage(classifier: features.FeatureExtractor, images, *, min_confidence: float = 0.5) -> CoverageReport:
    """The factor combinations `images` cover, counting only predictions with probability >= min_confidence
    (an image the classifier cannot place is no evidence of any combination)."""
    if not 0 < min_confidence <= 1:
        raise ValueError(f"min_confidence must be in (0, 1]; got {min_confidence!r}.")
    probabilities = classifier.probabilities(images)
    if probabilities.shape[1] != COMBINATIONS:
        raise ValueError(f"classifier {classifier.name} predicts {probabilities.shape[1]} classes, not the "
                         f"{COMBINATIONS} factor combinations; build it with combination_classifier.")
    confident = probabilities.max(axis=1) >= min_confidence
    predicted = probabilities.argmax(axis=1)[confident]
    counts = np.bincount(predicted, minlength=COMBINATIONS)
    seen = combination_factors(np.flatnonzero(counts))
    return CoverageReport(covered=int(np.count_nonzero(counts)), total=COMBINATIONS,
                          confident_fraction=float(np.mean(confident)), counts=counts,
                          per_factor={name: len(np.unique(seen[name])) for name in FACTORS})


class CoverageTrace(keras.callbacks.Callback):
    """Counts the combinations a training GAN covers after every epoch, from one fixed z: GAN training
    is unstable, and a single count at the end can hide how far it swings."""

    def __init__(self, classifier: features.FeatureExtractor, z, *, min_confidence: float = 0.5):
        super().__init__()
        self.classifier, self.z, self.min_confidence = classifier, z, min_confidence
        self.epochs: list[int] = []
        self.reports: list[CoverageReport] = []

    def on_epoch_end(self, epoch, logs=None):
        images = np.asarray(self.model.generate(self.z))
        self.reports.append(coverage(self.classifier, images, min_confidence=self.min_confidence))
        self.epochs.append(epoch + 1)

    @property
    def covered(self) -> list[int]:
        """The count after each epoch in `epochs`."""
        return [report.covered for report in self.reports]
