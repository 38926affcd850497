"""GAN losses, computed from discriminator logits with softplus so they stay finite.

With D(x) = sigmoid(l): -log D(x) = softplus(-l) and -log(1 - D(x)) = softplus(l).
"""
from __future__ import annotations

import tensorflow as tf


def value_function(real_logits, fake_logits):
    """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], the quantity D maximises and G minimises."""
    return -tf.reduce_mean(tf.nn.softplus(-real_logits)) - tf.reduce_mean(tf.nn.softplus(fake_logits))


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss -V(D, G): binary cross-entropy with real labelled 1 and fake 0."""
    return -value_function(real_logits, fake_logits)


def saturating_generator_loss(fake_logits):
    """The original minimax generator loss E[log(1 - D(G(z)))]; its gradient vanishes when D wins."""
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """The non-saturating generator loss -E[log D(G(z))]; strong gradients exactly when D wins."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


GENERATOR_LOSSES = {
    "saturating": saturating_generator_loss,
    "non_saturating": non_saturating_generator_loss,
}


def generator_loss(name: str):
    """The generator loss function called `name` ('saturating' or 'non_saturating')."""
    if name not in GENERATOR_LOSSES:
        raise ValueError(f"Unknown generator loss {name!r}; choose one of {', '.join(GENERATOR_LOSSES)}.")
    return GENERATOR_LOSSES[name]
