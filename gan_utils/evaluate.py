"""Scoring generated images against a dataset: FID, KID, precision/recall, memorisation, sharpness, attribute
coverage and class checks.

Every score is computed at a stated N, beside the same score for held-out real images at that N
(the real-vs-real floor), on the features of a named extractor.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from gan_utils import data, features, metrics
from gan_utils.settings import Profile

RECOGNISABLE_CONFIDENCE = 0.8  # mean top-class probability a "recognisable" sample set must reach
# At 64x64 a copy may come mirrored or shifted by a few pixels (as pixel-exact augmentations shift and flip):
# the memorisation check compares against those variants of the training images too, exactly, up to 4 pixels
# (6% of the side) each way. Glyphs are not mirrored (a mirrored character is no character).
MEMORISATION_VARIANTS = {"emoji": {"shift": 4, "mirror": True}, "cjk": {"shift": 4, "mirror": False}}


@dataclasses.dataclass
class Reference:
    """The real data a generator is scored against, in disjoint parts (features.evaluation_split).

    classifier_idx: what the feature classifier trained on. Scores compare features against the reference part
    (reference_idx); the floor scores the real images of held_idx the same way. train_idx: what a generator
    trains on (training_part); fresh_idx: the real images it never saw, which the memorisation check compares
    with. Neither side of a comparison was the classifier's training data, so its train/test gap neither
    inflates the floor nor favours copies of the images it learned.

    Without groups, train_idx is the classifier and reference parts, and held_idx = fresh_idx is the held-out
    fifth. With groups (emoji designs, characters) fresh_idx = classifier_idx is the held-out fifth of the groups,
    and the reference and the floor are two random halves of train_idx: images of the designs the generator
    learns, so that the floor is what drawing the training distribution perfectly scores.
    """

    dataset: data.ImageDataset
    extractor: features.FeatureExtractor
    classifier_idx: np.ndarray
    reference_idx: np.ndarray
    held_idx: np.ndarray
    reference_features: np.ndarray
    held_features: np.ndarray
    train_idx: np.ndarray
    fresh_idx: np.ndarray

    @property
    def max_n(self) -> int:
        """The largest N at which a floor can be computed: the number of the floor's real images."""
        return len(self.held_idx)

    @functools.cached_property
    def reference_predictions(self) -> np.ndarray:
        """The dataset classifier's labels (ints) for the reference part's images: what it reads on real images
        it never trained on, against which attribute_coverage calibrates."""
        return self.extractor.probabilities(self.dataset.images[self.reference_idx]).argmax(axis=1)


def _split(dataset: data.ImageDataset) -> tuple[np.ndarray, np.ndarray]:
    """(train, held_out) indices: the same split for every profile, whole groups (designs) where the dataset has them."""
    split = features.ClassifierSettings(epochs=1)
    return features.split_indices(len(dataset), split.held_out_fraction, split.seed, dataset.groups)


def training_part(dataset: data.ImageDataset) -> data.ImageDataset:
    """The images a generator may train on: all but the held-out fifth that the floor and the
    memorisation check compare against (for emoji, a fifth of the designs with all their images)."""
    return dataset.subset(_split(dataset)[0])


def heldout_items(dataset: data.ImageDataset) -> list:
    """What training_part leaves out, as run.json records it: the held-out images' ids (an emoji's file stem, a
    character), sorted and without repeats, or their indices in the dataset where images have no ids."""
    held = _split(dataset)[1]
    return held.tolist() if dataset.ids is None else sorted(set(dataset.ids[held].tolist()))


def classifier_settings_for(dataset_name: str, profile: Profile) -> features.ClassifierSettings:
    """How the profile trains the dataset's feature classifier (its epochs scaled by features.EPOCH_SCALE)."""
    return features.ClassifierSettings(epochs=profile.classifier_epochs * features.EPOCH_SCALE.get(dataset_name, 1))


def reference(dataset_name: str, profile: Profile, *, extractor: str = "classifier", verbose: bool = True) -> Reference:
    """The Reference for `dataset_name`, with the dataset's own classifier (trained or loaded from the
    cache with the profile's settings) or InceptionV3 as the extractor."""
    dataset = data.load(dataset_name)
    classifier_settings = classifier_settings_for(dataset_name, profile)
    if extractor == "classifier":
        chosen = features.dataset_classifier(dataset, classifier_settings, verbose=verbose)
    elif extractor == "inception":
        chosen = features.inception_v3(dataset.channels)
    else:
        raise ValueError(f"Unknown extractor {extractor!r}; choose 'classifier' or 'inception'.")
    classifier_idx, reference_idx, held_idx = features.evaluation_split(
        len(dataset), classifier_settings.held_out_fraction, classifier_settings.seed, dataset.groups)
    train_idx, fresh_idx = _split(dataset)
    return Reference(dataset, chosen, classifier_idx, reference_idx, held_idx,
                     features.real_features(chosen, dataset, reference_idx, "reference"),
                     features.real_features(chosen, dataset, held_idx, "held_out"), train_idx, fresh_idx)


def _scores(ref: Reference, images: np.ndarray, sample_features: np.ndarray, seed: int, memorisation: bool) -> dict:
    """One side's scores; memorisation=False leaves out the memorisation ratio and copies (the fraction closer
    to a training image than 99% of fresh real images are) and copies_within_typical (how many are within the
    fresh real images' median distance; metrics.MemorisationReport)."""
    n = len(images)
    rng = np.random.default_rng(seed)
    real_subset = ref.reference_features[rng.choice(len(ref.reference_features),
                                                    size=min(n, len(ref.reference_features)), replace=False)]
    kid_mean, kid_std = metrics.kid(sample_features, ref.reference_features, subset_size=min(1000, n), seed=seed)
    precision, recall = metrics.precision_recall(real_subset, sample_features, k=3)
    scores = {"fid": metrics.fid(sample_features, ref.reference_features), "kid": kid_mean, "kid_std": kid_std,
              "precision": precision, "recall": recall,
              "sharpness": metrics.sharpness(images, ref.dataset.images[ref.reference_idx])}
    if memorisation:
        check = metrics.memorisation_check(images, ref.dataset.images[ref.train_idx], ref.dataset.images[ref.fresh_idx],
                                           **MEMORISATION_VARIANTS.get(ref.dataset.name, {}))
        # NaN when held-out images repeat training images exactly (shapes): no ratio exists then.
        scores.update(memorisation_ratio=_finite(check.ratio), copies=check.copies,
                      copies_within_typical=check.copies_within_typical)
    return scores


def evaluate(images, ref: Reference, *, n: int | None = None, seed: int = 0, floor: bool = True,
             memorisation: bool = True) -> dict:
    """Scores of the first N generated images and, as the floor, of N held-out real images.

    N defaults to min(len(images), ref.max_n). Returns a JSON-ready dict: n, extractor, the
    generated images' scores, the floor's scores, and, when the extractor classifies, the class checks and
    each side's attribute coverage (the labels' shares by the classifier against the reference part's; see
    attribute_coverage).
    floor=False leaves out the floor and memorisation=False the memorisation check (the slowest part at 64x64),
    for a benchmark that scores often and has computed those once.
    """
    data.check_images(images)
    if images.shape[1:] != ref.dataset.images.shape[1:]:
        raise ValueError(f"The images are {images.shape[1:]}, but {ref.dataset.name} images are "
                         f"{ref.dataset.images.shape[1:]}: sample from a generator trained on {ref.dataset.name}.")
    n = min(len(images), ref.max_n) if n is None else n
    if not 2 <= n <= min(len(images), ref.max_n):
        raise ValueError(f"n must be between 2 and {min(len(images), ref.max_n)} (the generated images and the "
                         f"{ref.max_n} held-out real images available); got {n}.")
    generated = images[:n]
    held_out = ref.dataset.images[ref.held_idx[:n]]
    result = {"dataset": ref.dataset.name, "extractor": ref.extractor.name, "n": n,
              "generated": _scores(ref, generated, ref.extractor.features(generated), seed, memorisation)}
    if floor:  # with groups the floor's images are training images: their copies would be no news
        result["real_floor"] = _scores(ref, held_out, ref.held_features[:n], seed,
                                       memorisation and ref.dataset.groups is None)
    if ref.extractor.classifier is not None:
        result["classes"] = class_check(ref, generated)
        for side, side_images in (("generated", generated), ("real_floor", held_out)):
            if side in result:
                result[side]["attribute_coverage"] = attribute_coverage(ref, side_images)
    return result


def attribute_coverage(ref: Reference, images: np.ndarray) -> dict:
    """Each label's share among `images` by the dataset classifier (for emoji: the skin tones) against the
    reference part's (metrics.attribute_coverage), as a JSON-ready dict.

    Per label: samples and data (the shares), ratio (samples / data), real (the share the classifier reads on
    the reference part's real images), calibrated_ratio (samples / real), its interval and verdict ("within",
    "outside" or "unresolved" for metrics.SHARE_FACTOR). Overall: max_ratio (the plain ratio's worst, either
    way), max_calibrated_ratio, factor, verdict and absent. Ratios that are infinite (a label never drawn) or
    undefined are None. The floor's own coverage shows what real images score at the same N.
    """
    predicted = ref.extractor.probabilities(images).argmax(axis=1)
    found = metrics.attribute_coverage(predicted, ref.dataset.labels[ref.reference_idx], ref.dataset.class_names,
                                       real_predicted=ref.reference_predictions)
    verdicts = found.verdicts
    shares = {}
    for name, (sample, share) in found.shares.items():
        shares[name] = {"samples": sample, "data": share, "ratio": sample / share if share else None}
        if name in found.calibrated:
            real, ratio, low, high = found.calibrated[name]
            shares[name].update(real=real, calibrated_ratio=_finite(ratio), interval=[low, high],
                                verdict=verdicts[name])
    return {"shares": shares, "max_ratio": _finite(found.max_ratio),
            "max_calibrated_ratio": _finite(found.max_calibrated_ratio), "factor": found.factor,
            "verdict": found.verdict, "absent": found.absent}


def _finite(value: float) -> float | None:
    """`value`, or None where it is infinite or NaN (JSON has neither)."""
    return float(value) if np.isfinite(value) else None


def class_check(ref: Reference, images: np.ndarray) -> dict:
    """Which classes the dataset classifier sees in `images`, and how confidently.

    "recognisable" means every class is present and the mean top-class probability is at least 0.8.
    """
    probabilities = ref.extractor.probabilities(images)
    predicted = probabilities.argmax(axis=1)
    present = sorted({ref.dataset.class_names[i] for i in predicted})
    confidence = float(probabilities.max(axis=1).mean())
    return {"classifier_accuracy": ref.extractor.accuracy, "classes_present": present,
            "mean_confidence": confidence,
            "recognisable": len(present) == len(ref.dataset.class_names) and confidence >= RECOGNISABLE_CONFIDENCE}


COLLAPSE_DIVERSITY = 0.5  # a class whose samples spread less than half as much as its real images has collapsed


def conditional_check(ref: Reference, images, requested) -> dict:
    """How well class-conditioned samples obey their labels, and how varied each class stays.

    accuracy: the fraction the dataset classifier labels with the requested class. Per class: that
    fraction, precision and recall (k=3) against the class's real reference images, and the diversity
    ratio: the samples' mean pairwise feature distance over the real images'. A class whose ratio is
    below 0.5 has collapsed towards a few prototypes.
    """
    data.check_images(images)
    requested = np.asarray(requested)
    if requested.shape != (len(images),):
        raise ValueError(f"requested must hold one label per image ({len(images)}); got shape {requested.shape}.")
    if ref.extractor.classifier is None or ref.dataset.labels is None:
        raise ValueError("conditional_check needs the dataset's own classifier; build the reference with "
                         "extractor='classifier' on a labelled dataset.")
    probabilities = ref.extractor.probabilities(images)
    predicted = probabilities.argmax(axis=1)
    sample_features = ref.extractor.features(images)
    reference_labels = ref.dataset.labels[ref.reference_idx]
    per_class = {}
    for k, name in enumerate(ref.dataset.class_names):
        mine, real = requested == k, ref.reference_features[reference_labels == k]
        if mine.sum() < 2:
            raise ValueError(f"class {name!r} has {mine.sum()} samples; draw at least 2 per class.")
        precision, recall = metrics.precision_recall(real, sample_features[mine], k=3)
        diversity = metrics.mean_pairwise_distance(sample_features[mine]) / metrics.mean_pairwise_distance(real)
        per_class[name] = {"n": int(mine.sum()), "accuracy": float(np.mean(predicted[mine] == k)),
                           "precision": precision, "recall": recall, "diversity_ratio": diversity,
                           "collapsed": diversity < COLLAPSE_DIVERSITY}
    return {"accuracy": float(np.mean(predicted == requested)), "per_class": per_class,
            "collapsed_classes": [name for name, row in per_class.items() if row["collapsed"]]}
