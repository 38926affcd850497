"""Named recipes: what they build, their JSON round trip, and the default choice."""
import dataclasses

import numpy as np
import pytest

from fixtures import TINY_RECIPE
from gan_utils import models, recipes, train


def test_classic_recipe_is_the_tf_dcgan_tutorial_at_32x32():
    classic = recipes.get_recipe("classic")
    generator, discriminator = classic.build_models(channels=1)
    shapes = dict(models.layer_shapes(generator))
    assert shapes["reshape"] == (8, 8, 256) and shapes["up1"] == (8, 8, 128) and shapes["up2"] == (16, 16, 64)
    assert generator.output_shape == (None, 32, 32, 1)
    assert [l.kernel_size for l in generator.layers if hasattr(l, "kernel_size")] == [(5, 5)] * 3
    assert any(l.__class__.__name__ == "Dropout" for l in discriminator.layers)
    assert classic.batch_size == 256 and classic.g_learning_rate == classic.d_learning_rate == 1e-4


@pytest.mark.parametrize("channels", [1, 3])
def test_every_recipe_builds_models_and_two_optimisers(channels):
    for recipe in recipes.RECIPES.values():
        generator, discriminator = recipe.build_models(channels)
        assert generator.input_shape == (None, recipe.latent_dim)
        assert discriminator.output_shape == (None, 1)
        g_opt, d_opt = recipe.build_optimizers()
        assert g_opt is not d_opt and float(g_opt.learning_rate) == pytest.approx(recipe.g_learning_rate)


def test_recipe_survives_a_json_round_trip():
    for recipe in [*recipes.RECIPES.values(), TINY_RECIPE]:
        assert recipes.Recipe.from_json(recipe.to_json()) == recipe


def test_default_recipe_is_best_for_small_datasets_and_unknown_names_are_refused():
    assert recipes.default_recipe("digits").name == recipes.default_recipe("folder").name == "best"
    assert recipes.default_recipe("mnist").name == recipes.default_recipe("shapes").name == "dcgan"
    assert recipes.default_recipe("cifar10") is recipes.get_recipe("cifar10")
    assert recipes.default_recipe("fashion_mnist") is recipes.get_recipe("fashion_mnist")
    with pytest.raises(ValueError, match="Unknown dataset 'imagenet'"):
        recipes.default_recipe("imagenet")
    with pytest.raises(ValueError, match="choose one of classic, dcgan, best"):
        recipes.get_recipe("stylegan")


def test_get_recipe_builds_one_change_variants_by_name():
    variant = recipes.get_recipe("best - augmentation")
    assert variant == recipes.leave_out(recipes.get_recipe("best"), "augmentation")
    assert variant.augment == () and variant.name == "best - augmentation"
    assert recipes.get_recipe("dcgan + spectral norm").discriminator["spectral_norm"] is True
    with pytest.raises(ValueError, match="does not use augmentation"):
        recipes.get_recipe("dcgan - augmentation")
    with pytest.raises(ValueError, match="Unknown technique 'dropout'"):
        recipes.get_recipe("best + dropout")
    with pytest.raises(ValueError, match="'best - augmentation'"):
        recipes.get_recipe("stylegan - augmentation")


GPU_DATASET_RECIPES = [("cifar10", 3), ("fashion_mnist", 1)]  # (recipe, the channels of its dataset)


@pytest.mark.parametrize("name, channels", GPU_DATASET_RECIPES)
def test_dataset_recipes_build_models_for_their_images(name, channels):
    recipe = recipes.get_recipe(name)
    generator, discriminator = recipe.build_models(channels)
    assert generator.input_shape == (None, recipe.latent_dim)
    assert generator.output_shape == discriminator.input_shape == (None, 32, 32, channels)
    assert discriminator.output_shape == (None, 1)
    images = generator(np.zeros((2, recipe.latent_dim), "float32"))
    assert images.shape == (2, 32, 32, channels) and float(np.abs(images).max()) <= 1
    assert discriminator(images).shape == (2, 1)


def test_cifar10_recipe_is_a_wider_spectrally_normalised_hinge_gan():
    dcgan, cifar10 = recipes.get_recipe("dcgan"), recipes.get_recipe("cifar10")
    assert cifar10.latent_dim == 128 and cifar10.g_loss == cifar10.d_loss == "hinge"
    assert recipes.TECHNIQUES["spectral norm"].used_by(cifar10) and cifar10.discriminator["norm"] == "none"
    assert recipes.TECHNIQUES["EMA generator"].used_by(cifar10)
    wide, plain = cifar10.build_models(3), dcgan.build_models(3)
    for wide_model, plain_model in zip(wide, plain):  # generator, then discriminator
        assert wide_model.count_params() > 2 * plain_model.count_params(), wide_model.name


def test_fashion_mnist_recipe_is_best_without_augmentation():
    best, fashion = recipes.get_recipe("best"), recipes.get_recipe("fashion_mnist")
    assert _changed_fields(best, fashion) == {"augment"} and fashion.augment == ()


@pytest.mark.parametrize("name, channels", GPU_DATASET_RECIPES)
@pytest.mark.parametrize("mixed_precision", [False, True], ids=["float32", "mixed"])
def test_dataset_recipes_train_one_step_with_finite_losses(name, channels, mixed_precision):
    recipe = dataclasses.replace(recipes.get_recipe(name), batch_size=8)  # small, for speed on a CPU
    gan = train.build_gan(recipe, channels, seed=0, mixed_precision=mixed_precision)
    before = [np.array(v) for v in gan.generator.trainable_variables]
    real_images = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, channels)).astype("float32")
    history = gan.fit(real_images, batch_size=8, epochs=1, verbose=0).history
    assert all(np.isfinite(history[metric][-1]) for metric in train.METRICS), history
    after = gan.generator.trainable_variables
    assert any(not np.allclose(b, np.array(a)) for b, a in zip(before, after))  # the generator did take a step


@pytest.mark.parametrize("name", [name for name, _ in GPU_DATASET_RECIPES])
def test_dataset_recipes_survive_a_json_round_trip(name):
    recipe = recipes.get_recipe(name)
    restored = recipes.Recipe.from_json(recipe.to_json())
    assert restored == recipe and isinstance(restored.discriminator["filters"], tuple)


def _changed_fields(a, b):
    return {f.name for f in dataclasses.fields(a)
            if f.name not in ("name", "description") and getattr(a, f.name) != getattr(b, f.name)}


def test_best_keeps_the_dcgan_networks_and_differs_only_in_techniques():
    dcgan, best = recipes.get_recipe("dcgan"), recipes.get_recipe("best")
    assert best.generator == dcgan.generator and best.latent_dim == dcgan.latent_dim
    assert best.batch_size == dcgan.batch_size
    assert any(t.used_by(best) for t in recipes.TECHNIQUES.values())
    assert not any(t.used_by(dcgan) for t in recipes.TECHNIQUES.values())  # the plain recipe has none


@pytest.mark.parametrize("technique", list(recipes.TECHNIQUES))
def test_each_technique_switches_on_and_off_changing_nothing_else(technique):
    t = recipes.TECHNIQUES[technique]
    dcgan = recipes.get_recipe("dcgan")
    with_it = recipes.add(dcgan, technique)
    assert with_it.name == f"dcgan + {technique}" and t.used_by(with_it)
    assert _changed_fields(dcgan, with_it) <= {"discriminator", "g_loss", "d_loss", "d_learning_rate", "ema_decay",
                                               "augment"}
    without = recipes.leave_out(with_it, technique)
    assert not t.used_by(without) and _changed_fields(dcgan, without) <= {"discriminator"}  # flags set to False
    assert without.build_models(1)[1].output_shape == (None, 1)
    with pytest.raises(ValueError, match="already uses"):
        recipes.add(with_it, technique)
    with pytest.raises(ValueError, match="does not use"):
        recipes.leave_out(dcgan, technique)


def test_one_change_variants_cover_every_technique_once():
    best = recipes.get_recipe("best")
    variants = recipes.one_change_variants(best)
    assert len(variants) == len(recipes.TECHNIQUES)
    for name, variant in variants.items():
        technique = name.split(" ", 2)[2]
        used = recipes.TECHNIQUES[technique].used_by(best)
        assert name == f"best {'-' if used else '+'} {technique}" and variant.name == name
        assert recipes.TECHNIQUES[technique].used_by(variant) != used
        assert all(t.used_by(variant) == t.used_by(best) for n, t in recipes.TECHNIQUES.items() if n != technique)
    with pytest.raises(ValueError, match="Unknown technique 'dropout'"):
        recipes.add(best, "dropout")


@pytest.mark.parametrize("change, message", [({"g_loss": "relativistic"}, "choose one of"),
                                             ({"batch_size": 0}, "batch_size must be a positive integer"),
                                             ({"d_learning_rate": 0.0}, "d_learning_rate must be positive"),
                                             ({"d_loss": "relativistic"}, "Unknown discriminator loss"),
                                             ({"r1_gamma": -1.0}, "r1_gamma must be 0"),
                                             ({"gradient_penalty": float("nan")}, "gradient_penalty must be 0"),
                                             ({"ema_decay": 1.0}, r"ema_decay must be in \[0, 1\)"),
                                             ({"augment": ("blur",)}, "Unknown augmentation 'blur'")])
def test_bad_recipe_fields_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TINY_RECIPE, **change)


@pytest.mark.parametrize("discriminator", [{"minibatch_std": True}, {"norm": "batch"}])
@pytest.mark.parametrize("penalty", [{"r1_gamma": 1.0}, {"gradient_penalty": 10.0}])
def test_penalties_beside_a_batch_coupled_discriminator_are_refused(discriminator, penalty):
    dcgan = recipes.get_recipe("dcgan")
    with pytest.raises(ValueError, match="per-sample input gradients.*couples the samples"):
        dataclasses.replace(dcgan, discriminator={**dcgan.discriminator, **discriminator}, **penalty)


@pytest.mark.parametrize("n_critic", [0, 1.5, True])
def test_n_critic_must_be_a_positive_integer(n_critic):
    with pytest.raises(ValueError, match="n_critic must be a positive integer"):
        dataclasses.replace(recipes.get_recipe("dcgan"), n_critic=n_critic)


def test_n_critic_survives_the_json_round_trip():
    recipe = dataclasses.replace(recipes.get_recipe("dcgan"), n_critic=5)
    assert recipes.Recipe.from_json(recipe.to_json()).n_critic == 5


def test_at_resolution_adds_one_stage_per_doubling_and_says_so():
    dcgan = recipes.get_recipe("dcgan")
    assert dcgan.resolution == 32 and dcgan.at_resolution(32) is dcgan
    with pytest.warns(UserWarning, match=r"tuned for 32x32 images; at 64x64 its generator's blocks are "
                                         r"\(128, 64, 32\) and its discriminator's \(32, 64, 128, 256\)"):
        at64 = dcgan.at_resolution(64)
    assert at64.resolution == 64 and at64.generator["strides"] == (2, 2, 2)
    generator, discriminator = at64.build_models(3)
    assert generator.output_shape == (None, 64, 64, 3) and discriminator.input_shape == (None, 64, 64, 3)
    with pytest.warns(UserWarning):
        assert at64.at_resolution(32).generator == dcgan.generator  # and back
    with pytest.raises(ValueError, match="resolution must be one of 32, 64, 128"):
        dcgan.at_resolution(256)


def test_a_recipe_stores_its_resolution_in_json():
    with pytest.warns(UserWarning):
        at128 = recipes.get_recipe("best").at_resolution(128)
    assert recipes.Recipe.from_json(at128.to_json()) == at128
    with pytest.raises(ValueError, match="resolution must be one of"):
        dataclasses.replace(at128, resolution=100)
