"""Named recipes: what they build, their JSON round trip, and the default choice."""
import dataclasses
import json
import pathlib
import warnings

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
        size = recipe.resolution
        assert generator.input_shape == (None, recipe.latent_dim)
        assert generator.output_shape == discriminator.input_shape == (None, size, size, channels), recipe.name
        # one logit per image; fastgan's per patch, 5x5 of the whole image and 5x5 of it halved, as in the paper
        assert discriminator.output_shape == ((None, 50) if recipe.architecture == "fastgan" else (None, 1))
        g_opt, d_opt = recipe.build_optimizers()
        assert g_opt is not d_opt and float(g_opt.learning_rate) == pytest.approx(recipe.g_learning_rate)


def test_recipe_survives_a_json_round_trip():
    for recipe in [*recipes.RECIPES.values(), TINY_RECIPE]:
        assert recipes.Recipe.from_json(recipe.to_json()) == recipe


def test_emojis_default_recipe_is_the_one_the_stored_benchmark_chose():
    stored = json.loads((pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results" /
                         "time_to_quality_emoji.json").read_text())
    assert recipes.default_recipe("emoji").name == stored["quality_recipe"]


def test_default_recipe_is_best_for_small_datasets_and_unknown_names_are_refused():
    assert recipes.default_recipe("digits").name == recipes.default_recipe("folder").name == "best"
    assert recipes.default_recipe("mnist").name == recipes.default_recipe("shapes").name == "dcgan"
    assert recipes.default_recipe("cifar10") is recipes.get_recipe("cifar10")
    assert recipes.default_recipe("fashion_mnist") is recipes.get_recipe("fashion_mnist")
    assert recipes.default_recipe("cjk").name == "dcgan64"
    assert recipes.default_recipe("emoji").resolution == recipes.default_recipe("cjk").resolution == 64
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
    assert _changed_fields(dcgan, with_it) <= {"discriminator", "g_loss", "d_loss", "d_learning_rate",
                                               "ema_half_life_images", "augment"}
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


@pytest.mark.parametrize("change, message", [({"g_loss": "rpgan"}, "choose one of"),
                                             ({"batch_size": 0}, "batch_size must be a positive integer"),
                                             ({"d_learning_rate": 0.0}, "d_learning_rate must be positive"),
                                             ({"d_loss": "rpgan"}, "Unknown discriminator loss"),
                                             ({"r1_gamma": -1.0}, "r1_gamma must be 0"),
                                             ({"gradient_penalty": float("nan")}, "gradient_penalty must be 0"),
                                             ({"ema_half_life_images": -1.0}, "ema_half_life_images must be 0"),
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


# classic64: keras-io's 64x64 face DCGAN as published, and the architecture table behind it.

def test_classic64_is_keras_ios_face_dcgan_as_published():
    classic64 = recipes.get_recipe("classic64")
    assert classic64.architecture == "keras_io" and classic64.resolution == 64 and classic64.latent_dim == 128
    assert classic64.g_loss == "non_saturating" and classic64.d_loss == "keras_io_noisy"
    assert classic64.g_learning_rate == classic64.d_learning_rate == 1e-4
    assert (classic64.beta_1, classic64.beta_2, classic64.batch_size) == (0.9, 0.999, 32)
    assert classic64.generator == {"dense_filters": 128, "filters": (128, 256, 512), "kernel_size": 4,
                                   "output_kernel_size": 5}
    assert classic64.discriminator == {"filters": (64, 128, 128), "kernel_size": 4, "dropout": 0.0}
    assert not any(t.used_by(classic64) for t in recipes.TECHNIQUES.values())
    assert "as published" in classic64.description and "benchmarks only" in classic64.description


def test_classic64_builds_the_keras_io_networks_at_64x64():
    generator, discriminator = recipes.get_recipe("classic64").build_models(3)
    assert generator.output_shape == discriminator.input_shape == (None, 64, 64, 3)
    assert generator.count_params() == 3_979_651 and discriminator.count_params() == 404_801
    assert generator.get_layer("to_minus_one_one") and discriminator.get_layer("to_zero_one")
    images = generator(np.random.default_rng(0).normal(size=(2, 128)).astype("float32"))
    assert float(np.abs(images).max()) <= 1 and discriminator(images).shape == (2, 1)


def test_classic64_trains_one_step_with_finite_losses():
    recipe = dataclasses.replace(recipes.get_recipe("classic64"), batch_size=4)
    gan = train.build_gan(recipe, 3, seed=0)
    real_images = np.random.default_rng(0).uniform(-1, 1, (4, 64, 64, 3)).astype("float32")
    history = gan.fit(real_images, batch_size=4, epochs=1, verbose=0).history
    assert all(np.isfinite(history[metric][-1]) for metric in train.METRICS), history


def test_build_models_dispatches_through_the_architecture_table(monkeypatch):
    calls = []
    family = models.ARCHITECTURES["keras_io"]
    spy = lambda builder: lambda *args, **kwargs: calls.append((builder.__name__, args, kwargs)) or builder(*args, **kwargs)
    monkeypatch.setitem(models.ARCHITECTURES, "keras_io",
                        models.Architecture(spy(family.generator), spy(family.discriminator), family.at_resolution))
    classic64 = recipes.get_recipe("classic64")
    classic64.build_models(1)
    common = {"num_classes": 0, "sync_batch_norm": False, "resolution": 64}
    assert calls == [("keras_io_generator", (128, 1), {**common, **classic64.generator}),
                     ("keras_io_discriminator", (1,), {**common, **classic64.discriminator})]


def test_unknown_architectures_and_arguments_the_family_does_not_take_are_refused():
    classic64 = recipes.get_recipe("classic64")
    with pytest.raises(ValueError, match="architecture must be one of dcgan, keras_io, r3gan, stylegan2, fastgan; "
                                         "got 'stylegan'"):
        dataclasses.replace(classic64, architecture="stylegan")
    with pytest.raises(ValueError, match="the keras_io generator takes no argument 'norm', 'strides'; it takes "
                                         "dense_filters, filters, kernel_size, output_kernel_size"):
        dataclasses.replace(classic64, generator={**classic64.generator, "norm": "batch", "strides": (2, 2, 2)})
    with pytest.raises(ValueError, match="the dcgan generator takes no argument 'output_kernel_size'"):
        dataclasses.replace(classic64, architecture="dcgan")
    with pytest.raises(ValueError, match="the keras_io discriminator takes no argument 'spectral_norm'"):
        recipes.get_recipe("classic64 + spectral norm")


def test_a_conditional_keras_io_recipe_is_refused_when_built():
    conditional = dataclasses.replace(recipes.get_recipe("classic64"), num_classes=10)
    with pytest.raises(ValueError, match="keras-io's DCGAN is unconditional"):
        conditional.build_models(3)


def test_a_recipe_json_without_architecture_loads_as_dcgan():
    fields = json.loads(recipes.get_recipe("best").to_json())
    del fields["architecture"]
    restored = recipes.Recipe.from_json(json.dumps(fields))
    assert restored.architecture == "dcgan" and restored == recipes.get_recipe("best")
    assert recipes.Recipe.from_json(recipes.get_recipe("classic64").to_json()).architecture == "keras_io"


def test_classic64_adapts_to_other_resolutions_one_block_per_doubling_and_says_so():
    classic64 = recipes.get_recipe("classic64")
    with pytest.warns(UserWarning, match=r"tuned for 64x64 images; at 128x128 its generator's blocks are "
                                         r"\(128, 256, 512, 256\) and its discriminator's \(32, 64, 128, 128\)"):
        at128 = classic64.at_resolution(128)
    with pytest.warns(UserWarning, match=r"at 32x32 its generator's blocks are \(128, 256\) and its "
                                         r"discriminator's \(128, 128\)"):
        at32 = classic64.at_resolution(32)
    for recipe, size in ((at128, 128), (at32, 32)):
        assert recipe.architecture == "keras_io" and recipe.resolution == size
        assert recipe.generator["output_kernel_size"] == 5 and recipe.discriminator["dropout"] == 0.0
        generator, discriminator = recipe.build_models(3)
        assert generator.output_shape == discriminator.input_shape == (None, size, size, 3)
        assert generator.get_layer("reshape").output.shape[1] == 8  # keras-io's 8x8 start at every size


def test_a_family_that_cannot_adapt_refuses_another_resolution(monkeypatch):
    family = models.ARCHITECTURES["keras_io"]
    monkeypatch.setitem(models.ARCHITECTURES, "keras_io", family._replace(at_resolution=None))
    with pytest.raises(ValueError, match="its keras_io networks are built for 64x64 images only"):
        recipes.get_recipe("classic64").at_resolution(32)


def test_shrinking_past_the_last_block_is_refused_with_the_recipe_named():
    one_block = dataclasses.replace(recipes.get_recipe("dcgan"), resolution=64,
                                    generator={**recipes.get_recipe("dcgan").generator, "strides": (2, 1)})
    with pytest.raises(ValueError, match="recipe 'dcgan' cannot shrink to 32x32: no stride-2 block left to drop"):
        one_block.at_resolution(32)


@pytest.mark.parametrize("name", ["dcgan", "best"])
def test_dcgan64_and_best64_are_their_recipes_at_64x64_by_name(name):
    with pytest.warns(UserWarning):
        expected = recipes.get_recipe(name).at_resolution(64)
    at64 = recipes.get_recipe(f"{name}64")
    assert at64.resolution == 64 and at64.name == f"{name}64" and "64x64" in at64.description
    assert _changed_fields(expected, at64) == set()
    generator, discriminator = at64.build_models(3)
    assert generator.output_shape == discriminator.input_shape == (None, 64, 64, 3)


def test_the_64x64_recipes_are_made_without_a_resolution_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # as at import, where dcgan64 and best64 are made
        assert recipes._at_64("best") == recipes.get_recipe("best64")


def test_an_older_recipe_json_with_a_per_step_ema_decay_loads_as_its_half_life_in_images():
    shipped = pathlib.Path(__file__).resolve().parents[1] / "showcase" / "emoji-stylegan2" / "recipe.json"
    fields = json.loads(shipped.read_text())
    assert fields["ema_decay"] == 0.998 and fields["batch_size"] == 64  # written before the half-life
    restored = recipes.Recipe.from_json(shipped.read_text())
    assert restored.ema_half_life_images == pytest.approx(64 * np.log(0.5) / np.log(0.998))  # about 22,150 images
    assert restored.ema_ramp == 0.0
    fields["ema_decay"] = 0.0
    assert recipes.Recipe.from_json(json.dumps(fields)).ema_half_life_images == 0.0  # no EMA stays none
    best = recipes.get_recipe("best")
    assert 0.5 ** (best.batch_size / best.ema_half_life_images) == pytest.approx(0.999, abs=1e-12)  # part one's
