"""Choosing `best`: the one-change comparison around the best recipe, on seeds the book never reports.

Chapter 6 reports a controlled comparison on seeds 0 to 4 (the cpu profile's comparison_seeds, counted from 0):
`best` and every recipe that differs from it in one technique (gan_utils.recipes.one_change_variants: each
technique best uses left out, each one it does not use added). A recipe chosen on those same seeds would be
judged by the data that chose it. This script is where `best` is chosen: it runs the same comparison, the
same recipes on the same 1,438 training digits for the same epochs per run (the cpu profile's
comparison_epochs), scored the same way (gan_utils.compare.compare, classifier-FID at N = the 359 held-out
digits, with the cpu profile's classifier), but from seeds 100 to 104. A change to `best` should be
justified by this script's report; the chapter then re-measures it on its own seeds.

    python benchmarks/choose_best.py               # 7 recipes x 5 seeds, one run after another: ~10 min, idle 2 cores
    python benchmarks/choose_best.py --epochs 40 --seeds 100 101 102 103 104 105 106 107
    python benchmarks/choose_best.py --smoke       # about a minute; smoke classifier, 2 seeds, 1 epoch on 128 digits

It prints one line per run, then one line per technique: the paired FID difference (variant - best, seed by
seed), its mean, its 95% t interval (gan_utils.compare.paired_effects) and a verdict (gan_utils.compare.
technique_verdict): "helps" or "hurts" when the interval excludes 0, else "unresolved". It writes every run and
every effect, with the machine and the date, to --json (default benchmarks/results/choose_best.json) and a
Markdown table beside it (.md). With --smoke nothing under benchmarks/results/ is touched: unless --json is
given, the files are written to a temporary folder, read back and removed.

Reading the report: for a technique best uses, the variant leaves it out, so a positive difference (FID worse
without it) means the technique helps; for a technique best does not use, the variant adds it, so a negative
difference means it would help. An interval that contains 0 means the effect was not resolved at this budget
and this many seeds: keep the simpler recipe, or run more seeds (--seeds) or longer (--epochs).

Caveats:
- The budget is the chapter's, short by design: an effect measured after a few epochs is an effect on early
  progress; benchmarks/time_to_quality.py follows best for ten minutes.
- Seconds are wall-clock per run (training, including building and tracing the models; not scoring) on whatever
  else the machine runs at the same time. At the default 6 epochs a run takes about 15 s on an idle 2-core
  CPU (plus a few seconds of scoring), and two to three times that on a shared one.
- FID is classifier-FID on the digits' own classifier: comparable between these recipes, not with papers.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import sys

from gan_utils import settings  # first: importing gan_utils quiets TensorFlow's start-up logs

import numpy as np

from gan_utils import compare, data, evaluate, recipes

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "choose_best.json"
DATASET = "digits"
BASELINE = "best"
SEEDS = (100, 101, 102, 103, 104)  # never among the chapter's seeds, range(profile.comparison_seeds)
DEFAULTS = {"profile": "cpu", "seeds": SEEDS, "epochs": None, "images": None}  # epochs None: the profile's
SMOKE = {"profile": "smoke", "seeds": SEEDS[:2], "epochs": 1, "images": 128}


def chapter_seeds() -> set[int]:
    """Every seed chapter 6's comparison uses in some profile: 0 to comparison_seeds - 1."""
    return set(range(max(p.comparison_seeds for p in settings.PROFILES.values())))


def _finite(value: float) -> float | None:
    """value, or None where it is NaN or infinite (undefined with one seed), so the JSON stays standard."""
    return float(value) if np.isfinite(value) else None


def effect_rows(results: list[compare.RunScore], baseline: recipes.Recipe) -> list[dict]:
    """One row per technique, in recipes.TECHNIQUES order: its variant, whether the baseline uses it, the paired
    FID differences (variant - baseline), their mean, 95% interval, t, p and verdict."""
    effects = compare.paired_effects(results, baseline.name, score="fid")
    rows = []
    for name, technique in recipes.TECHNIQUES.items():
        in_baseline = technique.used_by(baseline)
        variant = f"{baseline.name} {'-' if in_baseline else '+'} {name}"
        effect = effects[variant]
        rows.append({"technique": name, "variant": variant, "in_baseline": in_baseline,
                     "seeds": list(effect.seeds), "differences": list(effect.differences), "mean": effect.mean,
                     "low": _finite(effect.low), "high": _finite(effect.high), "confidence": effect.confidence,
                     "t_statistic": _finite(effect.t_statistic), "p_value": _finite(effect.p_value),
                     "verdict": compare.technique_verdict(effect, in_baseline=in_baseline)})
    return rows


def _number(value: float, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def effect_lines(rows: list[dict], markdown: bool) -> list[str]:
    header = ["technique", "variant", "variant - best, per seed", "mean", "95% interval", "p", "verdict"]
    table = [[r["technique"] + ("" if r["in_baseline"] else " (not in best)"), r["variant"],
              " ".join(f"{d:+.1f}" for d in r["differences"]), f"{r['mean']:+.1f}",
              f"[{_number(r['low'], '+.1f')}, {_number(r['high'], '+.1f')}]", _number(r["p_value"], ".3f"),
              r["verdict"]] for r in rows]
    if markdown:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + \
               ["| " + " | ".join(row) + " |" for row in table]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    return ["  ".join(f"{c:<{w}}" for c, w in zip(line, widths)) for line in [header] + table]


def write_results(path: pathlib.Path, figures: dict, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1) + "\n")
    s, m = figures["settings"], figures["machine"]
    md = [f"# Choosing best: one-change comparison on {DATASET}, seeds {', '.join(map(str, s['seeds']))}", "",
          f"{s['epochs']} epochs per run on {s['images']} training digits; classifier-FID at N = {s['n']} "
          f"({figures['extractor']}, {s['profile']}-profile settings); real-vs-real floor FID "
          f"{figures['floor_fid']:.1f} at the same N. Each technique's effect is the paired FID difference "
          f"(variant - {BASELINE}, seed by seed) with a {s['confidence']:.0%} t interval; chapter 6 reports the "
          f"same comparison on seeds {', '.join(map(str, sorted(chapter_seeds())))}.", "",
          *lines, "", "## Every run", "", "| recipe | seed | FID | precision | recall | seconds |",
          "|---|---|---|---|---|---|",
          *(f"| {r['recipe']} | {r['seed']} | {r['scores']['fid']:.1f} | {r['scores']['precision']:.2f} | "
            f"{r['scores']['recall']:.2f} | {r['seconds']:.0f} |" for r in figures["runs"]), "",
          f"Peak memory {figures['peak_mb']:.0f} MB (ru_maxrss). {settings.machine_line(m)}.",
          *([""] + [f"Note: {figures['note']}"] if figures.get("note") else []), "",
          "Produced by `python benchmarks/choose_best.py`; the JSON file beside this one holds every figure.", ""]
    path.with_suffix(".md").write_text("\n".join(md))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="epochs per run (default: the cpu profile's comparison_epochs, "
                        f"the chapter's budget; {SMOKE['epochs']} with --smoke)")
    parser.add_argument("--seeds", type=int, nargs="+", help=f"seeds (default {' '.join(map(str, SEEDS))}; "
                        f"{' '.join(map(str, SMOKE['seeds']))} with --smoke); never the chapter's")
    parser.add_argument("--json", type=pathlib.Path, metavar="OUT",
                        help=f"where to write the figures (default {DEFAULT_JSON.relative_to(ROOT)}; a temporary "
                        "folder with --smoke); a .md table goes beside it")
    parser.add_argument("--note", help="a sentence to store with the results (e.g. what else the machine ran)")
    parser.add_argument("--smoke", action="store_true", help="a quick check that the comparison runs (about a minute)")
    args = parser.parse_args(argv)
    defaults = SMOKE if args.smoke else DEFAULTS
    profile = settings.PROFILES[defaults["profile"]]
    epochs = args.epochs or defaults["epochs"] or settings.PROFILES["cpu"].comparison_epochs
    seeds = list(args.seeds or defaults["seeds"])
    if epochs < 1:
        parser.error("--epochs must be positive.")
    if len(set(seeds)) != len(seeds) or min(seeds) < 0:
        parser.error("--seeds must be distinct non-negative integers.")
    if chapter_seeds() & set(seeds):
        parser.error(f"--seeds must not include the chapter's seeds {sorted(chapter_seeds())}: best is chosen on "
                     "seeds the chapter does not report.")

    ref = evaluate.reference(DATASET, profile, verbose=False)
    training = evaluate.training_part(ref.dataset)  # the held-out digits stay unseen: floor and memorisation
    if defaults["images"]:
        training = data.ImageDataset(training.name, training.images[:defaults["images"]],
                                     training.labels[:defaults["images"]], training.class_names)
    n = min(profile.eval_samples, ref.max_n)  # as the chapter scores
    floor = evaluate.evaluate(ref.dataset.images[ref.held_idx][:n], ref, n=n)["real_floor"]["fid"]
    baseline = recipes.get_recipe(BASELINE)
    contenders = {baseline.name: baseline, **recipes.one_change_variants(baseline)}
    print(f"choosing {BASELINE} on {DATASET}: {len(contenders)} recipes x seeds {', '.join(map(str, seeds))}, "
          f"{epochs} epochs each on {len(training)} training digits; classifier-FID at N = {n} "
          f"({ref.extractor.name}, {profile.name}-profile settings); real-vs-real floor FID {floor:.1f}", flush=True)

    results = compare.compare(contenders, training, ref, epochs=epochs, seeds=seeds, n=n, keep=0,
                              log=lambda line: print(line, flush=True))
    rows = effect_rows(results, baseline)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    m = settings.machine_info()
    print(f"\neffect of each technique: paired FID difference, variant - {BASELINE} (lower FID is better), "
          f"mean and {compare.CONFIDENCE:.0%} interval over {len(seeds)} seeds:")
    print("\n".join(effect_lines(rows, markdown=False)))
    if len(seeds) < 2:
        print("with one seed there is no interval: every verdict is unresolved.")
    print(f"peak MB: {peak_mb:.0f} (ru_maxrss of this process)")
    print(settings.machine_line(m))

    figures = {"machine": m, "settings": {"dataset": DATASET, "baseline": BASELINE, "epochs": epochs, "seeds": seeds,
                                          "images": len(training), "n": n, "profile": profile.name,
                                          "confidence": compare.CONFIDENCE, "smoke": args.smoke},
               "extractor": ref.extractor.name, "floor_fid": float(floor), "effects": rows, "peak_mb": peak_mb,
               "note": args.note, "recipes": {name: json.loads(r.to_json()) for name, r in contenders.items()},
               "runs": [{"recipe": r.recipe, "seed": r.seed, "seconds": r.seconds,
                         "scores": {k: None if v is None else float(v) for k, v in r.scores.items()}}
                        for r in results]}
    markdown = effect_lines(rows, markdown=True)
    settings.store_results(lambda path: write_results(path, figures, markdown), args.json, DEFAULT_JSON,
                           smoke=args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
