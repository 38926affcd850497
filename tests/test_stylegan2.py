"""StyleGAN2's generator against closed forms and direct computations: modulation and demodulation, the mapping
network, w_avg, style mixing, truncation, noise inputs, path length regularisation, and what the trainer, the
EMA copy, checkpoints and saving need from it."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from gan_utils import losses, models, train
from gan_utils.ema import EMAGenerator
from gan_utils.models import stylegan2
from gan_utils.models.resample import Upsample

LATENT = 8
TINY = {"resolution": 32, "w_dim": 8, "mapping_layers": 2, "filters": (8, 8, 8, 4)}
rng = np.random.default_rng(0)


def _tiny(**kwargs) -> stylegan2.StyleGAN2Generator:
    keras.utils.set_random_seed(0)
    return models.stylegan2_generator(LATENT, 3, **{**TINY, **kwargs})


def _z(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, LATENT)).astype("float32")


def _set_noise_strength(generator, value: float) -> None:
    for layer in generator.synthesis.convs:
        layer.noise_strength.assign(value)


def _mapped(generator, z) -> np.ndarray:
    return np.asarray(generator.mapping(z))


# Modulated convolution


def _per_sample_reference(layer, x, w):
    """The paper's form: each sample convolved with its own kernel, modulated by its styles (and demodulated)."""
    styles, kernel = np.asarray(layer.styles(w)), np.asarray(layer.conv.effective_kernel())
    outputs = []
    for n in range(len(x)):
        modulated = kernel * styles[n][None, None, :, None]
        if layer.demodulate:
            modulated = modulated / np.sqrt(np.sum(modulated**2, axis=(0, 1, 2)) + 1e-8)
        image = np.asarray(Upsample()(x[n:n + 1])) if layer.up else x[n:n + 1]
        outputs.append(tf.nn.conv2d(image, modulated, 1, "SAME").numpy())
    return np.concatenate(outputs)


@pytest.mark.parametrize("demodulate, up", [(True, False), (False, False), (True, True)])
def test_modulated_conv_equals_convolving_each_sample_with_its_own_modulated_kernel(demodulate, up):
    layer = stylegan2.ModulatedConv2D(5, 3, demodulate=demodulate, up=up)
    x, w = rng.standard_normal((3, 6, 6, 4)).astype("float32"), rng.standard_normal((3, 7)).astype("float32")
    out = np.asarray(layer(x, w))
    assert out.shape == ((3, 12, 12, 5) if up else (3, 6, 6, 5))
    np.testing.assert_allclose(out, _per_sample_reference(layer, x, w), rtol=1e-4, atol=1e-5)


def test_styles_come_from_an_equalised_affine_layer_that_starts_with_bias_one():
    layer = stylegan2.ModulatedConv2D(2, 3)
    layer(np.zeros((1, 4, 4, 3), "float32"), np.zeros((1, 5), "float32"))
    np.testing.assert_allclose(np.asarray(layer.styles(np.zeros((2, 5), "float32"))), 1.0)
    assert isinstance(layer.affine, models.EqualizedDense) and layer.affine.lr_multiplier == 1.0


def test_demodulated_outputs_have_unit_variance_for_unit_variance_inputs_and_weights():
    """Var(y) = d^2 * sum (w s)^2 = 1 for i.i.d. unit-variance inputs; the styles average about 3 here, so without
    demodulation the variance is about mean(s^2) = 10 and the check cannot pass by accident."""
    layer = stylegan2.ModulatedConv2D(16, 3)
    x = rng.standard_normal((64, 12, 12, 32)).astype("float32")
    w = rng.standard_normal((64, 8)).astype("float32")
    layer(x[:1], w[:1])
    layer.affine.bias.assign(np.full(32, 3.0, "float32"))
    layer.conv.kernel.assign(rng.standard_normal(layer.conv.kernel.shape).astype("float32"))  # i.i.d. N(0, 1)
    variance = np.var(np.asarray(layer(x, w))[:, 1:-1, 1:-1], axis=(0, 1, 2))  # away from the zero padding
    assert np.all(np.abs(variance - 1.0) < 0.15) and abs(np.mean(variance) - 1.0) < 0.05
    plain = stylegan2.ModulatedConv2D(16, 3, demodulate=False)
    plain(x[:1], w[:1])
    plain.set_weights(layer.get_weights())
    assert np.mean(np.var(np.asarray(plain(x, w))[:, 1:-1, 1:-1], axis=(0, 1, 2))) > 5.0


def test_demodulation_is_computed_in_float32_under_mixed_precision():
    """Styles of 300 square to 90,000, past float16's largest value (65,504): the float16 layer must still agree
    with the float32 one."""
    x, w = rng.standard_normal((2, 6, 6, 4)).astype("float32"), rng.standard_normal((2, 3)).astype("float32")
    with models.dtype_policy("mixed_float16"):
        mixed = stylegan2.ModulatedConv2D(4, 3)
    plain = stylegan2.ModulatedConv2D(4, 3)
    mixed(x, w)
    plain(x, w)
    plain.affine.bias.assign(np.full(4, 300.0, "float32"))
    mixed.set_weights(plain.get_weights())
    assert mixed.compute_dtype == "float16" and mixed.demodulation(mixed.styles(w)).dtype == "float32"
    out = np.asarray(mixed(x, w), "float32")
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np.asarray(plain(x, w)), rtol=0.02, atol=0.02)


# The mapping network, w_avg, style mixing and truncation


def test_mapping_network_normalises_z_and_matches_a_direct_computation():
    generator = _tiny()
    z = _z(4)
    x = z / np.sqrt(np.mean(z**2, axis=1, keepdims=True) + 1e-8)
    for i in range(TINY["mapping_layers"]):
        layer = generator.mapping.get_layer(f"fc{i}")
        assert layer.lr_multiplier == 0.01
        pre = x @ (np.asarray(layer.kernel) * 0.01 / math.sqrt(x.shape[1])) + 0.01 * np.asarray(layer.bias)
        x = np.where(pre > 0, pre, 0.2 * pre) * math.sqrt(2)
    np.testing.assert_allclose(_mapped(generator, z), x, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_mapped(generator, 5.0 * z), _mapped(generator, z), rtol=1e-5, atol=1e-6)
    assert generator.mapping.output.shape == (None, TINY["w_dim"])


def test_w_avg_moves_towards_the_batch_mean_w_by_one_minus_beta_in_training_calls_only():
    generator = _tiny(w_avg_beta=0.9, style_mixing=1.0)  # the second z of style mixing must not move w_avg
    z1, z2 = _z(6, seed=1), _z(6, seed=2)
    generator(z1, training=True, noise=False)
    expected = 0.1 * _mapped(generator, z1).mean(axis=0)
    np.testing.assert_allclose(np.asarray(generator.w_avg), expected, rtol=1e-5, atol=1e-7)
    generator.w_plus(z2, training=True)
    expected = expected + 0.1 * (_mapped(generator, z2).mean(axis=0) - expected)
    np.testing.assert_allclose(np.asarray(generator.w_avg), expected, rtol=1e-5, atol=1e-7)
    generator(z1, training=False, noise=False)
    np.testing.assert_allclose(np.asarray(generator.w_avg), expected, rtol=1e-5, atol=1e-7)
    generator.w_plus(z1, training=True, track_w_avg=False)  # the lazy path-length step's call: w_avg stays
    np.testing.assert_allclose(np.asarray(generator.w_avg), expected, rtol=1e-5, atol=1e-7)


def test_w_avg_is_a_non_trainable_float32_variable_that_checkpoints_and_the_ema_copy_see():
    generator = _tiny()
    assert any(v is generator.w_avg for v in generator.variables)
    assert not any(v is generator.w_avg for v in generator.trainable_variables)
    assert generator.w_avg.dtype == "float32" and generator.w_avg.shape == (TINY["w_dim"],)
    assert len(generator.ema_copies) == 1 and generator.ema_copies[0] is generator.w_avg


def _crossovers(ws: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The first layer of each sample whose w is not the sample's own (num_ws where there is none)."""
    own = np.all(np.isclose(ws, w[:, None, :], rtol=1e-6, atol=1e-7), axis=2)
    return np.where(own.all(axis=1), ws.shape[1], np.argmin(own, axis=1))


def test_style_mixing_with_probability_one_takes_every_layer_after_a_crossover_from_a_second_z():
    generator = _tiny(style_mixing=1.0)
    z = _z(300)
    ws, w = np.asarray(generator.w_plus(z, training=True)), _mapped(generator, z)
    crossovers = _crossovers(ws, w)
    assert set(crossovers) == set(range(1, generator.num_ws))  # every crossover in [1, num_ws) occurs
    for sample, crossover in zip(ws, crossovers):
        np.testing.assert_allclose(sample[:crossover], np.broadcast_to(sample[0], (crossover, w.shape[1])))
        np.testing.assert_allclose(sample[crossover:], np.broadcast_to(sample[-1], sample[crossover:].shape))
    assert len(np.unique(ws[:, -1, 0])) == len(z)  # a fresh second z for each sample


def test_no_style_mixing_with_probability_zero_or_outside_training():
    z = _z(50)
    for generator, training in ((_tiny(style_mixing=0.0), True), (_tiny(style_mixing=1.0), False)):
        ws = np.asarray(generator.w_plus(z, training=training))
        np.testing.assert_allclose(ws, np.repeat(_mapped(generator, z)[:, None], generator.num_ws, axis=1))


def test_style_mixing_mixes_about_the_given_fraction_of_samples():
    generator = _tiny(style_mixing=0.5)
    z = _z(4000)
    fraction = np.mean(_crossovers(np.asarray(generator.w_plus(z, training=True)), _mapped(generator, z))
                       < generator.num_ws)
    assert abs(fraction - 0.5) < 0.04  # 5 standard errors


def test_truncation_psi_zero_gives_w_avg_for_every_sample_and_psi_one_the_identity():
    generator = _tiny()
    w_avg = rng.standard_normal(TINY["w_dim"]).astype("float32")
    generator.w_avg.assign(w_avg)
    ws = rng.standard_normal((5, generator.num_ws, TINY["w_dim"])).astype("float32")
    np.testing.assert_allclose(np.asarray(generator.truncate(ws, 0.0)), np.broadcast_to(w_avg, ws.shape))
    np.testing.assert_allclose(np.asarray(generator.truncate(ws, 1.0)), ws, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(generator.truncate(ws, 0.5)), (ws + w_avg) / 2, rtol=1e-6, atol=1e-6)
    images = np.asarray(generator(_z(3), training=False, truncation_psi=0.0, noise=False))
    np.testing.assert_allclose(images, np.broadcast_to(images[:1], images.shape), atol=1e-6)


# Noise inputs


def test_noise_with_its_initial_zero_strength_has_no_effect():
    generator = _tiny()
    z = _z(2)
    np.testing.assert_array_equal(np.asarray(generator(z, noise=True)), np.asarray(generator(z, noise=False)))


def test_seeded_noise_repeats_and_different_seeds_or_no_noise_differ():
    generator = _tiny()
    _set_noise_strength(generator, 1.0)
    z = _z(2)
    generator.seed_noise(3)
    first = np.asarray(generator(z))
    generator.seed_noise(3)
    np.testing.assert_array_equal(np.asarray(generator(z)), first)
    assert not np.allclose(np.asarray(generator(z)), first)  # the stream moved on
    generator.seed_noise(4)
    assert not np.allclose(np.asarray(generator(z)), first)
    quiet = np.asarray(generator(z, noise=False))
    np.testing.assert_array_equal(np.asarray(generator(z, noise=False)), quiet)
    assert not np.allclose(quiet, first)


# Shapes, output range and the trainer's interface


def test_synthesis_reads_one_w_per_layer_and_returns_float32_images():
    generator = _tiny()
    assert generator.num_ws == 2 * 5 - 2  # 2 log2(32) - 2
    ws = np.repeat(_mapped(generator, _z(2))[:, None], generator.num_ws, axis=1)
    images = np.asarray(generator.synthesis(ws, noise=False))
    assert images.shape == (2, 32, 32, 3) and images.dtype == "float32"
    for i in range(generator.num_ws):  # every w reaches the image: layer i reads ws[:, i]
        moved = ws.copy()
        moved[:, i] += 1.0
        assert not np.allclose(np.asarray(generator.synthesis(moved, noise=False)), images)


def test_the_output_is_linear_not_squashed():
    generator = _tiny()
    z = _z(2)
    before = np.asarray(generator(z, noise=False))
    last = generator.synthesis.to_rgbs[-1]
    last.bias.assign(np.asarray(last.bias) + 2.0)
    np.testing.assert_allclose(np.asarray(generator(z, noise=False)), before + 2.0, rtol=1e-5, atol=1e-5)


def test_the_trainer_reads_the_latent_size_and_samples_from_it():
    generator = _tiny()
    assert generator.input_shape[-1] == LATENT == generator.latent_dim
    assert train.num_classes(generator) == 0
    images = train.sample(generator, 3, seed=0)
    assert images.shape == (3, 32, 32, 3) and images.dtype == "float32"


def test_the_default_generator_draws_64x64_rgb_images_with_cpu_sized_widths():
    assert stylegan2.default_filters(64) == (256, 256, 128, 64, 32)
    generator = models.stylegan2_generator()
    assert (generator.latent_dim, generator.w_dim, generator.num_ws) == (256, 256, 10)
    assert generator(np.zeros((1, 256), "float32")).shape == (1, 64, 64, 3)


def test_the_architecture_table_adapts_widths_to_other_resolutions():
    family = models.ARCHITECTURES["stylegan2"]
    generator, discriminator = family.at_resolution({"filters": stylegan2.default_filters(64)}, {}, 1)
    assert generator["filters"] == stylegan2.default_filters(128)
    assert discriminator == models.add_or_drop_stages({}, {}, 1)[1]  # R3GAN's discriminator, one stage more
    generator, discriminator = family.at_resolution({"filters": stylegan2.default_filters(64)}, {}, -1)
    assert generator["filters"] == stylegan2.default_filters(32) and len(discriminator["widths"]) == 4
    assert family.at_resolution({"w_dim": 64}, {}, 1)[0] == {"w_dim": 64}  # default filters follow the resolution


def test_a_training_step_works_inside_tf_function_and_under_gradient_tape():
    generator = _tiny()
    z = tf.constant(_z(4))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(generator(z, training=True)))
        return tape.gradient(loss, generator.trainable_variables)

    gradients = step()
    assert all(g is not None and np.all(np.isfinite(np.asarray(g))) for g in gradients)
    assert np.any(np.asarray(generator.w_avg) != 0.0)


def test_one_gan_update_trains_it_against_the_registered_discriminator():
    generator = _tiny()
    discriminator = models.ARCHITECTURES["stylegan2"].discriminator(
        3, resolution=32, widths=(8, 8, 8, 8), cardinality=(1, 1, 1, 1), blocks_per_stage=(1, 1, 1, 1))
    g_opt, d_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    before = [np.asarray(v).copy() for v in generator.trainable_variables]
    real = rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    metrics = train.gan_update(generator, discriminator, g_opt, d_opt, real, _z(4, 1), _z(4, 2),
                               losses.generator_loss("non_saturating"))
    assert np.isfinite(float(metrics["g_loss"]))
    assert any(not np.allclose(b, np.asarray(v)) for b, v in zip(before, generator.trainable_variables))


# Cloning, saving and mixed precision


def test_clone_model_gives_the_same_variables_in_the_same_order_so_the_ema_copy_can_mirror_it():
    generator = _tiny()
    clone = keras.models.clone_model(generator)
    assert isinstance(clone, stylegan2.StyleGAN2Generator)
    assert [(v.path.split("/")[-1], tuple(v.shape)) for v in clone.variables] == \
        [(v.path.split("/")[-1], tuple(v.shape)) for v in generator.variables]
    ema = EMAGenerator(generator, 600, batch_size=64)
    _set_noise_strength(generator, 0.5)
    ema.model.set_weights(generator.get_weights())
    z = _z(2)
    generator.seed_noise(5)
    ema.model.seed_noise(5)
    np.testing.assert_allclose(np.asarray(ema.model(z)), np.asarray(generator(z)), rtol=1e-5, atol=1e-6)


def test_save_and_load_in_safe_mode_reproduce_the_outputs(tmp_path):
    generator = _tiny(style_mixing=0.5)
    _set_noise_strength(generator, 0.5)
    generator.w_avg.assign(rng.standard_normal(TINY["w_dim"]).astype("float32"))
    generator.save(tmp_path / "generator.keras")
    loaded = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    assert isinstance(loaded, stylegan2.StyleGAN2Generator) and loaded.style_mixing == 0.5
    np.testing.assert_array_equal(np.asarray(loaded.w_avg), np.asarray(generator.w_avg))
    z = _z(2)
    for kwargs in ({"noise": False, "truncation_psi": 0.7}, {}):
        generator.seed_noise(9)
        loaded.seed_noise(9)
        np.testing.assert_allclose(np.asarray(loaded(z, **kwargs)), np.asarray(generator(z, **kwargs)),
                                   rtol=1e-5, atol=1e-6)


def test_mixed_precision_synthesises_in_float16_and_returns_float32_images():
    plain = _tiny()
    with models.dtype_policy("mixed_float16"):
        mixed = _tiny()
    assert keras.config.dtype_policy().name == "float32"
    assert mixed.synthesis.convs[0].compute_dtype == "float16" and mixed.synthesis.to_rgbs[0].compute_dtype == "float32"
    assert all(layer.compute_dtype == "float32" for layer in mixed.mapping.layers[1:])  # after the Input
    assert mixed.mapping(_z(1)).dtype == "float32"
    clone = keras.models.clone_model(mixed)
    assert clone.synthesis.convs[0].compute_dtype == "float16"
    mixed.set_weights(plain.get_weights())
    z = _z(2)
    images = mixed(z, noise=False)
    assert images.dtype == "float32"
    np.testing.assert_allclose(np.asarray(images), np.asarray(plain(z, noise=False)), rtol=0.05, atol=0.02)


# Path length regularisation


class _LinearGenerator:
    """w_plus repeats z on 3 layers; synthesis is a fixed linear map of the flattened ws, so J^T y = M y."""

    num_ws, side, channels = 3, 4, 2

    def __init__(self, matrix):
        self.matrix = matrix  # (num_ws * w_dim, side * side * channels)

    def w_plus(self, z, training=False, track_w_avg=True):
        return ops.repeat(ops.convert_to_tensor(z)[:, None, :], self.num_ws, axis=1)

    def synthesis(self, ws):
        flat = ops.reshape(ws, (ws.shape[0], -1))
        return ops.reshape(ops.matmul(flat, self.matrix), (ws.shape[0], self.side, self.side, self.channels))


def test_path_length_penalty_matches_a_direct_computation_on_a_linear_synthesis():
    w_dim = 5
    matrix = rng.standard_normal((3 * w_dim, 4 * 4 * 2)).astype("float32")
    z = rng.standard_normal((6, w_dim)).astype("float32")
    penalty, new_mean = stylegan2.path_length_penalty(_LinearGenerator(matrix), z, 2.0,
                                                      keras.random.SeedGenerator(7), decay=0.1)
    y = np.asarray(keras.random.normal((6, 4, 4, 2), seed=keras.random.SeedGenerator(7))) / 4.0  # sqrt(H W)
    jty = (y.reshape(6, -1) @ matrix.T).reshape(6, 3, w_dim)
    lengths = np.sqrt(np.mean(np.sum(jty**2, axis=2), axis=1))
    a = 2.0 + 0.1 * (lengths.mean() - 2.0)
    assert float(new_mean) == pytest.approx(a, rel=1e-5)
    assert float(penalty) == pytest.approx(np.mean((lengths - a) ** 2), rel=1e-4)


def test_path_length_penalty_is_differentiable_with_respect_to_the_generator_weights():
    generator = _tiny()
    seeds = keras.random.SeedGenerator(1)
    with tf.GradientTape() as tape:
        penalty, new_mean = stylegan2.path_length_penalty(generator, _z(4), 0.0, seeds)
    kernels = [generator.mapping.get_layer("fc0").kernel, generator.synthesis.convs[-1].conv.conv.kernel]
    gradients = tape.gradient(penalty, kernels)
    assert float(new_mean) > 0 and np.isfinite(float(penalty))
    assert all(np.all(np.isfinite(np.asarray(g))) and np.any(np.asarray(g) != 0) for g in gradients)


# Bad inputs

BAD_ARGUMENTS = [
    ({"num_classes": 10}, ValueError, r"unconditional: num_classes must be 0"),
    ({"filters": (8, 8, 8)}, ValueError, r"one width per side 4, 8, \.\.\., 32 \(4 widths"),
    ({"resolution": 48}, ValueError, r"resolution must be one of 32, 64, 128"),
    ({"style_mixing": 1.5}, ValueError, r"style_mixing must be in \[0, 1\]"),
    ({"w_avg_beta": 1.0}, ValueError, r"w_avg_beta must be in \[0, 1\)"),
    ({"sync_batch_norm": "no"}, TypeError, r"sync_batch_norm must be True or False"),
    ({"mapping_layers": 0}, ValueError, r"mapping_layers must be a positive integer"),
    ({"channels": 4}, ValueError, r"channels must be 1 \(grayscale\) or 3 \(RGB\)"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_ARGUMENTS)
def test_bad_builder_arguments_are_refused_with_the_fix(kwargs, error, message):
    arguments = {"latent_dim": LATENT, "channels": 3, **TINY, **kwargs}
    with pytest.raises(error, match=message):
        models.stylegan2_generator(arguments.pop("latent_dim"), arguments.pop("channels"), **arguments)


def test_bad_call_arguments_are_refused_with_the_fix():
    generator = _tiny()
    with pytest.raises(ValueError, match="truncation is for sampling"):
        generator(_z(1), training=True, truncation_psi=0.5)
    with pytest.raises(TypeError, match="seed must be an integer"):
        generator.seed_noise("3")
    with pytest.raises(TypeError, match="noise must be True or False"):
        generator(_z(1), noise="no")
