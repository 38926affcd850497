"""Inversion of held-out real emoji into the showcase model with the `project` command's defaults: time and quality.

    python benchmarks/inversion.py             # 64 held-out emoji, W+ and the default steps; writes results/
    python benchmarks/inversion.py --space w   # the same in W, for comparison
    python benchmarks/inversion.py --smoke     # 2 images, 3 steps, into a temporary folder: checks the script

Runs `python -m gan_utils project showcase/emoji-stylegan2 --images IN --out OUT` (the command a reader runs,
timed from start to exit) on N emoji of the held-out designs, which the generator never saw, drawn with a fixed
seed and no selection. Then scores the reconstructions: PSNR at 64x64 (peak-to-peak range 2), the squared
distance of the dataset classifier's features, and how often the classifier's design head names the original's
design for the reconstruction (beside how often it does for the originals; the classifier trained on these
designs, so it knows them). Goals (issue 16): mean PSNR >= 22 dB and design kept >= 80%, 64 images in <= 10 min.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

from gan_utils import emoji, evaluate, metrics, settings

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOWCASE = ROOT / "showcase" / "emoji-stylegan2"
GOALS = {"psnr_db": 22.0, "design_kept": 0.8, "seconds": 600}


def held_out_images(ref: evaluate.Reference, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images of the held-out designs (every tone and vendor of a fifth of the designs), drawn with `seed`."""
    dataset = ref.dataset
    held = np.flatnonzero(emoji.heldout(dataset))
    chosen = np.sort(np.random.default_rng(seed).choice(held, size=min(n, len(held)), replace=False))
    return dataset.images[chosen], dataset.factors["design"][chosen]


def score(ref: evaluate.Reference, originals, reconstructions, designs) -> dict:
    """PSNR, feature distance and the design head's verdicts on reconstructions against their originals."""
    psnr = metrics.psnr(reconstructions, originals)
    extractor = ref.extractor
    distance = np.sum((extractor.features(reconstructions) - extractor.features(originals)) ** 2, axis=1)
    named = {side: extractor.head_probabilities(images, "design").argmax(axis=1)
             for side, images in (("originals", originals), ("reconstructions", reconstructions))}
    return {"n": len(originals), "psnr_mean": float(psnr.mean()), "psnr_min": float(psnr.min()),
            "psnr_median": float(np.median(psnr)), "feature_distance_mean": float(distance.mean()),
            "design_kept": float(np.mean(named["reconstructions"] == designs)),
            "design_named_for_originals": float(np.mean(named["originals"] == designs))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--space", choices=("w", "w+"), default="w+")
    parser.add_argument("--steps", type=int, help="default: the command's own")
    parser.add_argument("--seed", type=int, default=0, help="which held-out images")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.n, args.steps = 2, 3
    profile = settings.current().profile
    ref = evaluate.reference("emoji", profile, verbose=False)
    originals, designs = held_out_images(ref, args.n, args.seed)
    work = pathlib.Path(tempfile.mkdtemp(prefix="inversion-"))
    np.savez(work / "in.npz", images=originals)
    command = [sys.executable, "-m", "gan_utils", "project", str(SHOWCASE), "--images", str(work / "in.npz"),
               "--out", str(work / "out.npz"), "--space", args.space]
    if args.steps:
        command += ["--steps", str(args.steps)]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "GAN_BOOK_PROFILE": profile.name}, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        print(done.stderr, file=sys.stderr)
        return done.returncode
    with np.load(work / "out.npz") as out:
        reconstructions = out["images"]
    result = {"command": " ".join(["python -m gan_utils", *command[3:]]).replace(str(ROOT) + "/", ""),
              "space": args.space, "steps": args.steps or "default", "seconds": seconds, "profile": profile.name,
              **score(ref, originals, reconstructions, designs), "machine": settings.machine_info(),
              "load_average_after": os.getloadavg()}
    print(done.stdout.strip())
    print(f"{result['n']} held-out emoji into {args.space} in {seconds:.0f} s: PSNR mean {result['psnr_mean']:.2f} dB "
          f"(min {result['psnr_min']:.2f}); design kept {result['design_kept']:.1%} (originals named "
          f"{result['design_named_for_originals']:.1%}); feature distance {result['feature_distance_mean']:.2f}")
    if not args.smoke:
        print("goals: " + "; ".join([
            f"PSNR >= {GOALS['psnr_db']} dB: {'met' if result['psnr_mean'] >= GOALS['psnr_db'] else 'NOT met'}",
            f"design kept >= {GOALS['design_kept']:.0%}: "
            f"{'met' if result['design_kept'] >= GOALS['design_kept'] else 'NOT met'}",
            f"<= {GOALS['seconds']} s: {'met' if seconds <= GOALS['seconds'] else 'NOT met'}"]))
        out = ROOT / "benchmarks" / "results" / f"inversion_{args.space.replace('+', 'plus')}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"results: {out}")
    print(settings.machine_line(result["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
