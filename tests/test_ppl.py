"""Perceptual path length against closed forms: a linear stand-in generator whose path lengths are known exactly."""
import keras
import numpy as np
import pytest

from gan_utils import ppl

# mapping z (16) -> w (2); in 16 dimensions no pair of z is near antiparallel, where slerp divides by sin(omega) ~ 0
M = (0.1 * np.random.default_rng(0).standard_normal((16, 2))).astype("float32")
A = np.array([[0.05, -0.1, 0.02, 0.07], [0.08, 0.03, -0.06, 0.01]], "float32")  # synthesis w -> 2x2 image


class LinearStyleGenerator:
    """mapping(z) = z M and synthesis(ws) = ws[:, 0] A: a style-based generator whose path lengths have closed forms."""

    latent_dim, num_ws, w_avg = 16, 2, np.zeros(2, "float32")

    def __init__(self):
        self.mapping = keras.Sequential([keras.Input((16,)), keras.layers.Dense(2, use_bias=False)])
        self.mapping.set_weights([M])

    def seed_noise(self, seed):
        pass

    def synthesis(self, ws, noise=True, shared_noise=False):
        return (np.asarray(ws)[:, 0] @ A).reshape(-1, 2, 2, 1)


class PixelFeatures:
    def features(self, images):
        return np.asarray(images, np.float64).reshape(len(images), -1)


def _draws(n, seed, epsilon=ppl.EPSILON):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((2, n, 16)).astype("float32")
    return z, rng.uniform(0.0, 1.0 - epsilon, n)


def test_the_length_in_w_is_the_squared_image_change_of_the_straight_line():
    lengths = ppl.path_lengths(LinearStyleGenerator(), PixelFeatures(), space="w", n=50, seed=3)
    z, _ = _draws(50, 3)
    expected = np.sum(((z[1] - z[0]) @ M @ A).astype(np.float64) ** 2, axis=1)  # linear: |d image / dt|^2
    np.testing.assert_allclose(lengths, expected, rtol=2e-2)


def test_the_length_in_z_follows_the_derivative_of_slerp():
    lengths = ppl.path_lengths(LinearStyleGenerator(), PixelFeatures(), space="z", n=50, seed=4)
    z, t = _draws(50, 4)
    z0, z1 = z.astype(np.float64)
    unit0, unit1 = z0 / np.linalg.norm(z0, axis=1, keepdims=True), z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    omega = np.arccos(np.sum(unit0 * unit1, axis=1))[:, None]
    velocity = omega / np.sin(omega) * (-np.cos((1 - t[:, None]) * omega) * z0 + np.cos(t[:, None] * omega) * z1)
    np.testing.assert_allclose(lengths, np.sum((velocity @ M @ A) ** 2, axis=1), rtol=2e-2)


def test_the_summary_drops_the_tails_before_averaging():
    lengths = np.r_[np.full(198, 2.0), 1000.0, 0.0]
    assert ppl.summary(lengths) == pytest.approx(2.0)
    assert ppl.summary(np.arange(1, 101.0)) == pytest.approx(np.arange(1, 101.0)[1:-1].mean(), rel=2e-3)


@pytest.mark.parametrize("kwargs, match", [({"space": "w+"}, "space must be"), ({"epsilon": 0.5}, "epsilon"),
                                           ({"n": 0}, "n")])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ppl.path_lengths(LinearStyleGenerator(), PixelFeatures(), **kwargs)
