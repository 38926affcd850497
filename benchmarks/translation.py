"""Translation measured on held-out pairs: pix2pix, the L1-only U-Net and CycleGAN, 15 minutes of training each, on
emoji (Noto to Twemoji) and on Chinese characters (Sans to Serif), beside the identity baseline.

    python benchmarks/translation.py --out RUNS      # six runs of 15 minutes, resumable; writes results/
    python benchmarks/translation.py --out RUNS --datasets cjk_pairs   # one dataset's runs; the other's stored
                                                                       # results are kept
    python benchmarks/translation.py --smoke         # a few seconds per run on a few pairs: checks the script

Each run trains with `translation.train_run` on its dataset's training pairs (held-out: a fifth of the emoji base
designs, every skin tone with them, and a fifth of the characters) until 15 minutes of training are spent; the
seconds are logged after every epoch in RUNS/<dataset>/<recipe>/budget.json, so a killed benchmark resumes with
what is left. The judge is the dataset's feature classifier (evaluate.reference): its vendor head (emoji) or face
head (characters) gives the share of outputs in the target style; its design or character head gives the share
it names as their own design or character ("named", what the goals on keeping the design or character judge);
and its features give retrieval: is the output's nearest held-out target its own pair ("retrieval"), or one of
its base design or character ("kept")? That classifier was trained on the held-out designs' and characters' real
images (both styles), never on a translation, which is why it can name them. Retrieval is reported, not judged:
on emoji the input itself, which keeps its design perfectly, finds a target of its own design only about 60% of
the time, because the features place a skin tone of one design near the same skin tone of another. CycleGAN is also checked for what its cycle loss can hide (Chu et
al. 2017): the reconstruction F(G(x)) of a clean translation against one of the translation plus Gaussian noise
of standard deviation 0.02, beside the translation's own error.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import keras
import numpy as np

from gan_utils import cjk, emoji, evaluate, pairs, settings, translation, translation_metrics

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = (("emoji_pairs", "pix2pix"), ("emoji_pairs", "l1"), ("emoji_pairs", "cyclegan"),
        ("cjk_pairs", "pix2pix"), ("cjk_pairs", "l1"), ("cjk_pairs", "cyclegan"))
# dataset -> (the classifier's dataset, the head that names the style, the target style's index in that head, the
# head that names a pair's group: the base design or the character)
JUDGE = {"emoji_pairs": ("emoji", "vendor", emoji.VENDORS.index("twitter"), "design"),
         "cjk_pairs": ("cjk", "classes", cjk.FACES.index(pairs.CJK_TARGET), "character")}
MINUTES = 15.0
SHOWN = 8  # held-out examples stored per dataset for the chapter's grid
GOALS = {"emoji_style": 0.9, "emoji_kept": 0.8, "emoji_l1_below_identity": 0.3, "cjk_style": 0.9, "cjk_kept": 0.9}


class BudgetLog(keras.callbacks.Callback):
    """After every epoch, the training seconds spent by the run so far, across invocations, in budget.json."""

    def __init__(self, path: pathlib.Path, spent: float):
        super().__init__()
        self.path, self.spent = path, spent

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        write_budget(self.path, self.spent + time.perf_counter() - self.started, finished=False)


def write_budget(path: pathlib.Path, seconds: float, *, finished: bool) -> None:
    path.write_text(json.dumps({"seconds": seconds, "finished": finished}))


def train_for_budget(run_dir: pathlib.Path, paired: pairs.PairedDataset, recipe_name: str, minutes: float, *,
                     run_eagerly: bool = False) -> dict:
    """Train (or resume) one run until `minutes` of training are spent; its epochs and seconds."""
    budget_path = run_dir / "budget.json"
    budget = json.loads(budget_path.read_text()) if budget_path.exists() else {"seconds": 0.0, "finished": False}
    if not budget["finished"]:
        run_dir.mkdir(parents=True, exist_ok=True)
        left = minutes - budget["seconds"] / 60
        result = translation.train_run(run_dir, paired, translation.get_recipe(recipe_name),
                                       epochs=1_000_000, minutes=max(left, 1e-3), verbose=False, run_eagerly=run_eagerly,
                                       callbacks=[BudgetLog(budget_path, budget["seconds"])])
        spent = json.loads(budget_path.read_text())["seconds"] if budget_path.exists() else 0.0
        write_budget(budget_path, spent, finished=result.stopped_by in ("minutes", "epochs"))
        budget = json.loads(budget_path.read_text())
    history = json.loads((run_dir / "history.json").read_text())
    return {"epochs": len(history), "seconds": budget["seconds"],
            "pairs_per_second": len(history) * len(paired.split()[0]) / max(budget["seconds"], 1e-9)}


def goals(scores: dict) -> list[tuple[str, bool]]:
    """Issue 17's goals, each with whether it was met."""
    e, c = scores.get("emoji_pairs", {}), scores.get("cjk_pairs", {})
    checks = []
    if {"pix2pix", "l1", "identity"} <= set(e):
        p = e["pix2pix"]
        checks += [
            (f"emoji pix2pix classified Twemoji >= {GOALS['emoji_style']:.0%} ({p['target_style']:.1%})",
             p["target_style"] >= GOALS["emoji_style"]),
            (f"emoji pix2pix keeps its base design >= {GOALS['emoji_kept']:.0%}: named {p['named']:.1%} (retrieval "
             f"by design {p['kept']:.1%}, the identity's {e['identity']['kept']:.1%})",
             p["named"] >= GOALS["emoji_kept"]),
            (f"emoji pix2pix L1 at least {GOALS['emoji_l1_below_identity']:.0%} below identity's "
             f"({p['l1']:.3f} against {e['identity']['l1']:.3f})",
             p["l1"] <= (1 - GOALS["emoji_l1_below_identity"]) * e["identity"]["l1"]),
            (f"emoji pix2pix sharpness closer to 1 than the L1-only U-Net's ({p['sharpness']:.2f} against "
             f"{e['l1']['sharpness']:.2f})", abs(np.log(p["sharpness"])) < abs(np.log(e["l1"]["sharpness"])))]
    if "pix2pix" in c:
        p = c["pix2pix"]
        checks += [(f"cjk pix2pix classified Serif >= {GOALS['cjk_style']:.0%} ({p['target_style']:.1%})",
                    p["target_style"] >= GOALS["cjk_style"]),
                   (f"cjk pix2pix keeps its character >= {GOALS['cjk_kept']:.0%}: named {p['named']:.1%} "
                    f"(retrieval {p['kept']:.1%}, the identity's {c['identity']['kept']:.1%})",
                    p["named"] >= GOALS["cjk_kept"])]
    for name, side in (("emoji", e), ("cjk", c)):
        if {"cyclegan", "identity"} <= set(side):
            checks.append((f"{name} CycleGAN better than identity on target style ({side['cyclegan']['target_style']:.1%}"
                           f" against {side['identity']['target_style']:.1%})",
                           side["cyclegan"]["target_style"] > side["identity"]["target_style"]))
    return [(text, bool(met)) for text, met in checks]


def table(scores: dict, training: dict) -> str:
    """The results as a Markdown table, one row per dataset and method."""
    lines = ["| pairs | method | epochs | L1 | PSNR | SSIM | target style | named | retrieval | kept | sharpness |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for dataset in (d for d in JUDGE if d in scores):
        for method, s in scores[dataset].items():
            epochs = training.get(f"{dataset}/{method}", {}).get("epochs", "-")
            lines.append(f"| {dataset} | {method} | {epochs} | {s['l1']:.3f} | {s['psnr']:.2f} | {s['ssim']:.3f} | "
                         f"{s['target_style']:.1%} | {s['named']:.1%} | {s['retrieval']:.1%} | {s['kept']:.1%} | "
                         f"{s['sharpness']:.2f} |")
    return "\n".join(lines)


def previous_results(path: pathlib.Path, datasets: list[str]) -> tuple[dict, dict, dict, dict]:
    """The stored scores, training, CycleGAN checks and shown images of `datasets`, from an earlier invocation."""
    stored = json.loads(path.read_text())
    with np.load(path.with_suffix(".npz")) as images:
        shown = {d: {key.split("/", 1)[1]: images[key] for key in images.files if key.startswith(f"{d}/")}
                 for d in datasets}
    return ({d: stored["scores"][d] for d in datasets},
            {k: v for k, v in stored["training"].items() if k.split("/")[0] in datasets},
            {d: stored["cycle_hiding"][d] for d in datasets if d in stored["cycle_hiding"]}, shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, help="the runs' folder (default: a temporary one)")
    parser.add_argument("--minutes", type=float, default=MINUTES, help="training minutes per run")
    parser.add_argument("--datasets", nargs="+", choices=sorted(JUDGE), default=list(JUDGE),
                        help="run these datasets' runs; the stored results of the others are kept")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.minutes = 0.05
    out = args.out or pathlib.Path(tempfile.mkdtemp(prefix="translation-"))
    profile = settings.current().profile
    scores, training, hiding, shown = {}, {}, {}, {}
    stored = RESULTS / "translation.json"
    kept = [] if args.smoke or not stored.exists() else [
        d for d in JUDGE if d not in args.datasets and d in json.loads(stored.read_text())["scores"]]
    if kept:
        scores, training, hiding, shown = previous_results(stored, kept)
    for dataset in args.datasets:
        paired = pairs.load(dataset)
        if args.smoke:
            paired = paired.subset(slice(0, 48))
        judge_dataset, head, value, group_head = JUDGE[dataset]
        ref = evaluate.reference(judge_dataset, profile, verbose=False)  # trained or loaded before any timing
        held = paired.split()[1]
        def score(images):
            return translation_metrics.score(images, held.targets, ref.extractor, head, value, groups=held.groups,
                                             group_head=group_head)

        rows = {"identity": score(held.sources)}
        shown[dataset] = {"sources": held.sources[:SHOWN], "targets": held.targets[:SHOWN]}
        for run_dataset, recipe_name in RUNS:
            if run_dataset != dataset:
                continue
            run_dir = out / dataset / recipe_name
            training[f"{dataset}/{recipe_name}"] = train_for_budget(run_dir, paired, recipe_name, args.minutes,
                                                                   run_eagerly=args.smoke)
            outputs = translation.translate(translation.load_translator(run_dir), held.sources)
            rows[recipe_name] = score(outputs)
            shown[dataset][recipe_name] = outputs[:SHOWN]
            if recipe_name == "cyclegan":
                hiding[dataset] = translation.cycle_hiding(
                    translation.load_translator(run_dir), translation.load_translator(run_dir, reverse=True),
                    held.sources, held.targets)
        scores[dataset] = rows
        print(f"{dataset}: {len(paired)} pairs, {len(held)} held out, {paired.source_name} -> {paired.target_name}",
              flush=True)
    print(table(scores, training))
    for dataset, h in hiding.items():
        print(f"{dataset} CycleGAN: translation L1 {h['translation_l1']:.3f}; reconstruction L1 "
              f"{h['reconstruction_l1']:.3f} clean, {h['reconstruction_l1_noisy']:.3f} with noise of L1 "
              f"{h['noise_l1']:.3f} (std {h['noise_std']}) on the translation")
    checks = goals(scores)
    for text, met in checks:
        print(f"goal: {text}: {'met' if met else 'NOT met'}")
    machines = json.loads(stored.read_text()).get("machines", {}) if kept else {}
    machines.update({dataset: settings.machine_info() for dataset in args.datasets})
    result = {"minutes_per_run": args.minutes, "profile": profile.name, "training": training, "scores": scores,
              "cycle_hiding": hiding, "goals": {text: met for text, met in checks}, "machines": machines,
              "machine": settings.machine_info(), "load_average_after": os.getloadavg()}

    def write(path: pathlib.Path) -> None:
        path.write_text(json.dumps(result, indent=2) + "\n")
        path.with_suffix(".md").write_text(table(scores, training) + "\n")
        np.savez_compressed(path.with_suffix(".npz"), **{f"{dataset}/{key}": images for dataset, images in
                                                         shown.items() for key, images in images.items()})

    settings.store_results(write, None, RESULTS / "translation.json", smoke=args.smoke)
    print(settings.machine_line(result["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
