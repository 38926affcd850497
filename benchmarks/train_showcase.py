"""Train the showcase model with the repository's own `train` command, score it as it goes, and ship it.

    python benchmarks/train_showcase.py --out runs/showcase          # resumable: run it again to go on
    python benchmarks/train_showcase.py --out runs/showcase --export showcase/emoji-stylegan2
    python benchmarks/train_showcase.py --smoke           # one epoch into a temporary folder, exported, reloaded

Trains `--recipe` (stylegan2) on `--dataset` (emoji) from `--seed` (0) up to `--images` images seen, in chunks
of `--chunk-images`: each chunk is one `python -m gan_utils train ... --epochs K` (which resumes the run), then
this script draws N images for a fixed z (seed 1, psi = 1, no filtering), scores them with gan_utils.evaluate
(classifier-FID beside the real-vs-real floor at the same N, sharpness, skin-tone coverage; memorisation at the
last chunk) and appends the row to fid_trace.json in the run directory. A killed chunk resumes from its last
finished epoch; a chunk already scored is not scored again. Each row records the chunk's wall-clock time
(starting the command included), the CPU time of its train command (which pauses and other work on the machine
do not inflate; the time of a chunk killed before it finished is lost) and the load average.

--export writes the shipped run directory (gan_utils.showcase.export: float16 EMA weights, sha256 in run.json)
with the trace, the images seen, the summed wall clock and every seed this script trained with its last score.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

from gan_utils import checkpoints, data, evaluate, recipes, settings, showcase, train

SAMPLE_SEED = 1  # the fixed z every score draws its images from, as in time_to_quality
TRACE = "fid_trace.json"


def score(run_dir: pathlib.Path, ref: evaluate.Reference, n: int, final: bool) -> dict:
    """The run's current generator scored on n images for SAMPLE_SEED's z."""
    images = train.sample(train.load_generator(run_dir), n, seed=SAMPLE_SEED)
    result = evaluate.evaluate(images, ref, n=n, seed=0, floor=False, memorisation=final)["generated"]
    keep = ("fid", "kid", "precision", "recall", "sharpness", "memorisation_ratio", "copies")
    return {**{key: result.get(key) for key in keep},
            "attribute_coverage": (result.get("attribute_coverage") or {}).get("max_ratio")}


def _children_cpu_seconds() -> float:
    """User plus system CPU seconds of this process's finished child processes (the train commands): unlike the
    wall clock, it does not grow while the machine runs something else or the run is paused."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, help="the training run directory (required without --smoke)")
    parser.add_argument("--dataset", default="emoji")
    parser.add_argument("--recipe", default="stylegan2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=600_000, help="images seen at the end (default 600k)")
    parser.add_argument("--chunk-images", type=int, default=50_000, help="images between two scores")
    parser.add_argument("--export", type=pathlib.Path, help="write the shipped run directory here at the end")
    parser.add_argument("--note", help="a sentence stored in the shipped run.json (how the run was interrupted, say)")
    parser.add_argument("--smoke", action="store_true", help="one epoch, scored on 64 images, exported to a "
                        "temporary folder and loaded back (a quick check that the script runs)")
    args = parser.parse_args(argv)
    if args.smoke:
        with tempfile.TemporaryDirectory(prefix="showcase-smoke-") as folder:
            smoke = with_changes(args, out=pathlib.Path(folder) / "run", images=1, chunk_images=1,
                                 export=pathlib.Path(folder) / "shipped")
            return train_and_ship(smoke, profile="smoke", max_samples=64)
    if not args.out:
        parser.error("--out is required (the training run directory)")
    return train_and_ship(args, profile="cpu")


def with_changes(namespace: argparse.Namespace, **changes) -> argparse.Namespace:
    """A copy of the parsed arguments with `changes` applied."""
    return argparse.Namespace(**{**vars(namespace), **changes})


def train_and_ship(args: argparse.Namespace, *, profile: str, max_samples: int | None = None) -> int:
    """Train in chunks to args.images, scoring after each, and export at the end when args.export is set."""
    full = data.load(args.dataset)
    train_images = len(evaluate.training_part(full))
    batch = recipes.get_recipe(args.recipe).batch_size
    per_epoch = (train_images // batch) * batch
    last_epoch = -(-args.images // per_epoch)
    chunk = max(1, args.chunk_images // per_epoch)
    ref = evaluate.reference(args.dataset, settings.PROFILES[profile], verbose=True)
    n = min(ref.max_n, max_samples or ref.max_n)
    floor = evaluate.evaluate(ref.dataset.images[ref.held_idx[:n]], ref, n=n, memorisation=False)["real_floor"]
    trace_path = args.out / TRACE
    trace = checkpoints.read_json(trace_path) if trace_path.exists() else []
    done = {row["epochs"] for row in trace}
    for epochs in [*range(chunk, last_epoch, chunk), last_epoch]:
        if epochs in done:
            continue
        started, cpu_before = time.perf_counter(), _children_cpu_seconds()
        command = [sys.executable, "-m", "gan_utils", "train", "--dataset", args.dataset, "--out", str(args.out),
                   "--epochs", str(epochs), "--seed", str(args.seed)]
        if not args.out.exists():
            command += ["--recipe", args.recipe]
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
        row = {"epochs": epochs, "images_seen": epochs * per_epoch, "chunk_seconds": seconds,
               "chunk_cpu_seconds": _children_cpu_seconds() - cpu_before,
               "load_1min": os.getloadavg()[0], **score(args.out, ref, n, final=epochs == last_epoch),
               "real_floor_fid": floor["fid"], "date": time.strftime("%Y-%m-%d %H:%M")}
        trace.append(row)
        checkpoints.write_text(trace_path, json.dumps(trace, indent=2))
        print(f"epoch {epochs}: {row['images_seen']:,} images, FID {row['fid']:.1f} "
              f"({row['fid'] / floor['fid']:.2f}x the floor {floor['fid']:.1f}), sharpness {row['sharpness']:.2f}, "
              f"skin-tone ratio {row['attribute_coverage']}, chunk {seconds:.0f} s", flush=True)
    if args.export:
        final = trace[-1]
        record = {"images_seen": final["images_seen"], "epochs": final["epochs"],
                  "training_wall_seconds": sum(row["chunk_seconds"] for row in trace),
                  "training_cpu_seconds": sum(row.get("chunk_cpu_seconds", 0.0) for row in trace),
                  "seeds_tried": [{"seed": args.seed, **{k: final[k] for k in ("fid", "sharpness", "copies",
                                                                               "attribute_coverage")}}],
                  "command": f"python benchmarks/train_showcase.py --out RUN --images {args.images} "
                             f"--chunk-images {args.chunk_images} --seed {args.seed}",
                  "machine": settings.machine_info(), "real_floor": floor, "note": args.note}
        showcase.export(train.load_generator(args.out), args.out, args.export, record)
        checkpoints.write_text(args.export / TRACE, json.dumps(trace, indent=2))
        shipped = train.sample(train.load_generator(args.export), 4, seed=0)
        digest = checkpoints.read_json(args.export / checkpoints.RUN)["weights_sha256"]
        print(f"shipped {args.export}: weights sha256 {digest}, reloaded and sampled {shipped.shape}")
    print(settings.machine_line(settings.machine_info()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
