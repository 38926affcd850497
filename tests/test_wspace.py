"""W-space tools on a tiny StyleGAN2 generator: which layer draws which side, style mixing, fixed noise."""
import numpy as np
import pytest

from gan_utils import models, wspace

LATENT = 8


@pytest.fixture(scope="module")
def generator():
    import keras

    keras.utils.set_random_seed(0)
    generator = models.stylegan2_generator(LATENT, 3, resolution=32, w_dim=8, mapping_layers=2, filters=(8, 8, 8, 4))
    for layer in generator.synthesis.convs:  # the noise strengths start at 0: give the noise a visible effect
        layer.noise_strength.assign(0.5)
    return generator


def _z(n, seed=1):
    return np.random.default_rng(seed).standard_normal((n, LATENT)).astype("float32")


def test_layer_sides_follow_the_synthesis_blocks(generator):
    assert wspace.layer_sides(generator) == [4, 8, 8, 16, 16, 32, 32, 32] and generator.num_ws == 8
    assert wspace.layer_groups(generator) == {"coarse": range(0, 3), "middle": range(3, 8)}  # no 64x64 layers
    at_64 = models.stylegan2_generator(LATENT, 3, resolution=64, w_dim=8, mapping_layers=1, filters=(4,) * 5)
    assert wspace.layer_sides(at_64) == [4, 8, 8, 16, 16, 32, 32, 64, 64, 64]
    assert wspace.layer_groups(at_64) == {"coarse": range(0, 3), "middle": range(3, 7), "fine": range(7, 10)}


def test_mixing_takes_the_chosen_layers_from_the_rows_and_the_rest_from_the_columns():
    rows = np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")
    cols = np.random.default_rng(1).normal(size=(3, 6, 4)).astype("float32")
    mixed = wspace.mix_styles(rows, cols, range(1, 3))
    assert mixed.shape == (2, 3, 6, 4)
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(mixed[i, j, 1:3], rows[i, 1:3])
            np.testing.assert_array_equal(mixed[i, j, [0, 3, 4, 5]], cols[j, [0, 3, 4, 5]])
    np.testing.assert_array_equal(wspace.mix_styles(rows, cols, slice(0, 2)), wspace.mix_styles(rows, cols, range(2)))


@pytest.mark.parametrize("layers", [range(0), range(4, 9), "coarse"])
def test_bad_layer_ranges_are_refused(layers):
    ws = np.zeros((1, 6, 4), "float32")
    with pytest.raises(ValueError, match="layers must be"):
        wspace.mix_styles(ws, ws, layers)


def test_a_mixing_grid_with_every_layer_from_the_rows_repeats_each_row(generator):
    grid = wspace.mixing_grid(generator, _z(2), _z(3, seed=2), range(generator.num_ws))
    assert grid.shape == (2, 3, 32, 32, 3)
    np.testing.assert_allclose(grid[:, 0], grid[:, 2], atol=1e-5)  # styles all from the row: columns agree
    assert not np.allclose(grid[0, 0], grid[1, 0], atol=1e-3)


def test_an_image_depends_on_its_ws_and_the_noise_seed_alone(generator):
    ws = wspace.ws_from_z(generator, _z(5))
    together = wspace.synthesise(generator, ws, noise_seed=3)
    alone = wspace.synthesise(generator, ws[2:3], noise_seed=3)
    in_twos = wspace.synthesise(generator, ws, noise_seed=3, batch_size=2)
    np.testing.assert_allclose(together[2:3], alone, atol=1e-5)
    np.testing.assert_allclose(together, in_twos, atol=1e-5)
    assert not np.allclose(together, wspace.synthesise(generator, ws, noise_seed=4), atol=1e-4)
    assert together.min() >= -1 and together.max() <= 1


def test_ws_from_z_truncates_towards_w_avg(generator):
    ws, at_avg = wspace.ws_from_z(generator, _z(3)), wspace.ws_from_z(generator, _z(3), psi=0.0)
    np.testing.assert_allclose(at_avg, np.broadcast_to(np.asarray(generator.w_avg), ws.shape), atol=1e-6)
    half = wspace.ws_from_z(generator, _z(3), psi=0.5)
    np.testing.assert_allclose(half, 0.5 * (ws + at_avg), atol=1e-5)


def test_a_generator_without_w_space_and_misshapen_ws_are_refused(generator):
    dcgan = models.dcgan_generator(LATENT, 1)
    with pytest.raises(TypeError, match="not a style-based generator"):
        wspace.ws_from_z(dcgan, _z(1))
    with pytest.raises(ValueError, match=r"\(N, num_ws, w_dim\)"):
        wspace.synthesise(generator, np.zeros((2, 3, 8), "float32"))


def test_truncated_sample_at_psi_1_is_train_sample_exactly_noise_and_all(generator):
    from gan_utils import train

    untruncated = wspace.truncated_sample(generator, 5, psi=1.0, seed=3)
    np.testing.assert_array_equal(untruncated, train.sample(generator, 5, seed=3))  # the same z and noise for a seed
    assert untruncated.shape == (5, 32, 32, 3) and untruncated.dtype == np.float32
    assert not np.allclose(wspace.truncated_sample(generator, 5, psi=0.5, seed=3), untruncated, atol=1e-3)


def test_truncated_sample_draws_the_images_of_the_truncated_ws_of_train_samples_z():
    import keras

    from gan_utils import latent

    keras.utils.set_random_seed(1)
    quiet = models.stylegan2_generator(LATENT, 3, resolution=32, w_dim=8, mapping_layers=2, filters=(8, 8, 8, 4))
    quiet.w_avg.assign(np.random.default_rng(0).normal(size=8).astype("float32"))  # noise strengths stay 0
    half = wspace.ws_from_z(quiet, latent.normal_latents(4, LATENT, seed=2), psi=0.5)
    np.testing.assert_allclose(wspace.truncated_sample(quiet, 4, psi=0.5, seed=2),
                               wspace.synthesise(quiet, half, noise_seed=None), atol=1e-5)
    at_avg = wspace.truncated_sample(quiet, 4, psi=0.0, seed=2)
    np.testing.assert_allclose(at_avg, np.broadcast_to(at_avg[:1], at_avg.shape), atol=1e-6)  # w_avg's image for all


@pytest.mark.parametrize("psi", [float("nan"), float("inf"), True, "0.7"])
def test_truncated_sample_refuses_a_psi_that_is_not_a_finite_number(generator, psi):
    with pytest.raises(ValueError, match="psi must be a finite number"):
        wspace.truncated_sample(generator, 2, psi=psi)


def test_truncated_sample_refuses_a_generator_without_w_space():
    with pytest.raises(TypeError, match="not a style-based generator"):
        wspace.truncated_sample(models.dcgan_generator(LATENT, 1), 2, psi=0.7)
