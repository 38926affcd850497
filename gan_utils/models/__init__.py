"""Generator and discriminator builders, the table of architecture families, and their shared layers.

`dcgan` holds chapter 1's MLPs and the DCGAN family; `keras_io` keras-io's 64x64 face DCGAN as published; `r3gan`
R3GAN's residual networks; `stylegan2` StyleGAN2's generator, trained against R3GAN's discriminator; `fastgan`
FastGAN's skip-layer-excitation generator and self-supervised discriminator for few images; `unet`
pix2pix's and CycleGAN's U-Net generator and PatchGAN discriminator; `layers`, `equalized` and `resample` the
building blocks the families share (minibatch standard deviation, spectral normalisation, the equalised learning
rate, filtered 2x resampling). ARCHITECTURES is the one place a family is registered. Generators map latent noise z
to samples; discriminators return one logit per sample (the probability that the input is real is sigmoid(logit)).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import NamedTuple

import keras

from gan_utils.models.dcgan import (ACTIVATIONS, CHANNELS, DISCRIMINATOR_NORMS, GENERATOR_NORMS, LEAKY_SLOPE,
                                    RESOLUTIONS, UPSAMPLES, dcgan_discriminator, dcgan_generator,
                                    mlp_discriminator, mlp_generator)
from gan_utils.models.equalized import EqualizedConv2D, EqualizedDense, ScaledLeakyReLU
from gan_utils.models.fastgan import GLU, FastGANDiscriminator, QuarterCrop, fastgan_discriminator, fastgan_generator
from gan_utils.models.keras_io import keras_io_discriminator, keras_io_generator
from gan_utils.models.layers import (MINIBATCH_STD_EPSILON, MinibatchStdDev, SpectralNormalization,
                                     batch_coupled_layers, power_iteration_paused)
from gan_utils.models.r3gan import (GenerativeBasis, GroupedConv2D, add_or_drop_stages, r3gan_discriminator,
                                    r3gan_generator)
from gan_utils.models.stylegan2 import ModulatedConv2D, StyleGAN2Generator, path_length_penalty, stylegan2_generator
from gan_utils.models.unet import (AlwaysDropout, patchgan_discriminator, patchgan_layers, receptive_field,
                                   unet_generator)


def add_or_drop_blocks(generator: dict, discriminator: dict, doublings: int) -> tuple[dict, dict]:
    """Builder arguments (generator, discriminator) for images 2**doublings times as wide (doublings < 0:
    narrower): per doubling one more stride-2 up-block at the generator's end and one more down-block at the
    discriminator's start, each half as wide as its neighbour; per halving one block fewer on each side. A
    generator with `strides` (dcgan) gets stride 2 for each new block and can only lose a stride-2 block.

    Both dicts need a `filters` tuple, one entry per block; the other arguments are kept as they are.
    """
    g_filters, d_filters = list(generator["filters"]), list(discriminator["filters"])
    strides = list(generator["strides"]) if "strides" in generator else None
    for _ in range(doublings):
        g_filters.append(max(1, g_filters[-1] // 2))
        d_filters.insert(0, max(1, d_filters[0] // 2))
        if strides is not None:
            strides.append(2)
    for _ in range(-doublings):
        if len(g_filters) < 2 or len(d_filters) < 2 or (strides is not None and strides[-1] != 2):
            raise ValueError(f"no stride-2 block left to drop: generator filters {tuple(g_filters)}"
                             f"{f', strides {tuple(strides)}' if strides is not None else ''}, discriminator "
                             f"filters {tuple(d_filters)}.")
        g_filters.pop(), d_filters.pop(0)
        if strides is not None:
            strides.pop()
    generator = {**generator, "filters": tuple(g_filters)}
    if strides is not None:
        generator["strides"] = tuple(strides)
    return generator, {**discriminator, "filters": tuple(d_filters)}


def style_generator_and_stages(generator: dict, discriminator: dict, doublings: int) -> tuple[dict, dict]:
    """The stylegan2 family's rule for another resolution: the generator's `filters` (one width per side, 4x4
    up) gain or lose entries at the end as add_or_drop_blocks' do, or follow the resolution by themselves when the
    recipe leaves them to stylegan2.default_filters; R3GAN's discriminator gains or loses stages as
    add_or_drop_stages says."""
    _, discriminator = add_or_drop_stages({}, discriminator, doublings)
    if "filters" in generator:
        generator, _ = add_or_drop_blocks(generator, {"filters": (1,) * (abs(doublings) + 1)}, doublings)
    return generator, discriminator


class Architecture(NamedTuple):
    """One family of networks, as a recipe names it. Both builders take the common keyword arguments
    num_classes, sync_batch_norm and resolution; `at_resolution` maps (generator arguments, discriminator
    arguments, doublings) to the arguments for another resolution, or is None for a family built for one
    resolution only."""

    generator: Callable[..., keras.Model]  # (latent_dim, channels, **common, **recipe.generator)
    discriminator: Callable[..., keras.Model]  # (channels, **common, **recipe.discriminator)
    at_resolution: Callable[[dict, dict, int], tuple[dict, dict]] | None


ARCHITECTURES = {
    "dcgan": Architecture(dcgan_generator, dcgan_discriminator, add_or_drop_blocks),
    "keras_io": Architecture(keras_io_generator, keras_io_discriminator, add_or_drop_blocks),
    "r3gan": Architecture(r3gan_generator, r3gan_discriminator, add_or_drop_stages),
    # StyleGAN2's generator against R3GAN's discriminator, the same discriminator family as the r3gan recipe's.
    "stylegan2": Architecture(stylegan2_generator, r3gan_discriminator, style_generator_and_stages),
    "fastgan": Architecture(fastgan_generator, fastgan_discriminator, None),  # 64x64 only
}
COMMON_ARGUMENTS = ("num_classes", "sync_batch_norm", "resolution")  # what Recipe.build_models passes to every family


@contextlib.contextmanager
def dtype_policy(name: str):
    """Layers made inside use the Keras dtype policy `name` ("float32", "mixed_float16", ...); the previous
    global policy comes back afterwards, so the policy belongs to these models only."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def layer_shapes(model: keras.Model) -> list[tuple[str, tuple]]:
    """(layer name, output shape without the batch axis) for each layer of a built functional or Sequential model.

    Functional models list their input layer first; Sequential models do not. Unknown sizes are None.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    rows = []
    for layer in model.layers:
        try:
            output = layer.output
        except (AttributeError, ValueError) as error:
            raise ValueError(
                f"Layer {layer.name!r} has no single defined output shape ({error}). Build the model from "
                f"keras.Input so that every layer's shape is known."
            ) from None
        if isinstance(output, (list, tuple)):
            rows.append((layer.name, tuple(tuple(o.shape[1:]) for o in output)))
        else:
            rows.append((layer.name, tuple(output.shape[1:])))
    return rows
