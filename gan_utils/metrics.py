"""FID, KID, precision/recall and the memorisation check, on feature vectors; sharpness and PSNR on images.

Pure NumPy/SciPy: features arrive as float arrays (N, D), computed elsewhere by a classifier.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy import fft, linalg, ndimage

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
    any genuinely new real sample is. copies_within_typical counts the generated samples at or below the
    median of held_out_to_train, the fresh real images' typical nearest-training distance: a looser rule
    under which half of a generator's samples count when it draws new images as a fresh real image is new.
    """

    generated_to_train: np.ndarray
    held_out_to_train: np.ndarray
    ratio: float
    copies: float
    copies_within_typical: int


def _padded(images: np.ndarray, shift: int, mirror: bool) -> tuple:
    """The images padded by `shift` pixels with their edges repeated (np.pad's "edge", by index, which is
    faster on small arrays) and, with `mirror`, the mirror images of those: the sources whose windows are
    image_variants."""
    rows = np.clip(np.arange(-shift, images.shape[1] + shift), 0, images.shape[1] - 1)
    cols = np.clip(np.arange(-shift, images.shape[2] + shift), 0, images.shape[2] - 1)
    padded = images[:, rows[:, None], cols[None, :]]
    return (padded, padded[:, :, ::-1]) if mirror else (padded,)


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
    height, width = images.shape[1:3]
    for source in _padded(images, shift, mirror):
        for dy in range(2 * shift + 1):
            for dx in range(2 * shift + 1):
                yield source[:, dy:dy + height, dx:dx + width]


#: Side in pixels of the tiles whose means (and, in groups of 2 x 2, deviations) bound distances from below.
BOUND_BLOCK = 4
#: References whose variants' bounds are computed at once: 256 padded 64x64x3 emoji's summed-area tables take 66 MB.
BOUND_CHUNK = 256
#: Per query, the references with the lowest bounds whose most promising shifts' distances set the cut-off.
BOUND_SEEDS = 4


def _summed_area(images: np.ndarray) -> np.ndarray:
    """The summed-area table (H + 1, W + 1, ...) of images (H, W, ...): entry [y, x] sums [:y, :x]. Row by row and
    column by column, which gives cumsum's sums 14 times faster on (72, 72, 3, 256) than cumsum along axis 0."""
    table = np.zeros((images.shape[0] + 1, images.shape[1] + 1) + images.shape[2:])
    table[1:, 1:] = images
    for y in range(2, len(table)):
        table[y] += table[y - 1]
    for x in range(2, table.shape[1]):
        table[:, x] += table[:, x - 1]
    return table


def _window_sums(table: np.ndarray, dy: int, dx: int, size: tuple[int, int], count: tuple[int, int]) -> np.ndarray:
    """Sums over the count[0] x count[1] windows of size[0] x size[1] pixels, side by side from (dy, dx), of the
    images whose summed-area table (H + 1, W + 1, ...) is given: (count[0], count[1], ...)."""
    corners = table[dy:dy + size[0] * count[0] + 1:size[0], dx:dx + size[1] * count[1] + 1:size[1]]
    return corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]


def _bound_columns(images: np.ndarray, shift: int, block: int):
    """Yield, for each shift of `images` (N, H, W, C) in image_variants order, float64 columns (5 K / 4 + 1, N)
    and squared norms (N,), such that for two images a, b with columns u, v: ||a - b||^2 >= ||u - v||^2 =
    ||a||^2 + ||b||^2 - 2 u.v.

    The K tiles are the block x block squares of each channel, in groups of 2 x 2 (whole ones only). A column
    holds each tile's mean times block (its part of the image, as a coordinate), then per group the norm of its
    pixels' deviations from their tiles' means, then the norm of the rest (pixels in no group): the means'
    part of the distance is exact, and the others' bounded by the triangle inequality group by group. Sums come
    from summed-area tables, so a shift costs 5 K / 4 numbers per image rather than H x W x C.
    """
    height, width = images.shape[1:3]
    (source,) = _padded(images.astype(np.float64), shift, False)
    pixels_last = np.ascontiguousarray(source.transpose(1, 2, 3, 0))  # (H', W', C, N): a window's N sums together
    table, squares = _summed_area(pixels_last), _summed_area(pixels_last ** 2)
    tiles, groups = (height // block, width // block), (height // (2 * block), width // (2 * block))
    for dy in range(2 * shift + 1):
        for dx in range(2 * shift + 1):
            norms = _window_sums(squares, dy, dx, (height, width), (1, 1))[0, 0].sum(axis=0)
            means = _window_sums(table, dy, dx, (block, block), tiles) / block
            grouped = (means[:2 * groups[0], :2 * groups[1]] ** 2).reshape(groups[0], 2, groups[1], 2, -1, len(images))
            deviations = np.sqrt(np.maximum(_window_sums(squares, dy, dx, (2 * block, 2 * block), groups)
                                            - grouped.sum(axis=(1, 3)), 0)).reshape(-1, len(images))
            means = means.reshape(-1, len(images))
            rest = np.sqrt(np.maximum(norms - (means ** 2).sum(axis=0) - (deviations ** 2).sum(axis=0), 0))
            yield np.vstack([means, deviations, rest]), norms


def _nearest_of_pairs(q: np.ndarray, references: np.ndarray, shift_norms: np.ndarray, query_idx: np.ndarray,
                      reference_idx: np.ndarray, shift: int) -> np.ndarray:
    """Per query image of q (N, H, W, C, float64), the distance to the nearest shift of the references it is
    paired with (inf where it has none), given the squared norms of the references' shifts (N_ref,
    (2 shift + 1)^2): every shift of a reference at once.

    A shift is a window of the padded reference, so its dot products with a query at every offset are one
    cross-correlation, computed by FFT (the queries' spectra up to CHUNK_BYTES at a time); the winner's
    distance is then recomputed directly.
    """
    height, width = q.shape[1:3]
    padded_size = (height + 2 * shift, width + 2 * shift)
    rows = max(1, CHUNK_BYTES // (16 * q.shape[3] * padded_size[0] * (padded_size[1] // 2 + 1)))
    nearest = np.full(len(q), np.inf)
    for start in range(0, len(q), rows):
        mine = (query_idx >= start) & (query_idx < start + rows)
        chunk = q[start:start + rows]
        spectra = np.conj(fft.rfft2(chunk, s=padded_size, axes=(1, 2))).transpose(0, 3, 1, 2)
        norms = np.einsum("ijkl,ijkl->i", chunk, chunk)
        order = np.argsort(reference_idx[mine], kind="stable")
        queries_of, references_of = query_idx[mine][order] - start, reference_idx[mine][order]
        for group in np.split(np.arange(len(order)), np.flatnonzero(np.diff(references_of)) + 1):
            if not len(group):
                continue
            queries, r = queries_of[group], references_of[group[0]]
            (source,) = _padded(references[r:r + 1].astype(np.float64), shift, False)
            spectrum = fft.rfft2(source[0], axes=(0, 1)).transpose(2, 0, 1)
            products = np.einsum("qcyx,cyx->qyx", spectra[queries], spectrum)
            dots = fft.irfft2(products, s=padded_size)[:, :2 * shift + 1, :2 * shift + 1]
            squared = norms[queries, None] + shift_norms[r][None] - 2 * dots.reshape(len(queries), -1)
            dy, dx = np.divmod(squared.argmin(axis=1), 2 * shift + 1)
            diff = chunk[queries] - np.stack([source[0, y:y + height, x:x + width] for y, x in zip(dy, dx)])
            distances = np.sqrt(np.einsum("ijkl,ijkl->i", diff, diff))
            nearest[start + queries] = np.minimum(nearest[start + queries], distances)
    return nearest


def _seed_distances(q: np.ndarray, references: np.ndarray, query_idx: np.ndarray, reference_idx: np.ndarray,
                    shift_idx: np.ndarray, shift: int) -> np.ndarray:
    """Per query image of q (float64), the distance to the nearest of the given (reference, shift index in
    image_variants order) pairs, inf where it has none: computed directly, ROWS_PER_CHUNK pairs at a time."""
    height, width = q.shape[1:3]
    nearest = np.full(len(q), np.inf)
    for j in np.unique(shift_idx):
        dy, dx = divmod(int(j), 2 * shift + 1)
        rows = np.clip(np.arange(dy - shift, dy - shift + height), 0, height - 1)  # the window of _padded
        cols = np.clip(np.arange(dx - shift, dx - shift + width), 0, width - 1)
        of_shift = np.flatnonzero(shift_idx == j)
        for start in range(0, len(of_shift), ROWS_PER_CHUNK):
            pairs = of_shift[start:start + ROWS_PER_CHUNK]
            diff = q[query_idx[pairs]] - references[reference_idx[pairs]][:, rows[:, None], cols[None, :]]
            np.minimum.at(nearest, query_idx[pairs], np.sqrt(np.einsum("ijkl,ijkl->i", diff, diff)))
    return nearest


def _nearest_shifted(q: np.ndarray, references: np.ndarray, shift: int) -> np.ndarray:
    """nearest_variant_distances without mirror images, for query images q (N, H, W, C) in float64."""
    q_norms = np.einsum("ijkl,ijkl->i", q, q)
    (query_columns, _), = _bound_columns(q, 0, BOUND_BLOCK)
    # A float32 dot product of n terms, its inputs rounded to float32, errs by at most (n + 2) u sum |x_i y_i|
    # (u = eps / 2), and sum |x_i y_i| <= ||a||^2 + ||b||^2 here. `slack` is four times that (n = len(x[0])),
    # which covers the float64 round-off too, so pruning only beyond it never drops the nearest shift.
    slack = 2 * (len(query_columns) + 3) * np.finfo(np.float32).eps
    x = np.column_stack([query_columns.T, np.ones(len(q))]).astype(np.float32)
    scores = np.full((len(q), len(references)), -np.inf, np.float32)  # per pair, the best shift's score
    best_shift = np.zeros(scores.shape, np.int16)  # and which shift that is
    shift_norms = np.empty((len(references), (2 * shift + 1) ** 2))
    for start in range(0, len(references), BOUND_CHUNK):
        best, which = scores[:, start:start + BOUND_CHUNK], best_shift[:, start:start + BOUND_CHUNK]
        for j, (columns, norms) in enumerate(_bound_columns(references[start:start + BOUND_CHUNK], shift, BOUND_BLOCK)):
            # score = u.v - (1 - 2 slack) ||b||^2 / 2, so that bound^2 <= d^2 + 2 slack (||a||^2 + ||b||^2)
            # reads score >= ((1 - 2 slack) ||a||^2 - d^2) / 2
            score = x @ np.vstack([columns, -(1 - 2 * slack) * norms / 2], dtype=np.float32)
            higher = score > best
            np.copyto(best, score, where=higher)
            np.copyto(which, j, where=higher)
            shift_norms[start:start + BOUND_CHUNK, j] = norms
    seeds = np.argpartition(-scores, min(BOUND_SEEDS, len(references)) - 1, axis=1)[:, :BOUND_SEEDS]
    seed_queries = np.repeat(np.arange(len(q)), seeds.shape[1])
    nearest = _seed_distances(q, references, seed_queries, seeds.ravel(), best_shift[seed_queries, seeds.ravel()],
                              shift)  # each seed's most promising shift: an upper bound to prune with
    query_idx, reference_idx = np.nonzero(scores >= (((1 - 2 * slack) * q_norms - nearest ** 2) / 2)[:, None])
    return np.minimum(nearest, _nearest_of_pairs(q, references, shift_norms, query_idx, reference_idx, shift))


def nearest_variant_distances(queries, references, *, shift: int = 0, mirror: bool = False) -> np.ndarray:
    """Distance from each query image to its nearest reference image, shifted by up to `shift` pixels and, with
    `mirror`, mirrored (image_variants): float64 (N_q,), the minimum over all (2 shift + 1)^2 (x 2) variants of
    every reference, so a flipped or shifted copy counts as that reference.

    Exact, as a brute force over every variant is, at a fraction of its cost. A mirrored shift of a reference is
    the mirror image of its opposite shift, so mirrored references are mirrored queries. A lower bound from tile
    sums (_bound_columns, in float32 with a margin that covers its round-off) then rules out the references none
    of whose shifts can beat the nearest among each query's BOUND_SEEDS most promising references, and only the
    others are compared in full, every shift at once by FFT (_nearest_of_pairs).
    """
    q = _flat_samples(queries, "queries")
    r = _flat_samples(references, "references")
    _same_dimension(q, r, "queries", "references")
    references = np.asarray(references)
    next(image_variants(references[:1], shift=shift, mirror=mirror))  # checks the shape and the shift
    q = q.astype(np.float64).reshape((len(q),) + references.shape[1:])
    if not mirror:
        return _nearest_shifted(q, references, shift)
    both = _nearest_shifted(np.concatenate([q, q[:, :, ::-1]]), references, shift)
    return np.minimum(both[:len(q)], both[len(q):])


def memorisation_check(generated, training, held_out, *, shift: int = 0, mirror: bool = False) -> MemorisationReport:
    """Compare generated-to-nearest-training with held-out-to-nearest-training distances.

    Takes features (N, D) or images (N, H, W, C, flattened); `held_out` must be real samples the
    generator never trained on. Returns a MemorisationReport: a ratio well below 1 (and copies
    well above 0.01) means generated images sit closer to training images than fresh real images
    do, a sign of memorisation; a ratio near or above 1 is healthy. If half or more of held_out
    duplicates training exactly, the ratio is NaN and a UserWarning says why.

    On images, `shift` and `mirror` compare against the training images moved by up to `shift` pixels and
    mirrored too (image_variants, exactly, by nearest_variant_distances), so a flipped or shifted copy counts
    as a copy.
    """
    flat_generated, flat_held_out = _flat_samples(generated, "generated"), _flat_samples(held_out, "held_out")
    flat_training = _flat_samples(training, "training")
    _same_dimension(flat_generated, flat_training, "generated", "training")
    _same_dimension(flat_held_out, flat_training, "held_out", "training")
    if shift or mirror:  # one search for both sets: the training images' variants are prepared once
        both = nearest_variant_distances(np.concatenate([np.asarray(generated), np.asarray(held_out)]), training,
                                         shift=shift, mirror=mirror)
        generated_to_train, held_out_to_train = both[:len(flat_generated)], both[len(flat_generated):]
    else:
        generated_to_train = nearest_distances(flat_generated, flat_training)
        held_out_to_train = nearest_distances(flat_held_out, flat_training)
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
        copies_within_typical=int(np.count_nonzero(generated_to_train <= held_median)),
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


#: How far off a value's share may be, as a factor either way, and still count as the data's share.
SHARE_FACTOR = 1.25
#: The confidence with which all of an attribute's share intervals hold together.
SHARE_CONFIDENCE = 0.95


@dataclass
class AttributeCoverage:
    """How often each value of an attribute (an emoji's skin tone) appears among samples, against the data.

    shares: value name -> (share among the samples, share in the data). max_ratio is the largest of
    sample share / data share and its inverse over the values: 1 is a perfect match, 1.5 means some value
    appears half as often again, or a third less often, than in the data; inf when a value never appears.

    calibrated (empty without real predictions): value name -> (real, ratio, low, high), for each value the data
    has: the share the classifier reads on real images of the data, the samples' share over it (the calibrated
    ratio, inf or NaN where the real share is 0) and that ratio's confidence interval; factor: how far off a
    share may be and still match (verdicts).
    """

    shares: dict[str, tuple[float, float]]
    max_ratio: float
    calibrated: dict[str, tuple[float, float, float, float]]
    factor: float

    @property
    def absent(self) -> list[str]:
        """The values no sample shows."""
        return [name for name, (sample, _) in self.shares.items() if sample == 0]

    @property
    def max_calibrated_ratio(self) -> float:
        """The largest calibrated ratio or its inverse over the values (inf when a value never appears; NaN
        without real predictions)."""
        ratios = np.array([ratio for _, ratio, _, _ in self.calibrated.values()])
        with np.errstate(divide="ignore"):
            return float(np.maximum(ratios, 1 / ratios).max()) if len(ratios) else float("nan")

    @property
    def verdicts(self) -> dict[str, str]:
        """Per value: "within" when its interval lies inside [1 / factor, factor], "outside" when the interval
        misses that range, and "unresolved" when it straddles an end: N is too small to tell."""
        def verdict(low: float, high: float) -> str:
            if 1 / self.factor <= low and high <= self.factor:
                return "within"
            return "outside" if high < 1 / self.factor or low > self.factor else "unresolved"
        return {name: verdict(low, high) for name, (_, _, low, high) in self.calibrated.items()}

    @property
    def verdict(self) -> str | None:
        """"outside" if some value is outside, "within" if every value is within, else "unresolved"; None
        without real predictions."""
        found = set(self.verdicts.values())
        if not found:
            return None
        return "outside" if "outside" in found else "within" if found == {"within"} else "unresolved"


def _attribute_values(values, label: str, count: int) -> np.ndarray:
    """`values` as a non-empty 1-D integer array indexing `count` names, or a clear error."""
    values = np.asarray(values)
    if values.ndim != 1 or not len(values) or not np.issubdtype(values.dtype, np.integer) \
            or values.min() < 0 or values.max() >= count:
        raise ValueError(f"{label} must be a non-empty 1-D array of integers in [0, {count}) (one "
                         f"attribute value per image, indexing names); got shape {values.shape}.")
    return values


def attribute_coverage(predicted, data_values, names, *, real_predicted=None, factor: float = SHARE_FACTOR,
                       confidence: float = SHARE_CONFIDENCE) -> AttributeCoverage:
    """Attribute coverage of samples whose attribute (by a classifier) is `predicted` (ints), against the
    attribute's values `data_values` in the real data; `names` lists the values' names, one per index.

    The plain ratio (max_ratio) says how far a share is off the data's, but it mixes the generator's error with
    the classifier's confusions and with chance: held-out real emoji, read by the emoji classifier at N = 798,
    score 1.30, so it cannot tell a generator within 1.25 from one that is not. Given `real_predicted`, the same
    classifier's reading of real images of the data that it did not train on, each value also gets a calibrated
    ratio: the samples' share over the share read on those real images. Samples drawn like the data score 1
    on average, as the confusions cancel (they do pull a generator's ratios towards 1, by about the
    classifier's error rate). Its interval is Katz's for a ratio of two binomial shares (log scale; 0.5 added to
    each count and total, so that an absent value has one), widened by Bonferroni so that the intervals of all
    the data's values hold together with `confidence`: an interval per value, rather than a chi-square test,
    because the question is whether each share is within a factor, not whether the shares differ at all. So
    "within" (verdicts) is decided only where N resolves it, and the classifier's bias no longer counts against
    the generator. With emoji's 798 reference images, at N = 798 real images score a calibrated 1.15 and are
    "unresolved"; a tone is resolved as outside 1.25 once it is off by about 1.7 times (or 0.6), and the
    reference's own noise keeps a tone read at 13% from being shown within 1.25 at any N.
    """
    predicted = _attribute_values(predicted, "predicted", len(names))
    data_values = _attribute_values(data_values, "data_values", len(names))
    if not factor > 1:
        raise ValueError(f"factor must be above 1 (how far a share may be off, either way); got {factor}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, such as 0.95; got {confidence}.")
    counts = np.bincount(predicted, minlength=len(names))
    sample_shares = counts / len(predicted)
    data_shares = np.bincount(data_values, minlength=len(names)) / len(data_values)
    present = data_shares > 0  # values the data never shows cannot be missed or over-produced
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.maximum(sample_shares / data_shares, data_shares / sample_shares)[present]
    calibrated = {}
    if real_predicted is not None:
        real_counts = np.bincount(_attribute_values(real_predicted, "real_predicted", len(names)),
                                  minlength=len(names))
        real_shares = real_counts / real_counts.sum()
        z = NormalDist().inv_cdf(1 - (1 - confidence) / (2 * present.sum()))
        n, real_n = len(predicted) + 0.5, real_counts.sum() + 0.5
        centre = np.log((counts + 0.5) / n) - np.log((real_counts + 0.5) / real_n)
        spread = z * np.sqrt(1 / (counts + 0.5) - 1 / n + 1 / (real_counts + 0.5) - 1 / real_n)
        with np.errstate(divide="ignore", invalid="ignore"):
            calibrated_ratios = sample_shares / real_shares
        calibrated = {str(names[i]): (float(real_shares[i]), float(calibrated_ratios[i]),
                                      float(np.exp(centre[i] - spread[i])), float(np.exp(centre[i] + spread[i])))
                      for i in np.flatnonzero(present)}
    return AttributeCoverage(shares={str(name): (float(s), float(d)) for name, s, d in
                                     zip(names, sample_shares, data_shares)},
                             max_ratio=float(ratios.max()), calibrated=calibrated, factor=float(factor))
