"""Small shared objects for the tests: recipes and a dataset that train in well under a second, and a loader for
the scripts that are not part of a package."""
import dataclasses
import importlib.util
import pathlib
import sys

from gan_utils import data
from gan_utils.recipes import Recipe

TINY_RECIPE = Recipe(
    name="tiny",
    description="A few thousand weights, for tests only.",
    latent_dim=8,
    generator={"dense_filters": 16, "filters": (8,), "strides": (2,), "kernel_size": 3, "norm": "batch",
               "activation": "relu", "upsample": "transpose"},
    discriminator={"filters": (8, 16), "kernel_size": 3, "norm": "none", "activation": "leaky_relu",
                   "dropout": 0.3},
    g_loss="non_saturating",
    g_learning_rate=1e-3,
    d_learning_rate=1e-3,
    beta_1=0.5,
    beta_2=0.999,
    batch_size=16,
)

# TINY_RECIPE with every technique of chapter 6 switched on, penalties included; not minibatch std, which
# couples the samples of a batch and so is refused beside the penalties (TINY_MINIBATCH_STD_RECIPE has it).
TINY_TRICKS_RECIPE = dataclasses.replace(
    TINY_RECIPE,
    name="tiny-tricks",
    discriminator={**TINY_RECIPE.discriminator, "spectral_norm": True, "dropout": 0.0},
    g_loss="hinge",
    d_loss="hinge",
    d_learning_rate=4e-3,
    gradient_penalty=1.0,
    r1_gamma=0.5,
    ema_half_life_images=100.0,
    augment=("colour", "translation", "cutout"),
)


TINY_MINIBATCH_STD_RECIPE = dataclasses.replace(
    TINY_TRICKS_RECIPE, name="tiny-minibatch-std", gradient_penalty=0.0, r1_gamma=0.0,
    discriminator={**TINY_TRICKS_RECIPE.discriminator, "minibatch_std": True})


def tiny_dataset(n: int = 64):
    """n procedurally drawn one-channel shapes: an ImageDataset of float32 (n, 32, 32, 1) in [-1, 1]."""
    return data.make_shapes(n, seed=0, channels=1)


def fetched(name: str) -> bool:
    """Whether the emoji or cjk source files are in the cache and verified (tests never download them)."""
    from gan_utils import cjk, emoji, registry

    try:
        for file in {"emoji": emoji, "cjk": cjk}[name].FILES.values():
            registry.verified(file)
    except registry.FetchError:
        return False
    return True


def load_script(path: pathlib.Path):
    """A script outside the package (benchmarks/, book/figures/), imported as a module named after its file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a script's dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
