"""Adaptive discriminator augmentation: each transform against a direct computation, and the controller of p."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import ada

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(-1, 1, (64, 16, 16, 3)).astype("float32")


def seeds(seed=0):
    return keras.random.SeedGenerator(seed)


def test_at_p_zero_nothing_changes():
    np.testing.assert_allclose(np.asarray(ada.augment(IMAGES, 0.0, seeds())), IMAGES, atol=1e-6)


def test_x_flip_mirrors_about_half_the_images_at_p_one_and_leaves_the_rest():
    flipped = np.asarray(ada.x_flip(IMAGES, 1.0, seeds()))
    mirrored = np.array([np.allclose(f, x[:, ::-1]) for f, x in zip(flipped, IMAGES)])
    unchanged = np.array([np.allclose(f, x) for f, x in zip(flipped, IMAGES)])
    assert np.all(mirrored | unchanged) and 16 < mirrored.sum() < 48


def test_a_transform_applies_to_a_fraction_p_of_the_images():
    chosen = np.asarray(ada._chosen(np.zeros((20000, 1, 1, 1), "float32"), 0.3, seeds()))
    assert abs(chosen.mean() - 0.3) < 0.02  # 0.02 is over 6 standard errors at n = 20000


def _reflect_shift(image, dy, dx, pad):
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    height, width = image.shape[:2]
    return padded[pad - dy:pad - dy + height, pad - dx:pad - dx + width]


def test_integer_translation_is_a_reflect_padded_shift_of_at_most_an_eighth():
    shifted = np.asarray(ada.integer_translation(IMAGES, 1.0, seeds(3)))
    pad, moved = 2, 0  # ceil(0.125 * 16)
    for out, image in zip(shifted, IMAGES):
        matches = [(dy, dx) for dy in range(-pad, pad + 1) for dx in range(-pad, pad + 1)
                   if np.allclose(out, _reflect_shift(image, dy, dx, pad))]
        assert matches, "an output is no reflect-padded integer shift of its input"
        moved += matches[0] != (0, 0)
    assert moved > 32


def test_colour_matrices_at_p_zero_are_the_identity():
    np.testing.assert_allclose(np.asarray(ada.colour_matrices(IMAGES, 0.0, seeds())),
                               np.broadcast_to(np.eye(4), (64, 4, 4)), atol=1e-6)


def test_apply_colour_is_the_matrix_product_on_rgb_pixels():
    matrices = np.asarray(ada.colour_matrices(IMAGES, 1.0, seeds(1)))
    got = np.asarray(ada.apply_colour(IMAGES, matrices))
    homogeneous = np.concatenate([IMAGES, np.ones(IMAGES.shape[:3] + (1,), "float32")], axis=-1)
    expected = np.einsum("nij,nhwj->nhwi", matrices, homogeneous)[..., :3]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_hue_and_saturation_leave_grey_alone_and_every_rotation_is_orthogonal():
    matrices = np.asarray(ada.colour_matrices(np.zeros((256, 1, 1, 3), "float32"), 1.0, seeds(2)))
    linear = matrices[:, :3, :3]
    grey = np.ones(3) / np.sqrt(3)
    # brightness adds to all channels, contrast scales; hue, saturation and a luma flip keep grey on the grey axis
    images_of_grey = linear @ grey
    np.testing.assert_allclose(np.cross(images_of_grey, grey), 0.0, atol=1e-5)
    determinants = np.linalg.det(linear)
    assert np.any(determinants < 0) and np.any(determinants > 0)  # some luma flips, some not


def test_a_luma_flip_negates_a_grey_image_and_rotations_keep_colour_norms():
    flip = np.eye(3) - 2 * np.outer(ada.LUMA_AXIS, ada.LUMA_AXIS)
    np.testing.assert_allclose(flip @ np.ones(3), -np.ones(3), atol=1e-6)
    np.testing.assert_allclose(flip @ flip, np.eye(3), atol=1e-6)


def test_grey_images_get_brightness_contrast_and_luma_flip():
    grey = RNG.uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
    matrices = np.asarray(ada.colour_matrices(grey, 1.0, seeds(4)))
    got = np.asarray(ada.apply_colour(grey, matrices))
    rows = matrices[:, :3, :].mean(axis=1)
    np.testing.assert_allclose(got, grey * rows[:, :3].sum(1)[:, None, None, None] + rows[:, 3, None, None, None],
                               atol=1e-5)
    assert got.shape == grey.shape


def test_gradients_reach_every_pixel_through_the_augmentation():
    images = tf.constant(IMAGES)
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(ada.augment(images, 0.5, seeds()))
    gradient = tape.gradient(total, images).numpy()
    assert gradient.shape == IMAGES.shape and np.count_nonzero(gradient) > 0.9 * gradient.size


def test_augment_refuses_an_int_seed():
    with pytest.raises(TypeError, match="SeedGenerator"):
        ada.augment(IMAGES, 0.5, 0)


# The controller.

def test_p_rises_by_the_images_seen_over_the_speed_while_the_discriminator_overfits():
    controller = ada.AdaptiveAugment(target=0.6, speed_images=1000, interval=4)
    for step in range(4):
        controller.observe(np.full((32, 1), 2.0, "float32"))  # every real logit positive: r_t = 1
        assert float(controller.p) == (pytest.approx(128 / 1000) if step == 3 else 0.0)
    assert float(controller.r_t) == pytest.approx(1.0)


def test_p_falls_when_r_t_is_below_the_target_and_never_below_zero():
    controller = ada.AdaptiveAugment(target=0.6, speed_images=1000, interval=2, initial_p=0.1)
    logits = np.array([[1.0], [1.0], [-1.0], [-1.0]], "float32")  # r_t = 0
    for _ in range(2):
        controller.observe(logits)
    assert float(controller.p) == pytest.approx(0.1 - 8 / 1000) and float(controller.r_t) == pytest.approx(0.0)
    for _ in range(200):
        controller.observe(logits)
    assert float(controller.p) == 0.0


def test_the_controller_runs_inside_tf_function_and_its_state_is_checkpointable():
    controller = ada.AdaptiveAugment(speed_images=100, interval=1)
    step = tf.function(lambda logits: controller.observe(logits))
    for _ in range(3):
        step(tf.ones((10, 1)))
    assert float(controller.p) == pytest.approx(0.3)
    assert len(controller.variables) == 5 and controller.p in controller.variables
    stream = keras.random.SeedGenerator(9)
    augmented = tf.function(lambda x: controller.augment(x, stream))(tf.constant(IMAGES[:4]))
    assert augmented.shape == (4, 16, 16, 3)


def _p_after(statistic, real, fake, steps=8):
    controller = ada.AdaptiveAugment(target=0.6, speed_images=1000, interval=4, statistic=statistic)
    for _ in range(steps):
        controller.observe(real, fake)
    return float(controller.p)


def test_the_paired_statistic_ignores_a_constant_added_to_every_logit():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(1.0, 1.0, (32, 1)).astype("float32"), rng.normal(-1.0, 1.0, (32, 1)).astype("float32")
    p = _p_after("pair_sign", real, fake)
    assert p > 0  # D wins most of its pairs: p rises
    for offset in (-5.0, 3.0):  # the relativistic loss leaves this level free; the paired statistic ignores it
        assert _p_after("pair_sign", real + offset, fake + offset) == p
    # the paper's E[sign D(x)] reads the level instead: the same pairs, slid down, switch augmentation off
    assert _p_after("real_sign", real - 5.0, fake - 5.0) == 0.0 < _p_after("real_sign", real, fake)


def test_the_paired_statistic_is_the_share_of_pairs_won_as_a_sign_mean():
    controller = ada.AdaptiveAugment(target=0.6, speed_images=1000, interval=1, statistic="pair_sign")
    real = np.array([[2.0], [0.0], [1.0], [-3.0]], "float32")
    fake = np.array([[1.0], [1.0], [-1.0], [-4.0]], "float32")  # pairs won: 3 of 4
    controller.observe(real, fake)
    assert float(controller.r_t) == pytest.approx(0.5)  # 2 * 3/4 - 1
    assert float(controller.p) == 0.0  # below the target: p stays at 0
    with pytest.raises(ValueError, match="needs the generated images' logits"):
        controller.observe(real)
    with pytest.raises(ValueError, match="statistic must be one of"):
        ada.AdaptiveAugment(statistic="mean_logit")


@pytest.mark.parametrize("arguments, message", [({"target": 1.0}, r"target must be a number in \[0, 1\)"),
                                                ({"speed_images": 0}, "speed_images must be a positive"),
                                                ({"interval": 0}, "interval must be a positive integer"),
                                                ({"initial_p": 1.5}, r"initial_p must be a number in \[0, 1\]")])
def test_bad_controller_settings_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        ada.AdaptiveAugment(**arguments)
