"""pix2pix's U-Net and PatchGAN: shapes, skip connections, where the norms act, dropout kept on at sampling, the
PatchGAN's receptive field by the formula and measured on the network, saving, and the input checks."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import models
from gan_utils.models import unet

TINY = {"width": 4, "max_width": 16}  # fast on a CPU; the structure is the same as at full width


def _images(n, resolution=32, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, resolution, resolution, channels)).astype("float32")


def _norm_layers(model):
    return [layer for layer in model.layers
            if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.GroupNormalization))]


@pytest.mark.parametrize("resolution, channels_in, channels_out", [(8, 1, None), (32, 3, None), (64, 3, 1),
                                                                   (32, 1, 3)])
def test_generator_maps_images_to_images_of_the_same_side_in_minus_one_to_one(resolution, channels_in, channels_out):
    generator = models.unet_generator(resolution, channels_in, channels_out, **TINY)
    output = np.asarray(generator(_images(2, resolution, channels_in) * 5, training=False))
    assert output.shape == (2, resolution, resolution, channels_out or channels_in)
    assert output.dtype == np.float32
    assert -1 <= output.min() and output.max() <= 1


@pytest.mark.parametrize("resolution", [8, 32, 64])
def test_generator_has_one_skip_connection_per_level_but_the_bottleneck(resolution):
    generator = models.unet_generator(resolution, **TINY)
    levels = resolution.bit_length() - 1
    skips = [layer for layer in generator.layers if isinstance(layer, keras.layers.Concatenate)]
    assert len(skips) == levels - 1
    for j, skip in enumerate(skips, start=1):  # up{j} and the encoder level of the same size, side by side
        encoder = generator.get_layer(f"down{levels - j}_act").output
        assert tuple(skip.output.shape[1:]) == (*encoder.shape[1:3], 2 * encoder.shape[-1])
    assert tuple(generator.get_layer(f"down{levels}").output.shape[1:3]) == (1, 1)


@pytest.mark.parametrize("norm", unet.NORMS)
def test_no_norm_acts_on_the_1x1_bottleneck_or_the_outermost_level(norm):
    generator = models.unet_generator(32, norm=norm, **TINY)
    norms = _norm_layers(generator)
    assert norms and all(layer.input.shape[1] > 1 for layer in norms)
    names = {layer.name for layer in norms}
    assert "down1_norm" not in names and "down5_norm" not in names
    assert {"down2_norm", "down4_norm", "up1_norm", "up4_norm"} <= names


def test_instance_norm_is_group_normalization_with_one_group_per_channel():
    generator = models.unet_generator(32, norm="instance", **TINY)
    discriminator = models.patchgan_discriminator(32, norm="instance", **TINY)
    for model in (generator, discriminator):
        norms = _norm_layers(model)
        assert norms and all(isinstance(layer, keras.layers.GroupNormalization) for layer in norms)
        # Keras replaces groups=-1 by the channel count when the layer is built
        assert all(layer.groups == layer.input.shape[-1] for layer in norms)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in generator.layers)


def test_always_dropout_is_on_without_training_and_rate_zero_is_the_identity():
    x = np.ones((4, 10_000), "float32")
    layer = models.AlwaysDropout(0.5, seed=1)
    first, second = np.asarray(layer(x, training=False)), np.asarray(layer(x, training=False))
    assert not np.array_equal(first, second)
    assert 0.47 < np.mean(first == 0) < 0.53
    np.testing.assert_array_equal(first[first != 0], 2.0)  # survivors scaled by 1 / (1 - rate)
    identity = models.AlwaysDropout(0.0, seed=1)
    np.testing.assert_array_equal(identity(x, training=False), x)
    np.testing.assert_array_equal(identity(x, training=True), x)


def test_always_dropout_config_round_trips_and_checks_its_rate():
    layer = models.AlwaysDropout(0.25, seed=7, name="noise")
    clone = models.AlwaysDropout.from_config(layer.get_config())
    assert (clone.rate, clone.seed, clone.name) == (0.25, 7, "noise")
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        models.AlwaysDropout(1.0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        models.AlwaysDropout(0.5, seed="0")


@pytest.mark.parametrize("resolution, dropout_layers", [(8, 2), (32, 3)])
def test_dropout_sits_on_the_decoder_levels_nearest_the_bottleneck(resolution, dropout_layers):
    generator = models.unet_generator(resolution, **TINY)
    names = [layer.name for layer in generator.layers if isinstance(layer, models.AlwaysDropout)]
    assert names == [f"up{j}_dropout" for j in range(1, dropout_layers + 1)]


def test_generator_samples_are_random_with_dropout_and_deterministic_without():
    x = _images(2)
    noisy = models.unet_generator(32, dropout=0.5, **TINY)
    assert not np.allclose(noisy(x, training=False), noisy(x, training=False))
    quiet = models.unet_generator(32, dropout=0.0, **TINY)
    np.testing.assert_array_equal(quiet(x, training=False), quiet(x, training=False))


def test_batch_norm_uses_its_moving_statistics_at_sampling():
    generator = models.unet_generator(32, dropout=0.0, **TINY)
    batch = _images(4, seed=3)
    alone = np.asarray(generator(batch[:1], training=False))
    np.testing.assert_allclose(alone, np.asarray(generator(batch, training=False))[:1], atol=1e-5)
    # the check has teeth: with batch statistics the same image comes out differently in another batch
    assert not np.allclose(generator(batch[:1], training=True), np.asarray(generator(batch, training=True))[:1],
                           atol=1e-3)


def test_receptive_field_formula_gives_pix2pix_70_and_this_books_34():
    assert unet.patchgan_layers(3) == [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]
    assert unet.receptive_field(unet.patchgan_layers(3)) == 70
    assert unet.receptive_field(unet.patchgan_layers(2)) == 34
    assert unet.receptive_field([]) == 1
    assert unet.receptive_field([(3, 1), (3, 1)]) == 5  # two 3x3 convs see 5x5
    with pytest.raises(TypeError, match=r"\(kernel, stride\) pair"):
        unet.receptive_field([(4, 2, 1)])
    with pytest.raises(ValueError, match="downsamples must be a positive integer"):
        unet.patchgan_layers(0)


def _support(mask):
    """(first, last) index along each axis of the nonzero entries of a 2-D mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return (rows[0], rows[-1]), (cols[0], cols[-1])


@pytest.mark.parametrize("downsamples, resolution", [(2, 64), (3, 128)])  # 70 pixels need an image wider than 64
def test_measured_receptive_field_of_the_built_patchgan_matches_the_formula(downsamples, resolution):
    keras.utils.set_random_seed(0)
    discriminator = models.patchgan_discriminator(resolution, downsamples=downsamples, conditional=False, **TINY)
    field = unet.receptive_field(unet.patchgan_layers(downsamples))
    image = tf.constant(_images(1, resolution, seed=1))
    centre = discriminator.output.shape[1] // 2
    with tf.GradientTape() as tape:
        tape.watch(image)
        logit = discriminator(image, training=False)[0, centre, centre, 0]
    seen = np.abs(np.asarray(tape.gradient(logit, image))[0]).sum(axis=-1) > 0
    (top, bottom), (left, right) = _support(seen)
    assert bottom - top + 1 == field and right - left + 1 == field
    assert seen[top:bottom + 1, left:right + 1].all()  # the whole square, not only its outline
    # the same by finite differences: an impulse on the field's edge moves the logit, one pixel beyond does not
    rows = (top, bottom, top - 1, bottom + 1)
    impulses = np.repeat(np.asarray(image), len(rows) + 1, axis=0)
    for i, row in enumerate(rows, start=1):
        impulses[i, row, (left + right) // 2, :] += 1.0
    logits = np.asarray(discriminator(impulses, training=False))[:, centre, centre, 0]
    change = np.abs(logits[1:] - logits[0])
    assert change[0] > 1e-6 and change[1] > 1e-6
    assert change[2] == 0 and change[3] == 0


@pytest.mark.parametrize("downsamples, side", [(2, 14), (3, 6)])
def test_patchgan_gives_a_map_of_patch_logits_at_64(downsamples, side):
    conditional = models.patchgan_discriminator(64, 3, 1, downsamples=downsamples, **TINY)
    assert [tuple(x.shape[1:]) for x in conditional.inputs] == [(64, 64, 3), (64, 64, 1)]
    logits = conditional([_images(2, 64, 3), _images(2, 64, 1, seed=1)], training=False)
    assert logits.shape == (2, side, side, 1) and logits.dtype == "float32"
    unconditional = models.patchgan_discriminator(64, conditional=False, downsamples=downsamples, **TINY)
    assert len(unconditional.inputs) == 1
    assert unconditional(_images(2, 64), training=False).shape == (2, side, side, 1)
    assert np.asarray(logits).min() < 0 < np.asarray(logits).max()  # raw logits: no sigmoid squeezes them


def test_pix2pix_patchgan_at_256_gives_its_30x30_map():
    discriminator = models.patchgan_discriminator(256, downsamples=3, width=2, max_width=4)
    assert tuple(discriminator.output.shape[1:]) == (30, 30, 1)


def test_generator_survives_a_keras_file_round_trip(tmp_path):
    generator = models.unet_generator(32, **TINY)
    generator.save(tmp_path / "unet.keras")
    loaded = keras.models.load_model(tmp_path / "unet.keras", safe_mode=True)
    for saved, restored in zip(generator.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)
    dropouts = [(layer.rate, layer.seed) for layer in loaded.layers if isinstance(layer, models.AlwaysDropout)]
    assert dropouts == [(0.5, 0), (0.5, 1), (0.5, 2)]
    x = _images(1)  # the dropout streams were saved too: the first samples of both agree
    np.testing.assert_allclose(loaded(x, training=False), generator(x, training=False), atol=1e-6)


@pytest.mark.parametrize("arguments, message", [
    ({"resolution": 48}, "resolution must be a power of two, at least 8"),
    ({"resolution": 4}, "resolution must be a power of two, at least 8"),
    ({"resolution": True}, "resolution must be a power of two"),
    ({"norm": "layer"}, "norm must be one of 'batch', 'instance'"),
    ({"width": 0}, "width must be a positive integer"),
    ({"width": 2.5}, "width must be a positive integer"),
    ({"width": 64, "max_width": 32}, "max_width .* must be at least width"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"dropout": -0.1}, r"dropout must be in \[0, 1\)"),
    ({"channels_in": 0}, "channels_in must be a positive integer"),
])
def test_generator_rejects_bad_arguments_with_a_clear_message(arguments, message):
    with pytest.raises(ValueError, match=message):
        models.unet_generator(**arguments)


def test_generator_and_discriminator_reject_wrong_types():
    with pytest.raises(TypeError, match="dropout must be a number"):
        models.unet_generator(dropout="0.5")
    with pytest.raises(TypeError, match="conditional must be True or False"):
        models.patchgan_discriminator(conditional=1)


@pytest.mark.parametrize("arguments, message", [
    ({"resolution": 16, "downsamples": 3}, "at least 32 .*downsamples=3"),
    ({"resolution": 100}, "resolution must be a power of two"),
    ({"norm": "none"}, "norm must be one of"),
    ({"downsamples": 0}, "downsamples must be a positive integer"),
])
def test_discriminator_rejects_bad_arguments_with_a_clear_message(arguments, message):
    with pytest.raises(ValueError, match=message):
        models.patchgan_discriminator(**arguments)
