"""R3GAN's generator and discriminator: shapes, fix-up initialisation, the bases, per-sample scoring, saving."""
import dataclasses
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_utils import losses, models
from gan_utils.models import r3gan
from tests.fixtures import TINY_RECIPE

TINY_RESOLUTION = 32
TINY_G = {"widths": (16, 16, 8, 8), "cardinality": (4, 2, 2, 1), "blocks_per_stage": (1, 2, 1, 1)}
TINY_D = {key: value[::-1] for key, value in TINY_G.items()}
LATENT = 8


def _tiny(resolution):
    """(generator, discriminator) stage arguments at `resolution`, from the 32x32 ones by add_or_drop_stages."""
    return models.add_or_drop_stages(TINY_G, TINY_D, resolution.bit_length() - TINY_RESOLUTION.bit_length())


def _networks(resolution=32, channels=3):
    g_args, d_args = _tiny(resolution)
    return (models.r3gan_generator(LATENT, channels, resolution=resolution, **g_args),
            models.r3gan_discriminator(channels, resolution=resolution, **d_args))


def _latent(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, LATENT)).astype("float32")


def _images(n, resolution=32, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, resolution, resolution, channels)).astype("float32")


def _perturbed(model, seed=0):
    """model with N(0, 0.05) added to every weight, so the zero-initialised convolutions take part."""
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


def _outputs(model, names, inputs):
    """The outputs of the named layers of model for inputs, as numpy arrays."""
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    return [np.asarray(x) for x in keras.tree.flatten(probe(inputs))]  # one output comes back unwrapped


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_one_stage_per_resolution_from_4x4_to_the_image_in_both_networks(resolution):
    generator, discriminator = _networks(resolution, channels=1)
    stages = resolution.bit_length() - 2
    g_shapes, d_shapes = dict(models.layer_shapes(generator)), dict(models.layer_shapes(discriminator))
    assert generator(_latent(2)).shape == (2, resolution, resolution, 1)
    assert discriminator(_images(2, resolution, 1)).shape == (2, 1)
    g_widths, d_widths = _tiny(resolution)[0]["widths"], _tiny(resolution)[1]["widths"]
    for i in range(1, stages + 1):
        g_side, d_side = 2 ** (i + 1), resolution // 2 ** (i - 1)
        assert g_shapes[f"stage{i}_block1_add"] == (g_side, g_side, g_widths[i - 1])
        assert d_shapes[f"stage{i}_block1_add"] == (d_side, d_side, d_widths[i - 1])
    assert g_shapes["stage1_basis"] == (4, 4, 16) and g_shapes["to_image"] == (resolution, resolution, 1)
    assert d_shapes[f"stage{stages}_basis"] == (1, 1, 16) and d_shapes["logit"] == (1,)


@pytest.mark.parametrize("part", ["generator", "discriminator"])
def test_every_residual_block_is_the_identity_at_initialisation(part):
    generator, discriminator = _networks()
    model, inputs = (generator, _latent(3)) if part == "generator" else (discriminator, _images(3))
    adds = [layer for layer in model.layers if layer.name.endswith("_add")]
    assert len(adds) == 5
    probe = keras.Model(model.input, [tensor for layer in adds for tensor in (layer.input[0], layer.output)])
    values = [np.asarray(x) for x in probe(inputs)]
    for layer, block_input, block_output in zip(adds, values[::2], values[1::2]):
        assert np.abs(block_input).max() > 0, layer.name
        np.testing.assert_array_equal(block_output, block_input, err_msg=layer.name)


def test_at_initialisation_both_networks_are_linear_in_their_input():
    # identity blocks leave basis, transitions, resampling and the 1x1 convs, none with a bias
    generator, discriminator = _networks()
    z, images = _latent(2), _images(2)
    np.testing.assert_allclose(generator(2.5 * z), 2.5 * np.asarray(generator(z)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(discriminator(-3 * images), -3 * np.asarray(discriminator(images)), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("part", ["generator", "discriminator"])
def test_fixup_scales_each_blocks_first_two_convolutions_by_the_number_of_blocks(part):
    stages = {"widths": (64, 64, 32, 32), "cardinality": (8, 8, 4, 4), "blocks_per_stage": (3, 2, 2, 1)}
    if part == "generator":
        model = models.r3gan_generator(LATENT, resolution=32, **stages)
        stage1 = "stage1_block1"
    else:
        model = models.r3gan_discriminator(resolution=32, **{key: value[::-1] for key, value in stages.items()})
        stage1 = "stage4_block1"
    blocks = 8
    gain = math.sqrt(2 / (1 + 0.2**2)) * blocks ** -0.25  # LeakyReLU(0.2)'s He gain times L^(-1/(2m - 2)), m = 3
    for layer, fan_in in ((f"{stage1}_expand", 64), (f"{stage1}_grouped", 3 * 3 * 128 // 8)):
        kernel = np.asarray(model.get_layer(layer).kernel)
        assert kernel.size >= 8192  # the sample std is then within 1% of the true one (one standard error)
        assert np.std(kernel) == pytest.approx(gain / math.sqrt(fan_in), rel=0.04), layer  # L^-0.25 = 0.59
    assert not np.any(np.asarray(model.get_layer(f"{stage1}_contract").kernel))


def test_the_grouped_convolution_mixes_channels_only_within_each_group():
    generator, _ = _networks()
    for i, groups in enumerate(TINY_G["cardinality"], start=1):
        layer = generator.get_layer(f"stage{i}_block1_grouped")
        channels = 2 * TINY_G["widths"][i - 1]
        assert layer.groups == groups and tuple(layer.kernel.shape) == (3, 3, channels // groups, channels)
    layer = generator.get_layer("stage1_block1_grouped")  # 32 channels in 4 groups of 8
    x = np.random.default_rng(0).standard_normal((1, 5, 5, 32)).astype("float32")
    changed = x.copy()
    changed[..., :8] += 1.0  # the first group's input channels
    difference = np.abs(np.asarray(layer(changed)) - np.asarray(layer(x))).max(axis=(0, 1, 2))
    assert np.all(difference[:8] > 0) and np.all(difference[8:] == 0)


def test_the_per_group_convolution_matches_keras_grouped_conv2d_with_the_same_kernel():
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 12)).astype("float32")
    ours = r3gan.GroupedConv2D(9, 3, padding="same", groups=3)
    keras_own = keras.layers.Conv2D(9, 3, padding="same", groups=3)  # compiled with XLA on CPU
    ours.build(x.shape), keras_own.build(x.shape)
    keras_own.set_weights(ours.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(keras_own(x)), rtol=1e-5, atol=1e-5)


def test_the_generative_basis_is_the_learned_basis_scaled_by_a_linear_map_of_z():
    generator = _perturbed(_networks()[0])
    z = _latent(3)
    (basis_output,) = _outputs(generator, ["stage1_basis"], z)
    weights = np.asarray(generator.get_layer("stage1_basis_linear").kernel)  # (latent_dim, widths[0])
    basis = np.asarray(generator.get_layer("stage1_basis").basis)  # (4, 4, widths[0])
    np.testing.assert_allclose(basis_output, basis[None] * (z @ weights)[:, None, None, :], rtol=1e-5, atol=1e-6)


def test_the_discriminative_basis_is_a_depthwise_4x4_filter_then_a_linear_map_to_one_logit():
    discriminator = _perturbed(_networks()[1])
    images = _images(3)
    features, logits = _outputs(discriminator, ["stage4_block1_add", "logit"], images)  # (3, 4, 4, 16), (3, 1)
    depthwise = np.asarray(discriminator.get_layer("stage4_basis").kernel)[..., 0]  # (4, 4, 16)
    weights = np.asarray(discriminator.get_layer("logit").kernel)  # (16, 1)
    direct = np.einsum("nijc,ijc->nc", features, depthwise) @ weights
    np.testing.assert_allclose(logits, direct, rtol=1e-5, atol=1e-5)


def test_the_discriminator_scores_each_image_alone_so_r1_is_per_sample():
    discriminator = _perturbed(_networks()[1])
    assert models.batch_coupled_layers(discriminator) == []
    images, others = _images(4, seed=1), _images(4, seed=2)
    logits = np.asarray(discriminator(images, training=True))
    alone = np.concatenate([np.asarray(discriminator(images[i:i + 1], training=True)) for i in range(4)])
    np.testing.assert_allclose(logits, alone, rtol=1e-5, atol=1e-6)
    mixed = np.concatenate([images[:1], others[1:]])
    np.testing.assert_allclose(np.asarray(discriminator(mixed, training=True))[0], logits[0], rtol=1e-5, atol=1e-6)
    r1_alone = np.mean([float(losses.r1_penalty(discriminator, images[i:i + 1])) for i in range(4)])
    assert float(losses.r1_penalty(discriminator, images)) == pytest.approx(r1_alone, rel=1e-4)


def test_r1_and_r2_give_finite_weight_gradients_through_the_grouped_convolutions():
    generator, discriminator = (_perturbed(model) for model in _networks())
    fakes = generator(_latent(2))
    with tf.GradientTape() as tape:
        penalty = losses.r1_penalty(discriminator, _images(2)) + losses.r2_penalty(discriminator, fakes)
    grouped = np.asarray(tape.gradient(penalty, discriminator.get_layer("stage1_block1_grouped").kernel))
    assert np.all(np.isfinite(grouped)) and np.abs(grouped).max() > 0


@pytest.mark.parametrize("part", ["generator", "discriminator"])
def test_clone_and_keras_file_reproduce_the_outputs(part, tmp_path):
    generator, discriminator = _networks()
    model, inputs = (generator, _latent(2)) if part == "generator" else (discriminator, _images(2))
    model = _perturbed(model)
    expected = np.asarray(model(inputs))
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    if part == "generator":
        assert isinstance(loaded.get_layer("stage1_basis"), r3gan.GenerativeBasis)
    for copy in (clone, loaded):
        np.testing.assert_allclose(np.asarray(copy(inputs)), expected, rtol=1e-5, atol=1e-6)


def test_mixed_precision_computes_in_float16_and_returns_float32_images_and_logits():
    with models.dtype_policy("mixed_float16"):
        generator, discriminator = _networks()
    for model in (generator, discriminator):
        block = model.get_layer("stage1_block1_grouped")
        assert block.compute_dtype == "float16" and block.kernel.dtype == "float32"
    assert generator.get_layer("stage1_basis").compute_dtype == "float16"
    images, logits = generator(_latent(2)), discriminator(_images(2))
    assert keras.backend.standardize_dtype(images.dtype) == keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert np.all(np.isfinite(images)) and np.all(np.isfinite(logits))


@pytest.mark.parametrize("part, kwargs, error, message", [
    ("generator", {"resolution": 32}, ValueError,
     r"widths must have one entry per generator stage, from 4x4 up to 32x32: 4 entries; got 5.*pass e\.g\. "
     r"widths=\(128, 64, 32, 16\), cardinality=\(16, 8, 4, 2\), blocks_per_stage=\(1, 1, 1, 1\)"),
    ("discriminator", {"resolution": 128}, ValueError,
     r"from 128x128 down to 4x4: 6 entries; got 5.*widths=\(4, 8, 16, 32, 64, 128\)"),
    ("generator", {"num_classes": 10}, ValueError, "num_classes must be 0.*unconditional.*'dcgan'"),
    ("discriminator", {"cardinality": (1, 2, 4, 8, 24)}, ValueError,
     r"cardinality\[4\] must divide .* widths\[4\] \* expansion = 256"),
    ("generator", {"widths": "256"}, TypeError, "widths must be a tuple of positive integers"),
    ("discriminator", {"kernel_size": 4}, ValueError, "kernel_size must be odd"),
    ("generator", {"channels": 2}, ValueError, r"channels must be 1 \(grayscale\) or 3 \(RGB\)"),
    ("discriminator", {"sync_batch_norm": "yes"}, TypeError, "sync_batch_norm must be True or False"),
    ("generator", {"resolution": 48}, ValueError, "resolution must be one of 32, 64, 128"),
])
def test_bad_arguments_are_refused_before_building_with_the_fix(part, kwargs, error, message):
    builder = models.r3gan_generator if part == "generator" else models.r3gan_discriminator
    with pytest.raises(error, match=message):
        builder(**kwargs)


def test_add_or_drop_stages_halves_width_and_cardinality_per_doubling_and_keeps_other_arguments():
    generator, discriminator = models.add_or_drop_stages({**TINY_G, "expansion": 2}, TINY_D, 1)
    assert generator == {"widths": (16, 16, 8, 8, 4), "cardinality": (4, 2, 2, 1, 1),
                         "blocks_per_stage": (1, 2, 1, 1, 1), "expansion": 2}
    assert discriminator == {key: value[::-1] for key, value in generator.items() if key != "expansion"}
    assert models.add_or_drop_stages({}, {}, -1)[0]["widths"] == (128, 64, 32, 16)
    with pytest.raises(ValueError, match="no stage left to drop"):
        models.add_or_drop_stages({key: value[:1] for key, value in TINY_G.items()}, TINY_D, -1)


def test_an_r3gan_recipe_adapts_to_another_resolution_and_says_so():
    assert models.ARCHITECTURES["r3gan"] == (models.r3gan_generator, models.r3gan_discriminator,
                                             models.add_or_drop_stages)
    recipe = dataclasses.replace(TINY_RECIPE, architecture="r3gan", generator=TINY_G, discriminator=TINY_D,
                                 d_loss="relativistic", g_loss="relativistic")
    with pytest.warns(UserWarning, match=r"at 64x64 its generator's stage widths are \(16, 16, 8, 8, 4\) and its "
                                         r"discriminator's \(4, 8, 8, 16, 16\)"):
        at64 = recipe.at_resolution(64)
    generator, discriminator = at64.build_models(3)
    assert generator.output.shape[1:] == (64, 64, 3) and discriminator.input.shape[1:] == (64, 64, 3)
