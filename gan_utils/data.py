"""Datasets as float32 NHWC in [-1, 1], each at its native resolution, the 2-D toy mixtures, and tf.data pipelines.

Offline: digits, shapes, toy2d (32x32). Fetched from package registries (gan_utils.emoji, gan_utils.cjk): emoji and
cjk (64x64). Downloaded (checked, cached by Keras): mnist, fashion_mnist, cifar10 (32x32).
"""
from __future__ import annotations

import dataclasses
import gzip
import math
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

SIZE = 32  # part one's resolution
RESOLUTIONS = (32, 64, 128)  # the image sides the library works at
OFFLINE_DATASETS = ("digits", "shapes", "toy2d")
IMAGE_DATASETS = ("digits", "shapes", "mnist", "fashion_mnist", "cifar10", "emoji", "cjk", "folder")
PAIRED_DATASETS = ("emoji_pairs", "cjk_pairs")  # source -> target pairs for translation (gan_utils.pairs)
NATIVE_RESOLUTION = {"emoji": 64, "cjk": 64}  # every other dataset is 32x32 (a folder: as asked)
SHAPES_DEFAULT_N = 5000  # images drawn by load("shapes") when n is not given
FOLDER_EXTENSIONS = (".jpg", ".jpeg", ".png")

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


@dataclasses.dataclass
class ImageDataset:
    """Images as float32 (N, R, R, C) in [-1, 1], with int64 labels (N,) where they exist.

    `factors` holds known factors (a shape's kind and position, an emoji's design), one int array (N,) each.
    `split_by` names the factor whose groups a held-out split must keep whole (an emoji's base design: otherwise a
    held-out image keeps its other skin tones, near-twins, in training); None splits image by image.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...] | None
    factors: dict[str, np.ndarray] | None = None
    ids: np.ndarray | None = None  # each image's name where it has one (an emoji's file stem): what splits record
    split_by: str | None = None

    def __post_init__(self):
        check_images(self.images, name=f"{self.name} images")
        if self.images.shape[1] != self.images.shape[2]:
            raise ValueError(f"{self.name} images must be square, (N, R, R, C); got {self.images.shape}.")
        if self.split_by is not None and self.split_by not in (self.factors or {}):
            raise ValueError(f"{self.name}: split_by={self.split_by!r} must name one of its factors "
                             f"({', '.join(self.factors or {}) or 'it has none'}).")
        for key, values in {"labels": self.labels, "ids": self.ids, **(self.factors or {})}.items():
            if values is not None and np.shape(values) != (len(self.images),):
                raise ValueError(
                    f"{self.name} {key} must have shape ({len(self.images)},), one per image; "
                    f"got {np.shape(values)}."
                )

    @property
    def channels(self) -> int:
        """Number of colour channels: 1 (grey) or 3 (RGB)."""
        return self.images.shape[-1]

    @property
    def resolution(self) -> int:
        """The image side R in pixels."""
        return self.images.shape[1]

    @property
    def groups(self) -> np.ndarray | None:
        """The group of each image that splits keep whole (the split_by factor), or None."""
        return None if self.split_by is None else self.factors[self.split_by]

    def subset(self, indices) -> "ImageDataset":
        """The images at `indices` with their labels, factors and ids."""
        return ImageDataset(
            name=self.name, images=self.images[indices],
            labels=None if self.labels is None else self.labels[indices], class_names=self.class_names,
            factors=None if self.factors is None else {k: v[indices] for k, v in self.factors.items()},
            ids=None if self.ids is None else self.ids[indices], split_by=self.split_by)

    def __len__(self) -> int:
        return len(self.images)


# ---------------------------------------------------------------- validation


def check_images(images, name: str = "images", *, tolerance: float = 0.0) -> None:
    """Raise TypeError/ValueError, with the fix, unless `images` is float32 NHWC (C = 1 or 3) in [-1, 1].

    `tolerance` allows float error just outside the range (plots clip such values for display).
    """
    if not isinstance(images, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array; got {type(images).__name__}. "
            "Convert with np.asarray(x) (or tensor.numpy())."
        )
    if images.dtype != np.float32:
        fix = "Use images.astype('float32')" + (" / 127.5 - 1." if images.dtype == np.uint8 else ".")
        raise TypeError(f"{name} must be float32 in [-1, 1]; got dtype {images.dtype}. {fix}")
    if images.ndim != 4:
        hint = "Add a channel axis for grayscale: images[..., None]."
        if images.ndim == 3 and images.shape[-1] in (1, 3):
            hint = "For a single image add a batch axis: images[None]; for a grayscale batch: images[..., None]."
        raise ValueError(f"{name} must be 4-D NHWC, shaped (N, H, W, C) with C = 1 or 3; got shape {images.shape}. {hint}")
    if images.shape[-1] not in (1, 3):
        hint = "Drop the alpha channel: images[..., :3]." if images.shape[-1] == 4 else ""
        if images.shape[-1] != 4 and images.shape[1] in (1, 3):
            hint = "It looks channels-first: use images.transpose(0, 2, 3, 1)."
        raise ValueError(f"{name} must have 1 or 3 channels in the last axis (NHWC); got shape {images.shape}. {hint}")
    if images.size == 0:
        raise ValueError(f"{name} is empty (shape {images.shape}); it needs at least one image.")
    finite = np.isfinite(images)
    if not finite.all():
        raise ValueError(
            f"{name} contains {int((~finite).sum())} NaN or infinite values; a generator that outputs them "
            "has usually diverged. Check the losses, or lower the learning rate."
        )
    low, high = float(images.min()), float(images.max())
    if low < -1 - tolerance or high > 1 + tolerance:
        fix = "Divide by 127.5 and subtract 1." if low >= 0 and high <= 255 else (
            "Rescale them, or end the generator with a tanh activation.")
        raise ValueError(f"{name} must be in [-1, 1]; got min {low:.4g} and max {high:.1f}. {fix}")


def heldout_groups(groups, *, fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """A boolean mask over the images: True for every image of a seeded, deterministic `fraction` of the groups
    (an emoji's base design, a character), so that no held-out image keeps a near-twin in training."""
    groups = np.asarray(groups)
    if groups.ndim != 1 or not len(groups):
        raise ValueError(f"groups must hold one group per image, a non-empty 1-D array; got shape {groups.shape}.")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1 (0.2 holds out a fifth); got {fraction!r}.")
    names = np.unique(groups)
    count = max(1, round(fraction * len(names)))
    chosen = np.random.default_rng(seed).permutation(len(names))[:count]
    return np.isin(groups, names[chosen])


def _check_count(n, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer; got {n!r}.")
    return int(n)


def uint8_to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 in [-1, 1], without a float64 temporary."""
    out = pixels.astype(np.float32)
    out /= 127.5
    out -= 1.0
    return out


# ---------------------------------------------------------------- dispatcher


def load(name: str, *, n: int | None = None, seed: int = 0, path=None, cache_dir=None,
         resolution: int | None = None) -> ImageDataset:
    """The image dataset `name` as float32 (N, R, R, C) in [-1, 1], R its native resolution (NATIVE_RESOLUTION).

    `n` takes a random subset of that size, fixed by `seed` (for "shapes" it is the number drawn,
    default SHAPES_DEFAULT_N). `path` is the directory for "folder" and only for it; `resolution` (default 32) is
    the side its images are resized to, and only for it. `cache_dir` is where Keras downloads are kept (default
    ~/.keras); the other datasets ignore it (emoji and cjk use settings.cache_dir()).
    """
    if name not in IMAGE_DATASETS:
        hint = " toy2d holds 2-D points, not images: use make_toy2d()." if name == "toy2d" else ""
        raise ValueError(f"{name!r} is not an image dataset; use one of {', '.join(IMAGE_DATASETS)}.{hint}")
    if name == "folder" and path is None:
        raise ValueError('load("folder") needs path=, the directory that holds your images.')
    if name != "folder" and path is not None:
        raise ValueError(f'path= is only for load("folder"); {name!r} does not take it.')
    if name != "folder" and resolution is not None:
        raise ValueError(f'resolution= is only for load("folder"); {name!r} comes at its native '
                         f'{NATIVE_RESOLUTION.get(name, SIZE)}x{NATIVE_RESOLUTION.get(name, SIZE)}.')
    if n is not None:
        n = _check_count(n)
    if name == "shapes":
        return make_shapes(SHAPES_DEFAULT_N if n is None else n, seed=seed)

    if name == "digits":
        dataset = load_digits()
    elif name == "folder":
        dataset = load_folder(path, resolution=SIZE if resolution is None else resolution)
    elif name in ("emoji", "cjk"):
        import importlib

        dataset = importlib.import_module(f"gan_utils.{name}").load()
    else:
        dataset = {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist, "cifar10": load_cifar10}[name](
            cache_dir=cache_dir
        )
    if n is None:
        return dataset
    if n > len(dataset):
        raise ValueError(
            f"n={n} is more than the {len(dataset)} images in {name!r}; use n <= {len(dataset)} or n=None."
        )
    return dataset.subset(np.sort(np.random.default_rng(seed).choice(len(dataset), size=n, replace=False)))


# ---------------------------------------------------------------- offline: digits


def load_digits() -> ImageDataset:
    """scikit-learn's 1,797 bundled 8x8 digits, bilinearly resized to float32 (1797, 32, 32, 1) in [-1, 1]."""
    from scipy import ndimage
    from sklearn import datasets

    digits = datasets.load_digits()
    pixels = digits.images / 8.0 - 1.0  # 0..16 -> [-1, 1]
    factor = SIZE // pixels.shape[1]
    resized = ndimage.zoom(pixels, (1, factor, factor), order=1, mode="nearest", grid_mode=True)
    images = np.clip(resized, -1.0, 1.0).astype(np.float32)[..., None]
    return ImageDataset("digits", images, digits.target.astype(np.int64), MNIST_CLASSES)


# ---------------------------------------------------------------- offline: shapes

SHAPE_KINDS = ("square", "circle", "triangle")
SHAPE_SIZES = (3, 5, 7)  # half-width in pixels: shapes 6, 10 and 14 pixels across
SHAPE_POSITIONS = (8, 16, 24)  # centre coordinates on a 3x3 grid, in pixels
POSITION_JITTER = 1.5  # +- pixels around the grid position, uniform
SIZE_JITTER = 0.5  # +- pixels around the half-width, uniform: the three sizes never overlap
BRIGHTNESS_RANGE = (0.85, 1.0)  # colour scaled towards black by a uniform factor; the grey levels stay apart
_RGB_PALETTE = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1], [1, 1, -1]], np.float32)  # red green blue yellow
_GREY_PALETTE = np.array([[-0.25], [0.2], [0.6], [1.0]], np.float32)
SHAPE_FACTORS: dict[str, int] = {
    "kind": len(SHAPE_KINDS),
    "colour": len(_RGB_PALETTE),
    "size": len(SHAPE_SIZES),
    "x": len(SHAPE_POSITIONS),
    "y": len(SHAPE_POSITIONS),
}


def make_shapes(n: int, seed: int = 0, channels: int = 3) -> ImageDataset:
    """`n` single shapes on black, float32 (n, 32, 32, channels) in [-1, 1], with their factors.

    Each factor is drawn uniformly and independently: kind (square, circle, triangle), colour
    (red, green, blue, yellow; four grey levels when channels=1), size and x, y on a 3x3 grid.
    `factors` holds their int64 indices, SHAPE_FACTORS how many values each has; labels are the kind.
    Within its factor values every shape is jittered continuously (centre by up to POSITION_JITTER
    pixels, half-width by up to SIZE_JITTER, brightness within BRIGHTNESS_RANGE) and drawn with
    anti-aliased edges, so no two images repeat: held-out accuracy, memorisation and coverage then
    measure generalisation, not recall of the 324 factor combinations.
    """
    n = _check_count(n)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB); got {channels!r}.")
    rng = np.random.default_rng(seed)
    factors = {key: rng.integers(0, count, size=n, dtype=np.int64) for key, count in SHAPE_FACTORS.items()}
    jitter = lambda size: rng.uniform(-size, size, n)[:, None, None]  # noqa: E731 (one draw per image)
    x = np.take(SHAPE_POSITIONS, factors["x"])[:, None, None] + jitter(POSITION_JITTER)
    y = np.take(SHAPE_POSITIONS, factors["y"])[:, None, None] + jitter(POSITION_JITTER)
    r = np.take(SHAPE_SIZES, factors["size"])[:, None, None] + jitter(SIZE_JITTER)
    brightness = rng.uniform(*BRIGHTNESS_RANGE, n)[:, None]

    centre = np.arange(SIZE) + 0.5  # pixel centres
    px, py = centre[None, None, :] - x, centre[None, :, None] - y
    outside = np.stack(  # (n, kind, 32, 32): signed distance to each kind's edge, in SHAPE_KINDS order
        [
            np.maximum(np.abs(px), np.abs(py)) - r,  # square
            np.hypot(px, py) - r,  # circle
            np.maximum(py - r, (2 * np.abs(px) - py - r) / np.sqrt(5)),  # triangle: apex up, base 2r wide
        ],
        axis=1,
    )[np.arange(n), factors["kind"]]
    coverage = np.clip(0.5 - outside, 0.0, 1.0)[..., None]  # the fraction of each pixel the shape covers
    palette = _RGB_PALETTE if channels == 3 else _GREY_PALETTE
    colour = brightness * (palette[factors["colour"]] + 1) - 1  # dimmed towards black
    images = (coverage * (colour[:, None, None, :] + 1) - 1).astype(np.float32)
    return ImageDataset("shapes", images, factors["kind"].copy(), SHAPE_KINDS, factors)


# ---------------------------------------------------------------- offline: toy2d


@dataclasses.dataclass
class Toy2D:
    """Points (N, 2) float32 from an equal-weight mixture of isotropic Gaussians at `centres` (K, 2)."""

    points: np.ndarray
    centres: np.ndarray
    std: float
    labels: np.ndarray  # int64 (N,): the component each point came from

    def density(self, xy: np.ndarray) -> np.ndarray:
        """The exact mixture pdf at each row of `xy` (M, 2), float64 (M,)."""
        sq = self._squared_distances(xy)
        var = self.std**2
        return np.exp(-sq / (2 * var)).mean(axis=1) / (2 * np.pi * var)

    def assign_modes(self, points: np.ndarray, max_std: float = 3.0) -> np.ndarray:
        """int64 (M,): index of the nearest centre if it is within max_std * std, else -1."""
        dist = np.sqrt(self._squared_distances(points))
        nearest = dist.argmin(axis=1)
        close = dist[np.arange(len(dist)), nearest] <= max_std * self.std
        return np.where(close, nearest, -1).astype(np.int64)

    def modes_covered(self, points: np.ndarray, min_fraction: float = 0.01, max_std: float = 3.0) -> int:
        """How many centres (0..K) have at least `min_fraction` of all `points` within max_std * std of them."""
        counts = np.bincount(self.assign_modes(points, max_std) + 1, minlength=len(self.centres) + 1)[1:]
        return int((counts >= min_fraction * len(points)).sum())

    def high_quality_fraction(self, points: np.ndarray, max_std: float = 3.0) -> float:
        """Fraction (0..1) of `points` within max_std * std of some centre."""
        return float((self.assign_modes(points, max_std) >= 0).mean())

    def _squared_distances(self, xy) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
            raise ValueError(f"points must have shape (M, 2) with M >= 1; got {xy.shape}.")
        return ((xy[:, None, :] - self.centres[None, :, :].astype(np.float64)) ** 2).sum(axis=-1)


def make_toy2d(
    kind: str = "ring",
    n: int = 10_000,
    seed: int = 0,
    modes: int | None = None,
    radius: float = 2.0,
    std: float = 0.05,
) -> Toy2D:
    """`n` points, float32 (n, 2), from a 2-D Gaussian mixture with equal weights.

    "ring": `modes` (default 8) centres equally spaced on a circle of `radius`, the classic
    mode-collapse benchmark of Metz et al. (2017). "grid": `modes` (default 25, a perfect square)
    centres on a square grid spanning [-radius, radius]. The default std 0.05 is wider than the
    paper's 0.02 so the modes are visible in a scatter plot; they are still far apart.
    """
    if kind not in ("ring", "grid"):
        raise ValueError(f"kind must be 'ring' or 'grid'; got {kind!r}.")
    n = _check_count(n)
    modes = _check_count({"ring": 8, "grid": 25}[kind] if modes is None else modes, "modes")
    if not (radius > 0 and std > 0):
        raise ValueError(f"radius and std must be positive; got radius={radius!r}, std={std!r}.")
    if kind == "ring":
        angles = 2 * np.pi * np.arange(modes) / modes
        centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    else:
        side = math.isqrt(modes)
        if side < 2 or side * side != modes:
            raise ValueError(f"grid needs a perfect square number of modes >= 4 (e.g. 9, 16, 25); got {modes}.")
        ticks = np.linspace(-radius, radius, side)
        centres = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, modes, size=n, dtype=np.int64)
    points = centres[labels] + std * rng.standard_normal((n, 2))
    return Toy2D(points.astype(np.float32), centres.astype(np.float32), float(std), labels)


# ---------------------------------------------------------------- downloads


class DatasetUnavailableError(ConnectionError):
    """A dataset could not be downloaded; the message names the offline alternatives."""


@dataclasses.dataclass(frozen=True)
class Download:
    """One file fetched by keras.utils.get_file into <cache_dir>/<subdir>/<fname>.

    `sha256` is the hash Keras itself checks; None where Keras publishes none (Fashion-MNIST),
    and then the parser's IDX header and size checks are the integrity check.
    """

    fname: str
    origin: str
    sha256: str | None
    subdir: str = "datasets"


_KERAS_STORAGE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Origins and hashes as in keras.datasets. Only the training splits are downloaded.
DOWNLOADS: dict[str, tuple[Download, ...]] = {
    "mnist": (
        Download(
            "mnist.npz",
            _KERAS_STORAGE + "mnist.npz",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        ),
    ),
    "fashion_mnist": tuple(
        Download(fname, _KERAS_STORAGE + fname, None, subdir=os.path.join("datasets", "fashion-mnist"))
        for fname in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
    ),
    "cifar10": (
        Download(
            "cifar-10-python.tar.gz",
            "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        ),
    ),
}


def _fetch(name: str, cache_dir) -> list[Path]:
    """Local paths of the files of dataset `name`, downloaded and hash-checked if not cached."""
    from keras.utils import get_file

    paths = []
    for spec in DOWNLOADS[name]:
        try:
            paths.append(
                Path(
                    get_file(
                        fname=spec.fname,
                        origin=spec.origin,
                        file_hash=spec.sha256,
                        cache_subdir=spec.subdir,
                        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
                    )
                )
            )
        except Exception as err:  # get_file wraps network failures in a bare Exception
            reason = (str(err).splitlines() or [type(err).__name__])[0]
            home = os.fspath(cache_dir) if cache_dir is not None else os.environ.get("KERAS_HOME", "~/.keras")
            files = " and ".join(s.fname for s in DOWNLOADS[name])
            raise DatasetUnavailableError(
                f"Could not download {name!r} (no network? {reason}). "
                f"Use an offline dataset instead: {', '.join(OFFLINE_DATASETS[:-1])} or {OFFLINE_DATASETS[-1]} "
                f"(e.g. GAN_BOOK_PROFILE=cpu uses digits), or place {files} in {os.path.join(home, spec.subdir)}."
            ) from None
    return paths


def _pad_to_32(pixels: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 32, 32, 1) in [-1, 1], padded with the background value -1."""
    margin = (SIZE - pixels.shape[1]) // 2
    images = np.pad(uint8_to_unit(pixels), ((0, 0), (margin, margin), (margin, margin)), constant_values=-1.0)
    return images[..., None]


def load_mnist(cache_dir=None) -> ImageDataset:
    """MNIST's 60,000 training digits, padded to float32 (60000, 32, 32, 1) in [-1, 1]."""
    (path,) = _fetch("mnist", cache_dir)
    with np.load(path, allow_pickle=False) as npz:
        pixels, labels = npz["x_train"], npz["y_train"]
    return ImageDataset("mnist", _pad_to_32(pixels), labels.astype(np.int64), MNIST_CLASSES)


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """The uint8 array in a gzipped IDX file, after checking its magic number and size."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * ndim
    magic_ok = len(raw) >= header and raw[:4] == bytes([0, 0, 0x08, ndim])  # 0x08: unsigned bytes
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4)) if magic_ok else ()
    if not magic_ok or len(raw) - header != math.prod(shape):
        raise ValueError(f"{path} is not a valid {ndim}-D IDX file; delete it so that it is downloaded again.")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def load_fashion_mnist(cache_dir=None) -> ImageDataset:
    """Fashion-MNIST's 60,000 training images, padded to float32 (60000, 32, 32, 1) in [-1, 1]."""
    images_path, labels_path = _fetch("fashion_mnist", cache_dir)
    pixels, labels = _read_idx(images_path, ndim=3), _read_idx(labels_path, ndim=1)
    if pixels.shape[1:] != (28, 28) or len(pixels) != len(labels):
        raise ValueError(
            f"{images_path} holds {pixels.shape} images for {len(labels)} labels; "
            "delete both files so that they are downloaded again."
        )
    return ImageDataset("fashion_mnist", _pad_to_32(pixels), labels.astype(np.int64), FASHION_MNIST_CLASSES)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays only, so a tampered file cannot run code."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def load_cifar10(cache_dir=None) -> ImageDataset:
    """CIFAR-10's 50,000 training images (data_batch_1..5), float32 (50000, 32, 32, 3) in [-1, 1]."""
    (path,) = _fetch("cifar10", cache_dir)
    pixels, labels = [], []
    with tarfile.open(path, "r:gz") as tar:
        for i in range(1, 6):
            member = tar.extractfile(f"cifar-10-batches-py/data_batch_{i}")
            batch = _ArrayUnpickler(member, encoding="bytes").load()
            pixels.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, SIZE, SIZE))  # rows are CHW
            labels.append(np.asarray(batch[b"labels"], np.int64))
    images = uint8_to_unit(np.concatenate(pixels).transpose(0, 2, 3, 1))
    return ImageDataset("cifar10", images, np.concatenate(labels), CIFAR10_CLASSES)


# ---------------------------------------------------------------- the reader's own images


def load_folder(path, channels: int = 3, resolution: int = SIZE) -> ImageDataset:
    """Every .jpg/.jpeg/.png directly in `path`, sorted by name, as float32 (N, R, R, channels) in [-1, 1],
    R = `resolution` (32, 64 or 128).

    Subfolders are not searched. Each image is centre-cropped to a square and resized so its shorter
    side becomes R (Lanczos), after applying its EXIF rotation. No labels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB); got {channels!r}.")
    if isinstance(resolution, bool) or resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(map(str, RESOLUTIONS))}; got {resolution!r}.")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a directory; pass the folder that holds your images.")
    entries = sorted(folder.iterdir())
    files = [p for p in entries if p.is_file() and p.suffix.lower() in FOLDER_EXTENSIONS]
    if not files:
        others = [p.name for p in entries if p.is_file() and not p.name.startswith(".")]
        subfolders = [p.name for p in entries if p.is_dir()]
        if others:
            found = (f"it holds only other files ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); "
                     "convert your images to one of those formats and put them directly in it")
        elif subfolders:
            found = (f"subfolders ({', '.join(subfolders[:3])}{', ...' if len(subfolders) > 3 else ''}) are not "
                     "searched, so put the image files directly in it")
        else:
            found = "it is empty; put your image files directly in it"
        raise ValueError(f"No images ({', '.join(FOLDER_EXTENSIONS)}) found in {folder}: {found}.")
    pixels = []
    for file in files:
        try:
            with Image.open(file) as image:
                image = ImageOps.exif_transpose(image).convert("RGB" if channels == 3 else "L")
                square = ImageOps.fit(image, (resolution, resolution), method=Image.Resampling.LANCZOS)
        except (UnidentifiedImageError, OSError) as err:
            raise ValueError(f"Could not read {file.name} as an image ({err}); remove or replace it.") from None
        pixels.append(np.asarray(square, np.uint8).reshape(resolution, resolution, channels))
    return ImageDataset("folder", uint8_to_unit(np.stack(pixels)), None, None)


# ---------------------------------------------------------------- tf.data


def make_pipeline(images, labels=None, *, batch_size: int, seed: int, epochs: int = 1, first_epoch: int = 0,
                  shuffle: bool = True):
    """A tf.data.Dataset of full batches for epochs first_epoch..epochs-1: float32 (batch_size, H, W, C)
    in [-1, 1], or (images, labels) pairs.

    Epoch e is shuffled by a permutation fixed by (seed, e) alone, so a run resumed at epoch k sees the
    same batches as an uninterrupted one. The last partial batch of each epoch is dropped, so every batch
    has one shape. The images stay in memory as one tensor (a cache() would only copy them) and batches
    are gathered from it and prefetched.
    """
    import tensorflow as tf

    check_images(images)
    batch_size = _check_count(batch_size, "batch_size")
    epochs = _check_count(epochs, "epochs")
    if isinstance(first_epoch, bool) or not isinstance(first_epoch, (int, np.integer)) or not 0 <= first_epoch < epochs:
        raise ValueError(f"first_epoch must be an integer in [0, epochs={epochs}); got {first_epoch!r}.")
    if batch_size > len(images):
        raise ValueError(
            f"batch_size {batch_size} is larger than the dataset ({len(images)} images); the last partial "
            f"batch is dropped, so there would be no batch at all. Use batch_size <= {len(images)}."
        )
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape[:1] != images.shape[:1]:
            raise ValueError(f"labels must have one entry per image ({len(images)}); got shape {labels.shape}.")
    count = len(images)
    image_store = tf.Variable(images, trainable=False)  # captured by reference, not copied into the graph
    label_store = None if labels is None else tf.Variable(labels, trainable=False)

    def epoch_indices(epoch):
        indices = tf.range(count, dtype=tf.int64)
        if shuffle:
            indices = tf.random.experimental.stateless_shuffle(indices, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(indices).batch(batch_size, drop_remainder=True)

    def gather(batch_indices):
        batch = tf.gather(image_store, batch_indices)
        return batch if label_store is None else (batch, tf.gather(label_store, batch_indices))

    batches = tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_indices)
    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
