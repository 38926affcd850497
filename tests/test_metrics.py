"""Each metric checked against a closed form, a brute-force computation or a known answer."""
import warnings

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.distance import cdist

from gan_utils import metrics


def gaussian(n, d, seed, shift=0.0):
    return np.random.default_rng(seed).normal(shift, 1.0, size=(n, d))


def random_spd(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def sym_sqrt(s):
    values, vectors = np.linalg.eigh(s)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


# --- FID ---------------------------------------------------------------------------------------

def test_feature_statistics_are_the_float64_mean_and_sample_covariance():
    x = gaussian(50, 3, seed=0).astype("float32")
    mu, sigma = metrics.feature_statistics(x)
    assert mu.dtype == sigma.dtype == np.float64 and mu.shape == (3,) and sigma.shape == (3, 3)
    np.testing.assert_allclose(mu, x.astype("float64").mean(axis=0))
    centred = x.astype("float64") - mu
    np.testing.assert_allclose(sigma, centred.T @ centred / 49)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 1.0])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    np.testing.assert_allclose(metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)), expected, rtol=1e-10)


def test_frechet_distance_matches_an_eigh_computation_for_non_commuting_covariances():
    d = 6
    s1, s2 = random_spd(d, seed=1), random_spd(d, seed=2)
    assert not np.allclose(s1 @ s2, s2 @ s1)
    mu1, mu2 = np.zeros(d), np.full(d, 0.3)
    root1 = sym_sqrt(s1)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2) - 2 * np.trace(sym_sqrt(root1 @ s2 @ root1))
    np.testing.assert_allclose(metrics.frechet_distance(mu1, s1, mu2, s2), expected, rtol=1e-9)


def test_fid_of_large_samples_approaches_the_closed_form_of_their_gaussians():
    rng = np.random.default_rng(3)
    s1, s2 = random_spd(4, seed=4), random_spd(4, seed=5)
    mu1, mu2 = np.zeros(4), np.array([1.0, 0.0, -0.5, 0.0])
    a = rng.multivariate_normal(mu1, s1, size=200_000)
    b = rng.multivariate_normal(mu2, s2, size=200_000)
    expected = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert expected > 1.0
    np.testing.assert_allclose(metrics.fid(a, b), expected, rtol=0.02)


def test_fid_is_zero_for_identical_sets():
    a = gaussian(300, 8, seed=6)
    assert metrics.fid(a, a) == pytest.approx(0.0, abs=1e-9)


def test_fid_is_symmetric():
    a, b = gaussian(300, 8, seed=7), gaussian(400, 8, seed=8, shift=0.5)
    np.testing.assert_allclose(metrics.fid(a, b), metrics.fid(b, a), rtol=1e-8)


def test_fid_with_a_constant_feature_column_is_finite_and_non_negative():
    a, b = gaussian(500, 8, seed=9), gaussian(500, 8, seed=10)
    a[:, 0] = b[:, 0] = 3.0  # both covariances singular
    value = metrics.fid(a, b)
    assert np.isfinite(value) and value >= 0
    assert metrics.fid(a, a) == pytest.approx(0.0, abs=1e-9)


def test_fid_with_fewer_samples_than_dimensions_warns_about_the_floor_and_stays_finite():
    a, b = gaussian(10, 64, seed=11), gaussian(10, 64, seed=12)
    with pytest.warns(metrics.SmallSampleWarning, match=r"rank at most N-1 = 9 < D.*equal N.*floor at N=10"):
        value = metrics.fid(a, b)
    assert np.isfinite(value) and value > 0


def test_fid_bias_falls_roughly_like_one_over_n():
    # Two samples of the SAME Gaussian: the true FID is 0, so everything measured is bias.
    sizes = (50, 200, 1000, 5000)
    mean_fid = [np.mean([metrics.fid(gaussian(n, 16, seed), gaussian(n, 16, seed + 100)) for seed in range(5)])
                for n in sizes]
    assert all(big > small for big, small in zip(mean_fid, mean_fid[1:]))
    assert mean_fid[0] / mean_fid[-1] > 20  # the ideal 1/N law would give 100
    assert 0.5 < mean_fid[-1] * 5000 / (mean_fid[0] * 50) < 2  # N x FID stays about constant


def test_frechet_distance_retries_with_an_offset_when_the_square_root_is_not_finite(monkeypatch):
    calls = []
    real_sqrtm = metrics.linalg.sqrtm

    def failing_once(matrix):
        calls.append(matrix.copy())
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(metrics.linalg, "sqrtm", failing_once)
    s = np.diag([1.0, 0.0])
    assert metrics.frechet_distance(np.zeros(2), s, np.zeros(2), s) == pytest.approx(0.0, abs=1e-5)
    offset = s + metrics.SQRTM_EPS * np.eye(2)
    np.testing.assert_allclose(calls[1], offset @ offset)


def test_frechet_distance_rejects_covariances_that_are_not_covariances():
    with pytest.raises(ValueError, match="large imaginary component"):
        metrics.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2))
    with pytest.raises(ValueError, match="not symmetric"):
        metrics.frechet_distance(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"must be a \(2, 2\) covariance"):
        metrics.frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


# --- KID ---------------------------------------------------------------------------------------

def brute_force_unbiased_mmd2(a, b):
    m, d = len(a), a.shape[1]

    def kernel(x, y):
        return (x @ y / d + 1) ** 3

    aa = sum(kernel(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    bb = sum(kernel(b[i], b[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    ab = sum(kernel(a[i], b[j]) for i in range(m) for j in range(m)) / (m * m)
    return aa + bb - 2 * ab


def test_kid_equals_a_brute_force_unbiased_mmd2_on_a_tiny_set():
    a, b = gaussian(7, 3, seed=13), gaussian(7, 3, seed=14, shift=0.4)
    mean, std = metrics.kid(a, b, subsets=1, subset_size=7)
    np.testing.assert_allclose(mean, brute_force_unbiased_mmd2(a, b), rtol=1e-10)
    assert std == 0.0


def test_kid_is_near_zero_for_one_distribution_and_clearly_positive_for_shifted_ones():
    a, b = gaussian(600, 8, seed=15), gaussian(600, 8, seed=16)
    mean, std = metrics.kid(a, b, subsets=50, subset_size=200)
    assert np.isfinite(std) and std > 0
    assert abs(mean) < 3 * std
    shifted_mean, shifted_std = metrics.kid(a, gaussian(600, 8, seed=17, shift=0.5), subsets=50, subset_size=200)
    assert shifted_mean > 0.05 and shifted_mean > 5 * shifted_std


def test_kid_is_reproducible_for_a_seed_and_uses_the_smaller_set_size():
    a, b = gaussian(40, 4, seed=18), gaussian(30, 4, seed=19, shift=0.3)
    assert metrics.kid(a, b, subsets=5, seed=1) == metrics.kid(a, b, subsets=5, seed=1)
    assert metrics.kid(a, b, subsets=5, seed=1) != metrics.kid(a, b, subsets=5, seed=2)
    # m = min(1000, 40, 30) = 30: every subset of b is all of b, so only a's subsets vary.
    mean, _ = metrics.kid(a[:30], b, subsets=3, subset_size=1000)
    np.testing.assert_allclose(mean, brute_force_unbiased_mmd2(a[:30], b), rtol=1e-10)


# --- Precision and recall ----------------------------------------------------------------------

def brute_force_precision_recall(real, fake, k):
    def radii(x):
        d = cdist(x, x)
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    precision = np.mean((cdist(fake, real) <= radii(real)[None, :]).any(axis=1))
    recall = np.mean((cdist(real, fake) <= radii(fake)[None, :]).any(axis=1))
    return precision, recall


def test_precision_recall_of_identical_sets_is_one_one():
    a = gaussian(200, 5, seed=20)
    assert metrics.precision_recall(a, a) == (1.0, 1.0)


def test_precision_recall_of_far_apart_clusters_is_zero_zero():
    assert metrics.precision_recall(gaussian(200, 5, seed=21), gaussian(200, 5, seed=22, shift=50.0)) == (0.0, 0.0)


def test_a_generator_covering_half_the_support_has_precision_one_and_recall_one_half():
    real = np.random.default_rng(23).uniform(size=(2000, 2))
    fake = real[real[:, 0] < 0.5]  # every fake is realistic, but half of the square is missing
    precision, recall = metrics.precision_recall(real, fake)
    assert precision == 1.0
    assert recall == pytest.approx(0.5, abs=0.1)


def test_mode_collapse_keeps_precision_at_one_but_drops_recall():
    real = np.random.default_rng(24).uniform(size=(500, 2))
    fake = real[0] + np.random.default_rng(25).normal(0.0, 1e-4, size=(300, 2))
    precision, recall = metrics.precision_recall(real, fake)
    assert precision == 1.0
    assert recall < 0.01


def test_precision_recall_matches_brute_force_when_computed_in_chunks(monkeypatch):
    real, fake = gaussian(150, 4, seed=26), gaussian(120, 4, seed=27, shift=0.7)
    expected = brute_force_precision_recall(real, fake, k=5)
    assert metrics.precision_recall(real, fake, k=5) == pytest.approx(expected)
    monkeypatch.setattr(metrics, "ROWS_PER_CHUNK", 7)
    assert metrics.precision_recall(real, fake, k=5) == pytest.approx(expected)


def test_precision_recall_needs_k_smaller_than_each_set():
    with pytest.raises(ValueError, match=r"k=3 must be smaller than the number of samples in fake_features \(3\)"):
        metrics.precision_recall(gaussian(10, 2, seed=28), gaussian(3, 2, seed=29), k=3)
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.precision_recall(gaussian(10, 2, seed=28), gaussian(10, 2, seed=29), k=0)


def test_kid_and_precision_recall_also_warn_when_n_is_below_d():
    a, b = gaussian(20, 32, seed=30), gaussian(20, 32, seed=31)
    with pytest.warns(metrics.SmallSampleWarning, match="KID.*equal N"):
        metrics.kid(a, b, subsets=2)
    with pytest.warns(metrics.SmallSampleWarning, match="Precision/recall.*equal N"):
        metrics.precision_recall(a, b)


# --- Nearest distances and memorisation ---------------------------------------------------------

def test_nearest_distances_match_brute_force_and_flatten_images():
    queries = np.random.default_rng(32).normal(size=(50, 4, 4, 3))
    references = np.random.default_rng(33).normal(size=(80, 4, 4, 3))
    expected = cdist(queries.reshape(50, -1), references.reshape(80, -1)).min(axis=1)
    distances = metrics.nearest_distances(queries, references, batch=16)
    assert distances.dtype == np.float64 and distances.shape == (50,)
    np.testing.assert_allclose(distances, expected, rtol=1e-10)
    assert np.all(metrics.nearest_distances(references[:5], references) == 0.0)


def test_memorisation_check_flags_a_generator_that_returns_training_images():
    training, held_out = gaussian(1000, 16, seed=34), gaussian(300, 16, seed=35)
    report = metrics.memorisation_check(training[:300], training, held_out)
    assert report.ratio == 0.0 and report.copies == 1.0
    noisy = training[:300] + np.random.default_rng(36).normal(0.0, 0.01, size=(300, 16))
    report = metrics.memorisation_check(noisy, training, held_out)
    assert report.ratio < 0.05 and report.copies == 1.0
    assert report.generated_to_train.shape == (300,) and report.held_out_to_train.shape == (300,)


def test_memorisation_check_passes_a_generator_of_fresh_samples():
    training, held_out, fresh = gaussian(1000, 16, seed=37), gaussian(300, 16, seed=38), gaussian(300, 16, seed=39)
    report = metrics.memorisation_check(fresh, training, held_out)
    assert 0.8 < report.ratio < 1.25
    assert report.copies < 0.05


def test_memorisation_check_works_on_images():
    rng = np.random.default_rng(40)
    training, held_out = rng.uniform(-1, 1, size=(200, 8, 8, 3)), rng.uniform(-1, 1, size=(100, 8, 8, 3))
    report = metrics.memorisation_check(training[:50], training, held_out)
    assert report.ratio == 0.0 and report.copies == 1.0
    np.testing.assert_allclose(report.held_out_to_train,
                               cdist(held_out.reshape(100, -1), training.reshape(200, -1)).min(axis=1))


def test_memorisation_check_on_float32_images_recomputes_exact_distances():
    rng = np.random.default_rng(41)
    training = rng.uniform(-1, 1, size=(300, 8, 8, 3)).astype("float32")
    held_out = rng.uniform(-1, 1, size=(100, 8, 8, 3)).astype("float32")
    report = metrics.memorisation_check(training[:40], training, held_out)
    assert np.all(report.generated_to_train == 0.0) and report.generated_to_train.dtype == np.float64
    expected = cdist(held_out.reshape(100, -1).astype("float64"), training.reshape(300, -1).astype("float64"))
    np.testing.assert_allclose(report.held_out_to_train, expected.min(axis=1), rtol=1e-12)


def test_memorisation_ratio_is_nan_with_a_warning_when_held_out_repeats_training():
    training = np.random.default_rng(42).normal(size=(100, 6))
    with pytest.warns(UserWarning, match="ratio is undefined"):
        report = metrics.memorisation_check(training[:20], training, training[:50])
    assert np.isnan(report.ratio) and report.copies == 1.0


def test_distance_chunks_stay_under_the_memory_budget(monkeypatch):
    monkeypatch.setattr(metrics, "CHUNK_BYTES", 8 * 100 * 10)  # 10 rows of 100 references
    chunks = list(metrics._distance_chunks(np.zeros((35, 2)), np.ones((100, 2)), batch=1024))
    assert [start for start, _ in chunks] == [0, 10, 20, 30] and chunks[-1][1].shape == (5, 100)


# --- Bad inputs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: metrics.fid(np.zeros(10), np.zeros(10)), ValueError, r"2-D array \(N, D\).*reshape"),
    (lambda: metrics.fid(gaussian(10, 3, 0), gaussian(10, 4, 1)), ValueError, "same feature dimension; got 3 and 4"),
    (lambda: metrics.fid(np.full((10, 3), np.nan), gaussian(10, 3, 1)), ValueError, "30 NaN or infinite"),
    (lambda: metrics.fid(gaussian(1, 3, 0), gaussian(10, 3, 1)), ValueError, "at least 2 samples; got 1"),
    (lambda: metrics.fid(np.array([["a", "b"]] * 3), gaussian(3, 2, 1)), TypeError, "numeric array; got dtype"),
    (lambda: metrics.fid([[1.0, 2.0], [3.0]], gaussian(3, 2, 1)), TypeError, "numeric array"),
    (lambda: metrics.kid(gaussian(10, 3, 0), gaussian(10, 3, 1), subsets=0), ValueError, "subsets must be at least 1"),
    (lambda: metrics.kid(gaussian(10, 3, 0), gaussian(10, 3, 1), subset_size=1), ValueError, "at least 2"),
    (lambda: metrics.precision_recall(gaussian(10, 3, 0), gaussian(10, 3, 1), k=2.5), TypeError, "integer"),
    (lambda: metrics.nearest_distances(np.zeros(5), np.zeros((5, 1))), ValueError, "one sample per row"),
    (lambda: metrics.memorisation_check(np.zeros((5, 4, 4, 3)), np.zeros((5, 8, 8, 3)), np.zeros((5, 8, 8, 3))),
     ValueError, "generated and training must have the same feature dimension"),
])
def test_bad_inputs_give_clear_errors(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", metrics.SmallSampleWarning)
        with pytest.raises(error, match=message):
            call()


def test_mean_pairwise_distance_matches_scipy():
    from scipy.spatial.distance import pdist

    x = np.random.default_rng(0).normal(size=(40, 5))
    assert metrics.mean_pairwise_distance(x) == pytest.approx(pdist(x).mean(), rel=1e-9)
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.mean_pairwise_distance(x[:1])


# ---------------------------------------------------------------- sharpness and shift-aware memorisation


def test_high_frequency_energy_matches_closed_forms():
    flat = np.full((2, 8, 8, 3), 0.3)
    assert metrics.high_frequency_energy(flat) == 0
    checker = np.indices((8, 8)).sum(axis=0) % 2 * 2.0 - 1  # +-1 checkerboard: the Laplacian is -8 v inside
    energy = metrics.high_frequency_energy(checker[None, :, :, None])
    inside = 36 * 64  # the 6x6 interior pixels each give (-8)^2
    # on the edge, "nearest" repeats the pixel itself: -6 v at the sides, -4 v in the corners
    edges = 24 * 36 + 4 * 16
    assert energy == pytest.approx((inside + edges) / 64)


def test_sharpness_is_one_for_the_same_images_below_for_blur_and_above_for_noise():
    rng = np.random.default_rng(0)
    real = np.clip(rng.normal(0, 0.5, (4, 16, 16, 1)), -1, 1)
    assert metrics.sharpness(real, real) == pytest.approx(1.0)
    blurred = ndimage.gaussian_filter(real, sigma=(0, 1, 1, 0))
    assert metrics.sharpness(blurred, real) < 0.3
    noisy = real + rng.normal(0, 0.5, real.shape)
    assert metrics.sharpness(noisy, real) > 1.5
    with pytest.raises(ValueError, match="flat"):
        metrics.sharpness(real, np.zeros_like(real))


def test_image_variants_shift_with_repeated_edges_and_mirror():
    image = np.arange(16, dtype=float).reshape(1, 4, 4, 1)
    variants = list(metrics.image_variants(image, shift=1, mirror=True))
    assert len(variants) == 18 and all(v.shape == image.shape for v in variants)
    assert any(np.array_equal(v, image) for v in variants)
    assert any(np.array_equal(v, image[:, :, ::-1]) for v in variants)
    right = variants[3]  # dy = 1, dx = 0: content moved one pixel right, the left column repeated
    assert np.array_equal(right[0, :, 1:, 0], image[0, :, :-1, 0]) and np.array_equal(right[0, :, 0], image[0, :, 0])
    with pytest.raises(ValueError, match="leaves nothing"):
        list(metrics.image_variants(image, shift=2))


def test_a_flipped_or_shifted_copy_counts_as_a_copy_only_when_asked():
    rng = np.random.default_rng(1)
    training = rng.uniform(-1, 1, (20, 12, 12, 3))
    held_out = rng.uniform(-1, 1, (20, 12, 12, 3))
    flipped = training[:, :, ::-1]
    shifted = np.pad(training, ((0, 0), (0, 0), (2, 0), (0, 0)), mode="edge")[:, :, :12]
    plain = metrics.memorisation_check(flipped, training, held_out)
    aware = metrics.memorisation_check(flipped, training, held_out, shift=2, mirror=True)
    assert plain.ratio > 0.9 and aware.copies == 1 and aware.ratio == 0  # unseen flips look new to a plain check
    assert metrics.memorisation_check(shifted, training, held_out, shift=2).copies == 1
    assert metrics.memorisation_check(shifted, training, held_out, shift=1).ratio > 0.9
    far = np.pad(flipped, ((0, 0), (4, 0), (0, 0), (0, 0)), mode="edge")[:, :12]  # mirrored, then 4 pixels down
    assert metrics.memorisation_check(far, training, held_out, shift=4, mirror=True).copies_within_typical == 20
    assert metrics.memorisation_check(far, training, held_out, shift=3, mirror=True).ratio > 0.9


def brute_force_variant_distances(queries, references, shift, mirror):
    """Nearest distances to every shifted (edges repeated) and mirrored reference, built here with np.pad."""
    height, width = references.shape[1:3]
    padded = np.pad(references, ((0, 0), (shift, shift), (shift, shift), (0, 0)), mode="edge")
    sources = [padded, padded[:, :, ::-1]] if mirror else [padded]
    flat = queries.reshape(len(queries), -1).astype("float64")
    return np.min([cdist(flat, source[:, dy:dy + height, dx:dx + width].reshape(len(references), -1)).min(axis=1)
                   for source in sources for dy in range(2 * shift + 1) for dx in range(2 * shift + 1)], axis=0)


def blobs(n, height, width, seed):
    """Smooth random colour images in [-1, 1]: close neighbours exist, so the bounds have something to prune."""
    noise = np.random.default_rng(seed).uniform(-1, 1, (n, height, width, 3))
    return np.clip(3 * ndimage.gaussian_filter(noise, (0, 2, 2, 0)), -1, 1)


@pytest.mark.parametrize("shift, mirror", [(0, False), (1, True), (3, False), (3, True)])
def test_nearest_variant_distances_equal_a_brute_force_over_every_variant(shift, mirror, monkeypatch):
    monkeypatch.setattr(metrics, "BOUND_CHUNK", 7)  # several chunks of references and of queries
    monkeypatch.setattr(metrics, "BOUND_SEEDS", 1)  # a poor first cut-off: the pruning must still be exact
    references = blobs(40, 14, 10, seed=50)  # 14 x 10: pixels beyond the last whole 4 x 4 tile too
    copies = np.concatenate([np.pad(references[3][None, 1:], ((0, 0), (0, 1), (0, 0), (0, 0)), mode="edge"),
                             references[7][None, :, ::-1]])  # moved up a pixel (edge repeated), mirrored
    queries = np.concatenate([blobs(25, 14, 10, seed=51), copies, references[:5] + 0.01])
    found = metrics.nearest_variant_distances(queries, references, shift=shift, mirror=mirror)
    assert found.dtype == np.float64 and found.shape == (len(queries),)
    np.testing.assert_allclose(found, brute_force_variant_distances(queries, references, shift, mirror), rtol=1e-12)
    assert (found[25] == 0.0) == (shift >= 1) and (found[26] == 0.0) == mirror  # a shifted, a mirrored copy


def test_nearest_variant_distances_compare_few_pairs_in_full_and_keep_float32_copies_exact(monkeypatch):
    full = []
    pairs = metrics._nearest_of_pairs

    def counting(q, references, norms, query_idx, reference_idx, shift):
        full.append(len(query_idx))
        return pairs(q, references, norms, query_idx, reference_idx, shift)

    monkeypatch.setattr(metrics, "_nearest_of_pairs", counting)
    references = blobs(300, 16, 16, seed=52).astype("float32")
    queries = np.concatenate([references[:20, :, ::-1], blobs(20, 16, 16, seed=53).astype("float32")])
    found = metrics.nearest_variant_distances(queries, references, shift=2, mirror=True)
    assert np.all(found[:20] == 0.0)
    np.testing.assert_allclose(found, brute_force_variant_distances(queries, references, 2, True), rtol=1e-12)
    assert sum(full) < 0.1 * 2 * len(queries) * len(references)  # of the 80 x 300 (mirrored) pairs


def test_tile_bound_is_below_the_distance_and_exact_for_tile_constant_images():
    rng = np.random.default_rng(54)
    images = rng.uniform(-1, 1, (6, 8, 12, 3))
    (columns, norms), = metrics._bound_columns(images, 0, 4)
    np.testing.assert_allclose(norms, (images ** 2).sum(axis=(1, 2, 3)))
    bound = norms[:, None] + norms[None, :] - 2 * columns.T @ columns
    distance = cdist(images.reshape(6, -1), images.reshape(6, -1)) ** 2
    assert np.all(bound <= distance + 1e-9)
    tiled = np.kron(rng.uniform(-1, 1, (6, 2, 3, 3)), np.ones((1, 4, 4, 1)))  # constant on each 4 x 4 tile
    (columns, norms), = metrics._bound_columns(tiled, 0, 4)
    np.testing.assert_allclose(norms[:, None] + norms[None, :] - 2 * columns.T @ columns,
                               cdist(tiled.reshape(6, -1), tiled.reshape(6, -1)) ** 2, atol=1e-9)
    shifted = list(metrics._bound_columns(images, 1, 4))  # the bound of each shift is that of its image
    for (columns, norms), variant in zip(shifted, metrics.image_variants(images, shift=1)):
        (expected, expected_norms), = metrics._bound_columns(np.ascontiguousarray(variant), 0, 4)
        np.testing.assert_allclose(columns, expected, atol=1e-6)  # sqrt of the round-off of a flat tile: 1e-7
        np.testing.assert_allclose(norms, expected_norms)


def test_memorisation_check_counts_copies_within_the_held_out_median_distance():
    training = np.zeros((1, 1))
    held_out = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])  # median nearest distance 3, 1st percentile 1.04
    report = metrics.memorisation_check(np.array([[0.5], [-3.0], [10.0]]), training, held_out)
    assert report.copies_within_typical == 2 and report.copies == pytest.approx(1 / 3)
    assert report.ratio == pytest.approx(3 / 3)


def test_attribute_coverage_against_hand_computed_shares():
    data_values = np.array([0, 0, 1, 1, 2, 2])  # a third each
    predicted = np.array([0, 0, 0, 1, 1, 2])  # 1/2, 1/3, 1/6
    found = metrics.attribute_coverage(predicted, data_values, ("a", "b", "c"))
    assert found.shares == {"a": pytest.approx((1 / 2, 1 / 3)), "b": pytest.approx((1 / 3, 1 / 3)),
                            "c": pytest.approx((1 / 6, 1 / 3))}
    assert found.max_ratio == pytest.approx(2.0) and found.absent == []  # c: a third against a sixth
    assert metrics.attribute_coverage(data_values, data_values, "abc").max_ratio == pytest.approx(1.0)


def test_attribute_coverage_of_a_missing_value_is_infinite_and_named():
    found = metrics.attribute_coverage(np.array([0, 0, 1]), np.array([0, 1, 2]), ("a", "b", "c"))
    assert found.max_ratio == np.inf and found.absent == ["c"]
    unused = metrics.attribute_coverage(np.array([0, 1]), np.array([0, 1]), ("a", "b", "never in the data"))
    assert unused.max_ratio == pytest.approx(1.0)  # a value the data lacks is not judged


@pytest.mark.parametrize("predicted, message", [(np.array([0, 3]), r"integers in \[0, 3\)"),
                                                (np.array([0.5, 1.0]), "integers"), (np.array([], int), "non-empty")])
def test_attribute_coverage_refuses_values_outside_the_names(predicted, message):
    with pytest.raises(ValueError, match=message):
        metrics.attribute_coverage(predicted, np.array([0, 1, 2]), ("a", "b", "c"))


def test_calibrated_ratios_and_their_intervals_against_hand_computed_values():
    predicted = np.repeat([0, 1], [50, 50])  # half and half
    real = np.repeat([0, 1], [25, 75])  # what the classifier reads on real images: a quarter, three quarters
    found = metrics.attribute_coverage(predicted, np.repeat([0, 1], [40, 60]), ("a", "b"), real_predicted=real)
    # Katz: exp(log((50.5 / 100.5) / (25.5 / 100.5)) -+ z sqrt(1/50.5 - 1/100.5 + 1/25.5 - 1/100.5)),
    # z = 2.2414 for 95% over both values (Bonferroni: 1 - 0.05 / 4)
    assert found.calibrated["a"] == pytest.approx((0.25, 2.0, 1.27124, 3.08515), rel=1e-4)
    assert found.calibrated["b"] == pytest.approx((0.75, 2 / 3, 0.517288, 0.864880), rel=1e-4)
    assert found.max_ratio == pytest.approx(1.25) and found.max_calibrated_ratio == pytest.approx(2.0)
    assert found.verdicts == {"a": "outside", "b": "unresolved"} and found.verdict == "outside"
    plain = metrics.attribute_coverage(predicted, real, ("a", "b"))
    assert plain.calibrated == {} and plain.verdict is None and np.isnan(plain.max_calibrated_ratio)


def draws(shares, n, rng, confusion=None):
    """n attribute values drawn with `shares`, then read through a classifier's confusion matrix if given."""
    values = rng.choice(len(shares), size=n, p=shares)
    if confusion is None:
        return values
    return (rng.random(n)[:, None] > np.cumsum(confusion, axis=1)[values][:, :-1]).sum(axis=1)  # inverse CDF


def test_share_intervals_hold_jointly_for_samples_drawn_like_the_data():
    shares, rng = np.array([0.4, 0.3, 0.2, 0.1]), np.random.default_rng(60)
    data = draws(shares, 800, rng)
    covered, verdicts = 0, set()
    for _ in range(300):
        real = draws(shares, 800, rng)
        found = metrics.attribute_coverage(draws(shares, 800, rng), data, "abcd", real_predicted=real)
        covered += all(low <= 1 <= high for _, _, low, high in found.calibrated.values())
        verdicts.add(found.verdict)
    assert covered / 300 >= 0.93  # 95% jointly, Bonferroni being a little conservative
    assert verdicts == {"unresolved"}  # at N = 800 no interval is narrow enough to place a share within 1.25
    large = metrics.attribute_coverage(draws(shares, 200_000, rng), data, "abcd",
                                       real_predicted=draws(shares, 200_000, rng))
    assert large.verdict == "within" and large.max_calibrated_ratio < 1.05


def test_calibration_cancels_a_classifier_that_confuses_values():
    shares, rng = np.array([0.25, 0.25, 0.25, 0.25]), np.random.default_rng(61)
    confusion = np.eye(4)
    confusion[1] = [0.3, 0.7, 0.0, 0.0]  # reads value 1 as value 0 three times in ten
    data, real = draws(shares, 50_000, rng), draws(shares, 50_000, rng, confusion)
    perfect = metrics.attribute_coverage(draws(shares, 50_000, rng, confusion), data, "abcd", real_predicted=real)
    assert perfect.max_ratio > 1.25  # the plain ratio blames the generator for the classifier: 0.325 / 0.25
    assert perfect.verdict == "within" and perfect.max_calibrated_ratio < 1.05
    skewed = metrics.attribute_coverage(draws([0.2, 0.2, 0.4, 0.2], 50_000, rng, confusion), data, "abcd",
                                        real_predicted=real)
    assert skewed.verdicts["c"] == "outside" and skewed.verdict == "outside"
    assert skewed.calibrated["c"][1] == pytest.approx(1.6, rel=0.05)


def test_a_value_never_drawn_is_outside_once_n_resolves_it():
    data = np.repeat([0, 1, 2], 1000)
    found = metrics.attribute_coverage(np.repeat([0, 1], 600), data, "abc", real_predicted=data)
    assert found.calibrated["c"][1] == 0 and 0 < found.calibrated["c"][3] < 0.05  # 0.5 added: still an interval
    assert found.max_calibrated_ratio == np.inf and found.verdicts["c"] == "outside" and found.absent == ["c"]
    few = metrics.attribute_coverage(np.array([0, 1]), data, "abc", real_predicted=data)
    assert few.verdicts == {"a": "unresolved", "b": "unresolved", "c": "unresolved"}  # two samples tell nothing
    with pytest.raises(ValueError, match="factor must be above 1"):
        metrics.attribute_coverage(data, data, "abc", real_predicted=data, factor=0.8)
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        metrics.attribute_coverage(data, data, "abc", real_predicted=data, confidence=95)
    with pytest.raises(ValueError, match="real_predicted must be"):
        metrics.attribute_coverage(data, data, "abc", real_predicted=np.array([3]))


def test_psnr_is_ten_log10_of_the_squared_range_over_the_mean_squared_error():
    targets = np.zeros((2, 4, 4, 3), "float32")
    images = targets.copy()
    images[0] += 0.1  # MSE 0.01 in a range of 2: 10 log10(4 / 0.01) = 26.02 dB
    images[1, 0, 0, 0] = 2.0  # one pixel of 48 off by 2: MSE 4 / 48
    np.testing.assert_allclose(metrics.psnr(images, targets), [10 * np.log10(400), 10 * np.log10(48)], rtol=1e-6)
    assert metrics.psnr(targets, targets)[0] == np.inf
    with pytest.raises(ValueError, match="one shape"):
        metrics.psnr(images[:1], targets)
