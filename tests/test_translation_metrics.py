"""Translation metrics checked against hand computations, SSIM's closed form for flat images, a brute-force SSIM,
tf.image.ssim, and retrieval on features whose nearest neighbours are known."""
import json

import numpy as np
import pytest
from scipy import ndimage

from gan_utils import metrics, translation_metrics as tm


def uniform(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def waves(n=4, size=40):
    """Smooth sinusoidal images (n, size, size, 1) in [-1, 1], each with its own phase."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    return np.stack([np.sin(6 * xx + k) * np.cos(4 * yy - k) for k in range(n)])[..., None].astype("float32")


def checkerboard(size=32, square=4):
    return ((np.indices((size, size)).sum(0) // square) % 2 * 2 - 1.0)[None, ..., None].astype("float32")


def ssim_by_brute_force(x, y):
    """SSIM of two single-channel images (H, W) in [-1, 1], window by window with the explicit 11x11 kernel."""
    x, y = (x.astype(np.float64) + 1) / 2, (y.astype(np.float64) + 1) / 2
    taps = np.exp(-(np.arange(11) - 5.0) ** 2 / 4.5)
    window = np.outer(taps, taps) / np.outer(taps, taps).sum()
    values = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            a, b = x[i:i + 11, j:j + 11], y[i:i + 11, j:j + 11]
            mu_a, mu_b = (window * a).sum(), (window * b).sum()
            var_a, var_b = (window * (a - mu_a) ** 2).sum(), (window * (b - mu_b) ** 2).sum()
            cov = (window * (a - mu_a) * (b - mu_b)).sum()
            values.append((2 * mu_a * mu_b + 1e-4) * (2 * cov + 9e-4)
                          / ((mu_a ** 2 + mu_b ** 2 + 1e-4) * (var_a + var_b + 9e-4)))
    return np.mean(values)


# --- L1 ----------------------------------------------------------------------------------------

def test_l1_is_the_mean_absolute_difference_of_each_image():
    outputs = np.zeros((2, 2, 2, 1), "float32")
    targets = np.array([[[0.5, -0.5], [1.0, 0.0]], [[-1.0, -1.0], [-1.0, -1.0]]], "float32")[..., None]
    result = tm.l1(outputs, targets)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, [(0.5 + 0.5 + 1.0 + 0.0) / 4, 1.0])
    assert tm.l1(uniform((3, 4, 4, 3), 0), uniform((3, 4, 4, 3), 0)).tolist() == [0, 0, 0]


# --- SSIM --------------------------------------------------------------------------------------

def test_ssim_of_identical_images_is_one():
    images = np.concatenate([uniform((2, 24, 24, 3), 1), np.repeat(waves(2, 24), 3, axis=-1)])
    np.testing.assert_allclose(tm.ssim(images, images), 1.0, atol=1e-12)


def test_ssim_of_two_flat_images_is_the_closed_form_of_their_means():
    for a, b in ((0.3, -0.6), (-1.0, 1.0), (0.8, 0.8), (-0.2, 0.5)):
        x, y = np.full((1, 16, 20, 3), a, "float32"), np.full((1, 16, 20, 3), b, "float32")
        mu_x, mu_y = (np.float64(np.float32(a)) + 1) / 2, (np.float64(np.float32(b)) + 1) / 2
        expected = (2 * mu_x * mu_y + 1e-4) / (mu_x ** 2 + mu_y ** 2 + 1e-4)
        np.testing.assert_allclose(tm.ssim(x, y), [expected], rtol=1e-12)


def test_ssim_matches_a_window_by_window_computation_on_the_valid_region():
    x, y = uniform((1, 15, 18, 1), 2), waves(1, 40)[:, 5:20, 10:28]
    np.testing.assert_allclose(tm.ssim(x, y), [ssim_by_brute_force(x[0, ..., 0], y[0, ..., 0])], rtol=1e-10)


def test_ssim_agrees_with_tf_image_ssim_on_random_and_structured_images():
    tf = pytest.importorskip("tensorflow")
    noisy = uniform((4, 32, 32, 3), 3)
    smooth = waves()
    cases = [(noisy, uniform(noisy.shape, 4)),
             (noisy, np.clip(noisy + 0.1 * uniform(noisy.shape, 5), -1, 1)),
             (smooth, np.clip(ndimage.gaussian_filter(smooth, (0, 2, 2, 0)), -1, 1).astype("float32")),
             (checkerboard(), 0.5 * np.roll(checkerboard(), 3, axis=2)),
             (np.full((1, 12, 12, 1), 0.3, "float32"), np.full((1, 12, 12, 1), -0.6, "float32"))]
    for outputs, targets in cases:
        expected = tf.image.ssim((outputs + 1) / 2, (targets + 1) / 2, max_val=1.0, filter_size=11, filter_sigma=1.5,
                                 k1=0.01, k2=0.03).numpy()
        np.testing.assert_allclose(tm.ssim(outputs, targets), expected, atol=1e-4)  # tf works in float32: ~2e-5


def test_ssim_is_symmetric_and_lower_for_a_worse_copy():
    target = waves()
    slight = np.clip(target + 0.05 * uniform(target.shape, 6), -1, 1)
    heavy = np.clip(target + 0.5 * uniform(target.shape, 7), -1, 1)
    np.testing.assert_array_equal(tm.ssim(slight, target), tm.ssim(target, slight))
    assert (tm.ssim(heavy, target) < tm.ssim(slight, target)).all()


def test_ssim_rejects_images_smaller_than_its_window_and_mismatched_shapes():
    with pytest.raises(ValueError, match="at least 11x11"):
        tm.ssim(uniform((2, 10, 32, 1), 0), uniform((2, 10, 32, 1), 1))
    with pytest.raises(ValueError, match="same shape"):
        tm.ssim(uniform((2, 16, 16, 1), 0), uniform((3, 16, 16, 1), 1))


# --- retrieval and style -----------------------------------------------------------------------

def test_retrieval_is_one_when_each_output_has_its_own_targets_features():
    targets = np.random.default_rng(8).normal(size=(50, 16))
    assert tm.retrieval_accuracy(targets, targets) == 1.0
    assert tm.retrieval_accuracy(targets + 0.01, targets.astype("float32")) == 1.0


def test_retrieval_of_permuted_outputs_is_the_share_of_fixed_points():
    targets = np.random.default_rng(9).normal(size=(10, 4))
    order = np.array([1, 0, 3, 2, 4, 5, 6, 7, 8, 9])  # outputs 0-3 land on another pair's target
    assert tm.retrieval_accuracy(targets[order], targets) == pytest.approx(0.6)


def test_retrieval_with_groups_counts_a_neighbour_of_the_same_group_as_kept():
    targets = np.random.default_rng(10).normal(size=(6, 4))
    outputs = targets[[1, 0, 3, 2, 4, 5]]  # 0 <-> 1 within group "a"; 2 <-> 3 across groups "b" and "c"
    groups = ["a", "a", "b", "c", "d", "d"]
    assert tm.retrieval_accuracy(outputs, targets) == pytest.approx(2 / 6)
    assert tm.retrieval_accuracy(outputs, targets, groups) == pytest.approx(4 / 6)


def test_retrieval_counts_a_target_tied_with_the_own_pair_as_a_hit():
    targets = np.random.default_rng(11).normal(size=(5, 3))
    targets[3] = targets[1]  # two pairs with one target
    assert tm.retrieval_accuracy(targets, targets) == 1.0


def test_style_share_is_the_share_of_rows_whose_argmax_is_the_class():
    probabilities = np.array([[0.1, 0.9], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]])
    assert tm.style_share(probabilities, 1) == 0.75 and tm.style_share(probabilities, 0) == 0.25
    with pytest.raises(ValueError, match="one of the 2 classes"):
        tm.style_share(probabilities, 2)
    with pytest.raises(ValueError, match="2-D"):
        tm.style_share(probabilities[0], 0)
    with pytest.raises(TypeError, match="integer"):
        tm.style_share(probabilities, 1.0)


# --- the scorecard -----------------------------------------------------------------------------

class FakeExtractor:
    """Features are the flattened pixels; the head "tone" reads an image as class 1 when its mean is above 0."""

    def features(self, images):
        return images.reshape(len(images), -1).astype(np.float64)

    def head_probabilities(self, images, head):
        if head != "tone":
            raise ValueError(f"no head {head!r}")
        bright = (images.mean(axis=(1, 2, 3)) > 0).astype("float32")
        return np.stack([1 - bright, bright], axis=1)


def test_score_reports_every_metric_as_plain_json_numbers():
    targets = uniform((6, 16, 16, 3), 12)
    targets[:2], targets[2:] = np.clip(targets[:2] + 0.5, -1, 1), np.clip(targets[2:] - 0.5, -1, 1)  # 2 bright, 4 dark
    outputs = np.clip(targets + 0.05 * uniform(targets.shape, 13), -1, 1)[[0, 1, 2, 3, 5, 4]]  # 4 and 5 swapped
    card = tm.score(outputs, targets, FakeExtractor(), "tone", 1, groups=[0, 1, 2, 3, 4, 4])
    assert set(card) == {"l1", "psnr", "ssim", "target_style", "retrieval", "kept", "sharpness", "n"}
    assert card["l1"] == pytest.approx(tm.l1(outputs, targets).mean())
    assert card["psnr"] == pytest.approx(metrics.psnr(outputs, targets).mean())
    assert card["ssim"] == pytest.approx(tm.ssim(outputs, targets).mean())
    assert card["target_style"] == pytest.approx(2 / 6)
    assert card["retrieval"] == pytest.approx(4 / 6) and card["kept"] == 1.0
    assert card["sharpness"] == pytest.approx(metrics.sharpness(outputs, targets))
    assert card["n"] == 6
    assert json.loads(json.dumps(card)) == card
    assert all(type(card[key]) is float for key in card if key != "n") and type(card["n"]) is int
    plain = tm.score(outputs, targets, FakeExtractor(), "tone", 0)
    assert plain["kept"] == plain["retrieval"] == card["retrieval"] and plain["target_style"] == pytest.approx(4 / 6)


def test_named_is_the_share_a_group_head_reads_as_each_outputs_own_group():
    targets = uniform((6, 16, 16, 3), 12)
    targets[:2], targets[2:] = np.clip(targets[:2] + 0.5, -1, 1), np.clip(targets[2:] - 0.5, -1, 1)  # 2 bright, 4 dark
    card = tm.score(targets, targets, FakeExtractor(), "tone", 1, groups=[1, 1, 0, 0, 0, 0], group_head="tone")
    assert card["named"] == 1.0
    wrong = tm.score(targets, targets, FakeExtractor(), "tone", 1, groups=[0, 1, 0, 0, 1, 1], group_head="tone")
    assert wrong["named"] == pytest.approx(3 / 6)
    assert tm.style_share_per_row([[0.2, 0.8], [0.9, 0.1]], [1, 1]) == 0.5
    with pytest.raises(ValueError, match="pass the groups too"):
        tm.score(targets, targets, FakeExtractor(), "tone", 1, group_head="tone")


def test_score_checks_its_inputs_before_running_the_extractor():
    images = uniform((4, 16, 16, 1), 14)
    with pytest.raises(ValueError, match="one label per pair"):
        tm.score(images, images, None, "tone", 1, groups=[0, 1, 2])
    with pytest.raises(ValueError, match="same shape"):
        tm.score(images, images[:3], None, "tone", 1)
    with pytest.raises(ValueError, match=r"in \[-1, 1\]"):
        tm.score(images * 2, images, None, "tone", 1)
    with pytest.raises(ValueError, match="integer >= 0"):
        tm.score(images, images, None, "tone", -1)


# --- input checks ------------------------------------------------------------------------------

def test_images_must_be_finite_float32_nhwc_in_range():
    good = uniform((2, 12, 12, 1), 15)
    with pytest.raises(TypeError, match="float32"):
        tm.l1(good.astype("float64"), good)
    with pytest.raises(ValueError, match="4-D"):
        tm.l1(good[0], good[0])
    bad = good.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tm.ssim(good, bad)
    with pytest.raises(ValueError, match=r"in \[-1, 1\]"):
        tm.l1(good, (good + 1) * 127.5)


def test_retrieval_rejects_mismatched_or_broken_features():
    features = np.random.default_rng(16).normal(size=(5, 3))
    with pytest.raises(ValueError, match="same shape"):
        tm.retrieval_accuracy(features, features[:4])
    with pytest.raises(ValueError, match="2-D"):
        tm.retrieval_accuracy(features[0], features[0])
    with pytest.raises(ValueError, match="NaN"):
        tm.retrieval_accuracy(features * np.inf, features)
    with pytest.raises(ValueError, match="one label per pair"):
        tm.retrieval_accuracy(features, features, groups=[0, 1])
    with pytest.raises(TypeError, match="numeric"):
        tm.retrieval_accuracy(features.astype(str), features)
