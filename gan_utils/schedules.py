"""Schedules in images seen: a value that moves from `start` to `end` along half a cosine over a horizon of images.

R3GAN decays its learning rate and its R1/R2 weight gamma this way. Stating the horizon in images, not steps or
epochs, makes a schedule mean the same at every batch size and dataset size; a run stopped by a time budget simply
stops somewhere on it, and past the horizon the value stays at `end`.
"""
from __future__ import annotations

import math
import numbers

import keras
from keras import ops


def _check_number(name: str, value, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or (
            positive and value <= 0):
        raise ValueError(f"{name} must be a finite{' positive' if positive else ''} number; got {value!r}.")
    return float(value)


def cosine(images_seen, start: float, end: float, horizon_images: float):
    """end + (start - end) * (1 + cos(pi * min(t / horizon, 1))) / 2 at t = images_seen: start at 0, end from the
    horizon on. Works on Python numbers, NumPy arrays and tensors (float32)."""
    start, end = _check_number("start", start), _check_number("end", end)
    horizon = _check_number("horizon_images", horizon_images, positive=True)
    progress = ops.minimum(ops.cast(images_seen, "float32") / horizon, 1.0)
    return end + (start - end) * 0.5 * (1.0 + ops.cos(math.pi * progress))


@keras.saving.register_keras_serializable(package="gan_utils")
class ImagesCosine(keras.optimizers.schedules.LearningRateSchedule):
    """A learning rate on the cosine in images seen, for an optimiser that takes one step per `batch_size` images:
    at optimiser step s the value is cosine(s * batch_size, start, end, horizon_images)."""

    def __init__(self, start: float, end: float, horizon_images: float, batch_size: int):
        _check_number("start", start, positive=True), _check_number("end", end, positive=True)
        _check_number("horizon_images", horizon_images, positive=True)
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer (images per optimiser step); got {batch_size!r}.")
        self.start, self.end, self.horizon_images = float(start), float(end), float(horizon_images)
        self.batch_size = int(batch_size)

    def __call__(self, step):
        return cosine(ops.cast(step, "float32") * self.batch_size, self.start, self.end, self.horizon_images)

    def get_config(self):
        return {"start": self.start, "end": self.end, "horizon_images": self.horizon_images,
                "batch_size": self.batch_size}
