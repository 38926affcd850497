"""Keras callbacks for GAN training: samples, curves, progress, a NaN stop, a time budget, checkpoints."""
from __future__ import annotations

import json
import math
import sys
import time

import keras
import numpy as np

from gan_utils import checkpoints, plots

CURVE_NAMES = {"d_loss": "discriminator loss", "g_loss": "generator loss",
               "d_real": "D(x), real", "d_fake": "D(G(z)), fake"}


class SampleGrid(keras.callbacks.Callback):
    """Keeps the generator's images for one fixed z after every epoch, for grids and the animation."""

    def __init__(self, z):
        super().__init__()
        self.z = z
        self.frames: list[np.ndarray] = []  # float32 (N, H, W, C) in [-1, 1], one per epoch
        self.epochs: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.frames.append(np.asarray(self.model.generate(self.z)))
        self.epochs.append(epoch + 1)

    def grid(self, title: str | None = None):
        """An image grid of the latest samples."""
        return plots.image_grid(self.frames[-1], title=title or f"samples from a fixed z after epoch {self.epochs[-1]}")

    def animation(self, path, fps: int = 4):
        """Write the frames as a looping GIF (under about 2 MB) and return its path."""
        return plots.save_animation(self.frames, path, fps=fps, captions=[f"epoch {e}" for e in self.epochs])


class Curves(keras.callbacks.Callback):
    """Records the epoch means of the losses, D(x) and D(G(z)), and draws them."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {name: [] for name in CURVE_NAMES}

    def on_epoch_end(self, epoch, logs=None):
        for name in CURVE_NAMES:
            self.history[name].append(float((logs or {}).get(name, math.nan)))

    def figure(self):
        """Two panels: the two losses, and the discriminator's mean outputs on real and fake images."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 3.4))
        left, right = fig.subplots(1, 2)
        epochs = list(range(1, len(self.history["d_loss"]) + 1))
        plots.plot_curves({CURVE_NAMES[k]: self.history[k] for k in ("d_loss", "g_loss")}, x=epochs,
                          xlabel="epoch", ylabel="loss", ax=left, title="Losses")
        plots.plot_curves({CURVE_NAMES[k]: self.history[k] for k in ("d_real", "d_fake")}, x=epochs,
                          xlabel="epoch", ylabel="probability", ax=right, title="The discriminator's beliefs")
        fig.tight_layout()
        return fig


class EpochLine(keras.callbacks.Callback):
    """Prints one line per epoch: the epoch, its metrics and its seconds (no bar, so logs stay clean)."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        total = self.params.get("epochs")
        metrics = "  ".join(f"{k} {float(v):.3f}" for k, v in (logs or {}).items())
        print(f"epoch {epoch + 1}/{total}  {metrics}  ({time.perf_counter() - self.started:.1f} s)",
              file=self.stream, flush=True)


def progress_verbosity(stream=None) -> int:
    """Keras' verbose for fit: 1 (a progress bar) in a terminal, 0 elsewhere (EpochLine prints instead)."""
    stream = stream or sys.stdout
    return 1 if hasattr(stream, "isatty") and stream.isatty() else 0


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training, with a message saying what to do, as soon as a loss is NaN or infinite."""

    def __init__(self):
        super().__init__()
        self.message: str | None = None

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if name.endswith("loss") and not math.isfinite(float(value)):
                self.message = (
                    f"Training stopped at step {batch + 1} of epoch {self.epoch + 1}: {name} became {float(value)}. "
                    "The last checkpoint was kept. Lower the learning rates, or check that the images are in [-1, 1]."
                )
                print(self.message, file=sys.stderr, flush=True)
                self.model.stop_training = True
                return

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


class TimeBudget(keras.callbacks.Callback):
    """Stops at an epoch boundary before the next epoch would exceed `minutes` of training time."""

    def __init__(self, minutes: float):
        super().__init__()
        if not minutes > 0:
            raise ValueError(f"minutes must be positive; got {minutes!r}.")
        self.seconds = 60.0 * minutes
        self.stopped_early = False

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.epochs_run = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run += 1
        elapsed = time.perf_counter() - self.started
        if elapsed + elapsed / self.epochs_run > self.seconds:
            self.stopped_early = True
            self.model.stop_training = True


class Checkpoint(keras.callbacks.Callback):
    """After every finished epoch with finite losses: the checkpoint, generator.keras (a CycleGAN also reverse.keras)
    and history.json."""

    def __init__(self, run_dir, history: list[dict] | None = None):
        super().__init__()
        self.run_dir = run_dir
        self.history = list(history or [])  # one dict of metrics per finished epoch, across invocations

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not all(map(math.isfinite, logs.values())):
            return  # a NaN stop mid-epoch: keep the last good checkpoint
        # History first: a kill before the checkpoint leaves an extra entry, which resume drops.
        self.history.append({"epoch": epoch + 1, **logs})
        checkpoints.write_text(self.run_dir / checkpoints.HISTORY, json.dumps(self.history, indent=1))
        checkpoints.save_checkpoint(self.run_dir / checkpoints.CHECKPOINT, self.model, epoch + 1)
        samplers = self.model.samplers if hasattr(self.model, "samplers") else {
            checkpoints.GENERATOR: self.model.sampler}
        for name, sampler in samplers.items():
            checkpoints.save_model(self.run_dir / name, sampler)
