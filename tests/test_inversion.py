"""Projection into W and W+ on a tiny StyleGAN2 generator: the loss falls, W+ fits at least as well as W, the
returned images are the latents' own, the schedules match StyleGAN2's projector, bad input is refused."""
import keras
import numpy as np
import pytest

from gan_utils import inversion, metrics, models, wspace

LATENT = 8


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    generator = models.stylegan2_generator(LATENT, 3, resolution=32, w_dim=8, mapping_layers=2, filters=(8, 8, 8, 4))
    for layer in generator.synthesis.convs:
        layer.noise_strength.assign(0.3)
    return generator


@pytest.fixture(scope="module")
def targets(generator):
    """Images the generator can draw only with different styles per layer: W+ can fit them, W only roughly."""
    z = np.random.default_rng(5).standard_normal((6, LATENT)).astype("float32")
    mixed = wspace.mix_styles(wspace.ws_from_z(generator, z[:3]), wspace.ws_from_z(generator, z[3:]), range(0, 4))
    return wspace.synthesise(generator, mixed[[0, 1, 2], [0, 1, 2]], noise_seed=0)


def _mse(a, b):
    return float(np.mean((a - b) ** 2))


@pytest.fixture(scope="module")
def projections(generator, targets):
    return {space: inversion.project(generator, targets, space=space, steps=150, seed=0, feature_weight=0)
            for space in inversion.SPACES}


def test_projection_moves_from_w_avg_towards_the_targets(generator, targets, projections):
    start = wspace.synthesise(generator, np.broadcast_to(np.asarray(generator.w_avg), (3, generator.num_ws, 8)))
    for space, (latents, images) in projections.items():
        assert latents.shape == (3, generator.num_ws, 8) and images.shape == targets.shape
        assert _mse(images, targets) < 0.5 * _mse(start, targets), space


def test_w_plus_fits_at_least_as_well_as_w_and_w_keeps_one_w_for_every_layer(targets, projections):
    (w_latents, w_images), (plus_latents, plus_images) = projections["w"], projections["w+"]
    np.testing.assert_array_equal(w_latents, np.broadcast_to(w_latents[:, :1], w_latents.shape))
    assert not np.allclose(plus_latents, plus_latents[:, :1])
    assert metrics.psnr(plus_images, targets).mean() >= metrics.psnr(w_images, targets).mean()


def test_the_returned_images_are_what_the_returned_latents_draw(generator, projections):
    for latents, images in projections.values():
        np.testing.assert_allclose(wspace.synthesise(generator, latents, noise_seed=0, batch_size=1), images,
                                   atol=1e-5)


def test_the_feature_term_uses_the_extractor_and_projection_repeats_with_its_seed(generator, targets):
    extractor = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3, strides=2),
                                  keras.layers.GlobalAveragePooling2D()])
    first = inversion.project(generator, targets[:2], steps=5, extractor=extractor, feature_weight=2.0)
    again = inversion.project(generator, targets[:2], steps=5, extractor=extractor, feature_weight=2.0)
    np.testing.assert_array_equal(first[0], again[0])
    pixels_only = inversion.project(generator, targets[:2], steps=5, feature_weight=0)
    assert not np.allclose(first[0], pixels_only[0])


def test_the_schedules_follow_stylegan2s_projector():
    assert inversion.learning_rate_at(0, 100) == 0.0
    assert inversion.learning_rate_at(2, 100) == pytest.approx(0.1 * 0.4)  # ramp up over the first 5 steps
    assert inversion.learning_rate_at(50, 100) == pytest.approx(0.1)
    assert inversion.learning_rate_at(90, 100) == pytest.approx(0.1 * (0.5 - 0.5 * np.cos(np.pi * 0.4)))
    assert inversion.w_noise_scale_at(0, 100, 2.0) == pytest.approx(0.1)
    assert inversion.w_noise_scale_at(30, 100, 2.0) == pytest.approx(0.1 * (1 - 0.4) ** 2)
    assert inversion.w_noise_scale_at(80, 100, 2.0) == 0.0


def test_w_spread_is_the_rms_distance_of_w_from_w_avg(generator):
    z = np.random.default_rng(0).standard_normal((500, LATENT)).astype("float32")
    w = np.asarray(generator.mapping(z), np.float64) - np.asarray(generator.w_avg, np.float64)
    assert inversion.w_spread(generator, samples=500, seed=0) == pytest.approx(np.sqrt((w ** 2).sum(1).mean()),
                                                                              rel=1e-5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"space": "z"}, ValueError, "space must be one of"),
    ({"steps": 0}, ValueError, "steps"),
    ({"feature_weight": 1.0}, ValueError, "needs an extractor"),
    ({"extractor": "vgg"}, TypeError, "extractor must be"),
])
def test_bad_arguments_are_refused_before_any_work(generator, targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        inversion.project(generator, targets, **{"feature_weight": 0, **kwargs})


def test_images_of_another_size_or_a_generator_without_w_are_refused(generator):
    with pytest.raises(ValueError, match="32x32x3 like the generator"):
        inversion.project(generator, np.zeros((1, 64, 64, 3), "float32"), feature_weight=0)
    with pytest.raises(TypeError, match="not a style-based generator"):
        inversion.project(models.dcgan_generator(LATENT, 1), np.zeros((1, 32, 32, 1), "float32"))
