"""Training images per second of one GAN step: gan_utils' trainer (GAN.fit) against a plain tf.function loop.

Every configuration trains on the same in-memory random images (float32 32x32x1 in [-1, 1]), fed by
gan_utils.data.make_pipeline:

    classic, trainer            the classic recipe (batch 256) through GAN.fit, as build_gan makes it
    classic, plain tf.function  the same models and optimisers driven by make_train_step in a Python loop
    dcgan, trainer              the dcgan recipe (batch 64) through GAN.fit
    pipeline alone              the classic batches without training: the ceiling the data can feed

Each configuration is built and warmed up once, so tracing is never timed. Then its runs are
interleaved with the others' (A B C D, A B C D, ...), so noise on the machine hits all of them alike.
A run times --steps steps, from the start of the first step until its metrics have been fetched;
images/s = steps * batch_size / seconds.

    python benchmarks/throughput.py                        # 5 rounds of 20 steps: a few minutes on 2 cores
    python benchmarks/throughput.py --repeats 9 --json throughput.json
    python benchmarks/throughput.py --smoke                # 2 rounds of 2 steps at batch 8: checks the code runs

Reading the table: "median" is the median images/s over the runs and "min"/"max" their spread; two
rows whose ranges overlap differ by no more than the noise. The overhead line compares the two classic
rows, (plain median - trainer median) / plain median, against the goal that the trainer costs at most
5% more than the plain loop (reported, never asserted); "per round" is the same ratio within each round,
whose runs ran back to back. The pipeline row should be far above the training rows, or the data, not
the step, is being measured. Peak MB is this process's peak resident memory (ru_maxrss), MB = 2**20 bytes.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import resource
import statistics
import sys
import time

from gan_utils import settings  # first: importing gan_utils quiets TensorFlow's start-up logs

import keras
import numpy as np
import tensorflow as tf

from gan_utils.data import make_pipeline
from gan_utils.recipes import RECIPES, Recipe
from gan_utils.train import build_gan, make_train_step

OVERHEAD_GOAL_PERCENT = 5
MIN_REPEATS = 5
DEFAULT_STEPS = 20
WARMUP_STEPS = 2
IMAGE_BATCHES = 8  # the random images hold this many batches; the pipeline reshuffles them every epoch
SMOKE = {"repeats": 2, "steps": 2, "batch_size": 8}
SEED = 0
CHANNELS = 1


class StepTimer(keras.callbacks.Callback):
    """Seconds from the start of fit's first step to its epoch end, once Keras has fetched the metrics.

    It overrides no batch-end hook, so Keras keeps dispatching batch callbacks asynchronously.
    """

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def pipeline_for(recipe: Recipe, steps: int) -> tf.data.Dataset:
    """Batches of random images in [-1, 1]; the same images and order for every configuration of one batch size."""
    images = np.random.default_rng(SEED).uniform(-1, 1, (recipe.batch_size * IMAGE_BATCHES, 32, 32, CHANNELS))
    # Each epoch holds IMAGE_BATCHES batches, so this is more than any run takes; the epochs are made lazily.
    return make_pipeline(images.astype(np.float32), batch_size=recipe.batch_size, seed=SEED,
                         epochs=steps + WARMUP_STEPS)


def trainer(recipe: Recipe, pipeline: tf.data.Dataset):
    """run(steps) -> seconds of `steps` GAN.fit steps, after a warm-up fit that builds and traces."""
    gan = build_gan(recipe, CHANNELS, SEED)
    timer = StepTimer()

    def run(steps):
        gan.fit(pipeline, epochs=1, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        return timer.seconds

    run(WARMUP_STEPS)
    return run


def plain_loop(recipe: Recipe, pipeline: tf.data.Dataset):
    """run(steps) -> seconds of `steps` calls of make_train_step's function, after a warm-up that traces it."""
    settings.seed_everything(SEED)
    generator, discriminator = recipe.build_models(CHANNELS)
    g_opt, d_opt = recipe.build_optimizers()
    step = make_train_step(generator, discriminator, g_opt, d_opt, latent_dim=recipe.latent_dim,
                           seed_generator=keras.random.SeedGenerator(SEED), g_loss=recipe.g_loss)

    def run(steps):
        batches = iter(pipeline)  # made before the clock starts, as fit makes its iterator
        start = time.perf_counter()
        for _ in range(steps):
            metrics = step(next(batches))
        float(metrics["d_loss"])  # the last step's results are on the host, as at fit's epoch end
        return time.perf_counter() - start

    run(WARMUP_STEPS)
    return run


def pipeline_alone(pipeline: tf.data.Dataset):
    """run(steps) -> seconds to draw `steps` batches from the pipeline, with no training."""

    def run(steps):
        batches = iter(pipeline)
        start = time.perf_counter()
        for _ in range(steps):
            next(batches)
        return time.perf_counter() - start

    run(WARMUP_STEPS)
    return run


def measure(repeats: int, steps: int, batch_size: int | None) -> list[dict]:
    """Interleaved runs of every configuration; one result row each, images/s per run in run order."""
    classic, dcgan = RECIPES["classic"], RECIPES["dcgan"]
    if batch_size is not None:
        classic, dcgan = (dataclasses.replace(recipe, batch_size=batch_size) for recipe in (classic, dcgan))
    classic_batches, dcgan_batches = pipeline_for(classic, steps), pipeline_for(dcgan, steps)
    configurations = [
        ("classic, trainer", classic, trainer(classic, classic_batches)),
        ("classic, plain tf.function", classic, plain_loop(classic, classic_batches)),
        ("dcgan, trainer", dcgan, trainer(dcgan, dcgan_batches)),
        ("pipeline alone (classic batches)", classic, pipeline_alone(classic_batches)),
    ]
    rows = [{"configuration": name, "batch_size": recipe.batch_size, "images_per_second": []}
            for name, recipe, _ in configurations]
    for round_ in range(repeats):
        print(f"round {round_ + 1}/{repeats} ...", flush=True)
        for row, (_, recipe, run) in zip(rows, configurations):
            row["images_per_second"].append(steps * recipe.batch_size / run(steps))
    for row in rows:
        rates = row["images_per_second"]
        row.update(median=statistics.median(rates), min=min(rates), max=max(rates))
    return rows


def overhead(rows: list[dict]) -> dict:
    """The trainer's cost over the plain loop on classic, in percent: from the medians and per round."""
    by_name = {row["configuration"]: row for row in rows}
    fit, plain = by_name["classic, trainer"], by_name["classic, plain tf.function"]
    per_round = [100 * (p - f) / p for f, p in zip(fit["images_per_second"], plain["images_per_second"])]
    percent = 100 * (plain["median"] - fit["median"]) / plain["median"]
    return {"percent": percent, "per_round_min": min(per_round), "per_round_max": max(per_round),
            "goal_percent": OVERHEAD_GOAL_PERCENT, "ok": percent <= OVERHEAD_GOAL_PERCENT}


def machine() -> dict:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__,
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def report(rows: list[dict], steps: int, cost: dict, peak_mb: float) -> None:
    width = max(len(row["configuration"]) for row in rows)
    print(f"\n{len(rows[0]['images_per_second'])} interleaved runs of {steps} steps each; images/s:")
    print(f"{'configuration':<{width}}  {'batch':>5}  {'median':>9}  {'min':>9}  {'max':>9}  {'ms/step':>8}")
    for row in rows:
        ms_per_step = 1000 * row["batch_size"] / row["median"]
        print(f"{row['configuration']:<{width}}  {row['batch_size']:>5}  {row['median']:>9.0f}  {row['min']:>9.0f}  "
              f"{row['max']:>9.0f}  {ms_per_step:>8.2f}")
    print(f"trainer overhead over the plain loop (classic): {cost['percent']:+.1f}% "
          f"(per round {cost['per_round_min']:+.1f}% to {cost['per_round_max']:+.1f}%); "
          f"goal <= {cost['goal_percent']}%: {'ok' if cost['ok'] else 'over'}")
    print(f"peak MB: {peak_mb:.0f} (ru_maxrss of this process)")
    m = machine()
    print(f"machine: {m['cpus']} CPUs, {m['platform']}, Python {m['python']}, TensorFlow {m['tensorflow']}, "
          f"Keras {m['keras']}; date {m['date']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, help=f"interleaved runs per configuration (default and minimum "
                        f"{MIN_REPEATS}; {SMOKE['repeats']} with --smoke)")
    parser.add_argument("--steps", type=int,
                        help=f"steps per timed run (default {DEFAULT_STEPS}; {SMOKE['steps']} with --smoke)")
    parser.add_argument("--json", type=pathlib.Path, metavar="OUT", help="also write the figures here")
    parser.add_argument("--smoke", action="store_true",
                        help=f"a quick check that the measurement runs, at batch {SMOKE['batch_size']}")
    args = parser.parse_args(argv)
    defaults = SMOKE if args.smoke else {"repeats": MIN_REPEATS, "steps": DEFAULT_STEPS}
    repeats = defaults["repeats"] if args.repeats is None else args.repeats
    steps = defaults["steps"] if args.steps is None else args.steps
    if repeats < (1 if args.smoke else MIN_REPEATS) or steps < 1:
        parser.error(f"--repeats must be at least {MIN_REPEATS} (1 with --smoke) and --steps at least 1.")

    rows = measure(repeats, steps, SMOKE["batch_size"] if args.smoke else None)
    cost = overhead(rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    report(rows, steps, cost, peak_mb)
    if args.json:
        figures = {"machine": machine(), "repeats": repeats, "steps": steps, "smoke": args.smoke,
                   "results": rows, "overhead": cost, "peak_mb": peak_mb}
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
