"""An exponential moving average (EMA) of the generator's weights, kept as a separate generator.

The trained generator's weights jitter from step to step as the two networks chase each other; their
running average draws cleaner, more stable samples (Karras et al. 2018, Yazici et al. 2019). It is a
second model, never written back into the trained one (Keras' optimizer `use_ema=True` would overwrite
the trained weights at the end of fit), and it is what a run samples and is evaluated with.
"""
from __future__ import annotations

import keras

WARM_UP = 10.0  # decay_t = min(decay, (1 + t) / (WARM_UP + t)): early averages forget the random start


class EMAGenerator:
    """A copy of `generator` whose variables follow ema <- d * ema + (1 - d) * weights after every update().

    Every float variable is averaged, batch-norm moving statistics included, so the copy's inference-mode
    statistics match its averaged weights; the variables the generator lists in `ema_copies` (a style-based
    generator's running mean w_avg, itself an average) are copied instead. The decay ramps up from 0.1 to
    `decay` over the first updates.
    """

    def __init__(self, generator: keras.Model, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1) (0.999 is typical); got {decay!r}.")
        self.generator = generator
        self.decay = float(decay)
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
        """The decay the next update uses: min(decay, (1 + t) / (WARM_UP + t)) after t updates."""
        t = self.updates.value
        return keras.ops.minimum(self.decay, (1.0 + t) / (WARM_UP + t))

    def update(self) -> None:
        """Move every averaged variable towards the generator's current value; call after each generator step."""
        decay = self.current_decay()
        for averaged, current in self._pairs:
            if "float" in str(averaged.dtype):
                averaged.assign(decay * averaged.value + (1.0 - decay) * current.value)
        for copy, current in self._copied:
            copy.assign(current.value)
        self.updates.assign_add(1.0)
