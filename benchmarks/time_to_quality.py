"""Time to quality: how many minutes of CPU training each recipe needs to reach given classifier-FID levels.

Two setups (--dataset): digits at 32x32 (issue 5's goals, described first below) and the emoji people at 64x64
(issues 14 and 15: classic64, dcgan64, best64, r3gan and stylegan2 side by side, 15 minutes each, seed 0;
dcgan64 reaches classic64's best FID at least 10x sooner; the recipe with the lowest final FID among those that end
without artefacts or copies (emoji's default) ends at most half dcgan64's final FID, with at most 1% copies against
shifted and mirrored training emoji and sharpness between 0.8 and 1.25, and is reported against issue 14's floor
goal (8x, moonshot 5x) and skin-tone goal (every tone's share among its samples within 1.5x of its share in the
data, by the emoji classifier's skin-tone head); r3gan and stylegan2 each against dcgan64 and best64 at equal
time and at equal images seen, interpolating FID linearly in images between evaluations). On emoji the generators
train on the designs outside the held-out fifth; N is the held-out images' count. Each run's per-epoch log (ADA's p among it) is stored, and
its last 16 samples go to an .npz beside the results.

The recipes (dcgan and best by default; --recipes adds classic or names others from gan_utils.recipes.RECIPES,
or one-change variants such as "best - augmentation")
train on the training part of the digits dataset for --minutes of training time (default 10), from each of
--seeds (default 0, 1 and 2), one run after another in this one process, so all of them run on the same
machine under the same conditions. Each run trains continuously through gan_utils.train.train_run (a fresh
temporary run directory, checkpoints every epoch as in a real run). A callback stops the clock at an epoch boundary every --interval
minutes (default 1), draws N images from the generator for one fixed z, scores them, and starts the
clock again, so evaluation is never counted as training time. To resolve early times too, it also
evaluates at 1/8, 1/4 and 1/2 of the first interval, and once before the first step (minute 0).
Training stops, like train_run's own time budget, at the epoch boundary before the next epoch would
pass --minutes.

Scores use gan_utils.evaluate with the cached digits classifier trained with the cpu profile's settings
(the strong one): classifier-FID against the reference half of the training digits (the half the classifier
did not learn), precision/recall (k=3), sharpness and, at a run's last evaluation only (it is the slow part at
64x64), the memorisation ratio (median generated-to-nearest-training distance over held-out-to-nearest-training
distance, in pixels: well below 1 means copying; near 1 is healthy). Those 1,438 digits
(gan_utils.evaluate.training_part) are all the generators train on: the 359 held-out digits are never
trained on, so they can serve as the real-vs-real floor and the memorisation check's fresh real digits.
N is the number of held-out digits (359), and the real-vs-real floor is the FID of those 359 held-out
digits at the same N.

    python benchmarks/time_to_quality.py                  # 10 minutes per run, 6 runs: about 65 minutes on 2 cores
    python benchmarks/time_to_quality.py --recipes dcgan --minutes 3 --interval 0.5 --json /tmp/ttq.json
    python benchmarks/time_to_quality.py --smoke          # seconds; smoke classifier, few samples
    python benchmarks/time_to_quality.py --dataset emoji  # 5 x 15 minutes plus evaluations: about 90 minutes

It prints one line per evaluation, then a table and writes it (with the machine, the date and every
evaluation) to --json (default benchmarks/results/time_to_quality.json) and a Markdown table beside it
(.md). With --smoke nothing under benchmarks/results/ is touched: unless --json is given, the files are
written to a temporary folder, read back and removed.

Reading the table: each figure is the mean over the seeds with the range (min-max) beside it. "best FID" is
the lowest FID of a run's evaluations and "at <M> min" the FID at the end of training (the 10-minute FID);
"min to <level>" lists, per seed, the training minutes at the first evaluation whose FID is at or below that
level ("-": not reached). A second table gives every checkpoint (the n-th evaluation of each run) with its
mean minutes and the mean and range of FID over the seeds. The levels are classic's best FID (the goal) and
multiples of the floor (50x, 10x, 5x, 3x, 2x; any the untrained generators already meet are left out),
as FID cannot meaningfully go below the floor at this N. Read down the rows as the recipe comparison:
classic (the tutorial), dcgan (a plain, well-sized DCGAN) and best (dcgan plus chapter 6's tricks), each
given the same minutes on the same machine.

The goal line checks the issue's goal: dcgan reaches classic's best FID at least 10 times sooner than
classic does, speed-up = classic's minutes to its best / dcgan's minutes to that FID (goal >= 10x,
reported, never asserted); it needs --recipes classic dcgan ... and is judged per seed.

The four lines after it check issue 5's goals for best, all at its last evaluation (the 10-minute state a
run leaves behind), likewise reported, never asserted: it does not degrade (final FID at most 10% above
the best FID of its run), it ends near the floor (final FID at most 3x the real-vs-real floor), it beats
dcgan (final FID at least 40% below dcgan's final FID), and it does not memorise (memorisation ratio at
least 0.9, and at most 1% copies: generated digits closer to a training digit than 99% of held-out digits
are). Each check is judged per seed and is "ok" only when every seed meets it; a check whose recipes did not
run (--recipes) says "not measured".

Caveats:
- Time resolution is the evaluation schedule: a level is "reached" at the first evaluation at or below it,
  so the true time lies between that evaluation and the one before; with the default schedule that is
  within 2x early on and within --interval minutes later. As dcgan's time is an upper bound, the speed-up
  is, if anything, understated.
- Training minutes are wall-clock seconds inside Keras' fit: they include tracing the first step, the
  per-epoch checkpoints and whatever else the machine runs at the same time (a busy machine slows every
  recipe, and the recipe that happens to run during the noise most). Evaluation pauses, building the models
  and the process start are excluded. The "wall" column in the log and the JSON has the full wall time.
- A few seeds per recipe. A GAN's FID swings from one snapshot to the next and from one seed to the next, so
  "best FID" is the best snapshot seen, not a level the run holds; read differences smaller than the
  ranges as ties. The load only stretches the time axis, so the steps column is the load-free record.
- FID is classifier-FID on this dataset's own classifier: comparable across the recipes here, not with
  Inception FIDs from papers.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pathlib
import resource
import sys
import tempfile
import time

from gan_utils import settings  # first: importing gan_utils quiets TensorFlow's start-up logs

import keras
import numpy as np
import tensorflow as tf

from gan_utils import checkpoints, compare, data, evaluate, train
from gan_utils import recipes as gan_recipes

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SAMPLE_SEED = 1  # the fixed z every evaluation draws its images from
SHOWN_SAMPLES = 16  # the first of a run's last samples, stored (.npz beside the results) for side-by-side grids
MAX_EPOCHS = 1_000_000  # "train until the time is up": the clock, not this, ends a run
EARLY_FRACTIONS = (1 / 8, 1 / 4, 1 / 2)  # extra evaluations inside the first interval
FLOOR_MULTIPLES = (50, 10, 5, 3, 2)  # FID levels, as multiples of the real-vs-real floor
GOAL_SPEEDUP = 10
MAX_RISE = 0.10  # final FID at most 10% above the run's best FID: training does not degrade
# Memorisation ratio: 1 = generated samples are as far from their nearest training image as held-out real
# images are; well below 1 means copying. Copies: the fraction of generated samples closer to a training
# image than 99% of held-out real images are (about 1% for fresh real images, by that definition).
MIN_MEMORISATION_RATIO = 0.9
MAX_COPIES = 0.01
MAX_ATTRIBUTE_RATIO = 1.5  # every skin tone's share among samples within this factor of its share in the data


@dataclasses.dataclass(frozen=True)
class Setup:
    """One dataset's benchmark: what it trains by default, where it stores the results, and which goals it judges.

    The speed goal: `fast` reaches `baseline`'s best FID at least GOAL_SPEEDUP times sooner. The quality checks
    (names of CHECKS) judge `quality`'s last evaluation, some against `rival`; quality None means the recipe with
    the lowest final FID (the dataset's default recipe is chosen by it). Each of `contenders` is compared with each
    of `classics` at equal time and at equal images seen (equal_footing).
    """

    dataset: str
    recipes: tuple[str, ...]
    smoke_recipes: tuple[str, ...]
    seeds: tuple[int, ...]
    minutes: float
    results: pathlib.Path
    fast: str
    baseline: str
    quality: str | None
    rival: str
    max_floor_multiple: float
    checks: tuple[str, ...]
    moonshot_floor_multiple: float | None = None
    max_rival_ratio: float = 0.6  # beats_rival: final FID at most this times the rival's
    sharpness_range: tuple[float, float] = (0.7, 1.3)  # samples' high-frequency energy over the data's: blur, noise
    contenders: tuple[str, ...] = ()  # recipes compared at equal images seen with `classics`
    classics: tuple[str, ...] = ()


EMOJI_RECIPES = ("dcgan64", "best64", "stylegan2", "fastgan", "r3gan")
# Ablations of one ingredient, run by name like any recipe: what the fastgan recipe loses without it.
ABLATIONS = {"fastgan, no reconstruction": dataclasses.replace(
    gan_recipes.RECIPES["fastgan"], name="fastgan, no reconstruction", reconstruction=0.0,
    description="The fastgan recipe without its self-supervised reconstruction loss (weight 0): the ablation.")}


def recipe_named(name: str) -> gan_recipes.Recipe:
    """An ablation of ABLATIONS, or what gan_utils.recipes.get_recipe calls `name`."""
    return ABLATIONS[name] if name in ABLATIONS else gan_recipes.get_recipe(name)
SETUPS = {
    # Issue 5's goals on digits: classic is sized for a CPU too; cifar10 and fashion_mnist are for a GPU.
    "digits": Setup("digits", ("dcgan", "best"), ("classic", "dcgan", "best"), (0, 1, 2), 10.0,
                    RESULTS / "time_to_quality.json", fast="dcgan", baseline="classic", quality="best", rival="dcgan",
                    max_floor_multiple=3, checks=("no_degradation", "near_floor", "beats_rival", "no_memorisation")),
    # Issues 14 and 15 on the emoji people at 64x64: five recipes side by side, 15 minutes each. The one with the
    # lowest final FID is emoji's default recipe; it should end at most half dcgan64's FID (issue 15).
    "emoji": Setup("emoji", EMOJI_RECIPES, ("dcgan64", "fastgan"), (0, 1, 2), 15.0,
                   RESULTS / "time_to_quality_emoji.json", fast="dcgan64", baseline="classic64", quality=None,
                   rival="dcgan64", max_floor_multiple=8, moonshot_floor_multiple=5, max_rival_ratio=0.5,
                   sharpness_range=(0.8, 1.25),
                   checks=("beats_rival", "no_copies", "sharpness", "near_floor", "attribute_coverage"),
                   contenders=("fastgan", "r3gan", "stylegan2"), classics=("dcgan64", "best64")),
}
SETUP = SETUPS["digits"]  # the one main() runs; the summaries below judge its goals
DEFAULTS = {"interval": 1.0, "profile": "cpu", "samples": None}
SMOKE = {"minutes": 0.1, "interval": 0.05, "profile": "smoke", "samples": 64, "seeds": (0, 1),
         "train_images": 256}  # a run stops at an epoch's end: a smaller epoch keeps classic64's (4.7 s a step) short


def evaluation_marks(minutes: float, interval: float) -> list[float]:
    """Training seconds at which to evaluate: the early fractions of the first interval, then every interval."""
    marks = [60 * interval * f for f in EARLY_FRACTIONS if interval * f < minutes]
    k = 1
    while k * interval < minutes - 1e-9:
        marks.append(60 * k * interval)
        k += 1
    return marks  # the end of training is always evaluated too


class QualityClock(keras.callbacks.Callback):
    """Counts training seconds, pauses them to evaluate at the marks, and stops before the budget is passed.

    The stop rule is TimeBudget's: at an epoch end, stop if one more epoch of the mean length would pass
    the budget. Evaluation time is subtracted from the clock.
    """

    def __init__(self, score, budget_seconds: float, marks: list[float], steps_per_epoch: int):
        super().__init__()
        self.score, self.budget, self.marks, self.steps_per_epoch = score, budget_seconds, list(marks), steps_per_epoch
        self.rows: list[dict] = []

    def training_seconds(self) -> float:
        return time.perf_counter() - self.started - self.paused

    def evaluate(self, epochs: int, final: bool = False) -> None:
        seconds = self.training_seconds()
        pause = time.perf_counter()
        self.rows.append(self.score(self.model.sampler, seconds, epochs, epochs * self.steps_per_epoch, final))
        self.paused += time.perf_counter() - pause
        self.last_evaluated = epochs

    def on_train_begin(self, logs=None):
        self.started, self.paused, self.epochs_run = time.perf_counter(), 0.0, 0
        self.evaluate(0)  # the untrained generator: minute 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run += 1
        seconds = self.training_seconds()
        stop = seconds + seconds / self.epochs_run > self.budget
        if stop or (self.marks and seconds >= self.marks[0]):
            self.evaluate(epoch + 1, final=stop)
            while self.marks and self.marks[0] <= seconds:
                self.marks.pop(0)
        if stop:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        epochs_done = self.rows[0]["epochs"] + self.epochs_run
        if epochs_done != self.last_evaluated:  # stopped another way (a non-finite loss): score the last state
            self.evaluate(epochs_done, final=True)


def run_recipe(name: str, dataset: data.ImageDataset, ref: evaluate.Reference, *, seed: int, minutes: float,
               interval: float, n: int, floor_fid: float, log) -> dict:
    """Train one recipe from `seed` for `minutes` of training time in a fresh run directory; returns its evaluations."""
    recipe = recipe_named(name)
    steps_per_epoch = len(dataset) // (recipe.batch_size * recipe.n_critic)
    wall_start = time.perf_counter()

    shown = {}

    def score(generator, seconds, epochs, steps, final):
        started = time.perf_counter()
        images = train.sample(generator, n, seed=SAMPLE_SEED)
        if final:
            shown["samples"] = images[:SHOWN_SAMPLES]
        # The memorisation check (against shifted and mirrored training images at 64x64) is the slow part:
        # only the last evaluation, which the goals judge, runs it.
        result = evaluate.evaluate(images, ref, n=n, seed=0, floor=False, memorisation=final)
        generated = result["generated"]
        coverage = generated.get("attribute_coverage") or {}
        row = {"recipe": name, "seed": seed, "minutes": seconds / 60, "epochs": epochs, "steps": steps,
               "images_seen": steps * recipe.batch_size, "fid": generated["fid"], "kid": generated["kid"],
               "precision": generated["precision"], "recall": generated["recall"],
               "memorisation_ratio": generated.get("memorisation_ratio"), "copies": generated.get("copies"),
               "sharpness": generated["sharpness"], "attribute_max_ratio": coverage.get("max_ratio"),
               "mean_confidence": result["classes"]["mean_confidence"],
               "classes_present": len(result["classes"]["classes_present"]),
               "real_floor_fid": floor_fid, "eval_seconds": time.perf_counter() - started,
               "wall_minutes": (time.perf_counter() - wall_start) / 60, "load_1min": os.getloadavg()[0]}
        if final:
            row["attribute_shares"] = coverage.get("shares")
        log(row)
        return row

    clock = QualityClock(score, 60 * minutes, evaluation_marks(minutes, interval), steps_per_epoch)
    with tempfile.TemporaryDirectory(prefix=f"ttq-{name}-") as run_dir:
        result = train.train_run(run_dir, dataset, recipe, epochs=MAX_EPOCHS, seed=seed, callbacks=[clock],
                                 verbose=False)
    return {"recipe": name, "seed": seed, "recipe_json": json.loads(recipe.to_json()), "minutes": minutes,
            "batch_size": recipe.batch_size, "steps_per_epoch": steps_per_epoch,
            "epochs": result.epochs_done, "stopped_by": "non-finite loss" if result.stopped_by == "non-finite loss"
            else "minutes", "evaluations": clock.rows, "wall_minutes": (time.perf_counter() - wall_start) / 60,
            "history": result.history, "samples": shown.get("samples")}


def _run_path(runs_dir: pathlib.Path, name: str, seed: int) -> pathlib.Path:
    slug = "".join(c if c.isalnum() else "_" for c in name)
    return runs_dir / f"{slug}__seed{seed}.json"


def store_run(runs_dir: pathlib.Path, run: dict) -> None:
    """Write one finished run (its samples as uint8 beside it) atomically into runs_dir."""
    path = _run_path(runs_dir, run["recipe"], run["seed"])
    samples = run.get("samples")
    if samples is not None:
        with checkpoints.atomic_path(path.with_suffix(".npy")) as temporary:
            np.save(temporary, np.round((samples + 1) * 127.5).astype("uint8"))
    checkpoints.write_text(path, json.dumps({**run, "samples": None, "machine": settings.machine_info()}, indent=1))


def stored_run(runs_dir: pathlib.Path, name: str, seed: int, minutes: float) -> dict | None:
    """The run of `name` from `seed` stored in runs_dir, or None. A stored run of another recipe definition or
    budget is refused: mixing it in would compare runs of different code."""
    path = _run_path(runs_dir, name, seed)
    if not path.exists():
        return None
    run = json.loads(path.read_text())
    current = json.loads(recipe_named(name).to_json())
    if run.get("recipe_json") != current or run.get("minutes") != minutes:
        raise SystemExit(f"{path} holds a run of another definition of {name!r} or another budget; move it away "
                         "to measure the current recipe, or restore the code it was measured with.")
    samples = path.with_suffix(".npy")
    run["samples"] = np.load(samples).astype("float32") / 127.5 - 1.0 if samples.exists() else None
    return run


def all_stored_runs(runs_dir: pathlib.Path, minutes: float) -> list[dict]:
    """Every run stored in runs_dir, in the order of EMOJI_RECIPES and the ablations, then by seed."""
    found = [json.loads(path.read_text()) for path in sorted(runs_dir.glob("*__seed*.json"))]
    order = list(SETUP.recipes) + list(ABLATIONS)
    found.sort(key=lambda run: (order.index(run["recipe"]) if run["recipe"] in order else len(order), run["seed"]))
    return [stored_run(runs_dir, run["recipe"], run["seed"], minutes) for run in found]


def verdict_lines(runs: list[dict], against: str, skip: tuple = ()) -> list[str]:
    """One sentence per recipe (but those in `skip`) on its final FID against `against`'s, through
    compare.recipe_verdict: a win only where 3 seeds' ranges separate or the paired interval excludes 0."""
    finals: dict[str, dict[int, float]] = {}
    for run in runs:
        finals.setdefault(run["recipe"], {})[run["seed"]] = run["evaluations"][-1]["fid"]
    if against not in finals:
        return []
    base = finals[against]
    lines = []
    for name, scores in finals.items():
        if name == against or name in skip:
            continue
        verdict = compare.recipe_verdict(list(scores.values()), list(base.values()), seeds_a=list(scores),
                                         seeds_b=list(base))
        lines.append(verdict.sentence(name, against, score="15-minute FID"))
    return lines


def log_line(row: dict) -> None:
    ratio = "-" if row["memorisation_ratio"] is None else f"{row['memorisation_ratio']:.2f}"
    copies = "" if row["copies"] is None else f"  copies {row['copies']:.1%}"
    tones = "" if row.get("attribute_max_ratio") is None else f"  attribute ratio {row['attribute_max_ratio']:.2f}"
    print(f"{row['recipe']:<9}  seed {row['seed']}  minute {row['minutes']:5.2f}  epoch {row['epochs']:4d}  "
          f"steps {row['steps']:5d}  images {row['images_seen']:7d}  FID {row['fid']:7.1f}  memorisation ratio {ratio}"
          f"{copies}  sharpness {row['sharpness']:.2f}{tones}  precision {row['precision']:.2f}  "
          f"recall {row['recall']:.2f}  (eval {row['eval_seconds']:.1f} s, wall {row['wall_minutes']:.1f} min, "
          f"load {row['load_1min']:.1f})", flush=True)


def minutes_to(rows: list[dict], level: float) -> float | None:
    """Training minutes at the first evaluation with FID <= level (None if none)."""
    return next((r["minutes"] for r in rows if r["fid"] <= level), None)


def by_seed(runs: list[dict]) -> dict[int, dict[str, dict]]:
    """The runs grouped by seed, then by recipe."""
    grouped: dict[int, dict[str, dict]] = {}
    for run in runs:
        grouped.setdefault(run.get("seed", 0), {})[run["recipe"]] = run
    return grouped


def _spread(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "min": float(np.min(values)), "max": float(np.max(values))}


def summarise(runs: list[dict], floor: float) -> tuple[list[dict], list[dict], dict, dict]:
    """The FID levels, one table row per recipe (means and ranges over the seeds), the speed goal's check and the
    best recipe's quality checks, each judged per seed."""
    recipes = list(dict.fromkeys(run["recipe"] for run in runs))
    seeds = by_seed(runs)
    levels = []
    baseline = [run for run in runs if run["recipe"] == SETUP.baseline]
    if baseline:
        level = float(np.mean([min(r["fid"] for r in run["evaluations"]) for run in baseline]))
        levels.append({"label": f"{SETUP.baseline} best", "fid": level})
    untrained = min(run["evaluations"][0]["fid"] for run in runs)  # minute 0: levels above it say nothing
    levels += [{"label": f"{m}x floor", "fid": m * floor} for m in FLOOR_MULTIPLES if m * floor < untrained]
    table = []
    for recipe in recipes:
        mine = [run for run in runs if run["recipe"] == recipe]
        bests = [min(run["evaluations"], key=lambda r: r["fid"]) for run in mine]
        lasts = [run["evaluations"][-1] for run in mine]
        ratios = [r["memorisation_ratio"] for r in lasts if r["memorisation_ratio"] is not None]
        table.append({"recipe": recipe, "seeds": [run.get("seed", 0) for run in mine],
                      "best_fid": _spread([r["fid"] for r in bests]), "best_at_minutes": [r["minutes"] for r in bests],
                      "final_fid": _spread([r["fid"] for r in lasts]),
                      "final_minutes": float(np.mean([r["minutes"] for r in lasts])),
                      "final_steps": int(np.mean([r["steps"] for r in lasts])),
                      "final_images_seen": int(np.mean([r.get("images_seen", 0) for r in lasts])),
                      "final_memorisation_ratio": float(np.mean(ratios)) if ratios else None,
                      "minutes_to": {lv["label"]: [minutes_to(run["evaluations"], lv["fid"]) for run in mine]
                                     for lv in levels}})
    per_seed_goals = {seed: speed_goal(by_name) for seed, by_name in seeds.items()}
    goal = {"goal_speedup": GOAL_SPEEDUP, "measured": all(g["measured"] for g in per_seed_goals.values()),
            "per_seed": per_seed_goals}
    if goal["measured"]:
        goal["ok"] = all(g["ok"] for g in per_seed_goals.values())
    return levels, table, goal, quality_goal_checks(seeds, floor, quality_recipe(runs))


def _fid_at_images(run: dict, images: float) -> float:
    """A run's FID after `images` images seen, interpolated linearly between its two evaluations around it."""
    rows = run["evaluations"]
    return float(np.interp(images, [r["images_seen"] for r in rows], [r["fid"] for r in rows]))


def equal_footing(runs: list[dict]) -> list[dict]:
    """Each of SETUP.contenders against each of SETUP.classics, per seed: their FIDs at the end of the same
    training minutes, and at equal images seen (the fewer of the two runs' totals)."""
    rows = []
    for seed, by_name in by_seed(runs).items():
        for contender in SETUP.contenders:
            for classic in SETUP.classics:
                if contender not in by_name or classic not in by_name:
                    continue
                pair = (by_name[contender], by_name[classic])
                images = min(run["evaluations"][-1]["images_seen"] for run in pair)
                rows.append({"seed": seed, "contender": contender, "classic": classic,
                             "minutes": [run["evaluations"][-1]["minutes"] for run in pair],
                             "fid_at_time": [run["evaluations"][-1]["fid"] for run in pair],
                             "images": images, "fid_at_images": [_fid_at_images(run, images) for run in pair]})
    return rows


def equal_footing_lines(rows: list[dict]) -> list[str]:
    """One sentence per pair: FIDs at equal time and at equal images seen, and which is lower at each."""
    def lower(fids, names):
        return names[0] if fids[0] < fids[1] else names[1]

    lines = []
    for r in rows:
        names = (r["contender"], r["classic"])
        lines.append(f"{r['contender']} vs {r['classic']} (seed {r['seed']}): after {r['minutes'][0]:.1f} and "
                     f"{r['minutes'][1]:.1f} training minutes FID {r['fid_at_time'][0]:.1f} vs "
                     f"{r['fid_at_time'][1]:.1f} ({lower(r['fid_at_time'], names)} lower); at {r['images']:,} "
                     f"images seen FID {r['fid_at_images'][0]:.1f} vs {r['fid_at_images'][1]:.1f} "
                     f"({lower(r['fid_at_images'], names)} lower)")
    return lines


def checkpoints_table(runs: list[dict]) -> dict[str, list[dict]]:
    """Per recipe, its n-th evaluations over the seeds (as far as every seed has one): mean minutes and epochs,
    and FID's mean and range."""
    table = {}
    for recipe in dict.fromkeys(run["recipe"] for run in runs):
        mine = [run["evaluations"] for run in runs if run["recipe"] == recipe]
        table[recipe] = [{"minutes": float(np.mean([rows[k]["minutes"] for rows in mine])),
                          "epochs": float(np.mean([rows[k]["epochs"] for rows in mine])),
                          "fid": _spread([rows[k]["fid"] for rows in mine]), "seeds": len(mine)}
                         for k in range(min(len(rows) for rows in mine))]
    return table


def speed_goal(by_name: dict[str, dict]) -> dict:
    """The speed goal for one seed's runs: minutes for the fast recipe to reach the baseline's best FID against the
    baseline's own."""
    goal = {"measured": SETUP.fast in by_name and SETUP.baseline in by_name}
    if not goal["measured"]:
        return goal
    best = min(by_name[SETUP.baseline]["evaluations"], key=lambda r: r["fid"])
    fast = minutes_to(by_name[SETUP.fast]["evaluations"], best["fid"])
    goal.update(level=best["fid"], baseline_minutes=best["minutes"], fast_minutes=fast)
    if fast is None:
        goal.update(speedup=None, ok=False)
    elif fast == 0:  # reached before training: cannot happen for a GAN, but never divide by zero
        goal.update(speedup=math.inf, ok=True)
    else:
        goal.update(speedup=best["minutes"] / fast, ok=best["minutes"] / fast >= GOAL_SPEEDUP)
    return goal


def _final(by_name: dict[str, dict], recipe: str) -> dict:
    """A recipe's last evaluation: the state its run leaves behind."""
    return by_name[recipe]["evaluations"][-1]


def no_degradation(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final FID against the best it reached: a run that ends worse than it was degrades."""
    rows = by_name[quality]["evaluations"]
    final, best = rows[-1]["fid"], min(r["fid"] for r in rows)
    return {"final_fid": final, "best_fid": best, "rise": final / best - 1, "max_rise": MAX_RISE,
            "ok": final <= (1 + MAX_RISE) * best}


def near_floor(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final FID as a multiple of the real-vs-real floor, the lowest FID that means anything."""
    final = _final(by_name, quality)["fid"]
    return {"final_fid": final, "floor_fid": floor, "multiple": final / floor, "max_multiple": SETUP.max_floor_multiple,
            "moonshot_multiple": SETUP.moonshot_floor_multiple, "ok": final <= SETUP.max_floor_multiple * floor}


def beats_rival(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final FID over the rival's: the tricks must pay against the plain recipe."""
    final, rival = _final(by_name, quality)["fid"], _final(by_name, SETUP.rival)["fid"]
    return {"final_fid": final, "rival": SETUP.rival, "rival_final_fid": rival, "ratio": final / rival,
            "max_ratio": SETUP.max_rival_ratio, "ok": final <= SETUP.max_rival_ratio * rival}


def no_memorisation(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final memorisation ratio and copies: a low FID must not come from copying training digits."""
    final = _final(by_name, quality)
    ratio, copies = final["memorisation_ratio"], final["copies"]
    return {"memorisation_ratio": ratio, "copies": copies, "min_memorisation_ratio": MIN_MEMORISATION_RATIO,
            "max_copies": MAX_COPIES, "ok": ratio is not None and ratio >= MIN_MEMORISATION_RATIO
            and copies <= MAX_COPIES}


def no_copies(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final share of copies: samples closer to a training image (shifted or mirrored too, at
    64x64) than 99% of held-out real images are."""
    copies = _final(by_name, quality)["copies"]
    return {"copies": copies, "max_copies": MAX_COPIES, "ok": copies is not None and copies <= MAX_COPIES}


def sharp(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final sharpness: its samples' high-frequency energy over the real images'."""
    value = _final(by_name, quality)["sharpness"]
    low, high = SETUP.sharpness_range
    return {"sharpness": value, "range": (low, high), "ok": low <= value <= high}


def covers_attribute(by_name: dict[str, dict], floor: float, quality: str) -> dict:
    """The best recipe's final attribute coverage (emoji: skin tones), the largest share ratio either way."""
    ratio = _final(by_name, quality)["attribute_max_ratio"]
    return {"max_ratio": ratio, "goal": MAX_ATTRIBUTE_RATIO, "ok": ratio is not None and ratio <= MAX_ATTRIBUTE_RATIO}


CHECKS = {"no_degradation": (no_degradation, False), "near_floor": (near_floor, False),
          "beats_rival": (beats_rival, True), "no_memorisation": (no_memorisation, False),
          "no_copies": (no_copies, False), "sharpness": (sharp, False), "attribute_coverage": (covers_attribute, False)}


def quality_checks(quality: str) -> dict[str, tuple]:
    """The checks SETUP judges of recipe `quality`: name -> (check, the recipes it needs)."""
    return {name: (CHECKS[name][0], [quality, SETUP.rival] if CHECKS[name][1] else [quality])
            for name in SETUP.checks}


def quality_recipe(runs: list[dict]) -> str:
    """The recipe the quality checks judge: SETUP.quality, or the lowest mean final FID among the recipes whose
    every run ends free of artefacts and copies (sharpness in range, copies at most MAX_COPIES), since a low FID
    bought with noise or copying makes no default; among all recipes when none is."""
    if SETUP.quality:
        return SETUP.quality
    finals = {}
    for run in runs:
        finals.setdefault(run["recipe"], []).append(run["evaluations"][-1])
    low, high = SETUP.sharpness_range

    def clean(final: dict) -> bool:
        return low <= final["sharpness"] <= high and (final.get("copies") or 0.0) <= MAX_COPIES

    candidates = [recipe for recipe, ends in finals.items() if all(map(clean, ends))] or list(finals)
    return min(candidates, key=lambda recipe: float(np.mean([end["fid"] for end in finals[recipe]])))


def quality_goal_checks(seeds: dict[int, dict[str, dict]], floor: float, quality: str) -> dict:
    """The quality recipe's checks (issue 5's on digits), per seed: figures and ok for each seed, "ok" when every
    seed meets the check, or "not measured" without its recipes."""
    checks = {}
    for name, (check, needs) in quality_checks(quality).items():
        measured = all(recipe in by_name for by_name in seeds.values() for recipe in needs)
        checks[name] = {"measured": measured, "needs": needs, "recipe": quality}
        if measured:
            per_seed = {seed: check(by_name, floor, quality) for seed, by_name in seeds.items()}
            checks[name].update(per_seed=per_seed, ok=all(c["ok"] for c in per_seed.values()),
                                ok_seeds=sum(c["ok"] for c in per_seed.values()))
    return checks


def _minutes(values: list[float | None]) -> str:
    return ", ".join("-" if value is None else f"{value:.2f}" for value in values)


def _mean_range(spread: dict) -> str:
    return f"{spread['mean']:.1f} ({spread['min']:.1f}-{spread['max']:.1f})"


def table_lines(levels: list[dict], table: list[dict], minutes: float, markdown: bool) -> list[str]:
    header = ["recipe", "seeds", "best FID", f"FID at {minutes:g} min", "steps", "images seen", "mem. ratio"] + \
             [f"min to {lv['label']} ({lv['fid']:.1f})" for lv in levels]
    rows = [[t["recipe"], ", ".join(map(str, t["seeds"])), _mean_range(t["best_fid"]), _mean_range(t["final_fid"]),
             str(t["final_steps"]), str(t.get("final_images_seen", "-")),
             "-" if t["final_memorisation_ratio"] is None else f"{t['final_memorisation_ratio']:.2f}"] +
            [_minutes(t["minutes_to"][lv["label"]]) for lv in levels] for t in table]
    if markdown:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
               ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    return ["  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(line, widths)))
            for line in [header] + rows]


def _verdict(oks: list[bool]) -> str:
    return "ok" if all(oks) else f"not met ({sum(oks)} of {len(oks)} seeds ok)"


def _per_seed(figures: dict[int, str]) -> str:
    """Figures for each seed: "seed 0: ...; seed 1: ...", or the figures alone for a single seed."""
    if len(figures) == 1:
        return next(iter(figures.values()))
    return "; ".join(f"seed {seed}: {text}" for seed, text in figures.items())


def goal_line(goal: dict) -> str:
    if not goal["measured"]:
        return f"goal: not measured (it needs both the {SETUP.fast} and the {SETUP.baseline} recipe)"
    figures = {}
    for seed, g in goal["per_seed"].items():
        if g["fast_minutes"] is None:
            figures[seed] = (f"{SETUP.fast} never reaches {SETUP.baseline}'s best FID ({g['level']:.1f}, which "
                             f"{SETUP.baseline} reaches after {g['baseline_minutes']:.2f} min): no speed-up")
        else:
            figures[seed] = (f"{SETUP.fast} reaches {SETUP.baseline}'s best FID ({g['level']:.1f}) after "
                             f"{g['fast_minutes']:.2f} min vs {SETUP.baseline}'s {g['baseline_minutes']:.2f} min: "
                             f"speed-up {g['speedup']:.1f}x")
    return (f"{_per_seed(figures)} (goal >= {GOAL_SPEEDUP}x): "
            f"{_verdict([g['ok'] for g in goal['per_seed'].values()])}")


def quality_title(name: str) -> str:
    """What a check says of the quality recipe, as its line opens."""
    return {"no_degradation": "does not degrade", "near_floor": "ends near the floor", "beats_rival": f"beats {SETUP.rival}",
            "no_memorisation": "does not memorise", "no_copies": "makes no copies", "sharpness": "is as sharp as the data",
            "attribute_coverage": "covers every skin tone" if SETUP.dataset == "emoji" else "covers every class"}[name]


def _quality_figures(name: str, check: dict, minutes: float) -> str:
    """One seed's figures for one check of the best recipe, with its goal."""
    fid = f"{minutes:g}-minute FID"
    if name == "no_degradation":
        return (f"{fid} {check['final_fid']:.1f} vs its best {check['best_fid']:.1f} "
                f"({check['rise']:+.1%}, goal <= {check['max_rise']:+.0%})")
    if name == "near_floor":
        moonshot = f", moonshot <= {check['moonshot_multiple']:g}x" if check.get("moonshot_multiple") else ""
        return (f"{fid} {check['final_fid']:.1f} vs the real-vs-real floor {check['floor_fid']:.1f} "
                f"({check['multiple']:.1f}x, goal <= {check['max_multiple']:g}x{moonshot})")
    if name == "no_copies":
        copies = "-" if check["copies"] is None else f"{check['copies']:.1%}"
        return f"copies {copies} at {minutes:g} min (goal <= {check['max_copies']:.0%}, what fresh real images show)"
    if name == "sharpness":
        low, high = check["range"]
        return f"sharpness {check['sharpness']:.2f} at {minutes:g} min (goal {low:g} to {high:g}; 1 is the data's)"
    if name == "attribute_coverage":
        ratio = "inf (a value never appears)" if check["max_ratio"] is None else f"{check['max_ratio']:.2f}"
        return f"largest share ratio {ratio} at {minutes:g} min (goal <= {check['goal']:g})"
    if name == "beats_rival":
        return (f"{fid} {check['final_fid']:.1f} vs {check['rival']}'s {check['rival_final_fid']:.1f} "
                f"({check['ratio'] - 1:+.1%}, goal <= {check['max_ratio'] - 1:+.0%})")
    ratio = "-" if check["memorisation_ratio"] is None else f"{check['memorisation_ratio']:.2f}"
    return (f"memorisation ratio {ratio} (goal >= {check['min_memorisation_ratio']:g}) and copies "
            f"{check['copies']:.1%} (goal <= {check['max_copies']:.0%}) at {minutes:g} min")


def quality_goal_line(name: str, check: dict, minutes: float) -> str:
    """One check of the quality recipe as a sentence with each seed's figures, its goal and whether every seed
    meets it."""
    if not check["measured"]:
        needs = check["needs"]
        return (f"{check['recipe']} {quality_title(name)}: not measured (needs the {' and '.join(needs)} "
                f"recipe{'s' * (len(needs) > 1)})")
    figures = {seed: _quality_figures(name, c, minutes) for seed, c in check["per_seed"].items()}
    verdict = _verdict([c["ok"] for c in check["per_seed"].values()])
    return f"{check['recipe']} {quality_title(name)}: {_per_seed(figures)}: {verdict}"


def quality_goal_lines(quality_goal: dict, minutes: float) -> list[str]:
    """One line per check of the quality recipe's goals, in SETUP's order."""
    return [quality_goal_line(name, check, minutes) for name, check in quality_goal.items()]


def write_results(path: pathlib.Path, figures: dict, lines: list[str], samples: dict) -> None:
    """The figures as JSON, a Markdown report beside it, and each run's last SHOWN_SAMPLES images as uint8 in an
    .npz (keys: the recipes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1) + "\n")
    np.savez_compressed(path.with_suffix(".npz"), **{name: np.round((images + 1) * 127.5).astype("uint8")
                                                     for name, images in samples.items() if images is not None})
    m, s = figures["machine"], figures["settings"]
    md = [f"# Time to quality: {', '.join(s['recipes'])} on {s['dataset']}", "",
          f"{s['minutes']:g} minutes of training per recipe, evaluated every {s['interval']:g} min (plus "
          f"{', '.join(f'{f:g}' for f in EARLY_FRACTIONS)} of the first interval and minute 0); classifier-FID at "
          f"N = {s['n']} ({figures['extractor']}, {s['profile']}-profile settings); real-vs-real floor FID "
          f"{figures['floor_fid']:.1f} at the same N. Seeds {', '.join(map(str, s['seeds']))}, one run per recipe "
          f"and seed; figures are means over the seeds with the range (min-max).", "",
          *lines, "", figures["goal_line"], "", *(f"- {line}" for line in figures["quality_goal_lines"]), "",
          *(f"- {line}" for line in figures["equal_footing_lines"]), "",
          *(f"- {line}" for line in figures.get("verdict_lines", [])), "",
          "## Checkpoints, over the seeds", "",
          "| recipe | evaluation | training min (mean) | epochs (mean) | FID mean | FID min | FID max |",
          "|---|---|---|---|---|---|---|",
          *(f"| {recipe} | {k} | {c['minutes']:.2f} | {c['epochs']:.1f} | {c['fid']['mean']:.1f} | "
            f"{c['fid']['min']:.1f} | {c['fid']['max']:.1f} |"
            for recipe, rows in figures["checkpoints"].items() for k, c in enumerate(rows)), "",
          f"Peak memory {figures['peak_mb']:.0f} MB (ru_maxrss). {settings.machine_line(m)}.", "",
          f"Load during the run (1-minute load average at the evaluations): {figures['load']['min']:.1f} to "
          f"{figures['load']['max']:.1f} on {m['cpus']} CPUs"
          + (" - the machine was shared, so training times are inflated." if figures["load"]["shared"] else "."),
          *([""] + [f"Note: {figures['note']}"] if figures.get("note") else []),
          "", "## Every evaluation", "",
          "| recipe | seed | training min | epochs | steps | images seen | FID | precision | recall | memorisation ratio "
          "| load |",
          "|---|---|---|---|---|---|---|---|---|---|---|",
          *(f"| {r['recipe']} | {r['seed']} | {r['minutes']:.2f} | {r['epochs']} | {r['steps']} | "
            f"{r.get('images_seen', '-')} | {r['fid']:.1f} | "
            f"{r['precision']:.2f} | {r['recall']:.2f} | "
            f"{'-' if r['memorisation_ratio'] is None else format(r['memorisation_ratio'], '.2f')} | "
            f"{r['load_1min']:.1f} |" for run in figures["runs"] for r in run["evaluations"]),
          "", f"Produced by `python benchmarks/time_to_quality.py --dataset {s['dataset']}`; the JSON file beside this "
          "one holds every figure.",
          ""]
    path.with_suffix(".md").write_text("\n".join(md))


def main(argv: list[str] | None = None) -> int:
    global SETUP
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=tuple(SETUPS), default="digits",
                        help="digits (issue 5's goals, the default) or emoji (issue 14's, at 64x64)")
    parser.add_argument("--minutes", type=float, help="training minutes per recipe (default: 10 on digits, 15 on "
                        f"emoji; {SMOKE['minutes']:g} with --smoke)")
    parser.add_argument("--interval", type=float, help=f"minutes between evaluations (default {DEFAULTS['interval']:g}; "
                        f"{SMOKE['interval']:g} with --smoke)")
    parser.add_argument("--recipes", nargs="+",
                        help="which recipes (default on digits: dcgan best, add classic for the speed goal; on emoji: "
                        "classic64 dcgan64 best64 r3gan stylegan2); one-change variants by name, such as "
                        "'best - augmentation', as recipes.get_recipe reads them")
    parser.add_argument("--seeds", nargs="+", type=int, help=f"the seeds every recipe trains from (default 0 1 2 on "
                        f"digits, 0 on emoji; {' '.join(map(str, SMOKE['seeds']))} with --smoke)")
    parser.add_argument("--json", type=pathlib.Path, metavar="OUT",
                        help="where to write the figures (default benchmarks/results/time_to_quality.json, or "
                        "time_to_quality_emoji.json; a temporary folder with --smoke); a .md table goes beside it")
    parser.add_argument("--note", help="a sentence to store with the results (e.g. what else the machine ran)")
    parser.add_argument("--runs", type=pathlib.Path, metavar="DIR",
                        help="store each finished run in DIR and reuse the runs stored there, so an interrupted "
                        "benchmark resumes at the run it was in (kept outside the repository)")
    parser.add_argument("--summarise-only", action="store_true",
                        help="with --runs: train nothing, and summarise every run stored in DIR")
    parser.add_argument("--smoke", action="store_true", help="a quick check that the measurement runs (seconds)")
    args = parser.parse_args(argv)
    SETUP = SETUPS[args.dataset]
    defaults = {**DEFAULTS, "minutes": SETUP.minutes, "seeds": SETUP.seeds, "recipes": SETUP.recipes}
    if args.smoke:
        defaults = {**SMOKE, "recipes": SETUP.smoke_recipes, "seeds": SMOKE["seeds"][:len(SETUP.seeds)]}
    minutes = defaults["minutes"] if args.minutes is None else args.minutes
    interval = defaults["interval"] if args.interval is None else args.interval
    seeds = list(defaults["seeds"] if args.seeds is None else args.seeds)
    recipes = list(defaults["recipes"] if args.recipes is None else args.recipes)
    if not (minutes > 0 and interval > 0):
        parser.error("--minutes and --interval must be positive.")
    if len(set(seeds)) != len(seeds) or min(seeds) < 0:
        parser.error("--seeds must be distinct non-negative integers.")
    for name in recipes:
        try:
            recipe_named(name)
        except ValueError as error:
            parser.error(str(error))
    if args.summarise_only and not args.runs:
        parser.error("--summarise-only reads the runs stored by --runs DIR; give --runs.")

    profile = settings.PROFILES[defaults["profile"]]
    started = time.perf_counter()
    full = data.load(SETUP.dataset)
    dataset = evaluate.training_part(full)  # the held-out fifth stays unseen: floor and memorisation
    if defaults.get("train_images"):
        dataset = dataset.subset(np.arange(min(defaults["train_images"], len(dataset))))
    ref = evaluate.reference(SETUP.dataset, profile, verbose=True)
    n = ref.max_n if defaults["samples"] is None else min(defaults["samples"], ref.max_n)
    floor = evaluate.evaluate(ref.dataset.images[ref.held_idx[:n]], ref, n=n, memorisation=False)["real_floor"]
    setup_seconds = time.perf_counter() - started
    for name in recipes:
        if recipe_named(name).resolution != dataset.resolution:
            parser.error(f"recipe {name!r} is for {recipe_named(name).resolution}x"
                         f"{recipe_named(name).resolution} images; {SETUP.dataset} is {dataset.resolution}x"
                         f"{dataset.resolution}.")
    print(f"time to quality on {SETUP.dataset} ({dataset.resolution}x{dataset.resolution}, {len(dataset)} training "
          f"images): {', '.join(recipes)} from seeds {', '.join(map(str, seeds))}; {minutes:g} training minutes each, "
          f"evaluated every {interval:g} min; classifier-FID at N = {n} ({ref.extractor.name}, {profile.name}-profile "
          f"settings, label accuracy {ref.extractor.accuracy:.3f} on the images it did not train on); "
          f"{setup_seconds:.0f} s of data loading, extractor training and floor scoring before the runs "
          f"(outside every run's minutes)", flush=True)

    runs = []
    for seed in [] if args.summarise_only else seeds:
        for name in recipes:
            run = stored_run(args.runs, name, seed, minutes) if args.runs else None
            if run is None:
                run = run_recipe(name, dataset, ref, seed=seed, minutes=minutes, interval=interval, n=n,
                                 floor_fid=floor["fid"], log=log_line)
                if args.runs:
                    store_run(args.runs, run)
            else:
                print(f"{name} seed {seed}: stored in {args.runs}, not run again", flush=True)
            runs.append(run)
    if args.summarise_only:
        runs = all_stored_runs(args.runs, minutes)
        recipes, seeds = list(dict.fromkeys(r["recipe"] for r in runs)), sorted({r["seed"] for r in runs})
    floor_fid = floor["fid"]
    samples = {run["recipe"] if len(seeds) == 1 else f"{run['recipe']} seed {run['seed']}": run.pop("samples")
               for run in runs}
    levels, table, goal, quality_goal = summarise(runs, floor_fid)
    footing = equal_footing(runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    loads = [r["load_1min"] for run in runs for r in run["evaluations"]]
    # This process keeps about 2 cores busy while training; a load clearly above the core count means company.
    load = {"min": min(loads), "max": max(loads), "mean": sum(loads) / len(loads),
            "shared": max(loads) > (os.cpu_count() or 1) + 0.5}
    m = settings.machine_info()

    lines = table_lines(levels, table, minutes, markdown=False)
    floor_ratio = floor["attribute_coverage"]["max_ratio"]
    print(f"\nminutes of training to reach each FID level (N = {n}; real-vs-real floor FID {floor_fid:.1f}, "
          f"sharpness {floor['sharpness']:.2f}, attribute share ratio "
          f"{'inf' if floor_ratio is None else format(floor_ratio, '.2f')}; resolution: the evaluation schedule):")
    print("\n".join(lines))
    print(goal_line(goal))
    print("\n".join(quality_goal_lines(quality_goal, minutes)))
    print("\n".join(equal_footing_lines(footing)))
    verdicts = verdict_lines(runs, SETUP.rival)
    if quality_recipe(runs) != SETUP.rival:
        verdicts += verdict_lines(runs, quality_recipe(runs), skip=(SETUP.rival,))
    print("\n".join(verdicts))
    print(f"load average during the run: {load['min']:.1f} to {load['max']:.1f} on {m['cpus']} CPUs"
          + (" (shared machine: times inflated)" if load["shared"] else ""))
    print(f"peak MB: {peak_mb:.0f} (ru_maxrss of this process)")
    print(settings.machine_line(m))

    figures = {"machine": m, "settings": {"dataset": SETUP.dataset, "recipes": recipes, "minutes": minutes,
                                          "interval": interval, "profile": profile.name, "n": n, "seeds": seeds,
                                          "smoke": args.smoke},
               "extractor": ref.extractor.name, "classifier_accuracy": ref.extractor.accuracy, "floor_fid": floor_fid,
               "real_floor": floor, "setup_seconds": setup_seconds,
               "levels": levels, "table": table, "goal": goal, "goal_line": goal_line(goal),
               "quality_goal": quality_goal, "quality_goal_lines": quality_goal_lines(quality_goal, minutes),
               "quality_recipe": quality_recipe(runs), "equal_footing": footing,
               "equal_footing_lines": equal_footing_lines(footing), "verdict_lines": verdicts,
               "checkpoints": checkpoints_table(runs), "peak_mb": peak_mb, "load": load, "note": args.note,
               "runs": runs}
    markdown = table_lines(levels, table, minutes, markdown=True)
    settings.store_results(lambda path: write_results(path, figures, markdown, samples), args.json, SETUP.results,
                           smoke=args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
