"""Training images per second of one GAN step: gan_utils' trainer (GAN.fit) against a plain tf.function loop,
and the dcgan step under each speed setting: eager, tf.function, XLA, mixed precision and distribution.

Every configuration trains on the same in-memory random images (float32 32x32x1 in [-1, 1]; 64x64x3, the emoji's
shape, for the 64x64 rows), fed by gan_utils.data.make_pipeline:

    classic, trainer              the classic recipe (batch 256) through GAN.fit, as build_gan makes it
    classic, plain tf.function    the same models and optimisers driven by make_train_step in a Python loop
    dcgan, eager                  the dcgan recipe (batch 64) through GAN.fit with run_eagerly: Python runs
                                  the step op by op, the cost that tf.function removes
    dcgan, tf.function            the same, as build_gan makes it: the step traced once into a graph
    dcgan, XLA                    build_gan(jit_compile=True): the step compiled by XLA into fused kernels
    dcgan, mixed precision        build_gan(mixed_precision=True): float16 maths, float32 weights, one
                                  LossScaleOptimizer per network. CPUs have no fast float16 units, so there
                                  this row shows the cost; the gain needs a GPU with tensor cores
    dcgan, mirrored over ...      build_gan(strategy=MirroredStrategy), batch 64 split between the devices,
                                  gradients all-reduced, batch norm synchronised. With 2+ GPUs it uses them;
                                  otherwise two logical CPU devices (gan_utils.distribute.split_cpu), which
                                  share the same cores: that row shows the cost of distribution, not a speed-up
    dcgan, mirrored over GPUs     the row above on GPUs: skipped, with the reason, on machines with fewer than 2
    dcgan, XLA + mixed precision  the gpu profile's step on one GPU: skipped on machines without a GPU
    pipeline alone                the classic batches without training: the ceiling the data can feed
    classic64, trainer (64x64x3)  keras-io's 64x64 CelebA DCGAN as published (batch 32): what readers copy today
    dcgan64, trainer (64x64x3)    dcgan at 64x64 (batch 64), one more up/down stage: the book's 64x64 baseline
    best64, trainer (64x64x3)     best at 64x64 (batch 64): dcgan64 plus augmentation, TTUR and an EMA generator
    r3gan, trainer (64x64x3)      chapter 8's R3GAN (batch 64): residual networks, relativistic loss, R1 and R2
                                  every 4th step, ADA, an EMA generator
    stylegan2, trainer (64x64x3)  chapter 8's StyleGAN2 generator against R3GAN's discriminator (batch 64): lazy
                                  R1 every 16th step, ADA, an EMA generator
    fastgan, trainer (64x64x3)    FastGAN for few images (batch 32): skip-layer excitation, a self-supervised
                                  discriminator that reconstructs real images, DiffAugment, an EMA generator

A row the machine cannot run (no GPU, or a setting that fails here) is printed, and written to the JSON,
with "skipped: <reason>" and no numbers; the other rows are still measured. Each configuration is built
and warmed up once, so tracing and XLA compilation are never timed (a check confirms that the eager row's
step really runs eagerly and the others' are traced). Then its runs are interleaved with the others'
(A B C D, A B C D, ...), so noise on the machine hits all of them alike. A run times --steps steps, from the
start of the first step until its metrics have been fetched; images/s = steps * batch_size / seconds.
On a machine with fewer than 2 GPUs the CPU is split into logical devices before TensorFlow starts, so every
row runs in a process that has them; the single-device rows place everything on the first.

    python benchmarks/throughput.py                        # 5 rounds of 20 steps: about 25 minutes on 2 cores
    python benchmarks/throughput.py --repeats 9 --json throughput.json
    python benchmarks/throughput.py --smoke                # 2 rounds of 2 steps at batch 8: checks the code runs

Reading the table: "median" is the median images/s over the runs and "min"/"max" their spread; two
rows whose ranges overlap differ by no more than the noise. The overhead line compares the two classic
rows, (plain median - trainer median) / plain median, against the goal that the trainer costs at most
5% more than the plain loop (reported, never asserted); "per round" is the same ratio within each round,
whose runs ran back to back. The speed line divides each dcgan row's median by dcgan, tf.function's: below
1 is slower than the default step. The pipeline row should be far above the training rows, or the data,
not the step, is being measured. Peak MB is this process's peak resident memory (ru_maxrss), MB = 2**20
bytes; the load averages before and after say how busy the machine was.
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
from collections.abc import Callable

from gan_utils import settings  # first: importing gan_utils quiets TensorFlow's start-up logs

import keras
import numpy as np
import tensorflow as tf

from gan_utils import distribute
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
LOGICAL_CPUS = 2  # the mirrored row's devices on a machine with fewer than 2 GPUs
SPEED_BASELINE = "dcgan, tf.function"
RECIPES_64 = ("classic64", "dcgan64", "best64", "r3gan", "stylegan2", "fastgan")  # the 64x64 rows, on emoji-shaped images
NOTE_FLOAT16_ON_CPU = ("CPUs lack fast float16 units (TensorFlow falls back to slow float16 kernels), so this row "
                       "shows the cost on this machine; the gain needs a GPU with tensor cores.")


@dataclasses.dataclass
class Configuration:
    """One row: `prepare()` builds and warms it up and returns run(steps) -> seconds; or why it is skipped."""

    name: str
    recipe: Recipe
    prepare: Callable[[], Callable[[int], float]] | None = None
    skipped: str | None = None
    note: str | None = None
    devices: list[str] | None = None


class StepTimer(keras.callbacks.Callback):
    """Seconds from the start of fit's first step to its epoch end, once Keras has fetched the metrics.

    It overrides no batch-end hook, so Keras keeps dispatching batch callbacks asynchronously.
    """

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def claim_devices() -> dict:
    """The mirrored row's devices, decided before TensorFlow starts: {"gpus": count, "mirrored": names or None
    (None: every GPU), "error": why the CPU could not be split, or None}.

    With fewer than 2 GPUs the CPU is split into LOGICAL_CPUS logical devices, which must happen before
    anything creates a tensor: call this first thing in main().
    """
    gpus = len(tf.config.list_physical_devices("GPU"))  # lists the hardware without starting the runtime
    if gpus >= 2:
        return {"gpus": gpus, "mirrored": None, "error": None}
    try:
        return {"gpus": gpus, "mirrored": distribute.split_cpu(LOGICAL_CPUS), "error": None}
    except ValueError as error:  # TensorFlow had started already (main() called twice in one process)
        return {"gpus": gpus, "mirrored": None, "error": str(error)}


def channels_for(recipe: Recipe) -> int:
    """The channels a row trains on: grey at 32x32 (digits), colour at 64x64 (emoji)."""
    return CHANNELS if recipe.resolution == 32 else 3


def pipeline_for(recipe: Recipe, steps: int) -> tf.data.Dataset:
    """Batches of random images in [-1, 1] at the recipe's resolution; the same images and order for every
    configuration of one batch size and resolution."""
    side = recipe.resolution
    images = np.random.default_rng(SEED).uniform(-1, 1, (recipe.batch_size * IMAGE_BATCHES, side, side,
                                                          channels_for(recipe)))
    # Each epoch holds IMAGE_BATCHES batches, so this is more than any run takes; the epochs are made lazily.
    return make_pipeline(images.astype(np.float32), batch_size=recipe.batch_size, seed=SEED,
                         epochs=steps + WARMUP_STEPS)


def trainer(recipe: Recipe, pipeline: tf.data.Dataset, *, eager: bool = False, **options):
    """run(steps) -> seconds of `steps` GAN.fit steps, after a warm-up fit that builds and traces.

    `options` go to build_gan (jit_compile, mixed_precision, strategy); eager sets run_eagerly, so Keras
    calls train_step from Python at every step instead of tracing it into a tf.function.
    """
    gan = build_gan(recipe, channels_for(recipe), SEED, **options)
    gan.run_eagerly = eager  # read when fit makes its train function, on the first fit below
    eager_calls = watch_execution(gan)
    timer = StepTimer()

    def run(steps):
        gan.fit(pipeline, epochs=1, steps_per_epoch=steps, callbacks=[timer], verbose=0)
        return timer.seconds

    run(WARMUP_STEPS)
    if set(eager_calls) != {eager}:
        raise RuntimeError(f"train_step was meant to run {'eagerly' if eager else 'traced'}, but "
                           f"tf.executing_eagerly() was {eager_calls} in its calls.")
    return run


def watch_execution(gan) -> list[bool]:
    """A list that gets tf.executing_eagerly() at every Python call of gan.train_step: one entry per step when
    it runs eagerly, one per trace (per replica) when it is a tf.function."""
    calls, train_step = [], gan.train_step

    def watched(batch):
        calls.append(tf.executing_eagerly())
        return train_step(batch)

    gan.train_step = watched
    return calls


def plain_loop(recipe: Recipe, pipeline: tf.data.Dataset):
    """run(steps) -> seconds of `steps` calls of make_train_step's function, after a warm-up that traces it."""
    settings.seed_everything(SEED)
    generator, discriminator = recipe.build_models(channels_for(recipe))
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


def short(device: str) -> str:
    """'/job:localhost/replica:0/task:0/device:CPU:1' -> 'CPU:1'."""
    return device.rsplit("device:", 1)[-1]


def mirrored_configurations(dcgan: Recipe, batches: tf.data.Dataset, devices: dict) -> list[Configuration]:
    """The distribution rows: over the GPUs when there are 2+, else over logical CPU devices plus a skipped
    GPU row."""
    gpus = devices["gpus"]
    if gpus >= 2:
        names = [d.name for d in tf.config.list_logical_devices("GPU")]
        strategy = distribute.make_strategy("mirrored", names)
        return [Configuration(f"dcgan, mirrored over {len(names)} GPUs", dcgan, devices=names,
                              prepare=lambda: trainer(dcgan, batches, strategy=strategy),
                              note=f"devices {', '.join(map(short, names))}; batch {dcgan.batch_size} split "
                                   f"between them.")]
    cpus = devices["mirrored"]
    gpu_row = Configuration("dcgan, mirrored over GPUs", dcgan,
                            skipped=f"needs 2+ GPUs; this machine has {gpus}")
    if not cpus:
        return [Configuration(f"dcgan, mirrored over {LOGICAL_CPUS} logical CPUs", dcgan,
                              skipped=f"the CPU could not be split: {devices['error']}"), gpu_row]
    strategy = distribute.make_strategy("mirrored", cpus)
    cpu_row = Configuration(
        f"dcgan, mirrored over {len(cpus)} logical CPUs", dcgan, devices=cpus,
        prepare=lambda: trainer(dcgan, batches, strategy=strategy),
        note=f"{' and '.join(map(short, cpus))} are {len(cpus)} logical CPU devices that share the same "
             f"{os.cpu_count()} cores, so this row shows the overhead of distribution (per-replica steps, "
             f"gradient all-reduce, synchronised batch norm), not a speed-up.")
    return [cpu_row, gpu_row]


def configurations(classic: Recipe, dcgan: Recipe, steps: int, devices: dict,
                   at_64: tuple[Recipe, ...] = ()) -> list[Configuration]:
    """Every row, in the order of the table; `at_64` adds one trainer row per 64x64 recipe."""
    classic_batches, dcgan_batches = pipeline_for(classic, steps), pipeline_for(dcgan, steps)
    gpus = devices["gpus"]
    return [
        Configuration("classic, trainer", classic, lambda: trainer(classic, classic_batches)),
        Configuration("classic, plain tf.function", classic, lambda: plain_loop(classic, classic_batches)),
        Configuration("dcgan, eager", dcgan, lambda: trainer(dcgan, dcgan_batches, eager=True)),
        Configuration(SPEED_BASELINE, dcgan, lambda: trainer(dcgan, dcgan_batches)),
        Configuration("dcgan, XLA", dcgan, lambda: trainer(dcgan, dcgan_batches, jit_compile=True)),
        Configuration("dcgan, mixed precision", dcgan, lambda: trainer(dcgan, dcgan_batches, mixed_precision=True),
                      note=None if gpus else NOTE_FLOAT16_ON_CPU),
        *mirrored_configurations(dcgan, dcgan_batches, devices),
        Configuration("dcgan, XLA + mixed precision", dcgan,
                      lambda: trainer(dcgan, dcgan_batches, jit_compile=True, mixed_precision=True),
                      skipped=None if gpus else f"needs a GPU (float16 is slow on CPUs); this machine has {gpus}"),
        Configuration("pipeline alone (classic batches)", classic, lambda: pipeline_alone(classic_batches)),
        *(Configuration(f"{recipe.name}, trainer (64x64x3)", recipe,
                        lambda recipe=recipe: trainer(recipe, pipeline_for(recipe, steps))) for recipe in at_64),
    ]


def failure(error: Exception) -> str:
    """One line for the table: the error's type and the first line of its message."""
    lines = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return message if len(message) <= 200 else message[:197] + "..."


def measure(repeats: int, steps: int, batch_size: int | None, devices: dict) -> list[dict]:
    """Interleaved runs of every configuration; one result row each, images/s per run in run order.

    A configuration that is skipped, or fails to build, warm up or run, gets a row with "skipped" instead.
    """
    classic, dcgan = RECIPES["classic"], RECIPES["dcgan"]
    at_64 = tuple(RECIPES[name] for name in RECIPES_64)
    if batch_size is not None:
        classic, dcgan = (dataclasses.replace(recipe, batch_size=batch_size) for recipe in (classic, dcgan))
        at_64 = tuple(dataclasses.replace(recipe, batch_size=batch_size) for recipe in at_64)
    rows, runs = [], {}  # runs: row index -> (recipe, run) of the rows being measured
    for configuration in configurations(classic, dcgan, steps, devices, at_64):
        row = {"configuration": configuration.name}
        if configuration.devices:
            row["devices"] = configuration.devices
        if configuration.note:
            row["note"] = configuration.note
        if configuration.skipped is None:
            print(f"warming up {configuration.name} ...", flush=True)
            try:
                runs[len(rows)] = configuration.recipe, configuration.prepare()
                row.update(batch_size=configuration.recipe.batch_size, images_per_second=[])
            except Exception as error:  # e.g. a setting this machine's TensorFlow cannot compile
                configuration.skipped = f"failed: {failure(error)}"
        if configuration.skipped is not None:
            row["skipped"] = configuration.skipped
        rows.append(row)
    for round_ in range(repeats):
        print(f"round {round_ + 1}/{repeats} ...", flush=True)
        for index, (recipe, run) in list(runs.items()):
            try:
                rows[index]["images_per_second"].append(steps * recipe.batch_size / run(steps))
            except Exception as error:
                del runs[index], rows[index]["batch_size"], rows[index]["images_per_second"]
                rows[index]["skipped"] = f"failed in round {round_ + 1}: {failure(error)}"
    for index in runs:
        rates = rows[index]["images_per_second"]
        rows[index].update(median=statistics.median(rates), min=min(rates), max=max(rates))
    return rows


def overhead(rows: list[dict]) -> dict:
    """The trainer's cost over the plain loop on classic, in percent: from the medians and per round.
    {"skipped": why} when either classic row has no numbers."""
    by_name = {row["configuration"]: row for row in rows}
    fit, plain = by_name["classic, trainer"], by_name["classic, plain tf.function"]
    if "median" not in fit or "median" not in plain:
        return {"skipped": "a classic row was not measured", "goal_percent": OVERHEAD_GOAL_PERCENT}
    per_round = [100 * (p - f) / p for f, p in zip(fit["images_per_second"], plain["images_per_second"])]
    percent = 100 * (plain["median"] - fit["median"]) / plain["median"]
    return {"percent": percent, "per_round_min": min(per_round), "per_round_max": max(per_round),
            "goal_percent": OVERHEAD_GOAL_PERCENT, "ok": percent <= OVERHEAD_GOAL_PERCENT}


def speeds(rows: list[dict]) -> dict[str, float]:
    """Each measured dcgan row's median over the dcgan, tf.function row's median (empty if that was not measured)."""
    by_name = {row["configuration"]: row for row in rows}
    baseline = by_name[SPEED_BASELINE].get("median")
    if baseline is None:
        return {}
    return {row["configuration"]: row["median"] / baseline for row in rows
            if row["configuration"].startswith("dcgan, ") and row["configuration"] != SPEED_BASELINE
            and "median" in row}


def machine() -> dict:
    return {"cpus": os.cpu_count(), "gpus": len(tf.config.list_physical_devices("GPU")),
            "platform": platform.platform(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__,
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def report(rows: list[dict], steps: int, cost: dict, speed: dict, peak_mb: float, load: dict) -> None:
    width = max(len(row["configuration"]) for row in rows)
    repeats = max(len(row.get("images_per_second", [])) for row in rows)
    print(f"\n{repeats} interleaved runs of {steps} steps each; images/s:")
    print(f"{'configuration':<{width}}  {'batch':>5}  {'median':>9}  {'min':>9}  {'max':>9}  {'ms/step':>8}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['configuration']:<{width}}  {'-':>5}  skipped: {row['skipped']}")
            continue
        ms_per_step = 1000 * row["batch_size"] / row["median"]
        print(f"{row['configuration']:<{width}}  {row['batch_size']:>5}  {row['median']:>9.0f}  {row['min']:>9.0f}  "
              f"{row['max']:>9.0f}  {ms_per_step:>8.2f}")
    notes = [row for row in rows if "note" in row and "skipped" not in row]
    if notes:
        print("notes:")
        for row in notes:
            print(f"- {row['configuration']}: {row['note']}")
    if "skipped" in cost:
        print(f"trainer overhead over the plain loop (classic): not measured, {cost['skipped']}; "
              f"goal <= {cost['goal_percent']}%")
    else:
        print(f"trainer overhead over the plain loop (classic): {cost['percent']:+.1f}% "
              f"(per round {cost['per_round_min']:+.1f}% to {cost['per_round_max']:+.1f}%); "
              f"goal <= {cost['goal_percent']}%: {'ok' if cost['ok'] else 'over'}")
    if speed:
        print(f"speed against {SPEED_BASELINE} (median / median): "
              + ", ".join(f"{name.removeprefix('dcgan, ')} {ratio:.2f}x" for name, ratio in speed.items()))
    print(f"peak MB: {peak_mb:.0f} (ru_maxrss of this process)")
    m = machine()
    print(f"machine: {m['cpus']} CPUs, {m['gpus']} GPUs, {m['platform']}, Python {m['python']}, "
          f"TensorFlow {m['tensorflow']}, Keras {m['keras']}; date {m['date']}")
    print(f"load average (1 min): {load['before']:.1f} before, {load['after']:.1f} after the runs, on "
          f"{m['cpus']} CPUs; above the CPU count, other work shared the machine")


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
    devices = claim_devices()  # before anything creates a tensor: it may split the CPU into logical devices
    defaults = SMOKE if args.smoke else {"repeats": MIN_REPEATS, "steps": DEFAULT_STEPS}
    repeats = defaults["repeats"] if args.repeats is None else args.repeats
    steps = defaults["steps"] if args.steps is None else args.steps
    if repeats < (1 if args.smoke else MIN_REPEATS) or steps < 1:
        parser.error(f"--repeats must be at least {MIN_REPEATS} (1 with --smoke) and --steps at least 1.")

    load = {"before": os.getloadavg()[0]}
    started = time.perf_counter()
    rows = measure(repeats, steps, SMOKE["batch_size"] if args.smoke else None, devices)
    load["after"] = os.getloadavg()[0]
    cost, speed = overhead(rows), speeds(rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    report(rows, steps, cost, speed, peak_mb, load)
    print(f"took {time.perf_counter() - started:.0f} s, warm-ups included")
    if args.json:
        figures = {"machine": machine(), "repeats": repeats, "steps": steps, "smoke": args.smoke,
                   "results": rows, "overhead": cost, "speed_vs_tf_function": speed, "peak_mb": peak_mb,
                   "load_average": load, "seconds": time.perf_counter() - started}
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
