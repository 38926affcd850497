"""Training under a tf.distribute strategy: which strategy, per-replica random draws and loss scaling.

Keras runs the GAN's train_step once per replica on that replica's slice of the global batch and sums
the replicas' gradients. Two things must then be done by hand, and are done here:
- each replica's mean loss is divided by the number of replicas, so the summed gradient is the
  gradient of the global batch's mean loss;
- random draws (z, augmentation, penalty interpolation) must differ between replicas. A
  SeedGenerator's state is shared, so every replica would draw the same numbers: instead each replica
  draws the whole global batch and keeps its own rows, which also makes a run on R devices draw exactly
  what one device would.
"""
from __future__ import annotations

from typing import Callable

import tensorflow as tf

STRATEGIES = ("none", "mirrored")  # what Profile.distribute and --distribute accept


def num_replicas() -> int:
    """How many replicas the strategy in force runs (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def per_replica(draw: Callable, shape) -> tf.Tensor:
    """`draw(shape)` for this replica's share of a global batch, where shape[0] is the replica's batch.

    Every replica calls `draw` for num_replicas() times as many rows, from the same seed state, and keeps
    rows [replica * n, (replica + 1) * n): replicas get different values, and the global batch holds
    exactly what a single-device run draws.
    """
    replicas = num_replicas()
    context = tf.distribute.get_replica_context()
    if replicas == 1 or context is None:
        return draw(shape)
    rows = shape[0]
    values = draw((rows * replicas, *shape[1:]))
    start = context.replica_id_in_sync_group * rows
    return values[start:start + rows]


def global_mean(loss):
    """A replica's mean loss divided by the number of replicas: the optimiser sums the replicas'
    gradients, so the sum is the gradient of the mean over the global batch."""
    return loss / tf.cast(num_replicas(), loss.dtype)


def make_strategy(name: str = "mirrored", devices: list[str] | None = None) -> tf.distribute.Strategy:
    """The strategy called `name` over `devices` (default: every visible GPU, else the CPU).

    "none" gives TensorFlow's default strategy (one device, no change). "mirrored" copies the models to
    each device and all-reduces the gradients: one machine with several GPUs, or, for testing, several
    logical CPU devices (see split_cpu).
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}.")
    if name == "none":
        return tf.distribute.get_strategy()
    if devices is None:
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    if not devices:
        raise ValueError("make_strategy needs at least one device; pass devices=[...] or leave it None.")
    return tf.distribute.MirroredStrategy(devices)


def split_cpu(count: int) -> list[str]:
    """Split the CPU into `count` logical devices and return their names, for MirroredStrategy on a machine
    without GPUs. Must run before TensorFlow first uses a device (a fresh process or kernel)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer; got {count!r}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) == count:  # already split this way: nothing to do
            return [d.name for d in existing]
        raise ValueError(f"TensorFlow has already started with {len(existing)} CPU device(s); call "
                         f"split_cpu({count}) first thing in a fresh process or kernel.") from error
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def replica_sum(value):
    """The sum of `value` over the replicas, the same on every replica (itself outside a strategy): counters of
    the global batch, which a variable's "mean" aggregation would otherwise divide by the replicas."""
    context = tf.distribute.get_replica_context()
    if num_replicas() == 1 or context is None:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def replica_mean(value):
    """The mean of `value` over the replicas, the same on every replica (itself outside a strategy): a batch
    mean of the global batch when every replica holds an equal share of it."""
    return replica_sum(value) / tf.cast(num_replicas(), value.dtype)
