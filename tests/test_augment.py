"""DiffAugment: shapes kept, gradients flow, each transform does what it says, randomness is fresh and repeatable."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import augment

RNG = np.random.default_rng(0)
SIZE = 32
TRANSFORMS = list(augment.POLICIES)
FULL = tuple(augment.POLICIES)


def random_images(n=8, channels=3):
    return RNG.uniform(-1, 1, (n, SIZE, SIZE, channels)).astype("float32")


def one_hot_images(positions, channels=1):
    """-1 everywhere except one pixel of value 1 per image, at (y, x) from `positions`."""
    images = -np.ones((len(positions), SIZE, SIZE, channels), "float32")
    for i, (y, x) in enumerate(positions):
        images[i, y, x] = 1.0
    return images


def bright_pixel(image):
    """(y, x) of every pixel above 0 in a (H, W, C) image."""
    return [tuple(p) for p in np.argwhere(np.asarray(image).max(axis=-1) > 0)]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("policy", [[name] for name in TRANSFORMS] + [FULL])
def test_shape_and_dtype_are_preserved(policy, channels):
    images = random_images(4, channels)
    out = augment.diff_augment(images, keras.random.SeedGenerator(0), policy)
    assert out.shape == images.shape
    assert out.dtype == tf.float32


@pytest.mark.parametrize("policy", [[name] for name in TRANSFORMS] + [FULL])
def test_gradients_flow_through_every_transform(policy):
    images = tf.Variable(random_images(4))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(augment.diff_augment(images, keras.random.SeedGenerator(0), policy))
    grad = tape.gradient(total, images)
    assert grad is not None
    grad = tf.convert_to_tensor(grad).numpy()
    assert np.all(np.isfinite(grad))
    assert np.abs(grad).sum() > 0


def test_translation_moves_a_bright_pixel_by_an_allowed_integer_offset_and_fills_with_zero():
    ratio, start = 0.125, (16, 16)
    limit = int(ratio * SIZE + 0.5)
    images = one_hot_images([start] * 16)
    out = augment.translation(images, keras.random.SeedGenerator(1), ratio=ratio).numpy()
    for image in out:
        [(y, x)] = bright_pixel(image)
        assert abs(y - start[0]) <= limit and abs(x - start[1]) <= limit
        assert image[y, x, 0] == 1.0
        dy, dx = abs(y - start[0]), abs(x - start[1])
        assert np.sum(image == 0.0) == SIZE * SIZE - (SIZE - dy) * (SIZE - dx)  # the shifted-in border strips


def test_translation_fills_the_vacated_border_with_zero_as_the_paper_pads():
    out = augment.translation(np.full((16, SIZE, SIZE, 3), -1.0, "float32"), keras.random.SeedGenerator(2)).numpy()
    # Every pixel is either an original -1 or the shifted-in 0, and some images did move.
    assert set(np.unique(out)) <= {0.0, -1.0}
    assert np.any(out == 0.0)


def test_translation_with_ratio_zero_is_the_identity():
    images = random_images(4)
    out = augment.translation(images, keras.random.SeedGenerator(0), ratio=0.0)
    np.testing.assert_array_equal(out.numpy(), images)


def test_cutout_zeros_one_clipped_square_per_image_and_leaves_the_rest_unchanged():
    ratio = 0.5
    side = int(ratio * SIZE + 0.5)
    images = RNG.uniform(0.1, 1.0, (32, SIZE, SIZE, 3)).astype("float32")  # no zeros before cutout
    out = augment.cutout(images, keras.random.SeedGenerator(3), ratio=ratio).numpy()
    for before, after in zip(images, out):
        changed = np.any(after != before, axis=-1)
        assert np.all(after[changed] == 0.0)
        np.testing.assert_array_equal(after[~changed], before[~changed])
        ys, xs = np.nonzero(changed)
        assert 0 < changed.sum() <= side * side
        height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert changed.sum() == height * width  # one solid rectangle: the square, clipped at borders
        assert height <= side and width <= side
    assert any(np.sum(np.any(a != b, axis=-1)) == side * side for a, b in zip(images, out))


def test_colour_changes_values_but_a_constant_image_stays_constant():
    images = random_images(4)
    out = augment.colour(images, keras.random.SeedGenerator(4)).numpy()
    assert not np.allclose(out, images)
    constant = np.full((4, SIZE, SIZE, 3), 0.3, "float32")
    out = augment.colour(constant, keras.random.SeedGenerator(4)).numpy()
    for image in out:  # brightness shifts the level; saturation and contrast have no spread to scale
        np.testing.assert_allclose(image, image.flat[0], atol=1e-6)
    assert not np.allclose(out[:, 0, 0, 0], 0.3)


def test_colour_keeps_grayscale_images_at_one_channel():
    out = augment.colour(random_images(4, channels=1), keras.random.SeedGenerator(5))
    assert out.shape == (4, SIZE, SIZE, 1)


def test_one_seed_generator_gives_different_augmentations_on_successive_calls():
    images, seeds = random_images(4), keras.random.SeedGenerator(6)
    first = augment.diff_augment(images, seeds).numpy()
    second = augment.diff_augment(images, seeds).numpy()
    assert not np.allclose(first, second)


def test_two_seed_generators_with_the_same_seed_give_identical_results():
    images = random_images(4)
    first = augment.diff_augment(images, keras.random.SeedGenerator(7)).numpy()
    second = augment.diff_augment(images, keras.random.SeedGenerator(7)).numpy()
    np.testing.assert_array_equal(first, second)


def test_different_images_in_a_batch_get_different_transforms():
    images = np.repeat(random_images(1), 8, axis=0)  # eight copies of one image
    out = augment.diff_augment(images, keras.random.SeedGenerator(8)).numpy()
    assert len({out[i].tobytes() for i in range(8)}) == 8


def test_the_same_seed_state_applies_the_same_shift_to_real_and_fake_batches():
    # diff_augment is a pure function of (images, seed state, policy): different images at the
    # same batch positions get the same offsets, so one policy treats both branches alike.
    real = one_hot_images([(10, 10)] * 8)
    fake = one_hot_images([(20, 14)] * 8)
    moved_real = augment.diff_augment(real, keras.random.SeedGenerator(9), ["translation"]).numpy()
    moved_fake = augment.diff_augment(fake, keras.random.SeedGenerator(9), ["translation"]).numpy()
    offsets = []
    for r, f in zip(moved_real, moved_fake):
        [(ry, rx)], [(fy, fx)] = bright_pixel(r), bright_pixel(f)
        assert (ry - 10, rx - 10) == (fy - 20, fx - 14)
        offsets.append((ry - 10, rx - 10))
    assert len(set(offsets)) > 1


def test_inside_tf_function_each_call_draws_fresh_randomness():
    seeds = keras.random.SeedGenerator(10)
    step = tf.function(lambda x: augment.diff_augment(x, seeds))
    images = random_images(4)
    first, second = step(images).numpy(), step(images).numpy()
    assert first.shape == images.shape
    assert not np.allclose(first, second)


def test_an_empty_policy_returns_the_input_unchanged():
    images = random_images(2)
    np.testing.assert_array_equal(np.asarray(augment.diff_augment(images, keras.random.SeedGenerator(0), ())), images)


def test_an_unknown_policy_name_raises_a_value_error_listing_the_valid_names():
    with pytest.raises(ValueError, match="colour, translation, cutout"):
        augment.diff_augment(random_images(2), keras.random.SeedGenerator(0), ["colour", "flip"])
