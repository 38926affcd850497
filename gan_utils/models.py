"""Generator and discriminator builders.

Generators map latent noise z to samples; discriminators return one logit per sample
(the probability that the input is real is sigmoid(logit)).
"""
from __future__ import annotations

import keras


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")


def mlp_generator(latent_dim: int = 2, output_dim: int = 2, *, width: int = 128, depth: int = 3) -> keras.Model:
    """An MLP from z of shape (latent_dim,) to a point of shape (output_dim,), linear output."""
    _check_positive(latent_dim=latent_dim, output_dim=output_dim, width=width, depth=depth)
    layers = [keras.Input((latent_dim,), name="z")]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    layers.append(keras.layers.Dense(output_dim, name="sample"))
    return keras.Sequential(layers, name="mlp_generator")


def mlp_discriminator(input_dim: int = 2, *, width: int = 128, depth: int = 3) -> keras.Model:
    """An MLP from a point of shape (input_dim,) to one logit; D(x) = sigmoid(logit)."""
    _check_positive(input_dim=input_dim, width=width, depth=depth)
    layers = [keras.Input((input_dim,), name="x")]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    layers.append(keras.layers.Dense(1, name="logit"))
    return keras.Sequential(layers, name="mlp_discriminator")
