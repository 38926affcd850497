"""GAN training: the alternating update, a compiled step, a keras.Model trainer, and resumable runs."""
from __future__ import annotations

import dataclasses
import json
import pathlib

import keras
import numpy as np
import tensorflow as tf

from gan_utils import ada
from gan_utils import augment as augmentation
from gan_utils import callbacks as gan_callbacks
from gan_utils import checkpoints, distribute, losses, models, schedules, settings, showcase, validation
from gan_utils.data import ImageDataset, make_pipeline
from gan_utils.ema import EMAGenerator
from gan_utils.recipes import Recipe

METRICS = ("d_loss", "g_loss", "d_real", "d_fake")
RECONSTRUCTION_METRICS = ("d_reconstruction",)  # also logged with a self-supervised discriminator (FastGAN)
PAIR_METRICS = ("d_pairs",)  # also logged for a paired loss: E[sigmoid(D(x) - D(G(z)))], pairs judged correctly
ADA_METRICS = ("augment_p", "r_t")  # also logged when the recipe adapts its augmentation (ADA)
PATH_LENGTH_INTERVAL = 4  # StyleGAN2 regularises path lengths lazily, on every 4th generator step


def gan_update(generator, discriminator, g_opt, d_opt, real_images, z_d, z_g, generator_loss, *,
               discriminator_loss=losses.discriminator_loss, augment_real=None, augment_fake=None,
               penalty=None, labels=None) -> dict:
    """One discriminator step on (real, G(z_d)), then one generator step on G(z_g); returns the metrics.

    augment_real / augment_fake (images -> images) transform what the discriminator sees; pass the same
    differentiable augmentation to both, or the generator learns to draw the augmentation. penalty
    (discriminator, real, fake) -> a weighted float32 scalar is added to the discriminator's loss.
    d_real and d_fake are the batch means of sigmoid(D(x)) and sigmoid(D(G(z))), measured before the
    discriminator step: probabilities for the minimax losses, a squashed score for the others (for a paired
    loss, which leaves the logits' common level free, only d_pairs = E[sigmoid(D(x) - D(G(z)))] means something).
    With `labels` (class-conditional networks), both networks also get the real batch's labels, so the
    fakes are drawn for the same classes as the real images. Under a tf.distribute strategy or with
    loss-scaling optimisers (mixed precision), the losses are rescaled before differentiating (chapter 11);
    the returned metrics are always the plain losses.
    """
    metrics = discriminator_update(generator, discriminator, d_opt, real_images, z_d,
                                   discriminator_loss=discriminator_loss, augment_real=augment_real,
                                   augment_fake=augment_fake, penalty=penalty, labels=labels)
    metrics["g_loss"] = generator_update(generator, discriminator, g_opt, z_g, generator_loss,
                                         augment_fake=augment_fake, labels=labels)
    return metrics


def _conditioned(network, labels):
    """network itself, or a function that feeds it `labels` as its second input."""
    return network if labels is None else (lambda x, training: network([x, labels], training=training))


def discriminator_update(generator, discriminator, d_opt, real_images, z_d, *,
                         discriminator_loss=losses.discriminator_loss, augment_real=None, augment_fake=None,
                         penalty=None, labels=None, observe=None, paired: bool = False,
                         self_supervised=None) -> dict:
    """One discriminator step: push D(x) up on real images and D(G(z_d)) down on fakes (see gan_update).

    Returns d_loss, d_real, d_fake and, when `paired`, d_pairs = E[sigmoid(D(x) - D(G(z)))]. Its first
    discriminator call, on the real images, is the one that refines spectral normalisation's power-iteration
    estimate; the others leave it as it is. penalty(D, real_images, fake_images) gets the images before
    augmentation, as R1 and R2 are defined (GAN._penalty differentiates through the augmentation). observe, if
    given, is called with the real and the generated images' logits (adaptive augmentation steers by them).
    self_supervised(real images as seen) -> (logits, a float32 loss), if given, replaces D's call on the real
    images and adds its loss (FastGAN's reconstruction), returned as d_reconstruction.
    """
    G, D = _conditioned(generator, labels), _conditioned(discriminator, labels)
    with tf.GradientTape() as tape:
        fake_images = G(z_d, training=True)
        real, fake = (augment_real or tf.identity)(real_images), (augment_fake or tf.identity)(fake_images)
        if self_supervised is None:
            real_logits, extra = D(real, training=True), None
        else:
            real_logits, extra = self_supervised(real)
        with models.power_iteration_paused(discriminator):
            fake_logits = D(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
            if penalty is not None:
                d_loss += penalty(D, real_images, fake_images)
        d_scaled = _loss_for_gradients(d_loss if extra is None else d_loss + extra, d_opt)
    d_grads = tape.gradient(d_scaled, discriminator.trainable_variables)
    d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    if observe is not None:
        observe(real_logits, fake_logits)
    real_logits, fake_logits = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
    metrics = {"d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
               "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits))}
    if paired:
        metrics["d_pairs"] = tf.reduce_mean(tf.sigmoid(real_logits - fake_logits))
    if extra is not None:
        metrics["d_reconstruction"] = extra
    return metrics


def generator_update(generator, discriminator, g_opt, z_g, generator_loss, *, augment_fake=None, labels=None,
                     real_images=None, augment_real=None, penalty=None):
    """One generator step on G(z_g), fresh noise, with only the generator's weights moving; returns g_loss.

    A paired loss (losses.PAIRED_GENERATOR_LOSSES, the relativistic one) also needs D's logits on real images:
    pass real_images (augmented by augment_real, as in the discriminator step), and the loss is called as
    generator_loss(fake_logits, real_logits). penalty(generator), if given, is added to the loss that is
    differentiated (StyleGAN2's path-length regulariser); g_loss stays the plain loss.
    """
    G, D = _conditioned(generator, labels), _conditioned(discriminator, labels)
    with tf.GradientTape() as tape, models.power_iteration_paused(discriminator):
        fake_logits = D((augment_fake or tf.identity)(G(z_g, training=True)), training=True)
        if real_images is None:
            g_loss = generator_loss(fake_logits)
        else:
            g_loss = generator_loss(fake_logits, D((augment_real or tf.identity)(real_images), training=True))
        total = g_loss if penalty is None else g_loss + penalty(generator)
        g_scaled = _loss_for_gradients(total, g_opt)
    g_grads = tape.gradient(g_scaled, generator.trainable_variables)
    g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
    return g_loss


def _loss_for_gradients(loss, optimizer):
    """The loss to differentiate: its share of the global batch under a distribution strategy (replicas'
    gradients are summed), times the loss scale under mixed precision (the optimiser divides it out)."""
    return optimizer.scale_loss(distribute.global_mean(loss))


def _check_optimizers(g_opt, d_opt) -> None:
    if g_opt is d_opt:
        raise ValueError("g_opt and d_opt must be two optimisers: each keeps its own moment estimates.")


def make_train_step(generator, discriminator, g_opt, d_opt, *, latent_dim: int,
                    seed_generator: keras.random.SeedGenerator, g_loss: str = "non_saturating"):
    """A compiled step(real_batch) -> dict of d_loss, g_loss, D(x) and D(G(z)) batch means.

    z is drawn from `seed_generator`, created once by the caller, so every step gets fresh noise
    and two runs with one seed repeat exactly.
    """
    _check_optimizers(g_opt, d_opt)
    generator_loss = losses.generator_loss(g_loss)

    @tf.function
    def train_step(real_batch):
        batch_size = tf.shape(real_batch)[0]
        z_d = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
        z_g = keras.random.normal((batch_size, latent_dim), seed=seed_generator)
        return gan_update(generator, discriminator, g_opt, d_opt, real_batch, z_d, z_g, generator_loss)

    return train_step


class GAN(keras.Model):
    """A generator and a discriminator trained in turns by fit(); calling it generates images from z.

    The keyword arguments after g_loss are chapter 6's and chapter 8's techniques, all off by default: the
    discriminator's loss (a paired generator loss, the relativistic one, then also sees real images), the WGAN-GP
    penalty, R1 on real and R2 on generated images (each gamma / 2 times the mean squared input-gradient norm;
    with r1_interval k > 1 they are computed on every k-th discriminator step only, weighted by k: StyleGAN2's lazy
    regularisation). Every penalty is taken with respect to the images before augmentation and through it, with
    an augmentation drawn afresh, as StyleGAN2-ADA and R3GAN take R1. Then DiffAugment (augment_fakes=False
    augments only the real images, which leaks the augmentation into the generator: for demonstrations only) or
    adaptive augmentation (ada_target > 0; steered by the pairs under a paired loss, see ada.AdaptiveAugment),
    StyleGAN2's path-length regulariser (path_length > 0), FastGAN's self-supervised discriminator
    (reconstruction > 0 weighs its reconstruction loss on real images), an EMA generator (ema_half_life_images >
    0, in images seen, see ema.EMAGenerator), which then is what call() and `sampler` use, and n_critic
    discriminator steps per generator step (fit's batches then hold n_critic real batches, one per discriminator
    step). With horizon_images > 0 the gammas follow a half cosine in images seen down to gamma_final_ratio of
    their start (schedules.cosine); batch_size is the global real batch per discriminator step, which counts the
    images.
    """

    def __init__(self, generator, discriminator, *, latent_dim: int, g_loss: str = "non_saturating",
                 d_loss: str = "minimax", gradient_penalty: float = 0.0, r1_gamma: float = 0.0,
                 r2_gamma: float = 0.0, r1_interval: int = 1, augment: tuple = (), augment_fakes: bool = True,
                 ada_target: float = 0.0, ada_speed_images: float = ada.SPEED_IMAGES, path_length: float = 0.0,
                 ema_half_life_images: float = 0.0, ema_ramp: float = 0.0, num_classes: int = 0, n_critic: int = 1, horizon_images: float = 0.0,
                 gamma_final_ratio: float = 1.0, reconstruction: float = 0.0, batch_size: int = 1, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.num_classes = num_classes  # > 0: both networks take the class label as a second input
        self.generator_loss = losses.generator_loss(g_loss)
        self.paired_g_loss = g_loss in losses.PAIRED_GENERATOR_LOSSES
        self.discriminator_loss = losses.discriminator_loss_fn(d_loss)
        self.gradient_penalty, self.r1_gamma, self.r2_gamma = float(gradient_penalty), float(r1_gamma), float(r2_gamma)
        if self.gradient_penalty or self.r1_gamma or self.r2_gamma:
            losses.check_per_sample(discriminator)
        self.r1_interval = validation.check_int("r1_interval", r1_interval, 1)
        self.n_critic = validation.check_int("n_critic", n_critic, 1)  # each train_step batch holds n_critic batches
        self.batch_size = validation.check_int("batch_size", batch_size, 1)
        self.horizon_images, self.gamma_final_ratio = float(horizon_images), float(gamma_final_ratio)
        self.augment_policy, self.augment_fakes = augmentation.check_policy(augment), bool(augment_fakes)
        self.paired_d_loss = d_loss in losses.PAIRED_DISCRIMINATOR_LOSSES
        self.ada = ada.AdaptiveAugment(ada_target, ada_speed_images,
                                       statistic="pair_sign" if self.paired_d_loss else "real_sign") \
            if ada_target else None
        if self.ada and self.augment_policy:
            raise ValueError("Choose one augmentation: a DiffAugment policy (augment) or adaptive augmentation "
                             "(ada_target), not both.")
        self.reconstruction = float(reconstruction)
        if self.reconstruction and not hasattr(discriminator, "self_supervised"):
            raise ValueError(f"reconstruction weighs a self-supervised discriminator's loss, and {discriminator.name!r} "
                             "has none (self_supervised). Use the fastgan architecture or set it to 0.")
        if self.reconstruction and num_classes:
            raise ValueError("reconstruction needs an unconditional discriminator; set num_classes to 0.")
        self.path_length = float(path_length)
        if self.path_length and not hasattr(generator, "num_ws"):
            raise ValueError("path_length regularises a style-based generator's mapping from w to images; "
                             f"{generator.name!r} has no w (num_ws). Use the stylegan2 architecture or set it to 0.")
        self.pl_mean = keras.Variable(0.0, trainable=False, name="pl_mean", aggregation="mean") if self.path_length else None
        self.seed_generator = keras.random.SeedGenerator(seed)  # once, here: a seed in train_step would repeat z
        # The augmentations and the penalties draw from their own stream, made only when used.
        needs_seeds = bool(self.augment_policy) or bool(self.ada) or self.gradient_penalty > 0 or \
            self.path_length > 0 or self.reconstruction > 0
        self.trick_seeds = keras.random.SeedGenerator(seed + 1) if needs_seeds else None
        self.ema = EMAGenerator(generator, ema_half_life_images, batch_size=self.batch_size, ramp=ema_ramp) \
            if ema_half_life_images else None
        logged = METRICS + (PAIR_METRICS if self.paired_d_loss else ()) + (ADA_METRICS if self.ada else ()) + \
            (RECONSTRUCTION_METRICS if self.reconstruction else ())
        self.trackers = {name: keras.metrics.Mean(name=name) for name in logged}
        self.built = True  # both networks are built; Keras must not trace call() on a batch of images

    def compile(self, g_opt, d_opt, **kwargs):
        """Attach one optimiser per network; other keyword arguments (jit_compile, ...) go to Keras."""
        _check_optimizers(g_opt, d_opt)
        super().compile(**kwargs)
        self.g_opt, self.d_opt = g_opt, d_opt
        checkpoints.build_optimizers(self)  # now, in the strategy's scope, not lazily inside a replica

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def sampler(self) -> keras.Model:
        """The generator to sample and evaluate with: the EMA generator when there is one."""
        return self.ema.model if self.ema else self.generator

    @property
    def trick_variables(self) -> list:
        """The training state outside the networks and optimisers that a resumed run needs: the adaptive
        augmentation's controller and the path-length regulariser's running mean."""
        return [*(self.ada.variables if self.ada else []), *([self.pl_mean] if self.pl_mean is not None else [])]

    def call(self, z, training=False):
        return self.generate(z, training=training)

    def generate(self, z, labels=None, training=False):
        """Images from the sampler for z, clipped to [-1, 1] (a linear-output generator, stylegan2 or r3gan, can
        step outside it); a conditional GAN cycles through the classes when labels is None."""
        if not self.num_classes:
            return keras.ops.clip(self.sampler(z, training=training), -1.0, 1.0)
        if labels is None:
            labels = np.arange(len(z)) % self.num_classes
        return keras.ops.clip(self.sampler([z, np.asarray(labels, "int32").reshape(-1, 1)], training=training),
                              -1.0, 1.0)

    def _noise(self, batch_size):
        """z for this replica's images: replicas draw different noise, together what one device would."""
        return distribute.per_replica(lambda shape: keras.random.normal(shape, seed=self.seed_generator),
                                      (batch_size, self.latent_dim))

    def _augment(self, images):
        if self.ada:
            return self.ada.augment(images, self.trick_seeds)
        return augmentation.diff_augment(images, self.trick_seeds, self.augment_policy)

    def gamma_factor(self):
        """What the R1 and R2 gammas are multiplied by now: the half cosine from 1 to gamma_final_ratio over
        horizon_images images seen by the discriminator, or 1 without a horizon."""
        if not self.horizon_images:
            return tf.constant(1.0)
        images_seen = tf.cast(self.d_opt.iterations, tf.float32) * self.batch_size
        return schedules.cosine(images_seen, 1.0, self.gamma_final_ratio, self.horizon_images)

    def _self_supervised(self, real):
        """(D's logits on the real images as seen, reconstruction * its reconstruction loss), on one quarter of
        the images drawn for the whole batch, as FastGAN draws it."""
        part = keras.random.randint((1,), 0, 4, seed=self.trick_seeds)
        logits, loss = self.discriminator.self_supervised(real, part, training=True)
        return logits, self.reconstruction * loss

    def _seen(self, discriminator, augmented: bool):
        """The discriminator as a function of the images before augmentation: D(augment(x)) with a fresh draw
        when `augmented` and the run augments, so a penalty's input gradient passes through the augmentation."""
        if not augmented or not (self.augment_policy or self.ada):
            return discriminator
        return lambda images, training=True: discriminator(self._augment(images), training=training)

    def _penalty(self, discriminator, real, fake):
        """The weighted penalties in float32, taken with respect to the real and generated images before
        augmentation and through it (see _seen); R1 and R2 lazily when r1_interval > 1."""
        total = tf.constant(0.0)
        seen_real, seen_fake = self._seen(discriminator, True), self._seen(discriminator, self.augment_fakes)
        if self.gradient_penalty:  # interpolates of clean images; one augmentation for both when fakes are seen so
            critic = seen_real if self.augment_fakes else discriminator
            total += self.gradient_penalty * losses.gradient_penalty(critic, real, fake, self.trick_seeds)
        if not (self.r1_gamma or self.r2_gamma):
            return total

        def zero_centred():
            weight = 0.5 * self.r1_interval * self.gamma_factor()
            value = tf.constant(0.0)
            if self.r1_gamma:
                value += self.r1_gamma * losses.r1_penalty(seen_real, real)
            if self.r2_gamma:
                value += self.r2_gamma * losses.r2_penalty(seen_fake, fake)
            return weight * value

        if self.r1_interval == 1:
            return total + zero_centred()
        due = tf.equal(self.d_opt.iterations % self.r1_interval, 0)
        return total + tf.cond(due, zero_centred, lambda: tf.constant(0.0))

    def _path_length_penalty(self, generator):
        """path_length * PATH_LENGTH_INTERVAL * StyleGAN2's path-length penalty on every PATH_LENGTH_INTERVAL-th
        generator step (half a batch of fresh z, as StyleGAN2), else 0; updates the running mean it centres on
        (outside tf.cond, so that the replicas' means are averaged under a distribution strategy)."""
        def regularise():
            z = self._noise(max(1, self.batch_size // (2 * distribute.num_replicas())))
            penalty, mean = models.path_length_penalty(generator, z, self.pl_mean, self.trick_seeds)
            return self.path_length * PATH_LENGTH_INTERVAL * penalty, mean

        due = tf.equal(self.g_opt.iterations % PATH_LENGTH_INTERVAL, 0)
        penalty, mean = tf.cond(due, regularise, lambda: (tf.constant(0.0), tf.cast(self.pl_mean.value, tf.float32)))
        self.pl_mean.assign(mean)
        return penalty

    def train_step(self, batch):
        """n_critic discriminator steps, each on its share of the batch, then one generator step."""
        real_images, labels = batch if isinstance(batch, tuple) else (batch, None)  # a labelled pipeline gives pairs
        if self.num_classes and labels is None:
            raise ValueError("A class-conditional GAN trains on (images, labels) batches; "
                             "build the pipeline with the dataset's labels.")
        labels = tf.reshape(tf.cast(labels, tf.int32), (-1, 1)) if self.num_classes else None
        reals = tf.split(real_images, self.n_critic) if self.n_critic > 1 else [real_images]
        label_chunks = (tf.split(labels, self.n_critic) if self.n_critic > 1 else [labels]) if self.num_classes \
            else [None] * self.n_critic
        batch_size = tf.shape(reals[0])[0]
        z_ds = [self._noise(batch_size) for _ in reals]
        z_g = self._noise(batch_size)
        augment = self._augment if self.augment_policy or self.ada else None
        augment_fake = augment if self.augment_fakes else None
        penalty = self._penalty if self.gradient_penalty or self.r1_gamma or self.r2_gamma else None
        for real, z_d, step_labels in zip(reals, z_ds, label_chunks):
            results = discriminator_update(
                self.generator, self.discriminator, self.d_opt, real, z_d,
                discriminator_loss=self.discriminator_loss, augment_real=augment, augment_fake=augment_fake,
                penalty=penalty, labels=step_labels, observe=self.ada.observe if self.ada else None,
                paired=self.paired_d_loss, self_supervised=self._self_supervised if self.reconstruction else None)
        results["g_loss"] = generator_update(
            self.generator, self.discriminator, self.g_opt, z_g, self.generator_loss, augment_fake=augment_fake,
            labels=step_labels, real_images=reals[-1] if self.paired_g_loss else None, augment_real=augment,
            penalty=self._path_length_penalty if self.path_length else None)
        if self.ema:
            self.ema.update()
        if self.ada:
            results.update(augment_p=self.ada.p.value, r_t=self.ada.r_t.value)
        for name, value in results.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def build_gan(recipe: Recipe, channels: int, seed: int, jit_compile=False, *, augment_fakes: bool = True,
              mixed_precision: bool = False, strategy: tf.distribute.Strategy | None = None,
              run_eagerly: bool = False) -> GAN:
    """A compiled GAN for `recipe`, with weights initialised reproducibly from `seed`.

    mixed_precision builds both networks with the mixed_float16 policy and wraps both optimisers in
    LossScaleOptimizer; `strategy` (from distribute.make_strategy) places everything on its devices.
    """
    settings.seed_everything(seed)
    with (strategy or tf.distribute.get_strategy()).scope():
        generator, discriminator = recipe.build_models(channels, mixed_precision=mixed_precision)
        gan = GAN(generator, discriminator, latent_dim=recipe.latent_dim, g_loss=recipe.g_loss,
                  d_loss=recipe.d_loss, gradient_penalty=recipe.gradient_penalty, r1_gamma=recipe.r1_gamma,
                  r2_gamma=recipe.r2_gamma, r1_interval=recipe.r1_interval, augment=recipe.augment,
                  augment_fakes=augment_fakes, ada_target=recipe.ada_target, ada_speed_images=recipe.ada_speed_images,
                  path_length=recipe.path_length, ema_half_life_images=recipe.ema_half_life_images,
                  ema_ramp=recipe.ema_ramp, num_classes=recipe.num_classes,
                  n_critic=recipe.n_critic, horizon_images=recipe.horizon_images,
                  gamma_final_ratio=recipe.gamma_final_ratio, reconstruction=recipe.reconstruction,
                  batch_size=recipe.batch_size, seed=seed)
        gan.compile(*recipe.build_optimizers(mixed_precision=mixed_precision), jit_compile=jit_compile,
                    run_eagerly=run_eagerly)
    return gan


def speed_options(profile: settings.Profile) -> dict:
    """train_run's speed settings from a profile: XLA, mixed precision, the distribution strategy and eager steps."""
    return {"jit_compile": profile.jit_compile, "mixed_precision": profile.mixed_precision,
            "strategy": distribute.make_strategy(profile.distribute), "run_eagerly": profile.run_eagerly}


@dataclasses.dataclass
class RunResult:
    """What train_run did: the trained GAN, the epochs finished in total, and why it stopped."""

    gan: GAN
    epochs_done: int
    history: list[dict]
    stopped_by: str  # "epochs", "minutes", "non-finite loss" or "a callback"


def prepare_run_dir(run_dir: pathlib.Path, recipe, run_info: dict) -> None:
    """Store the recipe (a Recipe or a translation.TranslationRecipe) and the run settings in a new run directory,
    or check that they match a stored run."""
    recipe_path, run_path = run_dir / checkpoints.RECIPE, run_dir / checkpoints.RUN
    if recipe_path.exists():
        stored = type(recipe).from_json(recipe_path.read_text())
        if stored != recipe:
            raise ValueError(f"{run_dir} holds a run of recipe {stored.name!r}, not {recipe.name!r}; "
                             "resume it without naming a recipe, or use a new run directory.")
        stored_info = checkpoints.read_json(run_path)
        if stored_info != run_info:
            raise ValueError(f"{run_dir} was trained with {stored_info}, not {run_info}; "
                             "resume it with the same dataset and seed, or use a new run directory.")
        checkpoints.remove_stale_temporaries(run_dir)
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoints.write_text(recipe_path, recipe.to_json())
    checkpoints.write_text(run_path, json.dumps(run_info, indent=2))


def stored_recipe(run_dir) -> Recipe | None:
    """The recipe stored in run_dir, or None when run_dir holds no run."""
    path = pathlib.Path(run_dir) / checkpoints.RECIPE
    return Recipe.from_json(path.read_text()) if path.exists() else None


def train_run(run_dir, dataset: ImageDataset, recipe: Recipe, *, epochs: int, seed: int = 0,
              minutes: float | None = None, jit_compile=False, mixed_precision: bool = False,
              strategy: tf.distribute.Strategy | None = None, run_eagerly: bool = False, callbacks=(),
              verbose: bool = True, heldout: list | None = None) -> RunResult:
    """Train `recipe` on `dataset` into run_dir for `epochs` epochs in total, resuming from its checkpoint.

    `heldout` lists the items kept out of training for evaluation (evaluate.heldout_items); run.json records it.

    `minutes` limits this invocation's training time (whole epochs only). Every finished epoch is
    checkpointed atomically, so an interrupted run loses at most the epoch in progress. jit_compile,
    mixed_precision, strategy and run_eagerly are chapter 11's speed settings (see build_gan);
    recipe.batch_size is the global batch, split between a strategy's replicas.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer (the run's total); got {epochs!r}.")
    step_images = recipe.batch_size * recipe.n_critic  # one train step: a real batch per discriminator step
    if len(dataset) < step_images:
        raise ValueError(f"{dataset.name} has {len(dataset)} images, fewer than one training step's "
                         f"{recipe.n_critic} batch(es) of {recipe.batch_size}; use more images or a recipe with a "
                         f"smaller batch_size or n_critic.")
    if recipe.num_classes and (dataset.labels is None or len(dataset.class_names or ()) != recipe.num_classes):
        have = "no labels" if dataset.labels is None else f"{len(dataset.class_names or ())} classes"
        raise ValueError(f"recipe {recipe.name!r} is conditional on {recipe.num_classes} classes, but {dataset.name} "
                         f"has {have}; train it unconditionally or on a labelled dataset with that many classes.")
    if dataset.resolution != recipe.resolution:
        raise ValueError(f"recipe {recipe.name!r} builds {recipe.resolution}x{recipe.resolution} images, but "
                         f"{dataset.name} images are {dataset.resolution}x{dataset.resolution}; use "
                         f"recipe.at_resolution({dataset.resolution}) or a recipe made for that size.")
    run_dir = pathlib.Path(run_dir)
    run_info = {"dataset": dataset.name, "channels": dataset.channels, "seed": seed}
    if heldout is not None:
        run_info["heldout"] = list(heldout)
    if mixed_precision:  # its optimisers hold a loss scale: resume it with mixed precision again
        run_info["mixed_precision"] = True
    prepare_run_dir(run_dir, recipe, run_info)
    gan = build_gan(recipe, dataset.channels, seed, jit_compile, mixed_precision=mixed_precision, strategy=strategy,
                    run_eagerly=run_eagerly)
    first_epoch, history = resume_point(run_dir, gan)
    if first_epoch >= epochs:
        return RunResult(gan, first_epoch, history, "epochs")
    pipeline = make_pipeline(dataset.images, dataset.labels if recipe.num_classes else None,
                             batch_size=step_images, seed=seed, epochs=epochs, first_epoch=first_epoch)
    epochs_done, history, stopped_by = fit_resumable(
        gan, run_dir, pipeline, first_epoch=first_epoch, history=history, epochs=epochs,
        steps_per_epoch=len(dataset) // step_images, minutes=minutes, callbacks=callbacks, verbose=verbose)
    return RunResult(gan, epochs_done, history, stopped_by)


def resume_point(run_dir: pathlib.Path, model) -> tuple[int, list[dict]]:
    """Restore run_dir's checkpoint into `model`, if there is one: (finished epochs, their history)."""
    checkpoint_path = run_dir / checkpoints.CHECKPOINT
    first_epoch = checkpoints.restore_checkpoint(checkpoint_path, model) if checkpoint_path.exists() else 0
    history_path = run_dir / checkpoints.HISTORY
    history = checkpoints.read_json(history_path)[:first_epoch] if history_path.exists() else []
    return first_epoch, history


def fit_resumable(model, run_dir: pathlib.Path, pipeline, *, first_epoch: int, history: list[dict], epochs: int,
                  steps_per_epoch: int, minutes: float | None, callbacks=(), verbose: bool = True
                  ) -> tuple[int, list[dict], str]:
    """fit() from first_epoch to `epochs`, checkpointing every finished epoch, stopping at a non-finite loss or
    after `minutes`: (epochs finished in total, the history, why it stopped). Shared by GANs and translators."""
    stop_nan, saver = gan_callbacks.StopOnNonFinite(), gan_callbacks.Checkpoint(run_dir, history)
    budget = [gan_callbacks.TimeBudget(minutes)] if minutes is not None else []
    progress = [gan_callbacks.EpochLine()] if verbose and not gan_callbacks.progress_verbosity() else []
    model.fit(pipeline, epochs=epochs, initial_epoch=first_epoch, steps_per_epoch=steps_per_epoch,
              shuffle=False,  # the pipeline already shuffles, per epoch
              callbacks=[stop_nan, *budget, saver, *progress, *callbacks],
              verbose=gan_callbacks.progress_verbosity() if verbose else 0)
    epochs_done = saver.history[-1]["epoch"] if saver.history else first_epoch
    stopped_by = ("epochs" if epochs_done >= epochs else "non-finite loss" if stop_nan.message else
                  "minutes" if budget and budget[0].stopped_early else "a callback")
    return epochs_done, saver.history, stopped_by


def load_generator(run_dir) -> keras.Model:
    """The generator saved in run_dir (generator.keras: the EMA generator when the recipe has one), loaded in
    Keras' safe mode; or a shipped run directory's (showcase.load: float16 weights, sha256-checked)."""
    if showcase.is_showcase(run_dir):
        return showcase.load(run_dir)
    path = pathlib.Path(run_dir) / checkpoints.GENERATOR
    if not path.exists():
        raise ValueError(f"{path} does not exist: train into {run_dir} first (python -m gan_utils train ...).")
    return keras.saving.load_model(path, safe_mode=True)


def num_classes(generator: keras.Model) -> int:
    """The number of classes a conditional generator was built for, or 0 for an unconditional one."""
    return generator.get_layer("label_embedding").input_dim if len(generator.inputs) == 2 else 0


def sample(generator: keras.Model, num: int, *, seed: int = 0, batch_size: int = 256, labels=None) -> np.ndarray:
    """`num` images from `generator` for z ~ N(0, I) drawn from `seed`: float32 NHWC in [-1, 1].

    A conditional generator draws class `labels` (one int for all, or one per image); without labels it
    cycles through the classes (0, 1, ..., 0, 1, ...). The z for a seed is the same either way. A generator with
    noise inputs (stylegan2) draws its noise from `seed` too, so a seed repeats its images exactly. Generators
    with a linear output (stylegan2, r3gan) can step outside [-1, 1]; the images are clipped to it, which leaves
    a tanh generator's unchanged.
    """
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"num must be a positive integer; got {num!r}.")
    classes = num_classes(generator)
    if labels is not None and not classes:
        raise ValueError("labels were given, but this generator is unconditional; train with --conditional "
                         "(recipe num_classes > 0) to choose classes.")
    if classes:
        labels = np.arange(num) % classes if labels is None else np.broadcast_to(np.asarray(labels), (num,))
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= classes:
            raise ValueError(f"labels must be integers in [0, {classes}); got {np.unique(labels)[:10]!r}.")
        labels = labels.astype("int32").reshape(-1, 1)
    latent_dim = generator.input_shape[0][-1] if classes else generator.input_shape[-1]
    z = np.random.default_rng(seed).standard_normal((num, latent_dim)).astype("float32")
    if hasattr(generator, "seed_noise"):
        generator.seed_noise(seed)
    batches = [z[i:i + batch_size] if not classes else [z[i:i + batch_size], labels[i:i + batch_size]]
               for i in range(0, num, batch_size)]
    images = np.concatenate([np.asarray(generator(batch, training=False)) for batch in batches])
    return np.clip(images, -1.0, 1.0).astype("float32")
