"""How chapter 8's recipes were tuned: short runs of the r3gan and stylegan2 recipes and of the variants they were
chosen over, on a validation seed (100) that no reported benchmark uses.

    python benchmarks/tune_modern.py                      # 7 runs of 5 minutes: about 45 minutes on 2 cores
    python benchmarks/tune_modern.py --recipes r3gan "r3gan, paper's rate" --minutes 5
    python benchmarks/tune_modern.py --smoke              # about a minute: one variant of each family

Each run goes through benchmarks/time_to_quality.py on emoji (the same training part, evaluation and tables),
so the figures quoted in the recipes' descriptions come from its lines: FID after the run's minutes, with the
images it saw. The variants change one setting each:

    r3gan, paper's rate          the learning rate at R3GAN's 2e-4 (the recipe: 5e-4)
    r3gan, gamma 0.5             R1 and R2 at gamma 0.5 with the paper's rate (the recipe: gamma 2)
    stylegan2, D at 2e-4         the discriminator at 2e-4 and StyleGAN2-ADA's R1 gamma 0.0128
    stylegan2, gamma 0.0128      StyleGAN2-ADA's R1 gamma for its own discriminator (the recipe: 1)
    stylegan2, gamma 0.1

Short runs on one seed are noisy: they choose between settings that differ by a lot, not by a little.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import pathlib
import sys
import tempfile

from gan_utils import recipes

SEED = 100  # the validation seed: time_to_quality reports seed 0
SMOKE_RECIPES = ("r3gan, paper's rate", "stylegan2, gamma 0.1")
BENCHMARKS = pathlib.Path(__file__).resolve().parent


def variants() -> dict[str, recipes.Recipe]:
    """The recipes and the variants they were chosen over, by name."""
    r3gan, stylegan2 = recipes.get_recipe("r3gan"), recipes.get_recipe("stylegan2")
    changes = {
        "r3gan, paper's rate": (r3gan, {"g_learning_rate": 2e-4, "d_learning_rate": 2e-4}),
        "r3gan, gamma 0.5": (r3gan, {"g_learning_rate": 2e-4, "d_learning_rate": 2e-4, "r1_gamma": 0.5,
                                     "r2_gamma": 0.5}),
        "stylegan2, D at 2e-4": (stylegan2, {"d_learning_rate": 2e-4, "r1_gamma": 0.0128}),
        "stylegan2, gamma 0.0128": (stylegan2, {"r1_gamma": 0.0128}),
        "stylegan2, gamma 0.1": (stylegan2, {"r1_gamma": 0.1}),
    }
    return {"r3gan": r3gan, "stylegan2": stylegan2,
            **{name: dataclasses.replace(base, name=name, **change) for name, (base, change) in changes.items()}}


def time_to_quality():
    """benchmarks/time_to_quality.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("time_to_quality", BENCHMARKS / "time_to_quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    known = variants()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", choices=tuple(known), default=list(known))
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--json", type=pathlib.Path, help="where to write the figures (default: a temporary folder)")
    parser.add_argument("--smoke", action="store_true", help="a quick check: one variant of each family trains")
    args = parser.parse_args(argv)
    chosen = list(SMOKE_RECIPES) if args.smoke else args.recipes  # smoke: the others differ in numbers only
    recipes.RECIPES.update({name: known[name] for name in chosen})  # time_to_quality looks recipes up by name
    ttq = time_to_quality()
    with tempfile.TemporaryDirectory(prefix="tune-modern-") as folder:
        run = ["--dataset", "emoji", "--recipes", *chosen,
               "--json", str(args.json or pathlib.Path(folder) / "tune_modern.json")]
        if args.smoke:
            return ttq.main(["--smoke", *run])
        return ttq.main([*run, "--minutes", str(args.minutes), "--interval", str(args.minutes / 2),
                         "--seeds", str(SEED)])


if __name__ == "__main__":
    sys.exit(main())
