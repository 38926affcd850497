"""Chapter 8's recipes: what r3gan and stylegan2 are made of, and a tiny style-based run trained end to end."""
import dataclasses

import numpy as np
import pytest

from fixtures import TINY_RECIPE, tiny_dataset
from gan_utils import losses, models, recipes, schedules, train

TINY_STAGES = {"widths": (8, 8, 8, 8), "cardinality": (2, 2, 2, 2), "blocks_per_stage": (1, 1, 1, 1)}
TINY_STYLE = dataclasses.replace(
    recipes.RECIPES["stylegan2"], name="tiny-style", latent_dim=8, resolution=32, batch_size=16,
    generator={"w_dim": 16, "mapping_layers": 1, "filters": (16, 8, 8, 4)},
    discriminator={**TINY_STAGES, "widths": TINY_STAGES["widths"][::-1]}, r1_gamma=0.1, r1_interval=2,
    path_length=2.0, ema_half_life_images=100.0, ada_speed_images=500, g_learning_rate=1e-3, d_learning_rate=1e-3)


def test_r3gan_is_the_papers_recipe_at_cpu_size():
    r3gan = recipes.get_recipe("r3gan")
    assert (r3gan.g_loss, r3gan.d_loss, r3gan.architecture, r3gan.resolution) == \
        ("relativistic", "relativistic", "r3gan", 64)
    assert r3gan.r1_gamma == r3gan.r2_gamma == 2.0 and r3gan.gamma_final_ratio == 0.1  # gamma 2 -> 0.2 (FFHQ-64)
    assert (r3gan.beta_1, r3gan.beta_2, r3gan.g_learning_rate, r3gan.lr_final_ratio) == (0.0, 0.99, 5e-4, 0.25)
    assert r3gan.horizon_images > 0 and r3gan.ema_half_life_images > 0 and r3gan.ema_ramp > 0
    assert r3gan.ada_target == 0.6
    g_opt, _ = r3gan.build_optimizers()
    assert isinstance(g_opt.get_config()["learning_rate"], dict)  # a schedule, not a constant
    rate = schedules.ImagesCosine(5e-4, 1.25e-4, r3gan.horizon_images, r3gan.batch_size)
    assert float(rate(r3gan.horizon_images // r3gan.batch_size)) == pytest.approx(1.25e-4)


def test_stylegan2_pairs_a_style_based_generator_with_r3gans_discriminator():
    stylegan2 = recipes.get_recipe("stylegan2")
    generator, discriminator = stylegan2.build_models(3)
    assert isinstance(generator, models.StyleGAN2Generator) and generator.num_ws == 10
    assert generator.output_shape == discriminator.input_shape == (None, 64, 64, 3)
    assert not models.batch_coupled_layers(discriminator)  # so R1 applies
    assert stylegan2.d_loss == "minimax" and stylegan2.r1_interval == 16 and stylegan2.ada_target == 0.6
    # the discriminator is R3GAN's, so it trains at the r3gan recipe's rate, with a gamma of R3GAN's order
    assert stylegan2.d_learning_rate == recipes.get_recipe("r3gan").d_learning_rate and stylegan2.r1_gamma == 1.0
    assert losses.discriminator_loss_fn(stylegan2.d_loss) is losses.discriminator_loss  # StyleGAN2's logistic loss


def test_a_tiny_style_based_run_trains_resumes_samples_and_exports(tmp_path):
    dataset = tiny_dataset(64)
    result = train.train_run(tmp_path, dataset, TINY_STYLE, epochs=2, seed=0, verbose=False)
    last = result.history[-1]
    assert result.stopped_by == "epochs" and all(np.isfinite(last[name]) for name in train.METRICS)
    assert 0.0 <= last["augment_p"] <= 1.0 and float(result.gan.pl_mean) > 0  # path lengths were measured
    np.testing.assert_array_equal(result.gan.ema.model.w_avg.numpy(), result.gan.generator.w_avg.numpy())
    resumed = train.train_run(tmp_path, dataset, TINY_STYLE, epochs=3, seed=0, verbose=False)
    assert resumed.epochs_done == 3 and len(resumed.history) == 3
    exported = train.load_generator(tmp_path)
    first, again = train.sample(exported, 8, seed=5), train.sample(exported, 8, seed=5)
    np.testing.assert_array_equal(first, again)  # the seed fixes z and the noise inputs
    assert first.shape == (8, 32, 32, 1) and first.min() >= -1 and first.max() <= 1
    assert not np.array_equal(first, train.sample(exported, 8, seed=6))


def test_path_length_needs_a_style_based_generator():
    with pytest.raises(ValueError, match="path_length regularises a style-based generator"):
        train.build_gan(dataclasses.replace(TINY_RECIPE, path_length=2.0), 1, seed=0)


def test_stylegan2_adapts_to_another_resolution_and_says_how():
    with pytest.warns(UserWarning, match=r"generator's blocks are \(128, 128, 64, 32, 16, 8\) and its "
                                         r"discriminator's stage widths \(4, 8, 16, 32, 64, 128\)"):
        recipe = recipes.get_recipe("stylegan2").at_resolution(128)
    assert recipe.resolution == 128 and recipe.generator["filters"][-1] == 8
