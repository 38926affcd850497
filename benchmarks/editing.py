"""Editing the showcase model's samples along its learned skin-tone direction, checked without that classifier.

    python benchmarks/editing.py            # direction from 2,000 labelled samples; 200 edited; writes results/
    python benchmarks/editing.py --smoke    # 40 labelled, 8 edited: checks the script

The direction (gan_utils.editing.direction) separates samples the dataset classifier labels with a darker
modifier (medium-dark, dark) from samples it labels lighter (light, medium-light). Then N fresh samples (z from
another seed) move by k standard deviations of w along it (k = 1, 2, 3), darker and lighter, on every layer or
only on the middle and fine ones (16x16 up: StyleGAN's colour and detail). The check is not the
classifier: the skin luminance of emoji.skin_luminance (the mean luminance of skin-coloured pixels) must fall for
the darker edit and rise for the lighter one. The base design stays the same when the classifier's design head
names the same design before and after. Goal (issue 16): both at least 80% of 200 images.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

from gan_utils import editing, emoji, evaluate, settings, train, wspace

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOWCASE = ROOT / "showcase" / "emoji-stylegan2"
DARKER, LIGHTER = {4, 5}, {1, 2}  # indices into emoji.SKIN_TONES
STEPS_IN_SD = (1.0, 2.0, 3.0)
GOAL = 0.8


def edit_scores(generator, extractor, ws, vector, amount: float, layers: range) -> dict:
    """How often a darker and a lighter edit by `amount` on `layers` move skin luminance the intended way and keep
    the design."""
    before = wspace.synthesise(generator, ws)
    luminance = emoji.skin_luminance(before)
    design = extractor.head_probabilities(before, "design").argmax(axis=1)
    row = {}
    for name, sign in (("darker", 1.0), ("lighter", -1.0)):
        after = wspace.synthesise(generator, editing.edit(ws, vector, sign * amount, layers=layers))
        moved = emoji.skin_luminance(after) - luminance
        intended = (moved < 0) if sign > 0 else (moved > 0)  # NaN (no skin) compares False: a failure
        row[name] = {"moved_as_intended": float(np.mean(intended)),
                     "design_kept": float(np.mean(extractor.head_probabilities(after, "design").argmax(1) == design)),
                     "mean_luminance_change": float(np.nanmean(moved))}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=int, default=2000, help="samples labelled to fit the direction")
    parser.add_argument("--n", type=int, default=200, help="samples edited")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.labelled, args.n = 40, 8
    ref = evaluate.reference("emoji", settings.current().profile, verbose=False)
    generator = train.load_generator(SHOWCASE)
    found = editing.direction(generator, ref.extractor, "classes", positive=DARKER, negative=LIGHTER,
                              n=args.labelled, seed=0, attribute="skin tone, lighter to darker")
    z = np.random.default_rng(1).standard_normal((args.n, generator.latent_dim)).astype("float32")
    ws = wspace.ws_from_z(generator, z)
    sd = float(np.std(ws[:, 0] @ found.vector))  # w's spread along the direction
    print(f"direction from {sum(found.counts):,} labelled samples ({found.counts[0]:,} lighter, {found.counts[1]:,} "
          f"darker): held-out accuracy {found.accuracy:.1%}; w's standard deviation along it {sd:.3f}")
    groups = wspace.layer_groups(generator)
    layer_sets = {"all layers": range(generator.num_ws), "middle and fine": range(groups["middle"].start,
                                                                                 generator.num_ws)}
    rows = {}
    for layers_name, layers in layer_sets.items():
        for k in STEPS_IN_SD:
            key = f"{layers_name}, {k:g} sd"
            rows[key] = edit_scores(generator, ref.extractor, ws, found.vector, k * sd, layers)
            for name, row in rows[key].items():
                print(f"{key} {name}: skin luminance moved as intended {row['moved_as_intended']:.1%} "
                      f"(mean change {row['mean_luminance_change']:+.3f}), design kept {row['design_kept']:.1%}")
    result = {"labelled": args.labelled, "n": args.n, "counts": found.counts, "accuracy": found.accuracy, "sd": sd,
              "edits": rows, "profile": settings.current().profile.name,
              "machine": settings.machine_info()}
    if not args.smoke:
        met = [key for key, row in rows.items()
               if all(side["moved_as_intended"] >= GOAL and side["design_kept"] >= GOAL for side in row.values())]
        print(f"goal (both >= {GOAL:.0%} of {args.n}, both ways): " + (f"met at {', '.join(met)}" if met else "NOT met"))
        out = ROOT / "benchmarks" / "results" / "editing_skin_tone.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"results: {out}")
    print(settings.machine_line(result["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
