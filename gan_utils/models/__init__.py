"""Generator and discriminator builders and their shared layers.

`dcgan` holds chapter 1's MLPs and the DCGAN family at 32x32; `layers` the building blocks the families share
(minibatch standard deviation, spectral normalisation). Generators map latent noise z to samples; discriminators
return one logit per sample (the probability that the input is real is sigmoid(logit)).
"""
from __future__ import annotations

import contextlib

import keras

from gan_utils.models.dcgan import (ACTIVATIONS, CHANNELS, DISCRIMINATOR_NORMS, GENERATOR_NORMS, LEAKY_SLOPE,
                                    RESOLUTIONS, UPSAMPLES, dcgan_discriminator, dcgan_generator,
                                    mlp_discriminator, mlp_generator)
from gan_utils.models.layers import (MINIBATCH_STD_EPSILON, MinibatchStdDev, SpectralNormalization,
                                     batch_coupled_layers, power_iteration_paused)


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
