"""Scoring sample sets end to end: real images score like the floor, copies are flagged, noise fails."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gan_utils import evaluate, settings


@pytest.fixture(scope="module")
def ref():
    return evaluate.reference("digits", settings.PROFILES["cpu"], verbose=False)


def test_reference_splits_digits_and_caches_features(ref):
    assert ref.max_n == len(ref.held_idx) == 359 and len(ref.train_idx) == 1797 - 359
    assert len(ref.classifier_idx) == 719 and len(ref.reference_idx) == 719
    assert ref.reference_features.shape == (719, 64) and ref.extractor.accuracy > 0.95
    parts = [set(ref.classifier_idx), set(ref.reference_idx), set(ref.held_idx)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    np.testing.assert_array_equal(ref.reference_features, ref.extractor.features(ref.dataset.images[ref.reference_idx]))


def test_held_out_real_images_score_exactly_as_the_floor(ref):
    held_out = ref.dataset.images[ref.held_idx]
    result = evaluate.evaluate(held_out, ref)
    assert result["n"] == 359 and result["extractor"].startswith("classifier-digits-")
    generated, floor = dict(result["generated"]), dict(result["real_floor"])
    assert generated.pop("attribute_coverage") == floor.pop("attribute_coverage")
    assert generated == pytest.approx(floor)
    assert 0.8 < result["real_floor"]["memorisation_ratio"] <= 1.0 + 1e-9
    assert 0.8 < floor["sharpness"] < 1.25  # held-out digits are about as sharp as the reference digits
    coverage = result["real_floor"]["attribute_coverage"]
    assert coverage["absent"] == [] and 1 <= coverage["max_ratio"] < 1.5  # digit classes, by the classifier
    assert coverage["verdict"] != "outside"  # real images drawn like the reference: no share is clearly off
    # fresh real images are their own floor: exactly the half (180 of 359) within their median distance
    assert result["real_floor"]["copies_within_typical"] == 180
    assert result["classes"]["recognisable"] and len(result["classes"]["classes_present"]) == 10


def test_a_generator_that_returns_training_images_is_flagged(ref):
    copies = ref.dataset.images[ref.train_idx[:300]]
    result = evaluate.evaluate(copies, ref)
    assert result["generated"]["memorisation_ratio"] == pytest.approx(0.0, abs=1e-9)
    assert result["generated"]["copies"] == 1.0 and result["generated"]["copies_within_typical"] == 300
    assert result["real_floor"]["copies"] < 0.05


def test_attribute_coverage_calibrates_against_the_classifiers_reading_of_real_images(ref):
    images = ref.dataset.images[ref.held_idx]
    coverage = evaluate.attribute_coverage(ref, images)
    predicted = ref.extractor.probabilities(images).argmax(axis=1)
    real = ref.extractor.probabilities(ref.dataset.images[ref.reference_idx]).argmax(axis=1)
    data = ref.dataset.labels[ref.reference_idx]
    for k, name in enumerate(ref.dataset.class_names):
        row = coverage["shares"][name]
        expected = (np.mean(predicted == k), np.mean(data == k), np.mean(real == k))
        assert (row["samples"], row["data"], row["real"]) == pytest.approx(expected)
        assert row["ratio"] == pytest.approx(expected[0] / expected[1])
        assert row["calibrated_ratio"] == pytest.approx(expected[0] / expected[2])
        assert row["interval"][0] < row["calibrated_ratio"] < row["interval"][1]
    assert coverage["factor"] == 1.25 and json.loads(json.dumps(coverage)) == coverage
    zeros = images[ref.dataset.labels[ref.held_idx] == 0]
    skewed = evaluate.attribute_coverage(ref, np.concatenate([images, zeros, zeros]))  # three times the zeros
    assert skewed["shares"]["0"]["verdict"] == "outside" and skewed["verdict"] == "outside"
    assert skewed["shares"]["0"]["calibrated_ratio"] > 2


def test_noise_scores_far_worse_than_the_floor_and_is_not_recognisable(ref):
    noise = np.random.default_rng(0).uniform(-1, 1, (359, 32, 32, 1)).astype("float32")
    result = evaluate.evaluate(noise, ref)
    assert result["generated"]["fid"] > 10 * result["real_floor"]["fid"]
    assert result["generated"]["precision"] < 0.1 and result["generated"]["kid"] > result["real_floor"]["kid"]
    assert not result["classes"]["recognisable"]


def test_n_is_stated_and_bounded(ref):
    images = ref.dataset.images[ref.held_idx]
    assert evaluate.evaluate(images, ref, n=100)["n"] == 100
    with pytest.raises(ValueError, match="n must be between 2 and 359"):
        evaluate.evaluate(images, ref, n=500)
    with pytest.raises(ValueError, match="Unknown extractor 'vgg'"):
        evaluate.reference("digits", settings.PROFILES["smoke"], extractor="vgg")


def test_command_line_prints_the_scores_as_json(ref, tmp_path):
    np.savez(tmp_path / "samples.npz", images=ref.dataset.images[ref.held_idx[:50]])
    env = {**os.environ, "GAN_BOOK_PROFILE": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "gan_utils", "evaluate", "samples.npz", "--dataset", "digits"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert scores["n"] == 50 and set(scores["generated"]) >= {"fid", "kid", "precision", "recall",
                                                              "memorisation_ratio"}
    bad = subprocess.run([sys.executable, "-m", "gan_utils", "evaluate", "missing.npz", "--dataset", "digits"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "write one with `python -m gan_utils sample`" in bad.stderr


def test_training_part_leaves_out_exactly_the_held_out_images(ref):
    part = evaluate.training_part(ref.dataset)
    np.testing.assert_array_equal(part.images, ref.dataset.images[ref.train_idx])
    np.testing.assert_array_equal(part.labels, ref.dataset.labels[ref.train_idx])
    assert part.name == "digits" and len(part) + ref.max_n == len(ref.dataset)


def test_conditional_check_of_real_images_with_their_labels_passes(ref):
    images = ref.dataset.images[ref.held_idx]
    labels = ref.dataset.labels[ref.held_idx]
    report = evaluate.conditional_check(ref, images, labels)
    assert report["accuracy"] > 0.95 and report["collapsed_classes"] == []
    assert set(report["per_class"]) == set(ref.dataset.class_names)
    for row in report["per_class"].values():
        assert 0.6 < row["diversity_ratio"] < 1.5 and row["recall"] > 0.3


@pytest.mark.filterwarnings("ignore::gan_utils.metrics.SmallSampleWarning")  # five samples a class, on purpose
def test_conditional_check_flags_collapsed_classes_and_wrong_labels(ref):
    held_labels = ref.dataset.labels[ref.held_idx]
    prototypes = np.stack([ref.dataset.images[ref.held_idx][held_labels == k][0] for k in range(10)])
    requested = np.repeat(np.arange(10), 5)
    collapsed = evaluate.conditional_check(ref, prototypes[requested], requested)  # one image per class
    assert len(collapsed["collapsed_classes"]) == 10
    assert all(row["diversity_ratio"] < 1e-3 for row in collapsed["per_class"].values())
    shifted = evaluate.conditional_check(ref, prototypes[requested], (requested + 1) % 10)
    assert shifted["accuracy"] < 0.2
    with pytest.raises(ValueError, match="one label per image"):
        evaluate.conditional_check(ref, prototypes, requested)
