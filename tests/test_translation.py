"""pix2pix and CycleGAN: recipes, the image history, the losses against direct computations, learning a simple
mapping, held-out pairs kept out, exact resume, and loading and using a trained translator."""
import dataclasses
import json

import keras
import numpy as np
import pytest

from gan_utils import checkpoints, data, pairs, translation

TINY = dict(width=8, max_width=16, d_width=8, batch_size=8)


def _paired(n: int = 48, resolution: int = 32) -> pairs.PairedDataset:
    """Shapes (source) and their negatives (target): a mapping a small U-Net learns in a few epochs."""
    shapes = data.make_shapes(n, seed=0, channels=1).images[:, :resolution, :resolution]
    groups = np.arange(n) // 2  # two pairs per group, so a split must keep both together
    return pairs.PairedDataset(name="shapes_pairs", sources=shapes, targets=-shapes, ids=np.array([f"s{i}" for i in
                               range(n)]), groups=groups, heldout=data.heldout_groups(groups), source_name="shape",
                               target_name="negative")


def _recipe(name: str, **changes) -> translation.TranslationRecipe:
    return dataclasses.replace(translation.get_recipe(name), **TINY, **changes)


def test_recipes_validate_and_round_trip_through_json():
    for recipe in translation.RECIPES.values():
        assert translation.TranslationRecipe.from_json(recipe.to_json()) == recipe
        assert translation.is_translation_recipe(recipe.to_json())
    assert translation.RECIPES["pix2pix"].l1_weight == 100 and translation.RECIPES["pix2pix"].dropout == 0.5
    assert translation.RECIPES["cyclegan"].norm == "instance" and not translation.RECIPES["l1"].adversarial
    with pytest.raises(ValueError, match="not a translation recipe.*pix2pix"):
        translation.get_recipe("dcgan")
    with pytest.raises(ValueError, match="kind must be one of"):
        translation.TranslationRecipe("x", kind="unit")
    with pytest.raises(ValueError, match="dropout must be in"):
        translation.TranslationRecipe("x", dropout=1.0)


def test_image_history_passes_images_through_while_filling_then_swaps_half_for_stored_ones():
    history = translation.ImageHistory(4, (2, 2, 1), seed=0)
    first = np.arange(4, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1), np.float32)
    np.testing.assert_array_equal(history(first), first)  # filling: passed through, and stored
    np.testing.assert_array_equal(np.sort(history.buffer.numpy()[:, 0, 0, 0]), [0, 1, 2, 3])
    seen, swapped, trials = set(range(4)), 0, 200
    for step in range(trials // 4):
        new = (100 + 4 * step + np.arange(4, dtype=np.float32))[:, None, None, None] * np.ones((1, 2, 2, 1),
                                                                                                np.float32)
        before = set(history.buffer.numpy()[:, 0, 0, 0].tolist())
        out = history(new).numpy()[:, 0, 0, 0]
        for value, fresh in zip(out, new[:, 0, 0, 0]):
            assert value == fresh or value in before | set(new[:, 0, 0, 0].tolist())  # the new image or a stored one
            swapped += value != fresh
        seen |= set(new[:, 0, 0, 0].tolist())
        assert set(history.buffer.numpy()[:, 0, 0, 0].tolist()) <= seen and int(history.count.numpy()) == 4
    assert 0.35 < swapped / trials < 0.65  # each image is swapped with probability 1/2
    empty = translation.ImageHistory(0, (2, 2, 1), seed=0)
    np.testing.assert_array_equal(empty(first), first)


def _softplus(x):
    return np.logaddexp(0.0, x)


def test_pix2pix_losses_match_a_direct_computation():
    model = translation.build(_recipe("pix2pix", dropout=0.0), channels=1, seed=0, resolution=32)
    paired = _paired(8)
    source, target = paired.sources, paired.targets
    results = {k: float(v) for k, v in model.losses_for(source, target, training=False).items()}
    fake = np.asarray(model.generator(source, training=False))
    real_logits = np.asarray(model.discriminator([source, target], training=False))
    fake_logits = np.asarray(model.discriminator([source, fake], training=False))
    l1 = np.abs(target - fake).mean()
    d_loss = 0.5 * (-np.log(1 / (1 + np.exp(-real_logits))).mean() - np.log(1 - 1 / (1 + np.exp(-fake_logits))).mean())
    g_gan = _softplus(-fake_logits).mean()
    np.testing.assert_allclose([results["l1"], results["d_loss"], results["g_gan"], results["g_loss"]],
                               [l1, d_loss, g_gan, g_gan + 100 * l1], rtol=1e-5)


def test_cyclegan_losses_match_a_direct_computation():
    model = translation.build(_recipe("cyclegan"), channels=1, seed=0, resolution=32)
    paired = _paired(8)
    x, y = paired.sources, paired.targets
    results, fake_y, fake_x = model.generator_losses(x, y, training=False)
    g, f = (lambda a: np.asarray(model.generator(a, training=False))), (lambda a: np.asarray(model.reverse(a)))
    d_y, d_x = (lambda a: np.asarray(model.discriminator_y(a))), (lambda a: np.asarray(model.discriminator_x(a)))
    cycle = np.abs(f(g(x)) - x).mean() + np.abs(g(f(y)) - y).mean()
    identity = np.abs(g(y) - y).mean() + np.abs(f(x) - x).mean()
    g_gan = ((d_y(g(x)) - 1) ** 2).mean() + ((d_x(f(y)) - 1) ** 2).mean()
    np.testing.assert_allclose([float(results[k]) for k in ("cycle", "identity", "g_gan", "g_loss")],
                               [cycle, identity, g_gan, g_gan + 10 * cycle + 5 * identity], rtol=1e-5)
    d_loss = float(model.discriminator_loss(x, y, fake_y, fake_x, training=False))
    expected = (0.5 * (((d_y(y) - 1) ** 2).mean() + (d_y(g(x)) ** 2).mean())
                + 0.5 * (((d_x(x) - 1) ** 2).mean() + (d_x(f(y)) ** 2).mean()))
    np.testing.assert_allclose(d_loss, expected, rtol=1e-5)


def test_the_l1_unet_learns_the_mapping_and_never_trains_on_heldout_pairs(tmp_path):
    paired = _paired(160)
    result = translation.train_run(tmp_path / "run", paired, _recipe("l1", dropout=0.0), epochs=8, seed=0,
                                   verbose=False)
    losses = [entry["l1"] for entry in result.history]
    assert losses[-1] < 0.5 * losses[0]
    run = checkpoints.read_json(tmp_path / "run" / checkpoints.RUN)
    held = paired.ids[paired.heldout]
    assert run["heldout"] == sorted(held.tolist()) and len(held) > 0
    train, heldout = paired.split()
    assert not set(train.groups) & set(heldout.groups)
    assert "discriminator" not in result.gan.__dict__ or result.gan.discriminator is None


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_a_resumed_run_ends_exactly_where_an_uninterrupted_one_does(tmp_path, name):
    paired, recipe = _paired(40), _recipe(name)  # pix2pix keeps its dropout (0.5): its seed state is resumed too
    common = dict(seed=3, verbose=False, run_eagerly=True)  # eager: a few steps cost less than tracing them
    whole = translation.train_run(tmp_path / "whole", paired, recipe, epochs=2, **common)
    translation.train_run(tmp_path / "split", paired, recipe, epochs=1, **common)
    resumed = translation.train_run(tmp_path / "split", paired, recipe, epochs=2, **common)
    assert resumed.epochs_done == 2 and len(resumed.history) == 2
    for a, b in zip(checkpoints._state(whole.gan).values(), checkpoints._state(resumed.gan).values()):
        for va, vb in zip(a, b):
            np.testing.assert_allclose(np.asarray(va), np.asarray(vb), rtol=1e-5, atol=1e-6)
    files = {p.name for p in (tmp_path / "whole").iterdir()}
    assert checkpoints.GENERATOR in files and (checkpoints.REVERSE_GENERATOR in files) == (name == "cyclegan")


def test_load_and_translate_with_clear_errors(tmp_path):
    paired = _paired(40)
    translation.train_run(tmp_path / "p2p", paired, _recipe("pix2pix"), epochs=1, verbose=False, run_eagerly=True)
    generator = translation.load_translator(tmp_path / "p2p")
    out = translation.translate(generator, paired.sources[:3])
    assert out.shape == (3, 32, 32, 1) and out.dtype == np.float32 and np.abs(out).max() <= 1
    assert not np.array_equal(out, translation.translate(generator, paired.sources[:3]))  # dropout is its noise
    with pytest.raises(ValueError, match="--reverse needs a cyclegan run"):
        translation.load_translator(tmp_path / "p2p", reverse=True)
    with pytest.raises(ValueError, match="translates images of shape"):
        translation.translate(generator, np.zeros((1, 64, 64, 1), np.float32))
    with pytest.raises(ValueError, match="holds no translation run"):
        translation.load_translator(tmp_path / "none")
    (tmp_path / "gan").mkdir()
    (tmp_path / "gan" / checkpoints.RECIPE).write_text(json.dumps({"name": "dcgan"}))
    with pytest.raises(ValueError, match="holds a GAN run"):
        translation.stored_recipe(tmp_path / "gan")
    with pytest.raises(ValueError, match="holds a run of recipe 'pix2pix', not 'l1'"):
        translation.train_run(tmp_path / "p2p", paired, _recipe("l1"), epochs=2, verbose=False)


def test_cycle_hiding_compares_clean_and_noisy_reconstructions():
    sources = data.make_shapes(6, seed=1, channels=1).images

    negate = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Rescaling(-1.0)])

    clean = translation.cycle_hiding(negate, negate, sources, -sources, noise_std=0.0)
    assert clean["translation_l1"] == 0 and clean["reconstruction_l1"] == 0 and clean["reconstruction_l1_noisy"] == 0
    noisy = translation.cycle_hiding(negate, negate, sources, -sources, noise_std=0.1, seed=0)
    assert noisy["reconstruction_l1"] == 0 and 0.02 < noisy["reconstruction_l1_noisy"] < 0.1  # clipped at -1 and 1
    assert noisy["noise_l1"] == pytest.approx(noisy["reconstruction_l1_noisy"], rel=1e-6)  # F passes noise through


def test_cyclegan_batches_are_not_pairs():
    paired = _paired(64)
    x, y = next(iter(translation.pipeline(paired, _recipe("cyclegan"), seed=0, epochs=1)))
    matched = [np.any(np.all(np.isclose(np.asarray(y), -np.asarray(x[i])), axis=(1, 2, 3))) for i in range(len(x))]
    assert not all(matched)  # a pix2pix batch would pair every source with its target
    p, q = next(iter(translation.pipeline(paired, _recipe("pix2pix"), seed=0, epochs=1)))
    np.testing.assert_array_equal(np.asarray(q), -np.asarray(p))
