"""The command line, run as a reader would: train, resume, sample, and one clear line for bad input."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from fixtures import fetched

ENV = {**os.environ, "GAN_BOOK_PROFILE": "smoke", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gan_utils", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)


def test_train_then_resume_then_sample(tmp_path):
    first = run_cli("train", "--dataset", "digits", "--out", "run", "--epochs", "1", "--limit", "256", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "starting run: recipe 'best' on digits (256 of 1438 images), 1 epochs in total" in first.stdout  # held-out fifth kept
    assert "stopped by epochs after 1 epochs" in first.stdout
    assert json.loads((tmp_path / "run" / "recipe.json").read_text())["name"] == "best"  # the small-data default
    heldout = json.loads((tmp_path / "run" / "run.json").read_text())["heldout"]
    assert len(heldout) == 359 and heldout == sorted(heldout)  # digits have no ids: their indices

    resumed = run_cli("train", "--dataset", "digits", "--out", "run", "--epochs", "2", "--limit", "256", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run" in resumed.stdout and "after 2 epochs" in resumed.stdout
    assert "epoch 2/2" in resumed.stdout and "epoch 1/2" not in resumed.stdout

    sampled = run_cli("sample", "run", "--num", "7", "--out", "samples.npz", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    with np.load(tmp_path / "samples.npz") as stored:
        images = stored["images"]
    assert images.shape == (7, 32, 32, 1) and images.dtype == np.float32
    assert -1 <= images.min() and images.max() <= 1


def test_conditional_training_and_sampling_a_chosen_class(tmp_path):
    trained = run_cli("train", "--dataset", "digits", "--out", "run", "--epochs", "1", "--recipe", "dcgan",
                      "--conditional", "--limit", "256", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "recipe 'dcgan', conditional on 10 classes on digits" in trained.stdout
    assert json.loads((tmp_path / "run" / "recipe.json").read_text())["num_classes"] == 10
    sampled = run_cli("sample", "run", "--num", "4", "--label", "7", "--out", "sevens.npz", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    with np.load(tmp_path / "sevens.npz") as stored:
        assert stored["images"].shape == (4, 32, 32, 1)
    for args, message in [(["sample", "run", "--num", "2", "--label", "10", "--out", "x.npz"], "labels must be integers in [0, 10)"),
                          (["train", "--dataset", "digits", "--out", "run", "--epochs", "2", "--recipe", "dcgan"],
                           "holds a conditional run; resume it with --conditional"),
                          (["sample", "run", "--num", "2", "--psi", "0.7", "--out", "x.npz"],
                           "run's generator is not style-based (it has no W); leave out --psi")]:
        failed = run_cli(*args, cwd=tmp_path)
        assert failed.returncode == 2 and message in failed.stderr, failed.stderr


def test_minutes_alone_trains_until_the_time_is_up(tmp_path):
    done = run_cli("train", "--dataset", "digits", "--out", "run", "--minutes", "0.05", "--limit", "128", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "for 0.05 minutes" in done.stdout and "stopped by minutes after" in done.stdout


def write_images(folder, n=64):
    """n small PNGs of different sizes and shapes: a coloured block on a background, as a reader's photos stand-in."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        height, width = rng.integers(24, 80, size=2)
        pixels = np.full((height, width, 3), rng.integers(0, 256, size=3), np.uint8)
        pixels[height // 4:3 * height // 4, width // 4:3 * width // 4] = rng.integers(0, 256, size=3)
        Image.fromarray(pixels).save(folder / f"image_{i:02d}.png")


def test_train_on_a_folder_of_images_then_sample(tmp_path):
    write_images(tmp_path / "photos")
    (tmp_path / "photos" / "notes.txt").write_text("not an image: skipped")
    trained = run_cli("train", "--dataset", "folder", "--folder", "photos", "--out", "run", "--epochs", "1",
                      cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "starting run: recipe 'best' on folder (64 images), 1 epochs in total" in trained.stdout  # used whole
    assert (tmp_path / "run" / "generator.keras").is_file()
    sampled = run_cli("sample", "run", "--num", "5", "--out", "samples.npz", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    with np.load(tmp_path / "samples.npz") as stored:
        images = stored["images"]
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.float32  # RGB, at the book's resolution
    assert np.isfinite(images).all() and -1 <= images.min() and images.max() <= 1
    assert json.loads((tmp_path / "run" / "run.json").read_text())["heldout"] == []  # a folder is used whole


def test_a_folder_at_64_pixels_trains_an_adapted_recipe_that_says_so(tmp_path):
    write_images(tmp_path / "photos")
    trained = run_cli("train", "--dataset", "folder", "--folder", "photos", "--resolution", "64", "--out", "run",
                      "--epochs", "1", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "64 images, 64x64x3" in trained.stdout and "was tuned for 32x32 images; at 64x64" in trained.stdout
    assert json.loads((tmp_path / "run" / "recipe.json").read_text())["resolution"] == 64
    sampled = run_cli("sample", "run", "--num", "3", "--out", "samples.npz", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    with np.load(tmp_path / "samples.npz") as stored:
        assert stored["images"].shape == (3, 64, 64, 3)


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji files are not fetched: python -m gan_utils fetch emoji")
def test_emoji_train_sample_evaluate_records_the_held_out_designs_and_prints_the_new_checks(tmp_path):
    from gan_utils import emoji, evaluate

    trained = run_cli("train", "--dataset", "emoji", "--out", "run", "--epochs", "1", "--limit", "128", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    dataset = emoji.load()
    held = emoji.heldout(dataset)
    assert f"on emoji (128 of {(~held).sum()} images)" in trained.stdout  # 128 drawn from the training part and "64x64x3" in trained.stdout
    recorded = json.loads((tmp_path / "run" / "run.json").read_text())["heldout"]
    assert recorded == sorted(set(dataset.ids[held])) == evaluate.heldout_items(dataset)
    assert json.loads((tmp_path / "run" / "recipe.json").read_text())["resolution"] == 64
    sampled = run_cli("sample", "run", "--num", "24", "--out", "samples.npz", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    scored = run_cli("evaluate", "samples.npz", "--dataset", "emoji", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert result["n"] == 24 and "reference ready in" in scored.stderr
    assert {"copies", "memorisation_ratio"} <= set(result["generated"])
    assert "copies" not in result["real_floor"]  # the floor's images are training images of the same designs
    for side in ("generated", "real_floor"):
        assert {"sharpness", "attribute_coverage"} <= set(result[side])
        assert set(result[side]["attribute_coverage"]["shares"]) == set(emoji.SKIN_TONES)


@pytest.mark.skipif(not fetched("emoji") or not fetched("cjk"), reason="the emoji and CJK files are not fetched: "
                    "python -m gan_utils fetch all")
def test_translation_runs_record_their_heldout_pairs_and_translate_both_ways(tmp_path):
    from gan_utils import pairs, settings

    trained = run_cli("train", "--dataset", "emoji_pairs", "--recipe", "pix2pix", "--out", "p2p", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    paired = pairs.load("emoji_pairs").subset(slice(0, settings.PROFILES["smoke"].translation_pairs))
    recorded = json.loads((tmp_path / "p2p" / "run.json").read_text())["heldout"]
    assert recorded == sorted(paired.ids[paired.heldout].tolist()) and recorded
    np.savez(tmp_path / "in.npz", images=paired.sources[:3], labels=np.arange(3))  # other keys are ignored
    translated = run_cli("translate", "p2p", "--images", "in.npz", "--out", "out.npz", cwd=tmp_path)
    assert translated.returncode == 0, translated.stderr
    with np.load(tmp_path / "out.npz") as stored:
        assert stored["images"].shape == (3, 64, 64, 3) and stored["images"].dtype == np.float32
    refused = run_cli("translate", "p2p", "--images", "in.npz", "--out", "o.npz", "--reverse", cwd=tmp_path)
    assert refused.returncode == 2 and "--reverse needs a cyclegan run" in refused.stderr

    cycled = run_cli("train", "--dataset", "cjk_pairs", "--recipe", "cyclegan", "--out", "cyc", cwd=tmp_path)
    assert cycled.returncode == 0, cycled.stderr
    np.savez(tmp_path / "glyphs.npz", images=pairs.load("cjk_pairs").targets[:2])
    back = run_cli("translate", "cyc", "--images", "glyphs.npz", "--out", "back.npz", "--reverse", cwd=tmp_path)
    assert back.returncode == 0 and "target to source" in back.stdout, back.stderr
    other = run_cli("train", "--dataset", "cjk_pairs", "--recipe", "pix2pix", "--out", "cyc", cwd=tmp_path)
    assert other.returncode == 2 and "holds a 'cyclegan' run" in other.stderr


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji files are not fetched: python -m gan_utils fetch emoji")
def test_project_writes_latents_whose_images_are_the_written_images(tmp_path):
    from gan_utils import emoji, train, wspace

    showcase = pathlib.Path(__file__).resolve().parents[1] / "showcase" / "emoji-stylegan2"
    dataset = emoji.load()
    real = dataset.images[emoji.heldout(dataset)][:2]
    np.savez(tmp_path / "real.npz", images=real, ids=np.arange(2))  # other keys are ignored
    result = run_cli("project", str(showcase), "--images", "real.npz", "--out", "out.npz", "--steps", "3",
                     "--space", "w", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "projected 2 images into w" in result.stdout and "mean PSNR" in result.stdout
    with np.load(tmp_path / "out.npz") as out:
        latents, images = out["latents"], out["images"]
    generator = train.load_generator(showcase)
    assert latents.shape == (2, generator.num_ws, generator.w_dim) and images.shape == real.shape
    np.testing.assert_array_equal(latents, np.broadcast_to(latents[:, :1], latents.shape))  # one w for every layer
    np.testing.assert_allclose(wspace.synthesise(generator, latents), images, atol=1e-4)


SHOWCASE = pathlib.Path(__file__).resolve().parents[1] / "showcase" / "emoji-stylegan2"


def test_sample_png_alone_draws_the_first_64_truncated_samples_over_their_caption(tmp_path):
    from PIL import Image

    from gan_utils import plots, train, wspace

    result = run_cli("sample", str(SHOWCASE), "--num", "65", "--psi", "0.5", "--png", "grid.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("drew a grid of the first 64 of 65 images truncated in W with psi 0.5 in grid.png, captioned with the "
            "data licence line") in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # --out is optional beside --png
    images = wspace.truncated_sample(train.load_generator(SHOWCASE), 64, psi=0.5)  # 64 of 65: the same first 64
    tiles = np.round(plots.images_to_mosaic(images) * 255).astype(np.uint8).repeat(2, 0).repeat(2, 1)
    with Image.open(tmp_path / "grid.png") as png:
        pixels = np.asarray(png)
    side = (8 * 65 - 1) * 2  # 8x8 tiles of 64 pixels with 1-pixel gaps, doubled
    assert tiles.shape[:2] == (side, side) and pixels.shape[1] == side and pixels.shape[0] > side  # caption below
    np.testing.assert_allclose(pixels[:side].astype(int), tiles.astype(int), atol=1)  # another process's rounding


def test_sample_psi_1_gives_the_images_of_sample_without_psi_and_an_emoji_png_carries_the_licence(
        tmp_path, monkeypatch, capsys):
    from gan_utils import __main__ as cli
    from gan_utils import emoji, plots

    captions = []
    monkeypatch.setattr(plots, "save_grid", lambda images, path, caption: captions.append((len(images), caption)))
    assert cli.main(["sample", str(SHOWCASE), "--num", "6", "--seed", "5", "--out", str(tmp_path / "plain.npz")]) == 0
    assert cli.main(["sample", str(SHOWCASE), "--num", "6", "--seed", "5", "--psi", "1", "--out",
                     str(tmp_path / "one.npz"), "--png", str(tmp_path / "g.png")]) == 0
    with np.load(tmp_path / "plain.npz") as plain, np.load(tmp_path / "one.npz") as one:
        np.testing.assert_array_equal(one["images"], plain["images"])  # the same z and noise: the same images
    assert captions == [(6, f"All 6 samples of {SHOWCASE}, seed 5, with psi 1 (not truncated).\n{emoji.ATTRIBUTION}")]
    assert "wrote 6 images with psi 1 (not truncated), float32 (64, 64, 3)" in capsys.readouterr().out


def test_the_licence_line_follows_the_run_json_dataset(tmp_path):
    from gan_utils import __main__ as cli
    from gan_utils import cjk, emoji

    assert cli._attribution(SHOWCASE) == emoji.ATTRIBUTION
    for dataset, line in [("cjk", cjk.ATTRIBUTION), ("digits", None), ("folder", None)]:
        (tmp_path / "run.json").write_text(json.dumps({"dataset": dataset}))
        assert cli._attribution(tmp_path) == line
    assert cli._attribution(tmp_path / "no_run_json") is None


@pytest.mark.parametrize("contents, message", [
    ({}, "it is empty; put your image files directly in it."),
    ({"notes.txt": "text", "photo.webp": "webp"}, "it holds only other files (notes.txt, photo.webp); convert your "
                                                  "images to one of those formats"),
], ids=["empty", "no images"])
def test_a_folder_without_images_is_refused_in_one_line(tmp_path, contents, message):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, text in contents.items():
        (folder / name).write_text(text)
    result = run_cli("train", "--dataset", "folder", "--folder", "photos", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if ": error:" in line]
    assert len(error_lines) == 1, result.stderr
    assert f"No images (.jpg, .jpeg, .png) found in photos: {message}" in error_lines[0]
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "imagenet", "--out", "r"], "invalid choice: 'imagenet'"),
    (["train", "--dataset", "digits", "--out", "r", "--epochs", "-3"], "expected an integer >= 1, got '-3'"),
    (["train", "--dataset", "digits", "--out", "r", "--minutes", "zero"], "expected a positive number"),
    (["train", "--dataset", "digits", "--out", "r", "--recipe", "stylegan"], "Unknown recipe 'stylegan'"),
    (["train", "--dataset", "folder", "--out", "r", "--folder", "missing"], "is not a directory"),
    (["train", "--dataset", "digits", "--out", "r", "--folder", "x"], "--folder DIR goes with --dataset folder"),
    (["train", "--dataset", "mnist", "--out", "r"], "digits, shapes or toy2d"),
    (["sample", "nowhere", "--num", "3", "--out", "s.npz"], "train into nowhere first"),
    (["sample", "nowhere", "--num", "3", "--out", "s.png"], "--out must name an .npz file"),
    (["sample", "nowhere", "--num", "3"], "say where to write the samples: --out FILE.npz"),
    (["sample", "nowhere", "--num", "3", "--png", "s.jpg"], "--png must name a .png file"),
    (["sample", "nowhere", "--num", "3", "--png", "s.png", "--psi", "0.7", "--label", "1"], "leave out --label"),
    (["sample", "nowhere", "--num", "3", "--png", "s.png", "--psi", "high"], "invalid float value: 'high'"),
    (["project", "nowhere", "--images", "in.npz", "--out", "o.npz"], "in.npz does not exist"),
    (["project", "nowhere", "--images", "in.npz", "--out", "o.png"], "--out must name an .npz file"),
    (["project", "nowhere", "--images", "in.npz", "--out", "o.npz", "--space", "z"], "invalid choice: 'z'"),
    (["train", "--dataset", "emoji_pairs", "--out", "r", "--conditional"], "--conditional train GANs"),
    (["train", "--dataset", "cjk_pairs", "--out", "r", "--recipe", "dcgan"], "not a translation recipe"),
    (["train", "--dataset", "emoji_pairs", "--out", "r", "--limit", "9"], "--limit train GANs"),
    (["train", "--dataset", "digits", "--out", "r", "--limit", "0"], "expected an integer >= 1, got '0'"),
    (["train", "--dataset", "digits", "--out", "r", "--limit", "10"], "fewer than one training step's"),
    (["translate", "nowhere", "--images", "in.npz", "--out", "o.npz"], "in.npz does not exist"),
    (["translate", "nowhere", "--images", "in.npz", "--out", "o.png"], "--out must name an .npz file"),
])
def test_bad_input_gets_one_clear_error_line_and_exit_status_2(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if ": error:" in line]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr
    assert "Traceback" not in result.stderr
