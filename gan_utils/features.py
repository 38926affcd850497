"""Feature extractors for the quality metrics: a classifier trained on the dataset itself (offline),
and InceptionV3 from keras.applications (online). Both map float32 NHWC images in [-1, 1] to vectors.

The classifier is cached on disk under a key made of its training settings, the dataset and the code
version, so a weak classifier trained in the smoke profile is never reused in a cpu run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import pathlib

import keras
import numpy as np

from gan_utils import checkpoints, registry, settings
from gan_utils.data import ImageDataset, check_images, heldout_groups

# The cpu and gpu profiles' classifiers of the 64x64 datasets (emoji, cjk), trained by
# benchmarks/ship_classifiers.py: they take minutes to train on 2 cores, and every reader (and every Colab
# runtime) would otherwise train the same one again. Each is <dataset>-<key>.npz with a .json record beside it.
SHIPPED_DIR = pathlib.Path(__file__).with_name("classifiers")


class FeatureExtractorUnavailableError(ConnectionError):
    """The extractor's weights cannot be had here (no network); the classifier extractor works offline."""


@dataclasses.dataclass(frozen=True)
class ClassifierSettings:
    """How the feature classifier is trained; all of it goes into the cache key."""

    epochs: int
    width: int = 32
    feature_dim: int = 64
    batch_size: int = 32
    learning_rate: float = 1e-3
    held_out_fraction: float = 0.2
    seed: int = 0


def split_indices(count: int, held_out_fraction: float, seed: int, groups=None) -> tuple[np.ndarray, np.ndarray]:
    """(train, held_out) sorted index arrays: a permutation fixed by `seed`, the last fraction held out; with
    `groups` (one per image: an emoji's design), a seeded fraction of the groups, each held out whole."""
    if not 0 < held_out_fraction < 1:
        raise ValueError(f"held_out_fraction must be in (0, 1); got {held_out_fraction!r}.")
    if groups is not None:
        if len(groups) != count:
            raise ValueError(f"groups must hold one group per image ({count}); got {len(groups)}.")
        held = heldout_groups(groups, fraction=held_out_fraction, seed=seed)
        return np.flatnonzero(~held), np.flatnonzero(held)
    order = np.random.default_rng(seed).permutation(count)
    cut = count - max(1, int(round(held_out_fraction * count)))
    return np.sort(order[:cut]), np.sort(order[cut:])


def evaluation_split(count: int, held_out_fraction: float, seed: int,
                     groups=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(classifier, reference, floor): three disjoint index arrays: what the feature classifier trains on, the real
    images scores compare against, and the real images the real-vs-real floor scores. The first two are sorted;
    the floor comes in a seeded random order, so its first N images are a random N even where a dataset is stored
    in class order (cjk, face by face), and a floor at N below its size does not score one class.

    Without groups: the generator trains on split_indices' train part, the classifier on a random half of it, the
    reference is the other half and the floor the held-out fraction; neither side of a comparison was the
    classifier's training data. With `groups` (an emoji's design) a comparison must be between images of the
    same designs, or a new design's distance to the others inflates the floor: the classifier trains on the
    held-out designs instead, and the generator's training images are split at random, image by image, into the
    reference and the floor, so the floor is what a generator that draws its training distribution perfectly
    would score, and the classifier has seen none of the designs compared."""
    train, held_out = split_indices(count, held_out_fraction, seed, groups)
    order = np.random.default_rng(seed + 1).permutation(len(train))
    half = len(train) // 2
    first, second = np.sort(train[order[:half]]), np.sort(train[order[half:]])
    shuffle = np.random.default_rng(seed + 2).permutation
    if groups is not None:
        return held_out, first, second[shuffle(len(second))]
    return first, second, held_out[shuffle(len(held_out))]


@dataclasses.dataclass
class FeatureExtractor:
    """Maps images to feature vectors; `classifier` (if any) maps them to class probabilities."""

    name: str
    features_model: keras.Model
    classifier: keras.Model | None = None
    accuracy: float | None = None  # the classifier's accuracy on the images it did not train on
    heads: keras.Model | None = None  # every output of the classifier, by name ("classes", "design", ...)

    def features(self, images, batch_size: int = 256) -> np.ndarray:
        """float64 (N, D) feature vectors of float32 NHWC images in [-1, 1]."""
        check_images(images)
        return np.asarray(self.features_model.predict(images, batch_size=batch_size, verbose=0), np.float64)

    def probabilities(self, images, batch_size: int = 256) -> np.ndarray:
        """float32 (N, classes) class probabilities; only for classifier extractors."""
        if self.classifier is None:
            raise ValueError(f"{self.name} is not a classifier; use the dataset classifier for class checks.")
        check_images(images)
        return np.asarray(self.classifier.predict(images, batch_size=batch_size, verbose=0))

    def head_probabilities(self, images, head: str, batch_size: int = 256) -> np.ndarray:
        """float32 (N, values) probabilities of one of the classifier's heads: "classes" (the labels) or a factor
        it also learnt (CLASSIFIER_HEADS: an emoji's "design" and "vendor")."""
        names = sorted(self.heads.output) if self.heads is not None else []
        if head not in names:
            raise ValueError(f"{self.name} has no head {head!r}; its heads are {', '.join(names) or 'none'}.")
        check_images(images)
        return np.asarray(self.heads.predict(images, batch_size=batch_size, verbose=0)[head])


def _code_version() -> str:
    """gan_utils' version plus a hash of the code that splits the data and builds and trains the classifier: a
    change to any of it retrains the classifiers (and outdates the shipped ones); a change elsewhere does not."""
    from gan_utils import __version__

    training_code = (ClassifierSettings, split_indices, evaluation_split, heldout_groups, classifier_targets,
                     head_sizes, _build_classifier, _train_classifier, held_out_accuracy)
    source = "".join(inspect.getsource(code) for code in training_code) + json.dumps(CLASSIFIER_HEADS)
    return f"{__version__}-{hashlib.sha256(source.encode()).hexdigest()[:12]}"


def classifier_key(dataset: ImageDataset, classifier_settings: ClassifierSettings) -> str:
    """The cache key: dataset, its size and shape, the training settings, and the code version."""
    description = {"dataset": dataset.name, "images": list(dataset.images.shape),
                   "settings": dataclasses.asdict(classifier_settings), "code": _code_version()}
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()[:16]


CLASSIFIER_HEADS = {"emoji": ("design", "vendor"), "cjk": ("character",)}  # factors learnt beside the labels
# Emoji's classifier trains on the 398 images of the held-out designs. With the cpu profile's 5 epochs its
# skin-tone head misreads real emoji enough to put a skin tone's share far off; with more epochs the floor's share
# ratio (benchmarks/time_to_quality.py prints it) stays well inside the 1.5 the generator is held to, so the
# attribute coverage of samples measures the generator, not the classifier.
EPOCH_SCALE = {"emoji": 12}


def classifier_targets(dataset: ImageDataset) -> dict[str, np.ndarray]:
    """What the feature classifier learns to predict: the labels ("classes") and, for the datasets in
    CLASSIFIER_HEADS, more factors (an emoji's design and vendor), so its features tell those apart too."""
    return {"classes": dataset.labels, **{f: dataset.factors[f] for f in CLASSIFIER_HEADS.get(dataset.name, ())}}


def head_sizes(dataset: ImageDataset) -> dict[str, int]:
    """The classifier's heads in the order it builds them, each with its number of classes."""
    return {name: len(dataset.class_names) if name == "classes" else int(values.max()) + 1
            for name, values in classifier_targets(dataset).items()}


def _build_classifier(resolution: int, channels: int, sizes: dict[str, int], s: ClassifierSettings) -> keras.Model:
    """A small CNN whose penultimate layer ("features") gives the feature vectors, with one softmax per head.

    Flatten rather than global pooling keeps where strokes are, which is most of what tells digits apart. Above
    32x32 one more stride-2 convolution per doubling keeps the flattened map 8x8.
    """
    stages = [(s.width, 1), (s.width, 2), (2 * s.width, 1), (2 * s.width, 2)]
    stages += [(2 * s.width, 2)] * (resolution.bit_length() - 6)  # 6 = (32).bit_length()
    inputs = keras.Input((resolution, resolution, channels), name="image")
    x = inputs
    for i, (filters, stride) in enumerate(stages):
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu", name=f"conv{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    features = keras.layers.Dense(s.feature_dim, activation="relu", name="features")(x)
    outputs = {name: keras.layers.Dense(size, activation="softmax", name=name)(features)
               for name, size in sizes.items()}
    return keras.Model(inputs, outputs, name="feature_classifier")


def dataset_classifier(dataset: ImageDataset, classifier_settings: ClassifierSettings, *,
                       verbose: bool = True) -> FeatureExtractor:
    """The dataset's own classifier as a feature extractor: loaded from the cache, else the shipped one trained with
    these settings by this code (SHIPPED_DIR), else trained here and cached."""
    if dataset.labels is None or dataset.class_names is None:
        raise ValueError(f"{dataset.name} has no labels, so no classifier can be trained on it; "
                         "use the inception extractor (online) or a labelled dataset.")
    key = classifier_key(dataset, classifier_settings)
    folder = settings.cache_dir() / f"classifier-{dataset.name}-{key}"
    model_path, meta_path = folder / "model.keras", folder / "meta.json"
    shipped = SHIPPED_DIR / f"{dataset.name}-{key}.json"
    if model_path.exists() and meta_path.exists():
        classifier = keras.saving.load_model(model_path, safe_mode=True)
        accuracy = checkpoints.read_json(meta_path)["held_out_accuracy"]
    elif shipped.exists():
        classifier, accuracy = load_shipped(shipped, dataset, classifier_settings)
        if verbose:
            print(f"loaded the {dataset.name} feature classifier shipped with the book ({shipped.stem}): label "
                  f"accuracy {accuracy:.3f} on the images it never saw", flush=True)
    else:
        classifier, accuracy = _train_classifier(dataset, classifier_settings, verbose)
        checkpoints.save_model(model_path, classifier)
        checkpoints.write_text(meta_path, json.dumps({"dataset": dataset.name, "key": key,
                                                      "held_out_accuracy": accuracy,
                                                      "settings": dataclasses.asdict(classifier_settings),
                                                      "code": _code_version()}, indent=2))
    features_model = keras.Model(classifier.inputs, classifier.get_layer("features").output)
    labels_model = keras.Model(classifier.inputs, classifier.get_layer("classes").output)
    return FeatureExtractor(f"classifier-{dataset.name}-{key[:8]}", features_model, labels_model, accuracy,
                            heads=classifier)


def load_shipped(record_path: pathlib.Path, dataset: ImageDataset, s: ClassifierSettings) -> tuple[keras.Model, float]:
    """A shipped classifier and its held-out accuracy, its weights checked against the record's sha256."""
    record = checkpoints.read_json(record_path)
    weights = record_path.with_suffix(".npz")
    found = registry.sha256(weights) if weights.exists() else "no file"
    if found != record["weights_sha256"]:
        raise ValueError(f"{weights} has sha256 {found}, but {record_path.name} records {record['weights_sha256']}: "
                         "the file is damaged or altered. Restore it (git checkout gan_utils/classifiers) or delete "
                         "both files to train the classifier here.")
    if record["head_sizes"] != head_sizes(dataset):
        raise ValueError(f"{record_path.name} was trained with heads {record['head_sizes']}, but {dataset.name} now "
                         f"has {head_sizes(dataset)}; retrain it: python benchmarks/ship_classifiers.py")
    classifier = _build_classifier(dataset.resolution, dataset.channels, head_sizes(dataset), s)
    with np.load(weights) as stored:
        classifier.set_weights([stored[f"w{i:03d}"] for i in range(len(stored.files))])
    return classifier, record["held_out_accuracy"]


def ship_classifier(dataset: ImageDataset, classifier_settings: ClassifierSettings, folder=SHIPPED_DIR,
                    verbose: bool = True, record: dict | None = None) -> pathlib.Path:
    """Train the dataset's classifier afresh and write it into `folder` as a shipped classifier: its float32
    weights (<dataset>-<key>.npz) and a record (.json) with their sha256, its heads, accuracy and training time,
    and whatever `record` adds (licence, attribution)."""
    import time

    key = classifier_key(dataset, classifier_settings)
    started = time.perf_counter()
    classifier, accuracy = _train_classifier(dataset, classifier_settings, verbose)
    seconds = time.perf_counter() - started
    weights = pathlib.Path(folder) / f"{dataset.name}-{key}.npz"
    with checkpoints.atomic_path(weights) as temporary, open(temporary, "wb") as handle:
        np.savez_compressed(handle, **{f"w{i:03d}": value for i, value in enumerate(classifier.get_weights())})
    record = {**(record or {}), "dataset": dataset.name, "key": key, "held_out_accuracy": accuracy,
              "head_sizes": head_sizes(dataset),
              "settings": dataclasses.asdict(classifier_settings), "code": _code_version(),
              "training_seconds": round(seconds, 1), "machine": settings.machine_info(),
              "weights_sha256": registry.sha256(weights)}
    checkpoints.write_text(weights.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    return weights


def held_out_accuracy(classifier: keras.Model, dataset: ImageDataset, s: ClassifierSettings) -> float:
    """The classifier's label accuracy on the images evaluation_split keeps from it (the reference and the floor)."""
    _, reference_idx, held_idx = evaluation_split(len(dataset), s.held_out_fraction, s.seed, dataset.groups)
    unseen = np.concatenate([reference_idx, held_idx])
    predicted = classifier.predict(dataset.images[unseen], batch_size=256, verbose=0)["classes"].argmax(axis=1)
    return float(np.mean(predicted == dataset.labels[unseen]))


def _train_classifier(dataset: ImageDataset, s: ClassifierSettings, verbose: bool) -> tuple[keras.Model, float]:
    """The classifier, trained on evaluation_split's classifier part, and its label accuracy on everything else."""
    import time

    started = time.perf_counter()
    classifier_idx = evaluation_split(len(dataset), s.held_out_fraction, s.seed, dataset.groups)[0]
    targets, sizes = classifier_targets(dataset), head_sizes(dataset)
    settings.seed_everything(s.seed)
    classifier = _build_classifier(dataset.resolution, dataset.channels, sizes, s)
    classifier.compile(optimizer=keras.optimizers.Adam(s.learning_rate),
                       loss={name: "sparse_categorical_crossentropy" for name in sizes})
    classifier.fit(dataset.images[classifier_idx], {name: values[classifier_idx] for name, values in targets.items()},
                   epochs=s.epochs, batch_size=s.batch_size, shuffle=True, verbose=0)
    accuracy = held_out_accuracy(classifier, dataset, s)
    if verbose:
        learnt = f" (and {', '.join(sizes)[len('classes, '):]})" if len(sizes) > 1 else ""
        print(f"trained the {dataset.name} feature classifier{learnt} on {len(classifier_idx)} images in "
              f"{time.perf_counter() - started:.0f} s: label accuracy {accuracy:.3f} on the {len(dataset) - len(classifier_idx)} it never "
              f"saw ({s.epochs} epochs)", flush=True)
    return classifier, accuracy


def inception_v3(channels: int) -> FeatureExtractor:
    """InceptionV3's 2048-d pooled features of (N, R, R, channels) images, any R (ImageNet weights; needs a
    network the first time)."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels!r}.")
    try:
        base = keras.applications.InceptionV3(include_top=False, weights="imagenet", pooling="avg",
                                              input_shape=(299, 299, 3))
    except Exception as error:  # the weights download: URLError, HTTP errors, "URL fetch failure"
        raise FeatureExtractorUnavailableError(
            f"InceptionV3's ImageNet weights could not be downloaded ({str(error).splitlines()[0][:120]}). "
            "Offline, use the dataset classifier extractor (the book's default), which trains locally."
        ) from None
    inputs = keras.Input((None, None, channels), name="image")
    x = keras.layers.Resizing(299, 299, name="to_299")(inputs)  # [-1, 1] is what InceptionV3 expects
    x = keras.layers.Concatenate(name="to_rgb")([x, x, x]) if channels == 1 else x
    return FeatureExtractor("inception-v3", keras.Model(inputs, base(x)))


def real_features(extractor: FeatureExtractor, dataset: ImageDataset, indices: np.ndarray, part: str) -> np.ndarray:
    """Features of dataset.images[indices], cached per extractor, dataset and part ("train", "held_out")."""
    digest = hashlib.sha256(np.ascontiguousarray(indices).tobytes()).hexdigest()[:12]
    path = settings.cache_dir() / f"features-{extractor.name}-{dataset.name}-{part}-{len(indices)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    values = extractor.features(dataset.images[indices])
    with checkpoints.atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.save(file, values)
    return values
