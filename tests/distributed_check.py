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
from gan_utils import ada, data, train  # noqa: E402
from test_modern import TINY_STYLE  # noqa: E402

# Chapter 8's techniques together: the relativistic loss, ADA steered by the pairs, lazy R1 and R2, a style-based
# generator's running mean w_avg and (on every 4th generator step) path-length regularisation. ADA moves fast here,
# so that p is above 0 for most of the run and the augmentation acts.
MODERN_RECIPE = dataclasses.replace(TINY_STYLE, name="tiny-modern-style", g_loss="relativistic",
                                    d_loss="relativistic", r2_gamma=0.1, ada_target=0.1, ada_speed_images=512)


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


def ada_counters(strategy) -> dict:
    """p after one adjustment from two replicas' logits, against one device's p from the same 16 logits."""
    logits = np.linspace(-1.0, 3.0, 16, dtype="float32").reshape(16, 1)  # r_t = 0.5: below 1, above 0.1

    def controller():
        return ada.AdaptiveAugment(target=0.1, speed_images=100, interval=2)

    single = controller()
    for _ in range(2):
        single.observe(logits)
    with strategy.scope():
        mirrored = controller()
    halves = strategy.experimental_distribute_values_from_function(
        lambda context: logits[8 * context.replica_id_in_sync_group:8 * (context.replica_id_in_sync_group + 1)])
    step = tf.function(lambda x: strategy.run(mirrored.observe, args=(x,)))
    for _ in range(2):
        step(halves)
    return {"ada_single": [float(np.asarray(v.value)) for v in (single.p, single.r_t)],
            "ada_mirrored": [float(np.asarray(v.value)) for v in (mirrored.p, mirrored.r_t)]}


def train_weights(recipe, strategy) -> tuple[list[np.ndarray], list[dict], dict]:
    dataset = data.make_shapes(64, seed=0, channels=1)
    result = train.train_run(tempfile.mkdtemp(), dataset, recipe, epochs=2, seed=0, strategy=strategy, verbose=False)
    tricks = {variable.name: float(np.asarray(variable.value)) for variable in result.gan.trick_variables}
    return [np.asarray(v) for v in result.gan.generator.variables], result.history, tricks


def norm(arrays) -> float:
    """The L2 norm of all the arrays together, as if they were one vector."""
    return float(np.sqrt(sum(np.sum(np.square(a, dtype=np.float64)) for a in arrays)))


def main(recipe_name: str) -> None:
    recipe = {"tiny": TINY_RECIPE, "tricks": TINY_TRICKS_RECIPE, "modern": MODERN_RECIPE}[recipe_name]
    # Two replicas of 8. Dropout masks and minibatch std are per replica by design, so they are off here.
    if recipe.architecture == "dcgan":
        recipe = dataclasses.replace(recipe, discriminator={**recipe.discriminator, "dropout": 0.0,
                                                            "minibatch_std": False})
    recipe = dataclasses.replace(recipe, batch_size=16)
    mirrored = distribute.make_strategy("mirrored", DEVICES)
    single_weights, single_history, single_tricks = train_weights(recipe, None)
    mirrored_weights, mirrored_history, mirrored_tricks = train_weights(recipe, mirrored)
    start = [np.asarray(v) for v in train.build_gan(recipe, 1, 0).generator.variables]
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        **replica_noise(mirrored),
        "weight_difference": norm(a - b for a, b in zip(single_weights, mirrored_weights)),
        "weight_change": norm(a - b for a, b in zip(single_weights, start)),
        "single_losses": [[h["d_loss"], h["g_loss"]] for h in single_history],
        "mirrored_losses": [[h["d_loss"], h["g_loss"]] for h in mirrored_history],
        "single_tricks": single_tricks, "mirrored_tricks": mirrored_tricks,
        **ada_counters(mirrored),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
