"""Latent-space tools checked against closed forms and geometry computed here, independently."""
import math

import numpy as np
import pytest
from scipy import stats

from gan_utils import latent


def gaussian_pair(d, seed=0):
    a, b = np.random.default_rng(seed).standard_normal((2, d))
    return a, b


def angle(u, v):
    cos = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return np.arccos(np.clip(cos, -1.0, 1.0))


# ----------------------------------------------------------------------------- normal_latents


def test_normal_latents_match_default_rng_draw():
    z = latent.normal_latents(5, 8, seed=3)
    expected = np.random.default_rng(3).standard_normal((5, 8)).astype("float32")
    assert z.dtype == np.float32 and z.shape == (5, 8)
    np.testing.assert_array_equal(z, expected)
    np.testing.assert_array_equal(latent.normal_latents(5, 8), latent.normal_latents(5, 8, 0))


@pytest.mark.parametrize("kwargs, error", [
    (dict(n=0, latent_dim=4), ValueError), (dict(n=True, latent_dim=4), TypeError),
    (dict(n=2.0, latent_dim=4), TypeError), (dict(n=2, latent_dim=0), ValueError),
    (dict(n=2, latent_dim=4, seed=-1), ValueError), (dict(n=2, latent_dim=4, seed=None), TypeError)])
def test_normal_latents_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        latent.normal_latents(**kwargs)


# ----------------------------------------------------------------------------- slerp


def test_slerp_endpoints_are_exact():
    z0, z1 = (v.astype("float32") for v in gaussian_pair(16))
    np.testing.assert_array_equal(latent.slerp(z0, z1, 0.0), z0)
    np.testing.assert_array_equal(latent.slerp(z0, z1, 1.0), z1)
    path = latent.slerp(z0, z1, [0.0, 1.0])
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[1], z1)
    assert path.dtype == np.float32


def test_slerp_midpoint_of_orthogonal_unit_vectors():
    e0, e1 = np.eye(3)[:2]
    np.testing.assert_allclose(latent.slerp(e0, e1, 0.5), (e0 + e1) / np.sqrt(2.0), atol=1e-7)


def test_slerp_keeps_the_norm_where_linear_interpolation_loses_it():
    d = 512
    a, b = gaussian_pair(d, seed=1)
    z0, z1 = a / np.linalg.norm(a) * np.sqrt(d), b / np.linalg.norm(b) * np.sqrt(d)
    t = np.linspace(0.0, 1.0, 11)
    np.testing.assert_allclose(np.linalg.norm(latent.slerp(z0, z1, t), axis=1), np.sqrt(d), rtol=1e-5)
    # Near-orthogonal Gaussian samples: the straight line's midpoint has norm about sqrt(d / 2).
    linear_mid = latent.interpolate(z0, z1, 3, method="linear")[1]
    np.testing.assert_allclose(np.linalg.norm(linear_mid), np.sqrt(d / 2), rtol=0.1)


def test_slerp_moves_at_constant_angular_speed_between_equal_norms():
    a, b = gaussian_pair(32, seed=2)
    z0, z1 = a / np.linalg.norm(a), b / np.linalg.norm(b)
    path = latent.slerp(z0, z1, np.linspace(0.0, 1.0, 9)).astype(np.float64)
    steps = [angle(p, q) for p, q in zip(path[:-1], path[1:])]
    np.testing.assert_allclose(steps, angle(z0, z1) / 8, rtol=1e-4)


@pytest.mark.parametrize("scale", [2.0, 1.0, -3.0])
def test_slerp_falls_back_to_linear_for_parallel_vectors(scale):
    z0 = np.array([1.0, -2.0, 0.5])
    z1 = scale * z0
    t = np.linspace(0.0, 1.0, 5)
    path = latent.slerp(z0, z1, t)
    assert np.isfinite(path).all()
    np.testing.assert_allclose(path, (1 - t)[:, None] * z0 + t[:, None] * z1, atol=1e-6)


def test_slerp_shapes_follow_t():
    z0, z1 = gaussian_pair(7)
    assert latent.slerp(z0, z1, 0.3).shape == (7,)
    assert latent.slerp(z0, z1, np.array([0.1, 0.2, 0.9, 1.0])).shape == (4, 7)


@pytest.mark.parametrize("z0, z1, t, error, match", [
    (np.zeros(4), np.ones(4), 0.5, ValueError, "linear"),
    (np.ones(4), np.zeros(4), 0.5, ValueError, "linear"),
    (np.ones(4), np.ones(5), 0.5, ValueError, "same length"),
    (np.ones((2, 4)), np.ones((2, 4)), 0.5, ValueError, "1-D"),
    (np.array([1.0, np.nan]), np.ones(2), 0.5, ValueError, "NaN"),
    (["a", "b"], np.ones(2), 0.5, TypeError, "real numbers"),
    (np.ones(4), np.ones(4), 1.5, ValueError, r"\[0, 1\]"),
    (np.ones(4), np.ones(4), -0.1, ValueError, r"\[0, 1\]"),
    (np.ones(4), np.ones(4), np.nan, ValueError, r"\[0, 1\]"),
    (np.ones(4), np.ones(4), np.full((2, 2), 0.5), ValueError, "1-D"),
    (np.ones(4), np.ones(4), "half", TypeError, "real numbers")])
def test_slerp_rejects_bad_input(z0, z1, t, error, match):
    with pytest.raises(error, match=match):
        latent.slerp(z0, z1, t)


# ----------------------------------------------------------------------------- interpolate


def test_linear_interpolation_matches_closed_form():
    z0, z1 = gaussian_pair(10, seed=4)
    path = latent.interpolate(z0, z1, 6, method="linear")
    t = np.arange(6)[:, None] / 5
    assert path.dtype == np.float32 and path.shape == (6, 10)
    np.testing.assert_allclose(path, z0 + t * (z1 - z0), rtol=1e-6, atol=1e-6)


def test_slerp_interpolation_runs_from_z0_to_z1():
    z0, z1 = (v.astype("float32") for v in gaussian_pair(10, seed=5))
    path = latent.interpolate(z0, z1, 5)
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[-1], z1)
    np.testing.assert_allclose(path, latent.slerp(z0, z1, [0.0, 0.25, 0.5, 0.75, 1.0]))


@pytest.mark.parametrize("steps, method, error", [
    (1, "slerp", ValueError), (True, "slerp", TypeError), (3.0, "slerp", TypeError), (3, "cubic", ValueError),
    (3, None, ValueError)])
def test_interpolate_rejects_bad_steps_and_method(steps, method, error):
    with pytest.raises(error):
        latent.interpolate(np.ones(3), np.arange(3.0), steps, method=method)


# ----------------------------------------------------------------------------- interpolation_grid


def test_interpolation_grid_shape_corners_and_edges():
    corners = np.random.default_rng(6).standard_normal((4, 12)).astype("float32")
    tl, tr, bl, br = corners
    grid = latent.interpolation_grid(corners, 4, 5)
    assert grid.dtype == np.float32 and grid.shape == (20, 12)
    for index, corner in zip((0, 4, 15, 19), (tl, tr, bl, br)):
        np.testing.assert_array_equal(grid[index], corner)
    np.testing.assert_allclose(grid[:5], latent.interpolate(tl, tr, 5), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grid[15:], latent.interpolate(bl, br, 5), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grid[::5], latent.interpolate(tl, bl, 4), rtol=1e-6, atol=1e-6)


def test_linear_interpolation_grid_is_bilinear():
    tl, tr, bl, br = corners = np.random.default_rng(7).standard_normal((4, 6))
    grid = latent.interpolation_grid(corners, 3, 4, method="linear").reshape(3, 4, 6)
    for i, u in enumerate(np.linspace(0, 1, 3)):
        for j, v in enumerate(np.linspace(0, 1, 4)):
            expected = (1 - u) * (1 - v) * tl + (1 - u) * v * tr + u * (1 - v) * bl + u * v * br
            np.testing.assert_allclose(grid[i, j], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("corners, rows, cols, error", [
    (np.ones((3, 4)), 2, 2, ValueError), (np.ones(4), 2, 2, ValueError),
    (np.eye(4), 1, 3, ValueError), (np.eye(4), 3, False, TypeError)])
def test_interpolation_grid_rejects_bad_input(corners, rows, cols, error):
    with pytest.raises(error):
        latent.interpolation_grid(corners, rows, cols)


# ----------------------------------------------------------------------------- truncate


def test_truncate_redraws_only_the_components_beyond_the_threshold():
    z = np.random.default_rng(8).standard_normal((50, 20)).astype("float32")
    truncated = latent.truncate(z, 1.0, seed=3)
    inside = np.abs(z) <= 1.0
    np.testing.assert_array_equal(truncated[inside], z[inside])
    assert np.all(np.abs(truncated) <= 1.0) and not np.array_equal(truncated, z)
    np.testing.assert_array_equal(latent.truncate(z, 1.0, seed=3), truncated)  # seeded
    np.testing.assert_array_equal(latent.truncate(z, math.inf), z)
    assert truncated.dtype == np.float32 and latent.truncate(z[0], 0.7).shape == (20,)


def test_truncated_components_follow_the_truncated_normal():
    z = np.random.default_rng(1).standard_normal((4000, 50))
    truncated = latent.truncate(z, 0.5, seed=0).ravel().astype(np.float64)
    expected = stats.truncnorm(-0.5, 0.5)
    assert stats.kstest(truncated, expected.cdf).pvalue > 1e-3
    assert truncated.var() == pytest.approx(expected.var(), rel=0.02)  # 0.0792, not 0.25 as for psi * z


def test_truncation_keeps_z_on_a_shell_unlike_scaling():
    """Scaling by psi shrinks the norm towards 0; resampling keeps the norm concentrated, as the prior's is."""
    z = np.random.default_rng(2).standard_normal((2000, 100))
    norms = np.linalg.norm(latent.truncate(z, 1.0), axis=1)
    assert norms.std() / norms.mean() < 0.06
    assert norms.mean() == pytest.approx(np.sqrt(100 * stats.truncnorm(-1, 1).var()), rel=0.01)


@pytest.mark.parametrize("threshold, error", [
    (0.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError), ("a", TypeError), (True, TypeError),
    (None, TypeError)])
def test_truncate_rejects_bad_threshold(threshold, error):
    with pytest.raises(error, match="threshold"):
        latent.truncate(np.ones((2, 3)), threshold)


# ----------------------------------------------------------------------------- attribute arithmetic


def test_attribute_vector_and_apply_attribute_by_hand():
    z_with = [[1.0, 2.0], [3.0, 4.0]]  # mean (2, 3)
    z_without = [[0.0, 1.0]]  # mean (0, 1)
    vector = latent.attribute_vector(z_with, z_without)
    assert vector.dtype == np.float32
    np.testing.assert_array_equal(vector, [2.0, 2.0])
    moved = latent.apply_attribute([[0.0, 0.0], [1.0, -1.0]], vector, 0.5)
    np.testing.assert_array_equal(moved, [[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(latent.apply_attribute([1.0, 1.0], vector, -1.0), [-1.0, -1.0])


def test_attribute_functions_reject_bad_input():
    with pytest.raises(ValueError, match="same latent dimension"):
        latent.attribute_vector(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="empty"):
        latent.attribute_vector(np.ones((0, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        latent.attribute_vector(np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="latent dimension"):
        latent.apply_attribute(np.ones((2, 3)), np.ones(4), 1.0)
    with pytest.raises(ValueError, match="finite"):
        latent.apply_attribute(np.ones((2, 3)), np.ones(3), float("inf"))
    with pytest.raises(TypeError, match="strength"):
        latent.apply_attribute(np.ones((2, 3)), np.ones(3), "strong")
