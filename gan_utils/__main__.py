"""The command line: `python -m gan_utils train ...`, `sample ...`, `evaluate ...`, `project ...`, `translate ...` and
`fetch ...`.

Errors in the arguments print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys

from gan_utils.data import IMAGE_DATASETS, PAIRED_DATASETS, RESOLUTIONS


UNLIMITED_EPOCHS = 1_000_000  # the total when only --minutes bounds a run
PNG_MAX_IMAGES = 64  # sample --png shows at most this many (an 8x8 grid), the first ones


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer_at_least(minimum: int):
    """An argparse type for integers >= minimum."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for the train and sample commands."""
    parser = _Parser(prog="python -m gan_utils", description="Train GANs and sample from them.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train into a run directory (an existing one resumes)")
    train.add_argument("--dataset", required=True, choices=IMAGE_DATASETS + PAIRED_DATASETS,
                       help="a paired dataset (emoji_pairs, cjk_pairs) trains a translator: --recipe pix2pix, l1 or "
                       "cyclegan")
    train.add_argument("--out", required=True, type=pathlib.Path, help="the run directory")
    train.add_argument("--recipe", help="default: the stored recipe when resuming, else default_recipe(dataset)")
    train.add_argument("--epochs", type=_integer_at_least(1), help="the run's total epochs (default: the profile's)")
    train.add_argument("--minutes", type=_positive_float, help="training wall-clock of this invocation")
    train.add_argument("--seed", type=_integer_at_least(0), default=0)
    train.add_argument("--folder", type=pathlib.Path, help="the image directory, with --dataset folder")
    train.add_argument("--resolution", type=int, choices=RESOLUTIONS,
                       help="with --dataset folder: the side its images are resized to (default 32)")
    train.add_argument("--limit", type=_integer_at_least(1), metavar="N",
                       help="train on N training images drawn at random with --seed (a quick first look; default all)")
    train.add_argument("--conditional", action="store_true",
                       help="condition both networks on the dataset's class labels (then sample --label K)")
    speed = train.add_argument_group("speed (defaults: the profile's; chapter 11)")
    speed.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction, default=None,
                       help="float16 maths with loss scaling")
    speed.add_argument("--xla", action=argparse.BooleanOptionalAction, default=None, help="XLA-compile the step")
    speed.add_argument("--batch-scale", type=_integer_at_least(1), help="multiply the recipe's batch size")
    speed.add_argument("--distribute", choices=("none", "mirrored"),
                       help="mirrored: copy the models to every visible GPU and split each batch between them")

    sample = commands.add_parser("sample", help="draw images from a trained run's generator")
    sample.add_argument("run_dir", type=pathlib.Path)
    sample.add_argument("--num", required=True, type=_integer_at_least(1))
    sample.add_argument("--out", type=pathlib.Path, metavar="FILE.npz",
                        help="an .npz file; it holds `images` (give --out, --png or both)")
    sample.add_argument("--png", type=pathlib.Path, metavar="FILE.png",
                        help=f"a picture of the samples: a grid of the first {PNG_MAX_IMAGES} (all, if --num is at "
                        f"most {PNG_MAX_IMAGES}) with a caption saying what drew them, and the data's licence line")
    sample.add_argument("--seed", type=_integer_at_least(0), default=0)
    sample.add_argument("--label", type=_integer_at_least(0),
                        help="the class to draw, for a run trained with --conditional (default: every class in turn)")
    sample.add_argument("--psi", type=float,
                        help="truncation in W for a style-based run (stylegan2, the showcase): each w moves towards "
                        "the mean w by psi; below 1 (0.7, say) trades variety for fewer odd samples. Default 1: none, "
                        "the same images as without --psi.")

    evaluate = commands.add_parser("evaluate", help="score an .npz of images against a dataset; prints JSON")
    evaluate.add_argument("samples", type=pathlib.Path, help="an .npz file holding `images`")
    evaluate.add_argument("--dataset", required=True, choices=[d for d in IMAGE_DATASETS if d != "folder"])
    evaluate.add_argument("--extractor", choices=("classifier", "inception"), default="classifier")
    evaluate.add_argument("--seed", type=_integer_at_least(0), default=0)

    project = commands.add_parser("project", help="find the latents of real images in a style-based run's W or W+ "
                                  "(the generator is not changed)")
    project.add_argument("run_dir", type=pathlib.Path)
    project.add_argument("--images", required=True, type=pathlib.Path,
                         help="an .npz holding `images`, float32 (N, R, R, C) in [-1, 1]; other keys are ignored")
    project.add_argument("--out", required=True, type=pathlib.Path, help="an .npz file; it holds `latents` and `images`")
    project.add_argument("--space", choices=("w", "w+"), default="w+")
    project.add_argument("--steps", type=_integer_at_least(1), help="optimisation steps per image (default: "
                         "inversion.DEFAULT_STEPS)")
    project.add_argument("--seed", type=_integer_at_least(0), default=0)

    translate = commands.add_parser("translate", help="translate images with a trained pix2pix or CycleGAN run")
    translate.add_argument("run_dir", type=pathlib.Path)
    translate.add_argument("--images", required=True, type=pathlib.Path,
                           help="an .npz holding `images`, float32 (N, 64, 64, C) in [-1, 1]; other keys are ignored")
    translate.add_argument("--out", required=True, type=pathlib.Path, help="an .npz file; it holds `images`")
    translate.add_argument("--reverse", action="store_true", help="a CycleGAN run's other direction, target to source")

    fetch = commands.add_parser("fetch", help="get the emoji or CJK source files with npm or apt-get, verified by "
                                "sha256, and decode them into the cache")
    fetch.add_argument("dataset", choices=(*FETCHED, "all"))
    return parser


FETCHED = ("emoji", "cjk")  # the datasets whose files come from package registries


def _fetch(args) -> str:
    import time

    from gan_utils import cjk, emoji, registry  # no TensorFlow: fetching needs none

    lines = []
    for name in FETCHED if args.dataset == "all" else (args.dataset,):
        module = {"emoji": emoji, "cjk": cjk}[name]
        started = time.perf_counter()
        paths = registry.fetch(list(module.FILES.values()))
        fetched = time.perf_counter() - started
        decoded = module.arrays()["images"]
        lines.append(f"{name}: {len(paths)} files verified in {registry.cache_dir()} ({fetched:.0f} s); "
                     f"{len(decoded)} images decoded into the cache ({time.perf_counter() - started - fetched:.0f} s)")
    return "\n".join(lines)


GAN_ONLY_FLAGS = {"folder": "--folder", "resolution": "--resolution", "limit": "--limit",
                  "conditional": "--conditional", "mixed_precision": "--mixed-precision", "xla": "--xla",
                  "batch_scale": "--batch-scale", "distribute": "--distribute"}


def _train_translation(args) -> str:
    given = [flag for key, flag in GAN_ONLY_FLAGS.items() if getattr(args, key) not in (None, False)]
    if given:
        raise ValueError(f"{', '.join(given)} train GANs; a translation run on {args.dataset} takes --recipe, "
                         "--epochs, --minutes and --seed.")
    import time

    from gan_utils import pairs, settings, translation  # TensorFlow loads here, after the cheap checks

    current = settings.current()
    print(current.banner(), flush=True)
    stored = translation.stored_recipe(args.out)
    if stored and args.recipe and args.recipe != stored.name:
        raise ValueError(f"{args.out} holds a {stored.name!r} run; resume it without --recipe or with --recipe "
                         f"{stored.name}, or use a new run directory.")
    recipe = stored or translation.get_recipe(args.recipe or "pix2pix")
    started = time.perf_counter()
    paired = pairs.load(args.dataset)
    if current.profile.translation_pairs:
        paired = paired.subset(slice(0, current.profile.translation_pairs))
    print(f"loaded {paired.name}: {len(paired)} pairs, {paired.source_name} -> {paired.target_name}, "
          f"{int(paired.heldout.sum())} held out, in {time.perf_counter() - started:.1f} s (outside --minutes)",
          flush=True)
    epochs = args.epochs or (UNLIMITED_EPOCHS if args.minutes else current.profile.translation_epochs)
    total = f"{epochs} epochs in total" if epochs != UNLIMITED_EPOCHS else f"for {args.minutes:g} minutes"
    print(f"{'resuming' if stored else 'starting'} {args.out}: recipe {recipe.name!r}, {total}", flush=True)
    result = translation.train_run(args.out, paired, recipe, epochs=epochs, seed=args.seed, minutes=args.minutes,
                                   run_eagerly=current.profile.run_eagerly)
    return (f"stopped by {result.stopped_by} after {result.epochs_done} epochs; "
            f"translator in {args.out / 'generator.keras'}")


def _train(args) -> str:
    if args.dataset in PAIRED_DATASETS:
        return _train_translation(args)
    if (args.dataset == "folder") != (args.folder is not None):
        raise ValueError("--folder DIR goes with --dataset folder, and only with it.")
    if args.resolution is not None and args.dataset != "folder":
        raise ValueError(f"--resolution goes with --dataset folder; {args.dataset} comes at its native resolution.")
    import time
    import warnings

    from gan_utils import data, evaluate, recipes, settings, train  # TensorFlow loads here, after the cheap checks

    current = settings.current()
    print(current.banner(), flush=True)
    chosen = {"mixed_precision": args.mixed_precision, "jit_compile": args.xla, "batch_scale": args.batch_scale,
              "distribute": args.distribute}
    profile = dataclasses.replace(current.profile, **{k: v for k, v in chosen.items() if v is not None})
    stored = train.stored_recipe(args.out)
    if args.recipe or not stored:  # a resumed run keeps its stored recipe, batch size included
        recipe = recipes.scale_batch(recipes.get_recipe(args.recipe) if args.recipe
                                     else recipes.default_recipe(args.dataset), profile.batch_scale)
    else:
        recipe = stored
    started = time.perf_counter()
    dataset = data.load(args.dataset, path=args.folder, resolution=args.resolution)
    print(f"loaded {dataset.name}: {len(dataset)} images, {dataset.resolution}x{dataset.resolution}x{dataset.channels}, "
          f"in {time.perf_counter() - started:.1f} s (outside --minutes)", flush=True)
    if recipe.resolution != dataset.resolution:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            recipe = recipe.at_resolution(dataset.resolution)
        for warning in caught:
            print(f"note: {warning.message}", flush=True)
    if args.conditional and not recipe.num_classes:
        if dataset.labels is None:
            raise ValueError(f"--conditional needs class labels, and {dataset.name} has none; train without it.")
        recipe = dataclasses.replace(recipe, num_classes=len(dataset.class_names))
    if stored and recipe.num_classes != stored.num_classes:
        kind = "a conditional" if stored.num_classes else "an unconditional"
        raise ValueError(f"{args.out} holds {kind} run; resume it "
                         f"{'with' if stored.num_classes else 'without'} --conditional, or use a new run directory.")
    heldout = []  # a reader's own folder is used whole
    if args.dataset != "folder":  # keep evaluate's held-out fifth unseen (for emoji, a fifth of the designs)
        heldout = evaluate.heldout_items(dataset)
        dataset = evaluate.training_part(dataset)
    of = ""
    if args.limit is not None and args.limit < len(dataset):
        import numpy as np

        of = f" of {len(dataset)}"
        dataset = dataset.subset(np.sort(np.random.default_rng(args.seed).choice(len(dataset), args.limit,
                                                                                 replace=False)))
    # --minutes alone trains until the time is up; otherwise --epochs (default: the profile's) is the total.
    epochs = args.epochs or (UNLIMITED_EPOCHS if args.minutes else current.profile.epochs)
    total = f"{epochs} epochs in total" if epochs != UNLIMITED_EPOCHS else f"for {args.minutes:g} minutes"
    conditional = f", conditional on {recipe.num_classes} classes" if recipe.num_classes else ""
    print(f"{'resuming' if stored else 'starting'} {args.out}: recipe {recipe.name!r}{conditional} on {dataset.name} "
          f"({len(dataset)}{of} images), {total}", flush=True)
    print(f"speed: mixed precision {'on' if profile.mixed_precision else 'off'}, XLA {profile.jit_compile}, "
          f"batch {recipe.batch_size}, distribution {profile.distribute}"
          f"{', eager steps' if profile.run_eagerly else ''}", flush=True)
    result = train.train_run(args.out, dataset, recipe, epochs=epochs, seed=args.seed, minutes=args.minutes,
                             heldout=heldout, **train.speed_options(profile))
    return (f"stopped by {result.stopped_by} after {result.epochs_done} epochs; "
            f"generator in {args.out / 'generator.keras'}")


def _attribution(run_dir: pathlib.Path) -> str | None:
    """The licence line of the data that run_dir's generator was trained on (run.json's dataset), if it has one."""
    from gan_utils import checkpoints, cjk, emoji

    run_json = run_dir / checkpoints.RUN
    dataset = checkpoints.read_json(run_json).get("dataset") if run_json.is_file() else None
    return {"emoji": emoji.ATTRIBUTION, "cjk": cjk.ATTRIBUTION}.get(dataset)


def _truncated(generator, args):
    """sample --psi's images, or a ValueError naming the fix when the generator has no W."""
    from gan_utils import wspace

    try:
        wspace.check_style_generator(generator)
    except TypeError:
        raise ValueError(f"--psi truncates in W, and {args.run_dir}'s generator is not style-based (it has no W); "
                         "leave out --psi, or sample a stylegan2 run (train --recipe stylegan2) or "
                         "showcase/emoji-stylegan2.") from None
    return wspace.truncated_sample(generator, args.num, psi=args.psi, seed=args.seed)


def _write_png(images, args, how: str) -> str:
    """Draw sample --png's grid of the first PNG_MAX_IMAGES images, captioned; returns the line to print."""
    from gan_utils import plots

    shown = min(len(images), PNG_MAX_IMAGES)
    which = f"all {shown}" if shown == len(images) else f"the first {shown} of {len(images)}"
    details = [f"seed {args.seed}", *([f"class {args.label}"] if args.label is not None else []),
               *([how] if how else [])]
    caption = f"{which.capitalize()} samples of {args.run_dir}, {', '.join(details)}."
    attribution = _attribution(args.run_dir)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    plots.save_grid(images[:shown], args.png, caption + (f"\n{attribution}" if attribution else ""))
    return (f"drew a grid of {which} images{' ' + how if how else ''} in {args.png}"
            f"{', captioned with the data licence line' if attribution else ''}")


def _sample(args) -> str:
    import numpy as np

    if args.out is None and args.png is None:
        raise ValueError("say where to write the samples: --out FILE.npz (the images as an array), --png FILE.png "
                         "(a picture of them), or both.")
    if args.out is not None and args.out.suffix != ".npz":
        raise ValueError(f"--out must name an .npz file; got {args.out}.")
    if args.png is not None and args.png.suffix.lower() != ".png":
        raise ValueError(f"--png must name a .png file; got {args.png}.")
    if args.psi is not None and args.label is not None:
        raise ValueError("--psi truncates a style-based generator, and those are unconditional: leave out --label.")
    from gan_utils import train

    generator = train.load_generator(args.run_dir)
    if args.psi is None:
        images, how = train.sample(generator, args.num, seed=args.seed, labels=args.label), ""
    else:
        images = _truncated(generator, args)
        how = f"truncated in W with psi {args.psi:g}" if args.psi != 1 else "with psi 1 (not truncated)"
    lines = []
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, images=images)
        lines.append(f"wrote {len(images)} images{' ' + how if how else ''}, float32 {images.shape[1:]} in [-1, 1], "
                     f"to {args.out}")
    if args.png is not None:
        lines.append(_write_png(images, args, how))
    return "\n".join(lines)


def _read_images(path: pathlib.Path):
    """The `images` array of an .npz file, or a ValueError that says what is wrong with the file."""
    import numpy as np

    if not path.is_file():
        raise ValueError(f"{path} does not exist; write one with `python -m gan_utils sample`, or np.savez(path, "
                         "images=...).")
    try:
        with np.load(path) as stored:
            return stored["images"]
    except (KeyError, OSError, ValueError) as error:
        raise ValueError(f"{path} is not an .npz holding `images` ({error}).") from None


def _project(args) -> str:
    import time

    import numpy as np

    if args.out.suffix != ".npz":
        raise ValueError(f"--out must name an .npz file; got {args.out}.")
    images = _read_images(args.images)
    from gan_utils import checkpoints, evaluate, inversion, metrics, settings, train

    run_json = args.run_dir / checkpoints.RUN
    if not run_json.is_file():
        raise ValueError(f"{args.run_dir} holds no {checkpoints.RUN}; give a run directory (or the showcase).")
    generator = train.load_generator(args.run_dir)
    ref = evaluate.reference(checkpoints.read_json(run_json)["dataset"], settings.current().profile, verbose=False)
    steps = args.steps or inversion.DEFAULT_STEPS
    started = time.perf_counter()
    latents, reconstructions = inversion.project(generator, images, space=args.space, steps=steps, seed=args.seed,
                                                 extractor=ref.extractor,
                                                 log=lambda line: print(line, file=sys.stderr, flush=True))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, latents=latents, images=reconstructions)
    psnr = float(np.mean(metrics.psnr(reconstructions, images)))
    return (f"projected {len(images)} images into {args.space} in {time.perf_counter() - started:.0f} s "
            f"({steps} steps): mean PSNR {psnr:.1f} dB; wrote latents {latents.shape} and images to {args.out}")


def _translate(args) -> str:
    import numpy as np

    if args.out.suffix != ".npz":
        raise ValueError(f"--out must name an .npz file; got {args.out}.")
    images = _read_images(args.images)
    from gan_utils import translation

    outputs = translation.translate(translation.load_translator(args.run_dir, reverse=args.reverse), images)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=outputs)
    return (f"translated {len(outputs)} images {'target to source' if args.reverse else 'source to target'}; "
            f"wrote float32 {outputs.shape[1:]} in [-1, 1] to {args.out}")


def _evaluate(args) -> str:
    import json
    import time

    images = _read_images(args.samples)
    from gan_utils import evaluate, settings

    started = time.perf_counter()
    ref = evaluate.reference(args.dataset, settings.current().profile, extractor=args.extractor, verbose=False)
    print(f"reference ready in {time.perf_counter() - started:.0f} s (the extractor and the real features, "
          "trained and computed once, then cached)", file=sys.stderr, flush=True)
    return json.dumps(evaluate.evaluate(images, ref, seed=args.seed), indent=2)


COMMANDS = {"train": _train, "sample": _sample, "evaluate": _evaluate, "project": _project, "translate": _translate,
            "fetch": _fetch}


def main(argv=None) -> int:
    """Run one command; returns the exit status (2 for bad arguments or input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from gan_utils.registry import FetchError

    try:
        print(COMMANDS[args.command](args))
    except (ValueError, TypeError, ConnectionError, FetchError) as error:  # ConnectionError: data or weights offline
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
