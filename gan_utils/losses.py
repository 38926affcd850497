"""GAN losses and penalties: the minimax family from logits (softplus, so they stay finite), keras-io's noisy
labels, Wasserstein, hinge, least squares and R3GAN's relativistic pairing, and the WGAN-GP, R1 and R2 gradient
penalties (always in float32).

With D(x) = sigmoid(l): -log D(x) = softplus(-l) and -log(1 - D(x)) = softplus(l).
"""
from __future__ import annotations

import keras
import tensorflow as tf

from gan_utils import distribute
from gan_utils.models.layers import batch_coupled_layers


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


# Wasserstein (WGAN, WGAN-GP): the critic scores are unbounded real numbers, not logits.

def wasserstein_critic_loss(real_scores, fake_scores):
    """E[f(G(z))] - E[f(x)], a scalar: minus the critic's Wasserstein estimate, which stays informative when
    the two distributions barely overlap (where the minimax loss saturates)."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """-E[f(G(z))], a scalar: its gradient never saturates, however confident the critic is."""
    return -tf.reduce_mean(fake_scores)


def _interpolation_weights(batch_size, rank: int, seed_generator):
    if not isinstance(seed_generator, keras.random.SeedGenerator):
        raise TypeError(f"seed_generator must be a keras.random.SeedGenerator created once (e.g. in __init__); "
                        f"got {type(seed_generator).__name__}. An int seed would repeat the same draw every step.")
    return distribute.per_replica(lambda shape: keras.random.uniform(shape, dtype="float32", seed=seed_generator),
                                  (batch_size,) + (1,) * (rank - 1))


def check_per_sample(network) -> None:
    """Refuse a discriminator that couples the samples of a batch: the input gradient of its batch sum,
    which R1 and the gradient penalty use, is then not the per-sample gradient they are defined with."""
    coupled = batch_coupled_layers(network) if isinstance(network, keras.layers.Layer) else []
    if coupled:
        raise ValueError(
            f"R1 and gradient penalties need each sample's own input gradient, but layers {coupled} of "
            f"{network.name!r} mix the samples of a batch (minibatch std or batch norm), so the gradient of D's "
            f"batch sum would pick up cross-sample terms. Build the discriminator without them "
            f"(minibatch_std=False, norm='none' or 'layer') or drop the penalty.")


def _input_gradients(network, images):
    """d(sum of network(images) in float32)/d(images), one row per sample; images are float32 and already cast.
    Per-sample only when the network treats samples independently, which check_per_sample enforces."""
    check_per_sample(network)
    with tf.GradientTape() as tape:
        tape.watch(images)
        outputs = tf.cast(network(images, training=True), tf.float32)
        total = tf.reduce_sum(outputs)
    gradients = tape.gradient(total, images)
    return tf.reshape(gradients, (tf.shape(images)[0], -1))


def gradient_penalty(critic, real_images, fake_images, seed_generator):
    """WGAN-GP penalty E[(||grad f(x_hat)||_2 - 1)^2] on random real/fake interpolates, a float32 scalar
    (multiply by lambda, typically 10); it replaces weight clipping, which under-uses the critic's capacity."""
    real = tf.cast(real_images, tf.float32)
    fake = tf.cast(fake_images, tf.float32)
    eps = _interpolation_weights(tf.shape(real)[0], len(real.shape), seed_generator)  # one per sample, U(0, 1)
    x_hat = eps * real + (1.0 - eps) * fake
    gradients = _input_gradients(critic, x_hat)
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=1) + 1e-12)  # 1e-12: finite gradient at a zero norm
    return tf.reduce_mean(tf.square(norms - 1.0))


# Hinge (geometric GAN, SAGAN, BigGAN).

def hinge_discriminator_loss(real_logits, fake_logits):
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], a scalar >= 0: samples beyond the margin give no gradient,
    so a confident discriminator stops pushing its logits to infinity."""
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """-E[D(G(z))], a scalar: a constant-size gradient that does not saturate when D wins."""
    return -tf.reduce_mean(fake_logits)


# Least squares (LSGAN, Mao et al. 2017, with a = 0, b = c = 1), on the raw discriminator outputs.

def least_squares_discriminator_loss(real_logits, fake_logits):
    """0.5 E[(D(x) - 1)^2] + 0.5 E[D(G(z))^2], a scalar >= 0; unlike the sigmoid loss it keeps penalising
    fakes that are classified correctly but lie far from the decision boundary."""
    return 0.5 * tf.reduce_mean(tf.square(real_logits - 1.0)) + 0.5 * tf.reduce_mean(tf.square(fake_logits))


def least_squares_generator_loss(fake_logits):
    """0.5 E[(D(G(z)) - 1)^2], a scalar >= 0: the gradient grows with the distance to the real target
    instead of vanishing when D wins."""
    return 0.5 * tf.reduce_mean(tf.square(fake_logits - 1.0))


def r1_penalty(discriminator, real_images):
    """R1 = E[||grad_x D(x)||^2] on real images, a float32 scalar (multiply by gamma / 2); it stops D's
    gradients on the data growing, which makes the game converge locally (Mescheder et al. 2018)."""
    gradients = _input_gradients(discriminator, tf.cast(real_images, tf.float32))
    return tf.reduce_mean(tf.reduce_sum(tf.square(gradients), axis=1))


def r2_penalty(discriminator, fake_images):
    """R2 = E[||grad_x D(x)||^2] on generated images, a float32 scalar (multiply by gamma / 2). R3GAN adds it to R1:
    with the relativistic loss, R1 alone lets D's gradients on the fakes grow and training diverges."""
    return r1_penalty(discriminator, fake_images)


# Relativistic pairing (RpGAN; Jolicoeur-Martineau 2019, R3GAN by Huang et al. 2024): each real image is paired
# with one generated image, and D scores which of the two is the real one.

def _check_paired(real_logits, fake_logits) -> None:
    real_shape, fake_shape = tuple(tf.TensorShape(real_logits.shape)), tuple(tf.TensorShape(fake_logits.shape))
    if None not in real_shape + fake_shape and real_shape != fake_shape:
        raise ValueError(f"The relativistic loss pairs each real image with one generated image, so the two "
                         f"batches of logits must have one shape; got {real_logits.shape} and {fake_logits.shape}.")


def relativistic_discriminator_loss(real_logits, fake_logits):
    """E[softplus(-(D(x) - D(G(z))))] over the pairs, a scalar: -log sigmoid of how much more real D finds the real
    image than its generated partner. Unlike the minimax loss it cannot be won by pushing every logit up."""
    _check_paired(real_logits, fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-(real_logits - fake_logits)))


def relativistic_generator_loss(fake_logits, real_logits):
    """E[softplus(-(D(G(z)) - D(x)))] over the pairs, a scalar: the discriminator's loss with the roles swapped,
    so the generator needs the real images' logits too (PAIRED_GENERATOR_LOSSES)."""
    _check_paired(real_logits, fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-(fake_logits - real_logits)))


def smoothed_discriminator_loss(real_logits, fake_logits, real_label: float = 0.9):
    """Binary cross-entropy with real targets `real_label` and fake targets 0, a scalar; one-sided label
    smoothing keeps D from becoming over-confident on real images."""
    if not 0.5 < real_label <= 1.0:
        raise ValueError(f"real_label must be in (0.5, 1]; got {real_label!r}. One-sided smoothing uses 0.9; "
                         f"1 gives the unsmoothed discriminator_loss.")
    # BCE(t, l) = -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l)) = softplus(l) - t * l.
    return tf.reduce_mean(tf.nn.softplus(real_logits) - real_label * real_logits) + tf.reduce_mean(
        tf.nn.softplus(fake_logits))


# keras-io's face DCGAN ("DCGAN to generate face images", fchollet): noisy labels, in the book's convention.

KERAS_IO_LABEL_NOISE = 0.05  # keras-io adds 0.05 * U(0, 1) to every discriminator label


def keras_io_noisy_targets_loss(real_logits, fake_logits, real_noise, fake_noise):
    """keras-io's discriminator loss for given noise (u in [0, 1], shaped like the logits), a scalar.

    keras-io labels generated images 1 and real ones 0 (D outputs the probability of FAKE) and adds
    0.05 u to every label. In the book's convention (logit l for REAL, p_fake = sigmoid(-l)) the targets become
    1 - 0.05 u for real images and -0.05 u for fakes. The fake targets lie outside [0, 1], where binary
    cross-entropy from logits, softplus(l) - t * l, still holds; it is what keras-io computes too, since Keras'
    BinaryCrossentropy on a sigmoid layer's output recovers the logits and calls sigmoid_cross_entropy_with_logits.
    The mean runs over the concatenated real and fake batch, as keras-io's, so with equal batches it is half of
    the usual sum of the two means; Adam's update does not change with a constant factor on the loss, up to its
    epsilon.
    """
    real_targets = 1.0 - KERAS_IO_LABEL_NOISE * real_noise
    fake_targets = -KERAS_IO_LABEL_NOISE * fake_noise
    per_sample = tf.concat([tf.reshape(tf.nn.softplus(real_logits) - real_targets * real_logits, [-1]),
                            tf.reshape(tf.nn.softplus(fake_logits) - fake_targets * fake_logits, [-1])], axis=0)
    return tf.reduce_mean(per_sample)


def keras_io_noisy_discriminator_loss(real_logits, fake_logits):
    """keras-io's noisy-label binary cross-entropy (see keras_io_noisy_targets_loss) with fresh u ~ U(0, 1) per
    sample on every call, a scalar.

    The noise comes from tf.random.uniform's stateful op without a seed argument, so each training step draws
    anew, as keras-io's `tf.random.uniform(tf.shape(labels))` does; its op seed follows TensorFlow's global seed
    (settings.seed_everything). A fixed seed to a stateless draw would repeat the same noise every step. Under a
    distribution strategy each replica draws its own noise, so runs on different device counts differ here.
    """
    real_noise = tf.random.uniform(tf.shape(real_logits), dtype=real_logits.dtype)
    fake_noise = tf.random.uniform(tf.shape(fake_logits), dtype=fake_logits.dtype)
    return keras_io_noisy_targets_loss(real_logits, fake_logits, real_noise, fake_noise)


# The names a recipe uses. Each discriminator loss has its usual generator partner: minimax with
# non_saturating (or saturating), keras_io_noisy with non_saturating, hinge with hinge, least_squares with
# least_squares, wasserstein with wasserstein, relativistic with relativistic.

GENERATOR_LOSSES = {
    "saturating": saturating_generator_loss,
    "non_saturating": non_saturating_generator_loss,
    "hinge": hinge_generator_loss,
    "least_squares": least_squares_generator_loss,
    "wasserstein": wasserstein_generator_loss,
    "relativistic": relativistic_generator_loss,
}
PAIRED_GENERATOR_LOSSES = ("relativistic",)  # called as loss(fake_logits, real_logits)
PAIRED_DISCRIMINATOR_LOSSES = ("relativistic",)  # score pairs (real, fake): the logits' common level is free

DISCRIMINATOR_LOSSES = {
    "minimax": discriminator_loss,
    "minimax_smoothed": smoothed_discriminator_loss,
    "keras_io_noisy": keras_io_noisy_discriminator_loss,
    "hinge": hinge_discriminator_loss,
    "least_squares": least_squares_discriminator_loss,
    "wasserstein": wasserstein_critic_loss,
    "relativistic": relativistic_discriminator_loss,
}


def _lookup(kind: str, table: dict, name: str):
    if name not in table:
        raise ValueError(f"Unknown {kind} loss {name!r}; choose one of {', '.join(table)}.")
    return table[name]


def generator_loss(name: str):
    """The generator loss function called `name`, one of GENERATOR_LOSSES."""
    return _lookup("generator", GENERATOR_LOSSES, name)


def discriminator_loss_fn(name: str):
    """The discriminator loss function called `name`, one of DISCRIMINATOR_LOSSES."""
    return _lookup("discriminator", DISCRIMINATOR_LOSSES, name)
