"""FID, KID, precision/recall and the memorisation check, on feature vectors; sharpness and PSNR on images.

Pure NumPy/SciPy: features arrive as float arrays (N, D), computed elsewhere by a classifier.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, ndimage

#: Diagonal offset added to both covariances when (S1 S2)^(1/2) is not finite, as in Heusel et al.'s code.
SQRTM_EPS = 1e-6
#: Rows of queries per chunk of a distance matrix: 1024 x 10,000 float64 distances take 82 MB.
ROWS_PER_CHUNK = 1024
#: Fewer rows per chunk when the references are many, so one chunk of distances stays under this size.
CHUNK_BYTES = 128 * 2**20


class SmallSampleWarning(UserWarning):
    """A metric was computed from fewer samples than feature dimensions (N < D)."""


# ---------------------------------------------------------------------------------------------
# Input checks


def _as_array(x, name: str) -> np.ndarray:
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as error:  # ragged lists, unconvertible objects
        raise TypeError(f"{name} must be a numeric array; converting it failed ({error}).") from None
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be a numeric array; got dtype {array.dtype}. "
                        "Pass float features, e.g. np.asarray(x, dtype='float32').")
    return array


def _check_finite(array: np.ndarray, name: str) -> None:
    if array.size == 0 or (np.isfinite(array.min()) and np.isfinite(array.max())):  # no copy of a big array
        return
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        raise ValueError(f"{name} contains {bad} NaN or infinite values; "
                         "remove those rows or fix what produced them (often a diverged generator).")


def _features(x, name: str, *, min_samples: int = 1) -> np.ndarray:
    """`x` as a finite float64 array (N, D) with N >= min_samples, or a clear error."""
    array = _as_array(x, name)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, D) of feature vectors; got shape {array.shape}. "
                         "Compute features first, or flatten with x.reshape(len(x), -1).")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no feature columns (shape {array.shape}).")
    if array.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples; got {array.shape[0]}. Pass more samples.")
    _check_finite(array, name)
    return array.astype(np.float64, copy=False)


def _flat_samples(x, name: str) -> np.ndarray:
    """`x` (N, D) or images (N, H, W, C) as a finite float array (N, features), without a copy if possible.

    float32 stays float32 (a training set of images can be large); other dtypes become float64.
    """
    array = _as_array(x, name)
    if array.ndim < 2:
        raise ValueError(f"{name} must hold one sample per row, (N, D) features or (N, H, W, C) images; "
                         f"got shape {array.shape}. Add the batch axis with x[None] for a single sample.")
    if array.shape[0] == 0 or array[0].size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one sample.")
    _check_finite(array, name)
    dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
    return array.reshape(len(array), -1).astype(dtype, copy=False)


def _same_dimension(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{name_a} and {name_b} must have the same feature dimension; got {a.shape[1]} "
                         f"and {b.shape[1]}. Compute both with the same feature extractor (or image size).")


def _positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return int(value)


def _warn_if_small(features: np.ndarray, name: str, metric: str, why: str) -> None:
    """Warn (SmallSampleWarning) when a set has fewer samples N than feature dimensions D."""
    n, d = features.shape
    if n < d:
        warnings.warn(
            f"{metric}: {name} has N={n} samples but D={d} feature dimensions. {why} "
            f"Compare {metric} values only at equal N, and report the real-vs-real floor at N={n} beside them.",
            SmallSampleWarning, stacklevel=3)


_FID_WHY = ("Its covariance estimate is rank-deficient (rank at most N-1 = {r} < D), and FID is biased "
            "upward for small N.")
_KID_WHY = "KID is unbiased, but with so few samples its estimate is noisy and the subsets overlap heavily."
_PR_WHY = ("The k-nearest-neighbour balls are coarse with so few samples in D dimensions, so precision "
           "and recall depend strongly on N.")


# ---------------------------------------------------------------------------------------------
# Fréchet Inception Distance


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features (N, D), both float64; needs N >= 2.

    The covariance is the unbiased sample covariance (divides by N - 1), as in Heusel et al.
    """
    x = _features(features, "features", min_samples=2)
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _sqrtm_product(sigma1: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    # sqrtm warns on a singular product; we handle that case ourselves, so silence the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(sigma1 @ sigma2)


def _imaginary_is_negligible(matrix: np.ndarray) -> bool:
    if not np.iscomplexobj(matrix):
        return True
    tolerance = 1e-3 * max(1.0, float(np.abs(matrix.real).max()))
    return float(np.abs(matrix.imag).max()) <= tolerance


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2): a float64 in [0, inf), 0 iff equal.

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)). The square root is scipy.linalg.sqrtm;
    if it is not finite (a singular product), SQRTM_EPS * I is added to both covariances and it is
    retried, as in Heusel et al.'s reference code (this also happens when the first result has a
    large imaginary part). A negligible imaginary part (max <= 1e-3, relative for entries above 1)
    is dropped, a large one raises ValueError; tiny negative round-off is clamped to 0.
    """
    mu1, mu2 = (np.atleast_1d(_as_array(m, n)).astype(np.float64) for m, n in ((mu1, "mu1"), (mu2, "mu2")))
    sigma1, sigma2 = (np.atleast_2d(_as_array(s, n)).astype(np.float64)
                      for s, n in ((sigma1, "sigma1"), (sigma2, "sigma2")))
    for name, value in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        _check_finite(value, name)
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"mu1 and mu2 must be vectors of the same length D; got shapes {mu1.shape} and "
                         f"{mu2.shape}. Use feature_statistics on features of one extractor.")
    d = mu1.shape[0]
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (d, d):
            raise ValueError(f"{name} must be a ({d}, {d}) covariance matrix to match the means; "
                             f"got shape {sigma.shape}.")
        if not np.allclose(sigma, sigma.T, rtol=1e-5, atol=1e-8 * max(1.0, float(np.abs(sigma).max()))):
            raise ValueError(f"{name} is not symmetric, so it is not a covariance matrix; "
                             "compute it with np.cov(features, rowvar=False).")

    covmean = _sqrtm_product(sigma1, sigma2)
    offset_error = 0.0
    if not (np.isfinite(covmean).all() and _imaginary_is_negligible(covmean)):
        offset = SQRTM_EPS * np.eye(d)
        covmean = _sqrtm_product(sigma1 + offset, sigma2 + offset)
        offset_error = 2.0 * d * SQRTM_EPS  # the offset lowers the result by at most about this much
    if not np.isfinite(covmean).all():
        raise ValueError("The matrix square root of sigma1 @ sigma2 is not finite even after adding "
                         f"{SQRTM_EPS} * I; check that both covariances are positive semi-definite.")
    if not _imaginary_is_negligible(covmean):
        raise ValueError(f"(sigma1 sigma2)^(1/2) has a large imaginary component "
                         f"(max {np.abs(covmean.imag).max():.3g}); the covariances are probably not "
                         "positive semi-definite. Compute them with feature_statistics.")
    covmean = covmean.real

    diff = mu1 - mu2
    distance = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))
    scale = float(diff @ diff + abs(np.trace(sigma1)) + abs(np.trace(sigma2)))
    if distance < 0.0:
        if distance < -(1e-6 * scale + offset_error + 1e-12):
            raise ValueError(f"The Fréchet distance came out clearly negative ({distance:.3g}); the "
                             "covariances are probably not positive semi-definite.")
        distance = 0.0
    return distance


def fid(features_a, features_b) -> float:
    """Fréchet (Inception) Distance between two feature sets (N_a, D), (N_b, D): float64 in [0, inf).

    0 for identical sets. Biased upward for small N (roughly like 1/N), so compare FIDs only at
    equal N; warns with SmallSampleWarning when a set has fewer samples than dimensions.
    """
    a = _features(features_a, "features_a", min_samples=2)
    b = _features(features_b, "features_b", min_samples=2)
    _same_dimension(a, b, "features_a", "features_b")
    for name, x in (("features_a", a), ("features_b", b)):
        _warn_if_small(x, name, "FID", _FID_WHY.format(r=len(x) - 1))
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


# ---------------------------------------------------------------------------------------------
# Kernel Inception Distance


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    base = x @ y.T / x.shape[1] + 1.0
    return base * base * base


def _unbiased_mmd2(a: np.ndarray, b: np.ndarray) -> float:
    m = len(a)
    k_aa, k_bb, k_ab = _polynomial_kernel(a, a), _polynomial_kernel(b, b), _polynomial_kernel(a, b)
    within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    return float(within - 2.0 * k_ab.sum() / (m * m))


def kid(features_a, features_b, *, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018): (mean, std) of the unbiased MMD^2 estimate.

    The kernel is k(x, y) = (x.y / D + 1)^3. Each of `subsets` pairs of subsets holds
    m = min(subset_size, N_a, N_b) rows drawn without replacement (np.random.default_rng(seed)).
    The mean is near 0 (it can be slightly negative) for one distribution and grows as they differ;
    std is the spread over subsets (0 when subsets=1).
    """
    a = _features(features_a, "features_a", min_samples=2)
    b = _features(features_b, "features_b", min_samples=2)
    _same_dimension(a, b, "features_a", "features_b")
    subsets = _positive_int(subsets, "subsets")
    subset_size = _positive_int(subset_size, "subset_size", minimum=2)
    for name, x in (("features_a", a), ("features_b", b)):
        _warn_if_small(x, name, "KID", _KID_WHY)
    m = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    estimates = np.array([
        _unbiased_mmd2(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
        for _ in range(subsets)])
    return float(estimates.mean()), float(estimates.std())


# ---------------------------------------------------------------------------------------------
# Distances, precision and recall


def _distance_chunks(queries: np.ndarray, references: np.ndarray, batch: int):
    """Yield (start, distances) with distances (rows, N_ref) for successive chunks of query rows.

    At most `batch` rows per chunk, fewer if needed to keep a chunk under CHUNK_BYTES.
    """
    rows = min(batch, max(1, CHUNK_BYTES // (8 * len(references))))
    ref_sq = np.einsum("ij,ij->i", references, references)
    for start in range(0, len(queries), rows):
        q = queries[start:start + rows]
        sq = q @ references.T  # built in place: one (rows, N_ref) array per chunk
        sq *= -2.0
        sq += np.einsum("ij,ij->i", q, q)[:, None]
        sq += ref_sq[None, :]
        np.maximum(sq, 0.0, out=sq)  # round-off can make ||q - r||^2 slightly negative
        yield start, np.sqrt(sq, out=sq)


def _knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row of x to its k-th nearest *other* row, float64 (N,)."""
    radii = np.empty(len(x))
    for start, dist in _distance_chunks(x, x, ROWS_PER_CHUNK):
        rows = np.arange(len(dist))
        dist[rows, start + rows] = np.inf  # a point is not its own neighbour
        radii[start:start + len(dist)] = np.partition(dist, k - 1, axis=1)[:, k - 1]
    return radii


def mean_pairwise_distance(features) -> float:
    """The mean Euclidean distance between distinct rows of `features` (N >= 2): how spread out a set is."""
    x = _features(features, "features", min_samples=2)
    total = sum(float(dist.sum()) for _, dist in _distance_chunks(x, x, ROWS_PER_CHUNK))  # the diagonal adds 0
    return total / (len(x) * (len(x) - 1))


def _fraction_inside(queries: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Fraction of query rows within radii[j] of at least one centre j."""
    inside = 0
    for _, dist in _distance_chunks(queries, centres, ROWS_PER_CHUNK):
        inside += int(np.count_nonzero((dist <= radii[None, :]).any(axis=1)))
    return inside / len(queries)


def precision_recall(real_features, fake_features, *, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019): two floats in [0, 1].

    Each set's manifold is the union of balls around its samples, of radius the distance to the
    k-th nearest other sample of the same set. Precision is the fraction of fakes inside the real
    manifold (are fakes realistic?); recall is the fraction of reals inside the fake manifold (is
    the real variety covered?). Exact (not approximate) neighbours, from Euclidean distances computed
    ROWS_PER_CHUNK rows at a time, so N = 10,000 needs about 100 MB rather than 800 MB.
    """
    k = _positive_int(k, "k")
    real = _features(real_features, "real_features")
    fake = _features(fake_features, "fake_features")
    _same_dimension(real, fake, "real_features", "fake_features")
    for name, x in (("real_features", real), ("fake_features", fake)):
        if k >= len(x):
            raise ValueError(f"k={k} must be smaller than the number of samples in {name} ({len(x)}); "
                             "lower k or pass more samples.")
        _warn_if_small(x, name, "Precision/recall", _PR_WHY)
    precision = _fraction_inside(fake, real, _knn_radii(real, k))
    recall = _fraction_inside(real, fake, _knn_radii(fake, k))
    return precision, recall


def nearest_distances(queries, references, *, batch: int = 1024) -> np.ndarray:
    """Euclidean distance from each query to its nearest reference: float64 (N_q,), all >= 0.

    Rows are features (N, D) or images (N, H, W, C), which are flattened to (N, H*W*C); both sets
    must flatten to the same length. The nearest reference is found `batch` query rows at a time
    (fewer if batch x N_ref floats would pass CHUNK_BYTES), in float32 if both inputs are float32;
    its distance is then recomputed directly in float64, so exact copies give exactly 0.
    """
    q = _flat_samples(queries, "queries")
    r = _flat_samples(references, "references")
    _same_dimension(q, r, "queries", "references")
    return _nearest_flat(q, r, _positive_int(batch, "batch"))


def _nearest_flat(q: np.ndarray, r: np.ndarray, batch: int) -> np.ndarray:
    """nearest_distances on rows already checked and flattened."""
    if q.dtype != r.dtype:
        q, r = q.astype(np.float64, copy=False), r.astype(np.float64, copy=False)
    nearest = np.empty(len(q), dtype=np.int64)
    for start, dist in _distance_chunks(q, r, batch):
        nearest[start:start + len(dist)] = dist.argmin(axis=1)
    diff = q.astype(np.float64) - r[nearest].astype(np.float64)
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


# ---------------------------------------------------------------------------------------------
# Memorisation


@dataclass(frozen=True)
class MemorisationReport:
    """Nearest-training-sample distances of generated and held-out real samples, and their summary.

    ratio = median(generated_to_train) / median(held_out_to_train), in [0, inf) (NaN when the
    held-out median is 0, see memorisation_check): well below 1 means
    generated samples sit closer to training samples than fresh real samples do, a sign of
    memorisation; near or above 1 is healthy. copies, in [0, 1], is the fraction of generated samples
    at or below the 1st percentile of held_out_to_train: closer to a training sample than almost
    any genuinely new real sample is.
    """

    generated_to_train: np.ndarray
    held_out_to_train: np.ndarray
    ratio: float
    copies: float


def image_variants(images, *, shift: int = 0, mirror: bool = False):
    """Yield `images` (N, H, W, C) moved by every offset up to `shift` pixels on each axis (edges repeated into
    the gap) and, with `mirror`, the left-right mirror image of each: (2 shift + 1)^2 (x 2) arrays in all, one at a
    time, so the copies never sit in memory together."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"image_variants needs images (N, H, W, C); got shape {images.shape}.")
    shift = _positive_int(shift, "shift", minimum=0)
    if 2 * shift >= min(images.shape[1:3]):
        raise ValueError(f"shift={shift} leaves nothing of a {images.shape[1]}x{images.shape[2]} image; use a few pixels.")
    padded = np.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
    height, width = images.shape[1:3]
    for source in (padded, padded[:, :, ::-1]) if mirror else (padded,):
        for dy in range(2 * shift + 1):
            for dx in range(2 * shift + 1):
                yield source[:, dy:dy + height, dx:dx + width]


def nearest_variant_distances(queries, references, *, shift: int = 0, mirror: bool = False) -> np.ndarray:
    """Distance from each query image to its nearest reference image, shifted by up to `shift` pixels and, with
    `mirror`, mirrored: a flipped or shifted copy of a reference counts as that reference. Both sets are checked
    once, not once per variant."""
    q = _flat_samples(queries, "queries")
    r = _flat_samples(references, "references")
    _same_dimension(q, r, "queries", "references")
    nearest = None
    for variant in image_variants(references, shift=shift, mirror=mirror):
        flat = variant.reshape(len(variant), -1).astype(r.dtype, copy=False)
        distances = _nearest_flat(q, flat, 1024)
        nearest = distances if nearest is None else np.minimum(nearest, distances)
    return nearest


def memorisation_check(generated, training, held_out, *, shift: int = 0, mirror: bool = False) -> MemorisationReport:
    """Compare generated-to-nearest-training with held-out-to-nearest-training distances.

    Takes features (N, D) or images (N, H, W, C, flattened); `held_out` must be real samples the
    generator never trained on. Returns a MemorisationReport: a ratio well below 1 (and copies
    well above 0.01) means generated images sit closer to training images than fresh real images
    do, a sign of memorisation; a ratio near or above 1 is healthy. If half or more of held_out
    duplicates training exactly, the ratio is NaN and a UserWarning says why.

    On images, `shift` and `mirror` compare against the training images moved by up to `shift` pixels and
    mirrored too (image_variants), so a flipped or shifted copy counts as a copy.
    """
    if shift or mirror:
        generated_to_train = nearest_variant_distances(generated, training, shift=shift, mirror=mirror)
        held_out_to_train = nearest_variant_distances(held_out, training, shift=shift, mirror=mirror)
    else:
        generated = _flat_samples(generated, "generated")
        training = _flat_samples(training, "training")
        held_out = _flat_samples(held_out, "held_out")
        _same_dimension(generated, training, "generated", "training")
        _same_dimension(held_out, training, "held_out", "training")
        generated_to_train = nearest_distances(generated, training)
        held_out_to_train = nearest_distances(held_out, training)
    held_median = float(np.median(held_out_to_train))
    if held_median == 0.0:
        warnings.warn("At least half of held_out also appears exactly in training (median nearest distance 0), "
                      "so the ratio is undefined (NaN): a dataset with few distinct images, such as shapes, "
                      "cannot tell memorisation from repetition. Use held-out images training does not contain.",
                      UserWarning, stacklevel=2)
    threshold = float(np.percentile(held_out_to_train, 1))
    return MemorisationReport(
        generated_to_train=generated_to_train,
        held_out_to_train=held_out_to_train,
        ratio=float(np.median(generated_to_train)) / held_median if held_median > 0 else float("nan"),
        copies=float(np.mean(generated_to_train <= threshold)),
    )


# ---------------------------------------------------------------------------------------------
# Sharpness

LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)  # the 5-point discrete Laplacian


def high_frequency_energy(images) -> float:
    """Mean squared response of the 5-point discrete Laplacian, per pixel and channel, over images (N, H, W, C):
    the energy a high-pass filter lets through. Blur lowers it, noise raises it; a flat image has none."""
    images = np.asarray(images, np.float64)
    if images.ndim != 4:
        raise ValueError(f"high_frequency_energy needs images (N, H, W, C); got shape {images.shape}.")
    laplacian = ndimage.correlate(images, LAPLACIAN[None, :, :, None], mode="nearest")  # per image and channel
    return float(np.mean(laplacian ** 2))


def psnr(images, targets) -> np.ndarray:
    """Peak signal-to-noise ratio of each image against its target, in dB, for images in [-1, 1] (peak-to-peak
    range 2): 10 log10(2^2 / mean squared error); inf for an exact copy."""
    images, targets = _as_array(images, "images").astype(np.float64), _as_array(targets, "targets").astype(np.float64)
    if images.shape != targets.shape or images.ndim != 4:
        raise ValueError(f"images and targets must be two (N, H, W, C) arrays of one shape; got {images.shape} "
                         f"and {targets.shape}.")
    mse = np.mean((images - targets) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(4.0 / mse)


def sharpness(generated, real) -> float:
    """High-frequency energy of generated images over that of real images: 1 is right, below 1 is blur, above
    1 is noise or artefacts."""
    real_energy = high_frequency_energy(real)
    if real_energy == 0:
        raise ValueError("The real images are flat (no high-frequency energy), so sharpness is undefined.")
    return high_frequency_energy(generated) / real_energy


# ---------------------------------------------------------------------------------------------
# Attribute coverage


@dataclass
class AttributeCoverage:
    """How often each value of an attribute (an emoji's skin tone) appears among samples, against the data.

    shares: value name -> (share among the samples, share in the data). max_ratio is the largest of
    sample share / data share and its inverse over the values: 1 is a perfect match, 1.5 means some value
    appears half as often again, or a third less often, than in the data; inf when a value never appears.
    """

    shares: dict[str, tuple[float, float]]
    max_ratio: float

    @property
    def absent(self) -> list[str]:
        """The values no sample shows."""
        return [name for name, (sample, _) in self.shares.items() if sample == 0]


def attribute_coverage(predicted, data_values, names) -> AttributeCoverage:
    """Attribute coverage of samples whose attribute (by a classifier) is `predicted` (ints), against the
    attribute's values `data_values` in the real data; `names` lists the values' names, one per index."""
    predicted, data_values = np.asarray(predicted), np.asarray(data_values)
    for label, values in (("predicted", predicted), ("data_values", data_values)):
        if values.ndim != 1 or not len(values) or not np.issubdtype(values.dtype, np.integer) \
                or values.min() < 0 or values.max() >= len(names):
            raise ValueError(f"{label} must be a non-empty 1-D array of integers in [0, {len(names)}) (one "
                             f"attribute value per image, indexing names); got shape {values.shape}.")
    sample_shares = np.bincount(predicted, minlength=len(names)) / len(predicted)
    data_shares = np.bincount(data_values, minlength=len(names)) / len(data_values)
    present = data_shares > 0  # values the data never shows cannot be missed or over-produced
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.maximum(sample_shares / data_shares, data_shares / sample_shares)[present]
    return AttributeCoverage(shares={str(name): (float(s), float(d)) for name, s, d in
                                     zip(names, sample_shares, data_shares)},
                             max_ratio=float(ratios.max()))
