"""Mixed precision: float16 maths with float32 outputs, one LossScaleOptimizer per network, finite losses."""
import dataclasses

import keras
import numpy as np
import pytest

from fixtures import TINY_RECIPE, TINY_TRICKS_RECIPE, tiny_dataset
from gan_utils import losses, recipes, train


def test_models_compute_in_float16_but_return_float32_and_the_global_policy_is_untouched():
    generator, discriminator = TINY_RECIPE.build_models(1, mixed_precision=True)
    assert keras.config.dtype_policy().name == "float32"
    for model in (generator, discriminator):
        conv = next(layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)))
        assert conv.compute_dtype == "float16" and conv.variable_dtype == "float32"
    z = np.zeros((2, TINY_RECIPE.latent_dim), "float32")
    images = generator(z)
    assert images.dtype == "float32" and discriminator(images).dtype == "float32"
    plain, _ = TINY_RECIPE.build_models(1)
    assert all(layer.compute_dtype == "float32" for layer in plain.layers if hasattr(layer, "compute_dtype"))


def test_each_network_gets_its_own_loss_scale_optimizer():
    g_opt, d_opt = TINY_RECIPE.build_optimizers(mixed_precision=True)
    assert isinstance(g_opt, keras.optimizers.LossScaleOptimizer) and isinstance(d_opt, keras.optimizers.LossScaleOptimizer)
    assert g_opt is not d_opt and g_opt.inner_optimizer is not d_opt.inner_optimizer
    assert float(g_opt.inner_optimizer.learning_rate) == pytest.approx(TINY_RECIPE.g_learning_rate)


NO_DROPOUT = dataclasses.replace(TINY_RECIPE, discriminator={**TINY_RECIPE.discriminator, "dropout": 0.0})


def _one_sgd_step(mixed: bool) -> list[np.ndarray]:
    """The generator's weights after one gan_update with SGD, in float32 or mixed precision."""
    keras.utils.set_random_seed(0)
    generator, discriminator = NO_DROPOUT.build_models(1, mixed_precision=mixed)
    opts = [keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05)]
    if mixed:
        opts = [keras.optimizers.LossScaleOptimizer(opt) for opt in opts]
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, (8, 32, 32, 1)).astype("float32")
    z_d, z_g = rng.normal(size=(2, 8, TINY_RECIPE.latent_dim)).astype("float32")
    train.gan_update(generator, discriminator, opts[0], opts[1], real, z_d, z_g, losses.generator_loss("non_saturating"))
    return [np.asarray(v, "float32") for v in generator.trainable_variables]


def test_loss_scaling_is_applied_and_divided_out_again():
    """With SGD a missing unscale would move the weights 2**15 times too far; a missing scale would leave
    the float16 gradients to underflow. The mixed step must match the float32 step to float16 accuracy."""
    before = _one_sgd_step(False)  # same seed: same initial weights in both runs
    keras.utils.set_random_seed(0)
    start = [np.asarray(v, "float32") for v in NO_DROPOUT.build_models(1)[0].trainable_variables]
    mixed = _one_sgd_step(True)
    step_32 = np.concatenate([(f32 - s).ravel() for s, f32 in zip(start, before)])
    step_16 = np.concatenate([(f16 - s).ravel() for s, f16 in zip(start, mixed)])
    assert np.abs(step_32).max() > 1e-3  # the step did move the weights
    assert 0.9 < np.linalg.norm(step_16) / np.linalg.norm(step_32) < 1.1  # unscaled: not 2**15 times too far
    assert np.linalg.norm(step_16 - step_32) < 0.2 * np.linalg.norm(step_32)  # the same direction, float16-noisy
    g_opt, _ = TINY_RECIPE.build_optimizers(mixed_precision=True)
    g_opt.build([keras.Variable(1.0)])
    assert float(g_opt.scale_loss(keras.ops.convert_to_tensor(1.0))) == float(g_opt.dynamic_scale) > 1


@pytest.mark.parametrize("recipe", [TINY_RECIPE, TINY_TRICKS_RECIPE], ids=["plain", "every technique"])
def test_mixed_precision_training_keeps_losses_finite_and_resumes_only_as_mixed(tmp_path, recipe):
    dataset = tiny_dataset()
    result = train.train_run(tmp_path, dataset, recipe, epochs=2, mixed_precision=True, verbose=False)
    assert result.epochs_done == 2 and result.stopped_by == "epochs"
    for epoch in result.history:
        assert all(np.isfinite(epoch[name]) for name in train.METRICS), epoch
    assert isinstance(result.gan.g_opt, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(float(result.gan.d_opt.dynamic_scale))
    more = train.train_run(tmp_path, dataset, recipe, epochs=3, mixed_precision=True, verbose=False)
    assert more.epochs_done == 3
    images = train.sample(train.load_generator(tmp_path), 4, seed=0)  # the saved float16 generator loads
    assert images.dtype == np.float32 and np.isfinite(images).all() and np.abs(images).max() <= 1
    with pytest.raises(ValueError, match="mixed_precision"):
        train.train_run(tmp_path, dataset, recipe, epochs=4, verbose=False)


def test_the_policy_name_is_a_keras_mixed_policy():
    assert recipes.MIXED_POLICY in ("mixed_float16", "mixed_bfloat16")
    assert keras.DTypePolicy(recipes.MIXED_POLICY).compute_dtype == "float16"
