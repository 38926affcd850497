"""The MLPs of chapter 1 and the DCGAN generator and discriminator of chapter 2."""
import keras
import numpy as np
import pytest

from gan_utils import models

SMALL_G = dict(latent_dim=8, dense_filters=8, filters=(8, 4))  # fast builds for most DCGAN tests
SMALL_D = dict(filters=(4, 8))


def _latent(n, dim, scale=1.0, seed=0):
    return (scale * np.random.default_rng(seed).standard_normal((n, dim))).astype("float32")


def _images(n, channels, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 32, 32, channels)).astype("float32")


def _layer_types(model):
    return {type(layer).__name__ for layer in model.layers}


def test_mlp_generator_maps_latent_noise_to_points():
    generator = models.mlp_generator(latent_dim=16, output_dim=2, width=8, depth=2)
    assert generator(np.zeros((5, 16), "float32")).shape == (5, 2)
    assert len([l for l in generator.layers if hasattr(l, "units")]) == 3


def test_mlp_discriminator_returns_one_logit_per_point():
    discriminator = models.mlp_discriminator(input_dim=2, width=8, depth=1)
    logits = discriminator(np.ones((4, 2), "float32")).numpy()
    assert logits.shape == (4, 1)
    assert discriminator.layers[-1].activation.__name__ == "linear"  # logits, not probabilities


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"width": 2.5}, {"depth": -1}, {"output_dim": True}])
def test_builders_reject_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer"):
        models.mlp_generator(**kwargs)


@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_generator_makes_float32_images_in_tanh_range_even_for_large_z(channels):
    generator = models.dcgan_generator(channels=channels, **SMALL_G)
    images = generator(_latent(16, 8, scale=100.0)).numpy()
    assert images.shape == (16, 32, 32, channels)
    assert images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert np.abs(images).max() > 0.99  # large z saturates the tanh instead of leaving [-1, 1]


@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_discriminator_returns_one_logit_per_image(channels):
    discriminator = models.dcgan_discriminator(channels, **SMALL_D)
    logits = discriminator(_images(6, channels)).numpy()
    assert logits.shape == (6, 1)
    assert logits.dtype == np.float32


def test_dcgan_discriminator_last_layer_is_linear_so_logits_leave_0_1():
    discriminator = models.dcgan_discriminator(1, **SMALL_D)
    last = discriminator.layers[-1]
    assert last.name == "logit" and last.activation.__name__ == "linear"
    kernel, bias = last.get_weights()
    images = _images(4, 1)
    last.set_weights([np.zeros_like(kernel), np.full_like(bias, -3.0)])
    np.testing.assert_allclose(discriminator(images).numpy(), -3.0)
    last.set_weights([np.zeros_like(kernel), np.full_like(bias, 5.0)])
    np.testing.assert_allclose(discriminator(images).numpy(), 5.0)  # a sigmoid would keep both in (0, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_classic_recipe_generator_has_the_tf_tutorial_shapes_layer_by_layer(channels):
    generator = models.dcgan_generator(100, channels, dense_filters=256, filters=(128, 64), strides=(1, 2),
                                       kernel_size=5, norm="batch", activation="leaky_relu")
    shapes = dict(models.layer_shapes(generator))
    assert shapes["z"] == (100,)
    assert shapes["project"] == (8 * 8 * 256,)
    assert shapes["reshape"] == (8, 8, 256)
    assert shapes["up1"] == (8, 8, 128)
    assert shapes["up2"] == (16, 16, 64)
    assert shapes["to_image"] == shapes["tanh"] == (32, 32, channels)
    convs = [l for l in generator.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    assert [(l.filters, l.kernel_size, l.strides) for l in convs] == [
        (128, (5, 5), (1, 1)), (64, (5, 5), (2, 2)), (channels, (5, 5), (2, 2))]
    assert generator.get_layer("project").use_bias is False  # batch norm cancels a bias
    assert generator.get_layer("up1_act").negative_slope == pytest.approx(0.2)


def test_classic_recipe_discriminator_has_two_blocks_with_dropout_and_no_norm():
    discriminator = models.dcgan_discriminator(3, filters=(64, 128), kernel_size=5, dropout=0.3)
    assert models.layer_shapes(discriminator) == [
        ("image", (32, 32, 3)),
        ("down1", (16, 16, 64)), ("down1_act", (16, 16, 64)), ("down1_dropout", (16, 16, 64)),
        ("down2", (8, 8, 128)), ("down2_act", (8, 8, 128)), ("down2_dropout", (8, 8, 128)),
        ("flatten", (8 * 8 * 128,)), ("logit", (1,)),
    ]
    assert discriminator.get_layer("down2_dropout").rate == pytest.approx(0.3)


def test_layer_shapes_lists_every_layer_without_the_batch_axis():
    generator = models.dcgan_generator(channels=1, **SMALL_G)
    rows = models.layer_shapes(generator)
    assert [name for name, _ in rows] == [layer.name for layer in generator.layers]
    assert rows[0] == ("z", (8,)) and rows[-1] == ("tanh", (32, 32, 1))
    assert models.layer_shapes(models.mlp_generator(4, 2, width=8, depth=1))[-1] == ("sample", (2,))


def test_layer_shapes_rejects_an_unbuilt_model():
    with pytest.raises(ValueError, match="keras.Input"):
        models.layer_shapes(keras.Sequential([keras.layers.Dense(3)]))


@pytest.mark.parametrize("strides", [(2, 2), (1, 2), (2, 2, 2, 2)])
def test_resize_upsampling_gives_the_same_shape_without_transposed_convolutions(strides):
    kwargs = dict(SMALL_G, filters=(4,) * len(strides), strides=strides)
    transpose = models.dcgan_generator(channels=3, upsample="transpose", **kwargs)
    resize = models.dcgan_generator(channels=3, upsample="resize", **kwargs)
    z = _latent(2, 8)
    assert resize(z).shape == transpose(z).shape == (2, 32, 32, 3)
    assert "UpSampling2D" in _layer_types(resize) and "Conv2DTranspose" not in _layer_types(resize)
    upsamplings = [l for l in resize.layers if isinstance(l, keras.layers.UpSampling2D)]
    assert len(upsamplings) == strides.count(2) + 1  # none for a stride-1 block
    assert all(l.interpolation == "nearest" for l in upsamplings)


def test_generator_without_norm_has_no_batch_normalization_and_keeps_biases():
    generator = models.dcgan_generator(channels=1, norm="none", **SMALL_G)
    assert "BatchNormalization" not in _layer_types(generator)
    assert generator.get_layer("project").use_bias and generator.get_layer("up1").use_bias
    with_norm = models.dcgan_generator(channels=1, norm="batch", **SMALL_G)
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in with_norm.layers) == 3


@pytest.mark.parametrize("norm, layer_type", [("batch", "BatchNormalization"), ("layer", "GroupNormalization")])
def test_discriminator_norm_skips_the_first_block(norm, layer_type):
    discriminator = models.dcgan_discriminator(1, filters=(4, 8, 8), norm=norm)
    normed = [l.name for l in discriminator.layers if type(l).__name__ == layer_type]
    assert normed == ["down2_norm", "down3_norm"]
    assert discriminator.get_layer("down1").use_bias and not discriminator.get_layer("down2").use_bias
    assert "BatchNormalization" not in _layer_types(models.dcgan_discriminator(1, **SMALL_D))


def test_discriminator_relu_option_and_five_blocks_reach_one_pixel():
    discriminator = models.dcgan_discriminator(1, filters=(2,) * 5, activation="relu")
    shapes = dict(models.layer_shapes(discriminator))
    assert shapes["down5"] == (1, 1, 2)
    assert isinstance(discriminator.get_layer("down1_act"), keras.layers.ReLU)


def test_builders_accept_lists_and_numpy_integers_from_saved_recipes():
    generator = models.dcgan_generator(np.int64(8), 1, dense_filters=8, filters=[8, 4], strides=[2, 2])
    assert generator.output.shape[1:] == (32, 32, 1)
    assert models.dcgan_discriminator(3, filters=[4]).output.shape[1:] == (1,)


BAD_GENERATOR_ARGS = [
    ({"latent_dim": 0}, ValueError, r"latent_dim must be a positive integer; got 0"),
    ({"channels": 2}, ValueError, r"channels must be 1 \(grayscale\) or 3 \(RGB\); got 2"),
    ({"channels": "rgb"}, ValueError, r"channels must be 1 .* got 'rgb'"),
    ({"dense_filters": 2.5}, ValueError, r"dense_filters must be a positive integer; got 2.5"),
    ({"filters": 64}, TypeError, r"filters must be a tuple of positive integers.*got 64"),
    ({"filters": (8, 0)}, ValueError, r"filters\[1\] must be a positive integer; got 0"),
    ({"strides": (2,)}, ValueError, r"strides must give one stride per entry of filters.*2 filters"),
    ({"strides": (2, 3)}, ValueError, r"strides\[1\] must be 1 .* or 2 .*; got 3"),
    ({"filters": (4,) * 5, "strides": (2,) * 5}, ValueError, r"5 stride-2 blocks.*at most 4"),
    ({"kernel_size": -1}, ValueError, r"kernel_size must be a positive integer; got -1"),
    ({"norm": "layer"}, ValueError, r"norm must be one of 'batch', 'none'; got 'layer'"),
    ({"activation": "tanh"}, ValueError, r"activation must be one of 'relu', 'leaky_relu'; got 'tanh'"),
    ({"upsample": "bilinear"}, ValueError, r"upsample must be one of 'transpose', 'resize'; got 'bilinear'"),
    ({"name": ""}, TypeError, r"name must be a non-empty string"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_GENERATOR_ARGS)
def test_dcgan_generator_rejects_bad_arguments_with_a_clear_sentence(kwargs, error, message):
    with pytest.raises(error, match=message):
        models.dcgan_generator(**{**SMALL_G, **kwargs})


BAD_DISCRIMINATOR_ARGS = [
    ({"channels": 4}, ValueError, r"channels must be 1 \(grayscale\) or 3 \(RGB\); got 4"),
    ({"filters": ()}, ValueError, r"filters must have 1 to 5 entries.*got 0"),
    ({"filters": (2,) * 6}, ValueError, r"filters must have 1 to 5 entries.*got 6"),
    ({"filters": "64"}, TypeError, r"filters must be a tuple of positive integers"),
    ({"filters": (4, -8)}, ValueError, r"filters\[1\] must be a positive integer; got -8"),
    ({"kernel_size": 0}, ValueError, r"kernel_size must be a positive integer; got 0"),
    ({"norm": "instance"}, ValueError, r"norm must be one of 'none', 'batch', 'layer'; got 'instance'"),
    ({"activation": "sigmoid"}, ValueError, r"activation must be one of 'relu', 'leaky_relu'; got 'sigmoid'"),
    ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\).*got 1.0"),
    ({"dropout": -0.1}, ValueError, r"dropout must be in \[0, 1\).*got -0.1"),
    ({"dropout": "0.3"}, TypeError, r"dropout must be a number in \[0, 1\); got '0.3'"),
    ({"name": None}, TypeError, r"name must be a non-empty string; got None"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_DISCRIMINATOR_ARGS)
def test_dcgan_discriminator_rejects_bad_arguments_with_a_clear_sentence(kwargs, error, message):
    with pytest.raises(error, match=message):
        models.dcgan_discriminator(**{"channels": 1, **SMALL_D, **kwargs})


def test_generator_output_check_names_the_inconsistent_settings(monkeypatch):
    monkeypatch.setattr(models.dcgan, "_start_size", lambda strides, resolution: 4)  # a start grid that cannot reach 32x32
    with pytest.raises(ValueError, match=r"output shape is \(16, 16, 1\), not \(32, 32, 1\): strides=\(2,\)"):
        models.dcgan_generator(channels=1, **dict(SMALL_G, filters=(4,), strides=(2,)))


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_generator_saves_and_loads_in_safe_mode_with_identical_outputs(tmp_path, upsample):
    generator = models.dcgan_generator(channels=3, activation="leaky_relu", upsample=upsample, **SMALL_G)
    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    z = _latent(4, 8)
    np.testing.assert_array_equal(loaded(z).numpy(), generator(z).numpy())
    assert models.layer_shapes(loaded) == models.layer_shapes(generator)


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_discriminator_saves_and_loads_in_safe_mode_with_identical_outputs(tmp_path, norm):
    discriminator = models.dcgan_discriminator(1, filters=(4, 8), norm=norm, dropout=0.3)
    path = tmp_path / "discriminator.keras"
    discriminator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = _images(4, 1)
    np.testing.assert_array_equal(loaded(images).numpy(), discriminator(images).numpy())


def test_heads_stay_float32_under_mixed_precision():
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        generator = models.dcgan_generator(channels=1, **SMALL_G)
        discriminator = models.dcgan_discriminator(1, **SMALL_D)
    finally:
        keras.config.set_dtype_policy(policy)
    assert generator.get_layer("up1").compute_dtype == "float16"
    images = generator(_latent(2, 8, scale=100.0))
    assert images.dtype == "float32" and float(keras.ops.max(keras.ops.abs(images))) <= 1.0
    assert discriminator(images).dtype == "float32"


def _spectral_layers(model):
    return [l for l in model.layers if isinstance(l, models.SpectralNormalization)]


def _largest_singular_value(kernel):
    kernel = np.asarray(kernel)
    return np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), ord=2)  # independent of Keras' power iteration


def test_defaults_add_neither_spectral_normalization_nor_minibatch_std():
    discriminator = models.dcgan_discriminator(1, **SMALL_D)
    assert not _spectral_layers(discriminator)
    assert not any(isinstance(l, models.MinibatchStdDev) for l in discriminator.layers)
    assert [l.name for l in discriminator.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))] == [
        "down1", "down2", "logit"]


@pytest.mark.parametrize("norm", ["none", "layer"])
def test_spectral_norm_wraps_every_conv_and_the_logit_and_keeps_a_float32_logit(norm):
    discriminator = models.dcgan_discriminator(1, filters=(4, 8), norm=norm, spectral_norm=True)
    logits = discriminator(_images(3, 1)).numpy()
    assert logits.shape == (3, 1) and logits.dtype == np.float32
    wrapped = _spectral_layers(discriminator)
    assert [(l.name, l.layer.name) for l in wrapped] == [
        ("down1", "down1_conv"), ("down2", "down2_conv"), ("logit", "logit_dense")]
    assert isinstance(wrapped[0].layer, keras.layers.Conv2D) and isinstance(wrapped[-1].layer, keras.layers.Dense)
    assert not any(isinstance(l, (keras.layers.Conv2D, keras.layers.Dense)) for l in discriminator.layers)
    assert wrapped[-1].layer.activation.__name__ == "linear"
    assert (norm == "layer") is not wrapped[1].layer.use_bias  # a normalised block still drops its bias


def test_spectral_norm_computes_with_unit_spectral_norm_kernels_without_changing_the_raw_ones():
    discriminator = models.dcgan_discriminator(1, filters=(4, 8), spectral_norm=True)
    wrapped = _spectral_layers(discriminator)
    images = _images(4, 1)
    discriminator(images)  # builds
    for layer in wrapped:  # start well away from a unit spectral norm
        layer.layer.kernel.assign(3.0 * layer.layer.kernel.numpy() / _largest_singular_value(layer.layer.kernel))
    before = [l.layer.kernel.numpy() for l in wrapped]
    for step in range(100):
        discriminator(_images(4, 1, seed=step), training=True)
    for layer, kernel in zip(wrapped, before):
        np.testing.assert_array_equal(layer.layer.kernel.numpy(), kernel)
        assert _largest_singular_value(layer.normalized_kernel()) == pytest.approx(1.0, abs=0.01), layer.name


def test_spectral_norm_also_wraps_the_projection_embedding():
    discriminator = models.dcgan_discriminator(1, filters=(4, 8), spectral_norm=True, num_classes=3)
    wrapped = discriminator.get_layer("label_embedding")
    assert isinstance(wrapped, models.SpectralNormalization) and wrapped.layer.name == "label_embedding_table"
    assert discriminator([_images(2, 1), np.array([[0], [2]])]).shape == (2, 1)


def test_spectral_norm_with_batch_norm_is_refused_with_what_to_use_instead():
    with pytest.raises(ValueError, match=r"spectral_norm=True cannot be combined with norm='batch'.*norm='none'"):
        models.dcgan_discriminator(1, **SMALL_D, norm="batch", spectral_norm=True)


@pytest.mark.parametrize("flag", ["spectral_norm", "minibatch_std"])
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_the_quality_flags_must_be_booleans(flag, value):
    with pytest.raises(TypeError, match=rf"{flag} must be True or False; got {value!r}"):
        models.dcgan_discriminator(1, **SMALL_D, **{flag: value})


def _numpy_minibatch_std(features):
    return np.sqrt(features.astype("float64").var(axis=0) + 1e-8).mean()


def test_minibatch_std_appends_the_mean_per_feature_batch_std_as_one_channel():
    features = np.random.default_rng(1).standard_normal((5, 4, 4, 3)).astype("float32")
    layer = models.MinibatchStdDev()
    output = layer(features).numpy()
    assert output.shape == (5, 4, 4, 4) == layer.compute_output_shape(features.shape)
    np.testing.assert_array_equal(output[..., :3], features)
    np.testing.assert_allclose(output[..., 3], _numpy_minibatch_std(features), rtol=1e-5)
    assert layer.compute_output_shape((None, 8, 8, None)) == (None, 8, 8, None)


def test_minibatch_std_of_identical_images_is_only_the_epsilon():
    features = np.repeat(np.random.default_rng(2).standard_normal((1, 4, 4, 2)), 6, axis=0).astype("float32")
    channel = models.MinibatchStdDev()(features).numpy()[..., -1]
    np.testing.assert_allclose(channel, 1e-4, rtol=1e-3)  # sqrt(0 + 1e-8)


def test_minibatch_std_is_differentiable():
    import tensorflow as tf

    features = tf.constant(np.random.default_rng(3).standard_normal((4, 2, 2, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(features)
        channel = models.MinibatchStdDev()(features)[..., -1]
    gradient = tape.gradient(channel, features).numpy()
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 0


def test_minibatch_std_discriminator_saves_and_loads_in_safe_mode_with_identical_outputs(tmp_path):
    discriminator = models.dcgan_discriminator(1, **SMALL_D, minibatch_std=True, spectral_norm=True)
    assert models.layer_shapes(discriminator)[-3:] == [
        ("minibatch_std", (8, 8, 9)), ("flatten", (8 * 8 * 9,)), ("logit", (1,))]
    path = tmp_path / "discriminator.keras"
    discriminator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = _images(4, 1)
    np.testing.assert_array_equal(loaded(images).numpy(), discriminator(images).numpy())
    assert isinstance(loaded.get_layer("minibatch_std"), models.MinibatchStdDev)
    assert loaded.get_layer("logit").layer.name == "logit_dense"


def test_minibatch_std_makes_an_images_logit_depend_on_the_rest_of_its_batch():
    images, others = _images(4, 1, seed=4), _images(4, 1, seed=5)
    changed = np.concatenate([images[:1], others[1:]])
    with_std = models.dcgan_discriminator(1, **SMALL_D, minibatch_std=True)
    assert abs(with_std(images).numpy()[0, 0] - with_std(changed).numpy()[0, 0]) > 1e-6
    without = models.dcgan_discriminator(1, **SMALL_D)
    np.testing.assert_allclose(without(images).numpy()[0], without(changed).numpy()[0], rtol=1e-5, atol=1e-6)


def test_quality_options_keep_a_float32_logit_under_mixed_precision():
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        discriminator = models.dcgan_discriminator(1, **SMALL_D, spectral_norm=True, minibatch_std=True)
    finally:
        keras.config.set_dtype_policy(policy)
    assert discriminator.get_layer("down1").compute_dtype == "float16"
    assert discriminator.get_layer("minibatch_std").compute_dtype == "float16"
    assert discriminator(_images(2, 1), training=True).dtype == "float32"
    features = np.random.default_rng(6).standard_normal((3, 2, 2, 2)).astype("float16")
    output = models.MinibatchStdDev(dtype="mixed_float16")(features)
    assert output.dtype == "float16"
    np.testing.assert_allclose(np.asarray(output[..., -1], "float32"), _numpy_minibatch_std(features), rtol=1e-3)


# Class-conditional networks (chapter 7).

def test_conditional_generator_takes_z_and_label_and_the_label_changes_the_image():
    generator = models.dcgan_generator(8, 1, dense_filters=16, filters=(8,), strides=(2,), kernel_size=3,
                                       num_classes=3)
    assert [tuple(i.shape[1:]) for i in generator.inputs] == [(8,), (1,)]
    z = np.repeat(np.random.default_rng(0).normal(size=(1, 8)).astype("float32"), 3, axis=0)
    images = np.asarray(generator([z, np.array([[0], [1], [2]], "int32")], training=False))
    assert images.shape == (3, 32, 32, 1)
    assert not np.allclose(images[0], images[1]) and not np.allclose(images[1], images[2])


def test_projection_discriminator_adds_the_inner_product_of_label_embedding_and_features():
    discriminator = models.dcgan_discriminator(1, filters=(8, 16), kernel_size=3, num_classes=4)
    images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 1)).astype("float32")
    labels = np.array([[3], [0]], "int32")
    logits = np.asarray(discriminator([images, labels]))
    features = keras.Model(discriminator.inputs, discriminator.get_layer("flatten").output)([images, labels])
    dense = discriminator.get_layer("logit")
    table = discriminator.get_layer("label_embedding").embeddings.numpy()
    expected = (np.asarray(features) @ dense.kernel.numpy() + dense.bias.numpy())[:, 0] + np.sum(
        table[labels[:, 0]] * np.asarray(features), axis=1)
    np.testing.assert_allclose(logits[:, 0], expected, rtol=1e-4, atol=1e-5)
    assert logits.dtype == np.float32


@pytest.mark.parametrize("bad", [1, -2, True, 2.5])
def test_num_classes_must_be_zero_or_at_least_two(bad):
    with pytest.raises(ValueError, match="num_classes must be 0"):
        models.dcgan_generator(8, 1, num_classes=bad)
    with pytest.raises(ValueError, match="num_classes must be 0"):
        models.dcgan_discriminator(1, num_classes=bad)


def test_conditional_models_save_and_load_in_safe_mode(tmp_path):
    generator = models.dcgan_generator(8, 1, dense_filters=16, filters=(8,), strides=(2,), kernel_size=3,
                                       num_classes=3)
    generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    z, labels = np.zeros((2, 8), "float32"), np.array([[1], [2]], "int32")
    np.testing.assert_allclose(loaded([z, labels]), generator([z, labels]), atol=1e-6)


@pytest.mark.parametrize("resolution", models.RESOLUTIONS)
def test_dcgan_builders_make_every_resolution_with_one_stage_per_doubling(resolution):
    stages = resolution.bit_length() - 4  # stride-2 up-blocks: 2 at 32, 3 at 64, 4 at 128
    generator = models.dcgan_generator(8, 3, dense_filters=8, filters=(8,) * stages, strides=(2,) * stages,
                                       resolution=resolution)
    discriminator = models.dcgan_discriminator(3, filters=(4,) * (stages + 1), resolution=resolution)
    assert generator.output_shape == (None, resolution, resolution, 3)
    assert discriminator.input_shape == (None, resolution, resolution, 3) and discriminator.output_shape == (None, 1)
    assert generator.get_layer("reshape").output.shape[1] == 4  # the same 4x4 start at every resolution
    assert discriminator.get_layer(f"down{stages + 1}").output.shape[1] == 4


def test_builders_refuse_other_resolutions_and_too_many_blocks():
    with pytest.raises(ValueError, match="resolution must be one of 32, 64, 128"):
        models.dcgan_generator(8, 1, resolution=48)
    with pytest.raises(ValueError, match="resolution must be one of 32, 64, 128"):
        models.dcgan_discriminator(1, resolution=True)
    with pytest.raises(ValueError, match=r"filters must have 1 to 6 entries \(each block halves the 64x64"):
        models.dcgan_discriminator(1, filters=(2,) * 7, resolution=64)


# keras-io's 64x64 face DCGAN ("DCGAN to generate face images", fchollet), the architecture of recipe classic64.

# The published networks, layer by layer: (type, filters or units, kernel, strides, activation). keras-io's last
# generator layer is Conv2D(3, 5, activation="sigmoid"); here the sigmoid is its own float32 layer.
KERAS_IO_GENERATOR_LAYERS = [
    ("Dense", 8 * 8 * 128, None, None, "linear"), ("Reshape",),
    ("Conv2DTranspose", 128, (4, 4), (2, 2), "linear"), ("LeakyReLU", 0.2),
    ("Conv2DTranspose", 256, (4, 4), (2, 2), "linear"), ("LeakyReLU", 0.2),
    ("Conv2DTranspose", 512, (4, 4), (2, 2), "linear"), ("LeakyReLU", 0.2),
    ("Conv2D", 3, (5, 5), (1, 1), "linear"), ("Activation", "sigmoid"),
]
KERAS_IO_DISCRIMINATOR_LAYERS = [
    ("Conv2D", 64, (4, 4), (2, 2), "linear"), ("LeakyReLU", 0.2),
    ("Conv2D", 128, (4, 4), (2, 2), "linear"), ("LeakyReLU", 0.2),
    ("Conv2D", 128, (4, 4), (2, 2), "linear"), ("LeakyReLU", 0.2),
    ("Flatten",), ("Dropout", 0.2), ("Dense", 1, None, None, "linear"),  # keras-io: sigmoid, here a logit
]


def _describe(layer):
    kind = type(layer).__name__
    if kind in ("Dense", "Conv2D", "Conv2DTranspose"):
        units = layer.units if kind == "Dense" else layer.filters
        spatial = (None, None) if kind == "Dense" else (tuple(layer.kernel_size), tuple(layer.strides))
        return (kind, units, *spatial, layer.activation.__name__)
    if kind == "LeakyReLU":
        return (kind, pytest.approx(layer.negative_slope))
    if kind == "Activation":
        return (kind, layer.activation.__name__)
    if kind == "Dropout":
        return (kind, pytest.approx(layer.rate))
    return (kind,)


def _network_layers(model):
    """The layers between the input and the fixed rescaling, described as in the published lists."""
    return [_describe(l) for l in model.layers if not isinstance(l, (keras.layers.InputLayer, keras.layers.Rescaling))]


def test_keras_io_networks_have_the_published_layers_and_weight_counts():
    generator, discriminator = models.keras_io_generator(128, 3), models.keras_io_discriminator(3)
    assert _network_layers(generator) == KERAS_IO_GENERATOR_LAYERS
    assert _network_layers(discriminator) == KERAS_IO_DISCRIMINATOR_LAYERS
    assert generator.count_params() == 3_979_651 and discriminator.count_params() == 404_801  # keras-io's summaries
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in generator.layers + discriminator.layers)
    shapes = dict(models.layer_shapes(generator))
    assert shapes["reshape"] == (8, 8, 128) and shapes["up3"] == (64, 64, 512) and shapes["to_image"] == (64, 64, 3)
    assert dict(models.layer_shapes(discriminator))["flatten"] == (8 * 8 * 128,)


def test_keras_io_generator_ends_with_a_fixed_rescaling_of_its_sigmoid_to_minus_one_one():
    generator = models.keras_io_generator(8, 3, dense_filters=4, filters=(4, 4, 4))
    rescale = generator.layers[-1]
    assert isinstance(rescale, keras.layers.Rescaling) and rescale.name == "to_minus_one_one"
    assert (rescale.scale, rescale.offset) == (2.0, -1.0) and not rescale.weights
    images = generator(_latent(16, 8, scale=100.0)).numpy()
    assert images.shape == (16, 64, 64, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0 and np.abs(images).max() > 0.99  # a saturated sigmoid
    sigmoid = keras.Model(generator.input, generator.get_layer("sigmoid").output)
    np.testing.assert_allclose(images, 2 * sigmoid(_latent(16, 8, scale=100.0)).numpy() - 1, atol=1e-6)


def test_keras_io_discriminator_sees_zero_one_images_and_returns_a_linear_logit():
    discriminator = models.keras_io_discriminator(3, filters=(4, 8, 8))
    rescale = discriminator.get_layer("to_zero_one")
    assert discriminator.layers[1] is rescale and (rescale.scale, rescale.offset) == (0.5, 0.5)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 64, 64, 3)).astype("float32")
    seen = keras.Model(discriminator.input, rescale.output)(images).numpy()
    np.testing.assert_allclose(seen, (images + 1) / 2, atol=1e-7)
    logit = discriminator.get_layer("logit")
    assert logit.activation.__name__ == "linear" and logit.compute_dtype == "float32"
    kernel, bias = logit.get_weights()
    logit.set_weights([np.zeros_like(kernel), np.full_like(bias, -7.0)])
    np.testing.assert_allclose(discriminator(images).numpy(), -7.0)  # a logit, not a probability


def test_keras_io_networks_keep_float32_heads_under_mixed_precision():
    with models.dtype_policy("mixed_float16"):
        generator = models.keras_io_generator(8, 3, dense_filters=4, filters=(4, 4, 4))
        discriminator = models.keras_io_discriminator(3, filters=(4, 4, 4))
    assert generator.get_layer("up1").compute_dtype == "float16"
    images = generator(_latent(2, 8, scale=100.0))
    assert images.dtype == "float32" and float(keras.ops.max(keras.ops.abs(images))) <= 1.0
    assert discriminator(images).dtype == "float32"


@pytest.mark.parametrize("resolution, blocks", [(32, 2), (64, 3), (128, 4)])
def test_keras_io_builders_start_at_resolution_over_two_to_the_blocks(resolution, blocks):
    generator = models.keras_io_generator(8, 1, dense_filters=4, filters=(4,) * blocks, resolution=resolution)
    discriminator = models.keras_io_discriminator(1, filters=(4,) * blocks, resolution=resolution)
    assert generator.output_shape == (None, resolution, resolution, 1)
    assert generator.get_layer("reshape").output.shape[1] == 8
    assert discriminator.input_shape == (None, resolution, resolution, 1)
    assert discriminator.get_layer(f"down{blocks}").output.shape[1] == 8


def test_keras_io_dropout_layer_stays_at_rate_zero_and_then_changes_nothing():
    discriminator = models.keras_io_discriminator(3, filters=(4, 4, 4), dropout=0.0)
    assert discriminator.get_layer("dropout").rate == 0.0
    images = np.random.default_rng(1).uniform(-1, 1, (3, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(discriminator(images, training=True).numpy(), discriminator(images).numpy(),
                               rtol=1e-6)


def test_keras_io_networks_save_and_load_in_safe_mode(tmp_path):
    generator = models.keras_io_generator(8, 3, dense_filters=4, filters=(4, 4, 4))
    generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded(_latent(2, 8)).numpy(), generator(_latent(2, 8)).numpy())


BAD_KERAS_IO_ARGS = [
    ("generator", {"num_classes": 3}, ValueError, r"keras-io's DCGAN is unconditional, so num_classes must be 0; "
                                                  r"got 3\. Use the 'dcgan' architecture"),
    ("discriminator", {"num_classes": 10}, ValueError, r"num_classes must be 0; got 10"),
    ("generator", {"filters": (4,) * 7}, ValueError, r"filters must have 1 to 6 entries.*got 7"),
    ("discriminator", {"filters": ()}, ValueError, r"filters must have 1 to 6 entries.*got 0"),
    ("generator", {"resolution": 48}, ValueError, r"resolution must be one of 32, 64, 128"),
    ("generator", {"output_kernel_size": 0}, ValueError, r"output_kernel_size must be a positive integer"),
    ("generator", {"channels": 4}, ValueError, r"channels must be 1 \(grayscale\) or 3 \(RGB\)"),
    ("discriminator", {"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\)"),
    ("discriminator", {"sync_batch_norm": "yes"}, TypeError, r"sync_batch_norm must be True or False"),
    ("discriminator", {"norm": "batch"}, TypeError, r"unexpected keyword argument 'norm'"),
]


@pytest.mark.parametrize("part, kwargs, error, message", BAD_KERAS_IO_ARGS)
def test_keras_io_builders_reject_bad_arguments_with_a_clear_sentence(part, kwargs, error, message):
    builder = models.keras_io_generator if part == "generator" else models.keras_io_discriminator
    with pytest.raises(error, match=message):
        builder(**kwargs)


def test_the_architecture_table_registers_each_family_once():
    assert set(models.ARCHITECTURES) == {"dcgan", "keras_io", "r3gan", "stylegan2", "fastgan"}
    assert models.ARCHITECTURES["dcgan"].generator is models.dcgan_generator
    assert models.ARCHITECTURES["fastgan"].discriminator is models.fastgan_discriminator
    assert models.ARCHITECTURES["keras_io"].discriminator is models.keras_io_discriminator
    assert models.ARCHITECTURES["stylegan2"].generator is models.stylegan2_generator
    assert models.ARCHITECTURES["stylegan2"].discriminator is models.r3gan_discriminator


def test_add_or_drop_blocks_keeps_strides_in_step_and_refuses_to_drop_the_last_block():
    generator, discriminator = models.add_or_drop_blocks({"filters": (8, 4), "strides": (1, 2), "norm": "batch"},
                                                         {"filters": (4, 8)}, 1)
    assert generator == {"filters": (8, 4, 2), "strides": (1, 2, 2), "norm": "batch"}
    assert discriminator == {"filters": (2, 4, 8)}
    assert models.add_or_drop_blocks({"filters": (8, 16)}, {"filters": (4, 8)}, -1) == ({"filters": (8,)},
                                                                                       {"filters": (8,)})
    with pytest.raises(ValueError, match="no stride-2 block left to drop"):
        models.add_or_drop_blocks({"filters": (8, 4), "strides": (2, 1)}, {"filters": (4, 8)}, -1)
    with pytest.raises(ValueError, match="no stride-2 block left to drop"):
        models.add_or_drop_blocks({"filters": (8,)}, {"filters": (4, 8)}, -1)
