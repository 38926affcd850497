"""Run by test_distribute in a fresh process: the same short training on one device and under
MirroredStrategy over two logical CPU devices, printed as JSON for the test to compare."""
import dataclasses
import json
import sys
import tempfile

from gan_utils import distribute

DEVICES = distribute.split_cpu(2)  # before TensorFlow touches a device

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from fixtures import TINY_RECIPE, TINY_TRICKS_RECIPE  # noqa: E402
from gan_utils import data, train  # noqa: E402


def replica_noise(strategy) -> dict:
    """What per_replica gives each replica, against one device's draw of the whole batch."""
    seeds = keras.random.SeedGenerator(7)
    with strategy.scope():
        shared = keras.random.SeedGenerator(7)

    @tf.function
    def draw():
        return strategy.run(lambda: distribute.per_replica(
            lambda shape: keras.random.normal(shape, seed=shared), (4, 3)))

    per_replica = [np.asarray(t) for t in strategy.experimental_local_results(draw())]
    single = np.asarray(keras.random.normal((8, 3), seed=seeds))
    return {"replicas_differ": bool(not np.allclose(per_replica[0], per_replica[1])),
            "joined_matches_single": float(np.abs(np.concatenate(per_replica) - single).max())}


def train_weights(recipe, strategy) -> tuple[list[np.ndarray], list[dict]]:
    dataset = data.make_shapes(64, seed=0, channels=1)
    result = train.train_run(tempfile.mkdtemp(), dataset, recipe, epochs=2, seed=0, strategy=strategy, verbose=False)
    return [np.asarray(v) for v in result.gan.generator.variables], result.history


def norm(arrays) -> float:
    """The L2 norm of all the arrays together, as if they were one vector."""
    return float(np.sqrt(sum(np.sum(np.square(a, dtype=np.float64)) for a in arrays)))


def main(recipe_name: str) -> None:
    recipe = {"tiny": TINY_RECIPE, "tricks": TINY_TRICKS_RECIPE}[recipe_name]
    # Two replicas of 8. Dropout masks and minibatch std are per replica by design, so they are off here.
    recipe = dataclasses.replace(recipe, batch_size=16,
                                 discriminator={**recipe.discriminator, "dropout": 0.0, "minibatch_std": False})
    mirrored = distribute.make_strategy("mirrored", DEVICES)
    single_weights, single_history = train_weights(recipe, None)
    mirrored_weights, mirrored_history = train_weights(recipe, mirrored)
    start = train.build_gan(recipe, 1, 0).generator.get_weights()
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        **replica_noise(mirrored),
        "weight_difference": norm(a - b for a, b in zip(single_weights, mirrored_weights)),
        "weight_change": norm(a - b for a, b in zip(single_weights, start)),
        "single_losses": [[h["d_loss"], h["g_loss"]] for h in single_history],
        "mirrored_losses": [[h["d_loss"], h["g_loss"]] for h in mirrored_history],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
