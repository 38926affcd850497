"""Feature extractors: the cached dataset classifier, InceptionV3 offline, and cached real features."""
import dataclasses
import json

import keras
import numpy as np
import pytest

from gan_utils import data, features, settings

WEAK = features.ClassifierSettings(epochs=1, width=8, feature_dim=16)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def shapes():
    return data.make_shapes(300, seed=0, channels=1)


def test_split_is_disjoint_complete_and_fixed_by_the_seed():
    train, held = features.split_indices(100, 0.2, seed=3)
    assert len(held) == 20 and len(train) == 80 and set(train) | set(held) == set(range(100))
    assert not set(train) & set(held)
    np.testing.assert_array_equal(held, features.split_indices(100, 0.2, seed=3)[1])
    assert not np.array_equal(held, features.split_indices(100, 0.2, seed=4)[1])


def test_evaluation_split_halves_the_train_part_and_keeps_the_held_out_part():
    classifier, reference, held = features.evaluation_split(101, 0.2, seed=3)
    train, held_again = features.split_indices(101, 0.2, seed=3)
    np.testing.assert_array_equal(np.sort(held), held_again)
    np.testing.assert_array_equal(np.sort(np.concatenate([classifier, reference])), train)
    assert len(classifier) == 40 and len(reference) == 41 and not set(classifier) & set(reference)
    assert list(classifier) == sorted(classifier) and list(reference) == sorted(reference)


@pytest.mark.parametrize("groups", [None, np.arange(400) // 2])
def test_the_floors_first_images_are_a_random_subset_even_of_a_dataset_stored_in_class_order(groups):
    labels = np.repeat(np.arange(4), 100)  # four faces, one after the other, as cjk stores them
    _, _, floor = features.evaluation_split(400, 0.2, seed=0, groups=groups)
    assert list(floor) != sorted(floor)
    assert len(set(labels[floor[:20]])) == 4  # the first 20 of a sorted floor would all be one face
    np.testing.assert_array_equal(floor, features.evaluation_split(400, 0.2, seed=0, groups=groups)[2])


def test_the_classifier_trains_only_on_its_part_and_is_scored_on_the_rest(cache, shapes, monkeypatch):
    seen = {}
    build = features._build_classifier

    def spying_build(*args):
        model = build(*args)
        fit, predict = model.fit, model.predict
        model.fit = lambda x, y, **kw: seen.setdefault("fit", x) is None or fit(x, y, **kw)
        model.predict = lambda x, **kw: seen.setdefault("scored", x) is None or predict(x, **kw)
        return model

    monkeypatch.setattr(features, "_build_classifier", spying_build)
    features.dataset_classifier(shapes, WEAK, verbose=False)
    classifier, reference, held = features.evaluation_split(len(shapes), WEAK.held_out_fraction, WEAK.seed)
    np.testing.assert_array_equal(seen["fit"], shapes.images[classifier])
    np.testing.assert_array_equal(seen["scored"], shapes.images[np.concatenate([reference, held])])


def test_cache_key_changes_with_training_settings_and_dataset(shapes):
    smoke, cpu = features.ClassifierSettings(epochs=2), features.ClassifierSettings(epochs=15)
    assert features.classifier_key(shapes, smoke) != features.classifier_key(shapes, cpu)
    other = data.make_shapes(301, seed=0, channels=1)
    assert features.classifier_key(shapes, smoke) != features.classifier_key(other, smoke)
    assert features.classifier_key(shapes, smoke) == features.classifier_key(shapes, dataclasses.replace(smoke))


def test_classifier_is_trained_once_then_loaded_from_the_cache(cache, shapes, monkeypatch):
    first = features.dataset_classifier(shapes, WEAK, verbose=False)
    assert 0 <= first.accuracy <= 1 and len(list(cache.glob("classifier-shapes-*/model.keras"))) == 1
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: pytest.fail("retrained a cached classifier"))
    second = features.dataset_classifier(shapes, WEAK, verbose=False)
    assert second.accuracy == first.accuracy
    np.testing.assert_allclose(second.features(shapes.images[:5]), first.features(shapes.images[:5]), atol=1e-5)


def test_a_shipped_classifier_is_loaded_instead_of_trained_and_is_the_one_training_gives(tmp_path, shapes,
                                                                                        monkeypatch):
    shipped = tmp_path / "shipped"
    weights = features.ship_classifier(shapes, WEAK, shipped, verbose=False)
    record = json.loads(weights.with_suffix(".json").read_text())
    assert record["key"] == features.classifier_key(shapes, WEAK) and record["head_sizes"] == {"classes": 3}
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "trained"))
    trained = features.dataset_classifier(shapes, WEAK, verbose=False)  # no shipped classifier here: trains
    monkeypatch.setattr(features, "SHIPPED_DIR", shipped)
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: pytest.fail("trained despite a shipped classifier"))
    loaded = features.dataset_classifier(shapes, WEAK, verbose=False)
    assert loaded.accuracy == trained.accuracy == record["held_out_accuracy"]
    np.testing.assert_array_equal(loaded.features(shapes.images[:8]), trained.features(shapes.images[:8]))
    np.testing.assert_array_equal(loaded.probabilities(shapes.images[:8]), trained.probabilities(shapes.images[:8]))
    assert not list((tmp_path / "empty").glob("classifier-*"))  # nothing trained, nothing cached


def test_a_damaged_shipped_classifier_gets_a_clear_error(tmp_path, shapes, monkeypatch):
    weights = features.ship_classifier(shapes, WEAK, tmp_path / "shipped", verbose=False)
    weights.write_bytes(weights.read_bytes()[:-10])
    monkeypatch.setattr(features, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="damaged or altered.*git checkout gan_utils/classifiers"):
        features.dataset_classifier(shapes, WEAK, verbose=False)


def test_the_key_follows_the_code_that_trains_the_classifier(shapes, monkeypatch):
    before = features.classifier_key(shapes, WEAK)
    monkeypatch.setattr(features, "CLASSIFIER_HEADS", {**features.CLASSIFIER_HEADS, "shapes": ("colour",)})
    assert features.classifier_key(shapes, WEAK) != before  # what the classifier learns
    monkeypatch.undo()

    def another_build(resolution, channels, sizes, s):
        return None

    monkeypatch.setattr(features, "_build_classifier", another_build)  # how it is built
    assert features.classifier_key(shapes, WEAK) != before


def test_classifier_is_deterministic_from_its_seed(tmp_path, shapes, monkeypatch):
    runs = []
    for folder in ("a", "b"):
        monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / folder))
        runs.append(features.dataset_classifier(shapes, WEAK, verbose=False).features(shapes.images[:8]))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_a_properly_trained_classifier_recognises_held_out_digits(cache):
    digits = data.load("digits")
    extractor = features.dataset_classifier(digits, features.ClassifierSettings(epochs=5), verbose=False)
    assert extractor.accuracy > 0.95
    assert extractor.features(digits.images[:10]).shape == (10, 64)
    probabilities = extractor.probabilities(digits.images[:10])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_unlabelled_data_gets_a_clear_error(cache):
    unlabelled = data.ImageDataset("mine", np.zeros((4, 32, 32, 3), np.float32), None, None)
    with pytest.raises(ValueError, match="has no labels.*inception"):
        features.dataset_classifier(unlabelled, WEAK)


def test_inception_offline_gives_a_clear_error(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3]")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(features.FeatureExtractorUnavailableError, match="could not be downloaded.*classifier"):
        features.inception_v3(1)


def test_inception_wraps_grey_images_into_rgb_299(monkeypatch):
    def tiny_base(**kwargs):
        assert kwargs["input_shape"] == (299, 299, 3) and kwargs["pooling"] == "avg"
        inputs = keras.Input(kwargs["input_shape"])
        return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs))

    monkeypatch.setattr(keras.applications, "InceptionV3", tiny_base)
    extractor = features.inception_v3(1)
    grey = np.full((2, 32, 32, 1), 0.5, np.float32)
    np.testing.assert_allclose(extractor.features(grey), 0.5, atol=1e-5)  # resize + 3 copies keep the value


def test_real_features_are_cached_per_extractor_dataset_and_part(cache, shapes, monkeypatch):
    extractor = features.dataset_classifier(shapes, WEAK, verbose=False)
    indices = np.arange(20)
    first = features.real_features(extractor, shapes, indices, "train")
    monkeypatch.setattr(extractor, "features", lambda images: pytest.fail("recomputed cached features"))
    np.testing.assert_array_equal(features.real_features(extractor, shapes, indices, "train"), first)
    assert first.shape == (20, 16) and first.dtype == np.float64


def test_a_grouped_split_trains_the_classifier_on_the_held_out_groups_and_compares_within_the_rest():
    groups = np.repeat(np.arange(50), 4)  # 50 designs, 4 images each (skin tones, vendors)
    classifier, reference, floor = features.evaluation_split(len(groups), 0.2, seed=0, groups=groups)
    train, held = features.split_indices(len(groups), 0.2, seed=0, groups=groups)
    np.testing.assert_array_equal(classifier, held)  # the classifier learns the designs no generator sees
    assert len(set(groups[held])) == 10 and not set(groups[held]) & set(groups[train])
    np.testing.assert_array_equal(np.sort(np.concatenate([reference, floor])), train)  # the training images, halved
    assert abs(len(reference) - len(floor)) <= 1 and not set(reference) & set(floor)
    assert len(set(groups[reference]) & set(groups[floor])) > 30  # image by image: the same designs on both sides
    with pytest.raises(ValueError, match="one group per image"):
        features.split_indices(10, 0.2, seed=0, groups=groups)
