"""Hardware profiles (smoke, cpu, gpu), seeding, quiet TensorFlow logs and the banner.

Every size that costs time lives here, so a notebook never sets one as a literal.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import pathlib
import platform
import random
import tempfile
import warnings

import numpy as np

PROFILE_ENV = "GAN_BOOK_PROFILE"
CACHE_ENV = "GAN_BOOK_CACHE"


@dataclasses.dataclass(frozen=True)
class Profile:
    """How much work a run may do. A profile never changes what a recipe means."""

    name: str
    purpose: str
    dataset: str  # default image dataset for chapters and the command line
    toy_steps: int  # chapter 1: training steps of the MLP GAN on toy2d
    toy_batch_size: int
    toy_snapshots: int  # chapter 1: pictures taken during training (an even number: two rows)
    toy_checks: int  # chapter 1: times the mode coverage is measured during training
    toy_samples: int  # points drawn to plot a toy2d generator and count its modes
    d_check_steps: int  # chapter 3: steps of the discriminator's real-versus-noise sanity check
    epochs: int  # chapter 4 and the command line: training epochs of an image GAN
    run_minutes: float | None  # chapters 4, 5, 7 and 11: each long run also stops after this many minutes
    failure_epochs: int  # chapter 4: epochs of the deliberately unbalanced run
    timing_steps: int  # chapter 4: steps timed to compare eager and tf.function
    classifier_epochs: int  # metrics: epochs of the feature classifier (part of its cache key)
    eval_samples: int  # metrics: generated images scored (capped by the held-out real images)
    eval_epochs: tuple[int, ...]  # chapter 5: run totals at which a training run is scored; the last is `epochs`
    comparison_epochs: int  # chapter 6: epochs of each run in the controlled comparison of techniques
    comparison_seeds: int  # chapter 6: seeds 0 .. comparison_seeds - 1 per recipe (5+ for a paired t interval)
    comparison_images: int | None  # chapter 6: training images used by the comparison (None: all of them)
    leak_epochs: int  # chapter 6: epochs of each of the two runs that augment real images only, or both
    conditional_epochs: int  # chapter 7: epochs of the class-conditional GAN on digits
    per_class_samples: int  # chapter 7: samples drawn per class to check a conditional generator
    coverage_images: int  # chapter 7: shapes drawn to train the coverage GANs and the combination classifier
    coverage_epochs: int  # chapter 7: epochs of each GAN whose mode coverage is counted on shapes
    coverage_samples: int  # chapter 7: generated images classified to count the covered combinations
    folder_images: int  # chapter 11: image files written to the stand-in for a reader's own folder
    folder_epochs: int  # chapter 11: epochs of the run on that folder
    misconception_epochs: int  # misconceptions appendix: epochs of its short GAN run and its regression generator
    modern_epochs: int  # chapter 8: epochs of each brief run of the modern recipes (r3gan, stylegan2) on emoji
    modern_minutes: float | None  # chapter 8: each of its three runs (two on emoji, one on cjk) also stops after this
    modern_images: int | None  # chapter 8: emoji training images those runs use (None: all of them)
    cjk_epochs: int  # chapter 8: epochs of the run on the Chinese characters
    cjk_images: int | None  # chapter 8: characters (images) it trains on (None: all of the training part)
    projection_images: int  # chapter 9: held-out emoji projected into W and W+
    projection_steps: int  # chapter 9: optimisation steps of each projection
    ppl_pairs: int  # chapter 9: latent pairs per perceptual path length
    ppl_seeds: int  # chapter 9: seeds 0 .. ppl_seeds - 1 of each path length, for its spread
    direction_samples: int  # chapter 9: labelled samples a learned direction is fitted to
    edit_samples: int  # chapter 9: samples an edit is checked on, and as many to choose its layers
    translation_pairs: int | None  # chapter 10 and the command line: the first pairs used (None: all of them)
    translation_epochs: int  # chapter 10 and the command line: epochs of pix2pix and of the L1-only U-Net
    cyclegan_epochs: int  # chapter 10: epochs of CycleGAN (four networks: about four times pix2pix's cost)
    # Chapter 11's speed settings; each can be switched off (dataclasses.replace, or the command line's flags).
    mixed_precision: bool  # float16 maths with float32 weights, and loss-scaling optimisers
    jit_compile: bool | str  # XLA, passed to Keras explicitly; "auto" lets Keras use it where the model allows
    batch_scale: int  # multiplies every recipe's batch size (recipes.scale_batch): larger batches fill a GPU
    distribute: str  # "none" or "mirrored" (every visible GPU): see gan_utils.distribute
    run_eagerly: bool  # train steps without tf.function: for smoke's few steps, tracing costs more than it saves


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        purpose="checks that every cell runs, quickly; not for quality",
        dataset="digits",
        toy_steps=400,
        toy_batch_size=256,
        toy_snapshots=4,
        toy_checks=8,
        toy_samples=1000,
        d_check_steps=25,
        epochs=2,
        run_minutes=None,
        failure_epochs=1,
        timing_steps=3,
        classifier_epochs=1,
        eval_samples=200,
        eval_epochs=(1, 2),
        comparison_epochs=1,
        comparison_seeds=1,
        comparison_images=256,
        leak_epochs=1,
        conditional_epochs=1,
        per_class_samples=20,
        coverage_images=512,
        coverage_epochs=1,
        coverage_samples=256,
        folder_images=128,
        folder_epochs=1,
        misconception_epochs=1,
        modern_epochs=1,
        modern_minutes=None,
        modern_images=64,
        cjk_epochs=1,
        cjk_images=256,
        projection_images=2,
        projection_steps=5,
        ppl_pairs=20,
        ppl_seeds=2,
        direction_samples=64,
        edit_samples=16,
        translation_pairs=48,
        translation_epochs=1,
        cyclegan_epochs=1,
        mixed_precision=False,
        jit_compile=False,
        batch_scale=1,
        distribute="none",
        run_eagerly=True,
    ),
    "cpu": Profile(
        name="cpu",
        purpose="real, recognisable results on a laptop CPU in minutes",
        dataset="digits",
        toy_steps=10000,
        toy_batch_size=256,
        toy_snapshots=6,
        toy_checks=40,
        toy_samples=2000,
        d_check_steps=200,
        epochs=100,
        run_minutes=3.0,  # the book's budget on a slow 2-core machine; a fast one reaches the epochs first
        failure_epochs=5,  # D(G(z)) falls below 0.01 within 3 epochs on digits (2026-12-01)
        timing_steps=20,
        classifier_epochs=5,
        eval_samples=1000,
        eval_epochs=(1, 3, 10, 30, 100),
        comparison_epochs=2,
        comparison_seeds=5,
        comparison_images=384,  # 35 runs of 12 steps: each run's setup and scoring cost as much as its steps
        leak_epochs=30,
        conditional_epochs=60,
        per_class_samples=100,
        coverage_images=4000,
        coverage_epochs=5,
        coverage_samples=3000,
        folder_images=1000,
        folder_epochs=40,
        misconception_epochs=6,
        modern_epochs=6,
        modern_minutes=2.0,  # each of chapter 8's three runs: the chapter fits its 10 minutes on a slow 2-core machine
        modern_images=768,  # half the training part: epochs short enough that 2 minutes log several
        cjk_epochs=2,
        cjk_images=4000,  # a random third of the training glyphs: two epochs of them fit in modern_minutes
        projection_images=8,
        projection_steps=300,
        ppl_pairs=400,
        ppl_seeds=3,
        direction_samples=2000,
        edit_samples=200,
        translation_pairs=None,
        translation_epochs=6,
        cyclegan_epochs=3,
        mixed_precision=False,
        jit_compile=False,
        batch_scale=1,
        distribute="none",
        run_eagerly=False,
    ),
    "gpu": Profile(
        name="gpu",
        purpose="full quality on a GPU, with mixed precision",
        dataset="mnist",
        toy_steps=20000,
        toy_batch_size=512,
        toy_snapshots=6,
        toy_checks=40,
        toy_samples=5000,
        d_check_steps=400,
        epochs=30,
        run_minutes=None,
        failure_epochs=5,
        timing_steps=50,
        classifier_epochs=5,
        eval_samples=10000,
        eval_epochs=(1, 3, 10, 30),
        comparison_epochs=100,
        comparison_seeds=5,
        comparison_images=None,
        leak_epochs=100,
        conditional_epochs=150,
        per_class_samples=500,
        coverage_images=20000,
        coverage_epochs=30,
        coverage_samples=20000,
        folder_images=1797,
        folder_epochs=60,
        misconception_epochs=30,
        modern_epochs=100,
        modern_minutes=None,
        modern_images=None,
        cjk_epochs=20,
        cjk_images=None,
        projection_images=16,
        projection_steps=1000,
        ppl_pairs=2000,
        ppl_seeds=5,
        direction_samples=10000,
        edit_samples=1000,
        translation_pairs=None,
        translation_epochs=200,
        cyclegan_epochs=100,
        mixed_precision=True,
        jit_compile="auto",
        batch_scale=4,
        distribute="mirrored",
        run_eagerly=False,
    ),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The profile in force, the device it runs on, and why it was chosen."""

    profile: Profile
    device: str
    chosen_by: str

    def banner(self) -> str:
        """One line: profile, device, dataset, and how to change them."""
        return (
            f"gan_utils: profile '{self.profile.name}' ({self.chosen_by}) on {self.device}, "
            f"default dataset '{self.profile.dataset}'. "
            f"Change with {PROFILE_ENV}=smoke|cpu|gpu before starting the kernel."
        )


def cache_dir() -> pathlib.Path:
    """Where the book caches what it fetches, renders and trains once: $GAN_BOOK_CACHE, else ~/.cache/gan_book."""
    return pathlib.Path(os.environ.get(CACHE_ENV) or pathlib.Path.home() / ".cache" / "gan_book")


def quiet_tensorflow() -> None:
    """Hide TensorFlow's C++ and Python start-up chatter; errors still show."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="keras.src.trainers")


def gpu_devices() -> list[str]:
    """Names of the GPUs TensorFlow can see (empty on a CPU-only machine)."""
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def machine_info() -> dict:
    """The machine and software a measurement ran on, and when: what every benchmark stores beside its figures."""
    import keras
    import tensorflow as tf

    return {"cpus": os.cpu_count(), "gpus": len(gpu_devices()), "platform": platform.platform(),
            "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def machine_line(info: dict) -> str:
    """machine_info as the one line a benchmark prints under its figures."""
    return (f"machine: {info['cpus']} CPUs, {info.get('gpus', 0)} GPUs, {info['platform']}, Python {info['python']}, "
            f"TensorFlow {info['tensorflow']}, Keras {info['keras']}; date {info['date']}")


def store_results(write, path: pathlib.Path | None, default: pathlib.Path, *, smoke: bool) -> None:
    """Write a benchmark's results with `write(json_path)` (a JSON file and a .md beside it) to `path`, else
    `default`. A smoke run given no path writes them to a temporary folder, reads them back and removes them:
    the writing is exercised, and nothing under benchmarks/results/ changes."""
    if smoke and path is None:
        with tempfile.TemporaryDirectory(prefix="benchmark-smoke-") as folder:
            target = pathlib.Path(folder) / default.name
            write(target)
            json.loads(target.read_text()), target.with_suffix(".md").read_text()
        print("results: written to a temporary folder, read back and removed (smoke; --json keeps them)")
        return
    target = path or default
    write(target)
    print(f"results: {target} and {target.with_suffix('.md')}")


def choose_profile(env: dict[str, str] | None = None, gpus: list[str] | None = None) -> tuple[Profile, str]:
    """The profile to use and why: GAN_BOOK_PROFILE if set (and not 'auto'), else gpu or cpu by hardware."""
    env = os.environ if env is None else env
    requested = env.get(PROFILE_ENV, "").strip().lower()
    if requested and requested != "auto":
        if requested not in PROFILES:
            raise ValueError(
                f"{PROFILE_ENV}={env[PROFILE_ENV]!r} is not a profile; "
                f"use one of {', '.join(PROFILES)} or 'auto', or unset it to choose by hardware."
            )
        return PROFILES[requested], f"set by {PROFILE_ENV}"
    gpus = gpu_devices() if gpus is None else gpus
    return (PROFILES["gpu"] if gpus else PROFILES["cpu"]), "auto-detected"


def current() -> Settings:
    """The settings for this process: quiets TensorFlow, picks the profile, names the device."""
    quiet_tensorflow()
    gpus = gpu_devices()
    profile, chosen_by = choose_profile(gpus=gpus)
    device = f"{len(gpus)} GPU(s)" if gpus else f"CPU ({os.cpu_count()} cores)"
    return Settings(profile=profile, device=device, chosen_by=chosen_by)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras so that a run repeats on the same machine."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    import keras
    import tensorflow as tf

    random.seed(int(seed))
    np.random.seed(int(seed))
    tf.random.set_seed(int(seed))
    keras.utils.set_random_seed(int(seed))
