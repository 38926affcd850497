"""The GAN training step: one discriminator update, then one generator update."""
from __future__ import annotations

import keras
import tensorflow as tf

from gan_utils import losses


def make_train_step(generator, discriminator, g_opt, d_opt, *, latent_dim: int,
                    seed_generator: keras.random.SeedGenerator, g_loss: str = "non_saturating"):
    """A compiled step(real_batch) -> dict of d_loss, g_loss, D(x) and D(G(z)) batch means.

    z is drawn from `seed_generator`, created once by the caller, so every step gets fresh noise
    and two runs with one seed repeat exactly.
    """
    if g_opt is d_opt:
        raise ValueError("g_opt and d_opt must be two optimisers: each keeps its own moment estimates.")
    generator_loss = losses.generator_loss(g_loss)

    @tf.function
    def train_step(real_batch):
        batch_size = tf.shape(real_batch)[0]
        # 1. Discriminator: push D(x) up on real data and D(G(z)) down on fakes.
        z = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
        with tf.GradientTape() as tape:
            real_logits = discriminator(real_batch, training=True)
            fake_logits = discriminator(generator(z, training=True), training=True)
            d_loss = losses.discriminator_loss(real_logits, fake_logits)
        d_grads = tape.gradient(d_loss, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
        # 2. Generator: fresh noise, and only the generator's weights move.
        z = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
        with tf.GradientTape() as tape:
            g_loss_value = generator_loss(discriminator(generator(z, training=True), training=True))
        g_grads = tape.gradient(g_loss_value, generator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        return {
            "d_loss": d_loss,
            "g_loss": g_loss_value,
            "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)),
        }

    return train_step
