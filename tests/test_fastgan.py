"""FastGAN's networks: GLU, the quarter crop, skip-layer excitation, the self-supervised loss and a tiny run."""
import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import data, models, recipes, settings, train
from gan_utils.models import fastgan

TINY_FASTGAN = dataclasses.replace(
    recipes.RECIPES["fastgan"], name="tiny-fastgan", latent_dim=8, batch_size=8,
    generator={"widths": (16, 8, 8, 8, 4)}, discriminator={"widths": (4, 4, 8, 8), "decoder_widths": (8, 4)})
RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(-1, 1, (8, 64, 64, 3)).astype("float32")


def test_glu_is_the_first_half_times_the_sigmoid_of_the_second():
    x = RNG.normal(size=(2, 3, 3, 6)).astype("float32")
    expected = x[..., :3] / (1.0 + np.exp(-x[..., 3:]))
    np.testing.assert_allclose(np.asarray(fastgan.GLU()(x)), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="number must be even"):
        fastgan.GLU().compute_output_shape((None, 4, 4, 5))


@pytest.mark.parametrize("part, rows, cols", [(0, slice(0, 4), slice(0, 4)), (1, slice(0, 4), slice(4, 8)),
                                              (2, slice(4, 8), slice(0, 4)), (3, slice(4, 8), slice(4, 8))])
def test_the_quarter_crop_takes_the_named_quarter(part, rows, cols):
    x = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
    cropped = fastgan.QuarterCrop()(x, np.array([part], "int32"))
    np.testing.assert_array_equal(np.asarray(cropped), x[:, rows, cols])


def _networks(seed=0):
    settings.seed_everything(seed)
    return TINY_FASTGAN.build_models(3)


def test_the_generator_draws_64x64_images_in_range_with_nearest_upsampling_only():
    generator, _ = _networks()
    images = np.asarray(generator(RNG.normal(size=(4, 8)).astype("float32"), training=False))
    assert images.shape == (4, 64, 64, 3) and np.abs(images).max() <= 1.0
    ups = [layer for layer in generator.layers if isinstance(layer, fastgan.NearestUpConv2D)]
    assert len(ups) == 4  # every doubling is nearest-neighbour, then a convolution
    assert not any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in generator.layers)


@pytest.mark.parametrize("shape", [(2, 5, 6, 3), (1, 4, 4, 2)])
def test_nearest_up_conv_is_upsampling_then_a_3x3_convolution(shape):
    x = RNG.normal(size=shape).astype("float32")
    layer = fastgan.NearestUpConv2D(4)
    got = np.asarray(layer(x))
    reference = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)
    reference.build((None, 2 * shape[1], 2 * shape[2], shape[3]))
    reference.kernel.assign(layer.kernel)
    expected = np.asarray(reference(keras.layers.UpSampling2D(2, interpolation="nearest")(x)))
    assert got.shape == (shape[0], 2 * shape[1], 2 * shape[2], 4)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)  # the borders' zero padding included


def test_skip_layer_excitation_gates_the_fine_features_by_the_coarse_ones():
    generator, _ = _networks()
    gates = keras.Model(generator.input, [generator.get_layer("sle64_gates").output,
                                          generator.get_layer("up8_glu2").output])
    z = RNG.normal(size=(3, 8)).astype("float32")
    values, coarse = (np.asarray(v) for v in gates(z, training=False))
    assert values.shape == (3, 1, 1, 4) and ((values > 0) & (values < 1)).all()  # one gate per channel and image
    assert not np.allclose(values[0], values[1])  # the gates follow each image's own 8x8 features
    excite = generator.get_layer("sle64_excite")
    big = keras.Model(generator.input, excite.input[0])(z, training=False)
    np.testing.assert_allclose(np.asarray(excite([big, values])), np.asarray(big) * values, rtol=1e-6)


def test_the_discriminator_gives_fifty_patch_logits_and_the_reconstruction_loss_as_defined():
    _, discriminator = _networks()
    logits = np.asarray(discriminator(IMAGES, training=False))
    assert logits.shape == (8, 50)
    part = np.array([1], "int32")  # the top-right quarter
    same_logits, loss = discriminator.self_supervised(IMAGES, part, training=False)
    np.testing.assert_allclose(np.asarray(same_logits), logits, rtol=1e-5, atol=1e-6)
    _, feat8, feat16, small8 = (np.asarray(v) for v in discriminator.encoder(IMAGES, training=False))
    halved = IMAGES.reshape(8, 32, 2, 32, 2, 3).mean(axis=(2, 4))
    expected = (np.abs(np.asarray(discriminator.decoder_whole(feat8, training=False)) - halved).mean()
                + np.abs(np.asarray(discriminator.decoder_small(small8, training=False)) - halved).mean()
                + np.abs(np.asarray(discriminator.decoder_part(feat16[:, :8, 8:], training=False))
                         - IMAGES[:, :32, 32:]).mean())
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_the_decoders_belong_to_the_discriminator_and_train_with_it():
    _, discriminator = _networks()
    names = {v.path for v in discriminator.trainable_variables}
    for decoder in (discriminator.decoder_whole, discriminator.decoder_part, discriminator.decoder_small):
        assert {v.path for v in decoder.trainable_variables} <= names
    with tf.GradientTape() as tape:
        _, loss = discriminator.self_supervised(IMAGES, np.array([0], "int32"), training=True)
    gradients = tape.gradient(loss, discriminator.decoder_part.trainable_variables)
    assert all(g is not None and np.abs(np.asarray(g)).max() > 0 for g in gradients)


def test_a_tiny_fastgan_run_trains_and_logs_its_reconstruction(tmp_path):
    dataset = data.ImageDataset("random64", IMAGES.repeat(4, axis=0), None, None)
    result = train.train_run(tmp_path, dataset, TINY_FASTGAN, epochs=1, seed=0, verbose=False)
    row = result.history[-1]
    assert {"d_loss", "g_loss", "d_reconstruction"} <= set(row) and all(np.isfinite(v) for v in row.values())
    assert row["d_reconstruction"] > 0
    images = train.sample(train.load_generator(tmp_path), 4, seed=1)
    assert images.shape == (4, 64, 64, 3)


@pytest.mark.parametrize("arguments, message", [
    ({"resolution": 32}, "built for 64x64"),
    ({"num_classes": 3}, "unconditional"),
    ({"widths": (8, 8)}, "widths must give 5 channel counts"),
])
def test_bad_generator_arguments_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        models.fastgan_generator(8, 3, **arguments)


def test_reconstruction_needs_a_self_supervised_discriminator():
    with pytest.raises(ValueError, match="has none"):
        train.build_gan(dataclasses.replace(recipes.RECIPES["dcgan64"], reconstruction=1.0), 3, seed=0)
    with pytest.raises(ValueError, match="fastgan networks are built for 64x64"):
        recipes.RECIPES["fastgan"].at_resolution(32)
