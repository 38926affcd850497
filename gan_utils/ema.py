"""An exponential moving average (EMA) of the generator's weights, kept as a separate generator.

The trained generator's weights jitter from step to step as the two networks chase each other; their
running average draws cleaner, more stable samples (Karras et al. 2018, Yazici et al. 2019). It is a
second model, never written back into the trained one (Keras' optimizer `use_ema=True` would overwrite
the trained weights at the end of fit), and it is what a run samples and is evaluated with.
"""
from __future__ import annotations

import math

import keras

WARM_UP = 10.0  # part one's warm-up: decay_t = min(decay, (1 + t) / (WARM_UP + t)) after t updates of ...
WARM_UP_BATCH = 64  # ... 64 images, the batch it was measured at; other batches follow it in images seen


def half_life_images(decay: float, batch_size: int) -> float:
    """The half-life in images of a per-update decay at `batch_size`: the images after which an old weight's
    share has halved (0.999 at batch 64: about 44,340 images)."""
    if not 0 < decay < 1:
        raise ValueError(f"decay must be in (0, 1) (0.999 is typical); got {decay!r}.")
    return batch_size * math.log(0.5) / math.log(decay)


class EMAGenerator:
    """A copy of `generator` whose variables follow ema <- d * ema + (1 - d) * weights after every update().

    The average is stated in images seen, as StyleGAN2-ADA states it (ema_kimg), so every batch size means the
    same: after an update of `batch_size` images, d = 0.5 ** (batch_size / half-life). With `ramp` > 0 the
    half-life is at most ramp times the images seen so far (StyleGAN2-ADA's ema_rampup), so an early average
    never holds the random start; with ramp 0 the decay follows part one's warm-up, min(d, (1 + t) / (10 + t))
    with t the images seen over 64 (per 64 images, the batch it was measured at).

    Every float variable is averaged, batch-norm moving statistics included, so the copy's inference-mode
    statistics match its averaged weights; the variables the generator lists in `ema_copies` (a style-based
    generator's running mean w_avg, itself an average) are copied instead.
    """

    def __init__(self, generator: keras.Model, half_life: float, *, batch_size: int, ramp: float = 0.0):
        if not half_life > 0:
            raise ValueError(f"half_life must be a positive number of images (part one uses about 44,340: 0.999 "
                             f"per step at batch 64); got {half_life!r}.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer (the images of one update); got {batch_size!r}.")
        if not ramp >= 0:
            raise ValueError(f"ramp must be 0 (part one's warm-up) or positive (0.05 in StyleGAN2-ADA); got {ramp!r}.")
        self.generator = generator
        self.half_life, self.batch_size, self.ramp = float(half_life), batch_size, float(ramp)
        self.model = keras.models.clone_model(generator)
        self.model.name = f"{generator.name}_ema"
        self.model.set_weights(generator.get_weights())
        self.model.trainable = False
        self.updates = keras.Variable(0.0, trainable=False, name="ema_updates")
        pairs = list(zip(self.model.variables, generator.variables))
        if len(self.model.variables) != len(generator.variables) or any(
                tuple(a.shape) != tuple(b.shape) for a, b in pairs):
            raise ValueError(f"Could not mirror {generator.name!r}: clone_model gave different variables. "
                             "Build the generator from keras.Input with standard layers.")
        copied = list(getattr(generator, "ema_copies", []))
        self._copied = [(a, b) for a, b in pairs if any(b is v for v in copied)]
        self._pairs = [(a, b) for a, b in pairs if not any(b is v for v in copied)]

    @property
    def variables(self) -> list:
        """Everything a checkpoint must hold to resume the average: the copy's variables and the update count."""
        return [*self.model.variables, self.updates]

    def current_decay(self):
        """The decay the next update uses, from the images seen before it (updates x batch_size)."""
        images = self.updates.value * self.batch_size
        if self.ramp:
            half_life = keras.ops.minimum(self.half_life, self.ramp * images)
            return keras.ops.power(0.5, self.batch_size / keras.ops.maximum(half_life, 1e-8))
        t = images / WARM_UP_BATCH
        warm_up = keras.ops.power((1.0 + t) / (WARM_UP + t), self.batch_size / WARM_UP_BATCH)
        return keras.ops.minimum(0.5 ** (self.batch_size / self.half_life), warm_up)

    def update(self) -> None:
        """Move every averaged variable towards the generator's current value; call after each generator step."""
        decay = self.current_decay()
        for averaged, current in self._pairs:
            if "float" in str(averaged.dtype):
                averaged.assign(decay * averaged.value + (1.0 - decay) * current.value)
        for copy, current in self._copied:
            copy.assign(current.value)
        self.updates.assign_add(1.0)
