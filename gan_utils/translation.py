"""Image-to-image translation: pix2pix (Isola et al. 2017) on paired images and CycleGAN (Zhu et al. 2017) on the
same images with the pairing thrown away, trained resumably like every run of the book.

pix2pix trains a U-Net G(x) against a PatchGAN that sees the input beside the image, with the conditional GAN loss
plus lambda times the L1 distance to the true target; the `l1` recipe drops the discriminator (the baseline that
measures what the adversarial term adds). CycleGAN trains G: X -> Y and F: Y -> X with least-squares GAN losses
against two unconditional PatchGANs, the cycle loss |F(G(x)) - x| + |G(F(y)) - y| and the identity loss, and its
discriminators see generated images drawn from a history of the last 50.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib

import keras
import numpy as np
import tensorflow as tf

from gan_utils import checkpoints, settings, train, translation_metrics, validation
from gan_utils.data import check_images, make_pipeline
from gan_utils.models.unet import NORMS, patchgan_discriminator, unet_generator
from gan_utils.pairs import PairedDataset

KINDS = ("pix2pix", "cyclegan")
HIDING_NOISE = 0.02  # standard deviation of the noise cycle_hiding adds to translations, in the [-1, 1] range


@dataclasses.dataclass(frozen=True)
class TranslationRecipe:
    """What a translation run trains: the kind, the networks' sizes, the optimiser and the loss weights.

    The defaults are pix2pix's (Adam 2e-4, beta_1 0.5, lambda = 100, dropout 0.5 in the decoder) at widths a
    2-core CPU trains in minutes (a quarter of the paper's 64, at a quarter of its 256x256 side; the benchmark
    prints the pairs per second); patch_downsamples=2 gives a 34x34 PatchGAN, the paper's 70x70 patch scaled to
    64x64 images (a 70-pixel patch would see the whole image).
    """

    name: str
    kind: str = "pix2pix"
    adversarial: bool = True  # False: the L1-only U-Net baseline, no discriminator
    width: int = 16  # the U-Net's first layer; doubled per level up to max_width
    max_width: int = 256
    d_width: int = 16  # the PatchGAN's first layer; at pix2pix's 64 the discriminator costs most of a step
    patch_downsamples: int = 2
    norm: str = "batch"
    dropout: float = 0.5
    batch_size: int = 16
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    l1_weight: float = 100.0  # pix2pix's lambda
    cycle_weight: float = 10.0  # CycleGAN's lambda
    identity_weight: float = 5.0  # CycleGAN's 0.5 lambda
    history: int = 50  # CycleGAN's buffer of generated images

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}.")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}; got {self.norm!r}.")
        for name in ("width", "max_width", "d_width", "batch_size"):
            validation.check_int(name, getattr(self, name), 1)
        validation.check_int("patch_downsamples", self.patch_downsamples, 1)
        validation.check_int("history", self.history, 0)
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}.")
        for name in ("learning_rate", "l1_weight", "cycle_weight", "identity_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)!r}.")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "TranslationRecipe":
        return cls(**json.loads(text))


RECIPES = {
    "pix2pix": TranslationRecipe("pix2pix"),
    "l1": TranslationRecipe("l1", adversarial=False),
    # instance norm as in CycleGAN; no dropout (its generators are deterministic); batch 8 for the four networks
    "cyclegan": TranslationRecipe("cyclegan", kind="cyclegan", norm="instance", dropout=0.0, batch_size=8),
}


def get_recipe(name: str) -> TranslationRecipe:
    """The translation recipe called `name`."""
    if name not in RECIPES:
        raise ValueError(f"{name!r} is not a translation recipe; use one of {', '.join(RECIPES)}.")
    return RECIPES[name]


def is_translation_recipe(text: str) -> bool:
    """Whether a stored recipe.json holds a translation recipe (it has a kind) rather than a GAN's."""
    return "kind" in json.loads(text)


class ImageHistory:
    """CycleGAN's image pool (Shrivastava et al. 2017): while it fills, generated images pass through and are kept;
    once full, each image is, with probability 1/2, swapped for a random stored one (which the discriminator sees
    instead). Its buffer and random state are variables, so a resumed run continues it."""

    def __init__(self, size: int, image_shape, seed: int):
        self.size = validation.check_int("size", size, 0)
        self.buffer = keras.Variable(np.zeros((max(size, 1), *image_shape), np.float32), trainable=False,
                                     name="history")
        self.count = keras.Variable(0, dtype="int32", trainable=False, name="history_count")
        self.seeds = keras.random.SeedGenerator(seed)

    @property
    def variables(self) -> list:
        return [self.buffer, self.count, self.seeds.state]

    def __call__(self, images):
        """The images the discriminator sees in place of `images` (a batch of static size)."""
        if self.size == 0:
            return images
        if images.shape[0] is None:
            raise ValueError("ImageHistory needs batches of a fixed size; build the pipeline with full batches.")
        chosen = []
        for i in range(images.shape[0]):
            count = self.count.value
            filling = count < self.size
            swap = keras.random.uniform((), seed=self.seeds) < 0.5
            slot = tf.where(filling, count, keras.random.randint((), 0, self.size, seed=self.seeds))
            stored = self.buffer.value[slot]
            self.buffer.assign(tf.tensor_scatter_nd_update(self.buffer.value, [[slot]], [
                tf.where(filling | swap, images[i], stored)]))
            self.count.assign(tf.minimum(count + 1, self.size))
            chosen.append(tf.where(~filling & swap, stored, images[i]))
        return tf.stack(chosen)


def _mean_abs(a, b):
    return keras.ops.mean(keras.ops.abs(a - b))


class _Translator(keras.Model):
    """What pix2pix and CycleGAN share: metric trackers, the reported losses and calling the forward generator."""

    metric_names: tuple[str, ...] = ()

    def _track(self):
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.built = True  # the networks are built; Keras must not trace call() on a batch

    def _report(self, results: dict):
        for name, value in results.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        return self.generator(images, training=training)


class Pix2Pix(_Translator):
    """G(x) trained on (x, y) pairs: non-saturating conditional GAN loss against D([x, image]) plus l1_weight times
    |y - G(x)|; D's loss is halved, as in the paper, to slow it against G. Without a discriminator it is the L1-only
    U-Net."""

    def __init__(self, generator, discriminator=None, *, l1_weight: float = 100.0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.l1_weight = generator, discriminator, float(l1_weight)
        self.metric_names = ("d_loss", "g_gan", "l1", "g_loss") if discriminator is not None else ("l1", "g_loss")
        self._track()

    def compile(self, g_opt, d_opt=None, **kwargs):
        """One Adam per network (none for D in the L1-only baseline); other keyword arguments go to Keras."""
        super().compile(**kwargs)
        self.g_opt, self.d_opt = g_opt, d_opt
        checkpoints.build_optimizers(self)

    def optimizer_pairs(self):
        pairs = [(self.g_opt, self.generator.trainable_variables)]
        if self.discriminator is not None:
            pairs.append((self.d_opt, self.discriminator.trainable_variables))
        return pairs

    def checkpoint_state(self) -> dict[str, list]:
        has_d = self.discriminator is not None
        return {"generator": self.generator.variables, "g_opt": self.g_opt.variables,
                "discriminator": self.discriminator.variables if has_d else [],
                "d_opt": self.d_opt.variables if has_d else []}

    @property
    def samplers(self) -> dict:
        return {checkpoints.GENERATOR: self.generator}

    def losses_for(self, source, target, training=True):
        """The losses of one batch: d_loss and g_gan (with a discriminator), l1 and the generator's total."""
        source, target = keras.ops.convert_to_tensor(source), keras.ops.convert_to_tensor(target)
        fake = self.generator(source, training=training)
        results = {"l1": _mean_abs(target, fake)}
        g_total = self.l1_weight * results["l1"]
        if self.discriminator is not None:
            real_logits = self.discriminator([source, target], training=training)
            fake_logits = self.discriminator([source, fake], training=training)
            # -log D(x, y) - log(1 - D(x, G(x))), halved; G minimises -log D(x, G(x))
            results["d_loss"] = 0.5 * (keras.ops.mean(keras.ops.softplus(-real_logits))
                                       + keras.ops.mean(keras.ops.softplus(fake_logits)))
            results["g_gan"] = keras.ops.mean(keras.ops.softplus(-fake_logits))
            g_total = g_total + results["g_gan"]
        results["g_loss"] = g_total
        return results

    def train_step(self, batch):
        source, target = batch
        with tf.GradientTape(persistent=True) as tape:
            results = self.losses_for(source, target)
        updates = [(self.g_opt, results["g_loss"], self.generator)]
        if self.discriminator is not None:
            updates.append((self.d_opt, results["d_loss"], self.discriminator))
        for optimizer, loss, network in updates:
            optimizer.apply_gradients(zip(tape.gradient(loss, network.trainable_variables),
                                          network.trainable_variables))
        del tape
        return self._report(results)


class CycleGAN(_Translator):
    """G: X -> Y and F: Y -> X trained on unpaired batches with least-squares GAN losses, cycle_weight times the
    cycle loss and identity_weight times the identity loss; each discriminator sees generated images from its
    ImageHistory. G is `generator` (what call() and generator.keras use), F is `reverse` (reverse.keras)."""

    metric_names = ("d_loss", "g_gan", "cycle", "identity", "g_loss")

    def __init__(self, generator, reverse, discriminator_y, discriminator_x, *, cycle_weight: float = 10.0,
                 identity_weight: float = 5.0, history: int = 50, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.reverse = generator, reverse
        self.discriminator_y, self.discriminator_x = discriminator_y, discriminator_x
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        self.history_y = ImageHistory(history, generator.output_shape[1:], seed)
        self.history_x = ImageHistory(history, reverse.output_shape[1:], seed + 1)
        self._track()

    def compile(self, g_opt, d_opt, **kwargs):
        """One Adam for both generators and one for both discriminators, as in the paper's code."""
        super().compile(**kwargs)
        self.g_opt, self.d_opt = g_opt, d_opt
        checkpoints.build_optimizers(self)

    def _generator_variables(self):
        return self.generator.trainable_variables + self.reverse.trainable_variables

    def _discriminator_variables(self):
        return self.discriminator_y.trainable_variables + self.discriminator_x.trainable_variables

    def optimizer_pairs(self):
        return [(self.g_opt, self._generator_variables()), (self.d_opt, self._discriminator_variables())]

    def checkpoint_state(self) -> dict[str, list]:
        return {"generator": self.generator.variables, "reverse": self.reverse.variables,
                "discriminator_y": self.discriminator_y.variables, "discriminator_x": self.discriminator_x.variables,
                "g_opt": self.g_opt.variables, "d_opt": self.d_opt.variables,
                "history": self.history_y.variables + self.history_x.variables}

    @property
    def samplers(self) -> dict:
        return {checkpoints.GENERATOR: self.generator, checkpoints.REVERSE_GENERATOR: self.reverse}

    def generator_losses(self, x, y, training=True):
        """The generators' losses on a batch x of X and y of Y, with the translations the discriminators judge."""
        fake_y, fake_x = self.generator(x, training=training), self.reverse(y, training=training)
        cycle = _mean_abs(self.reverse(fake_y, training=training), x) + _mean_abs(self.generator(fake_x,
                                                                                                 training=training), y)
        identity = _mean_abs(self.generator(y, training=training), y) + _mean_abs(self.reverse(x, training=training), x)
        g_gan = (keras.ops.mean(keras.ops.square(self.discriminator_y(fake_y, training=training) - 1.0))
                 + keras.ops.mean(keras.ops.square(self.discriminator_x(fake_x, training=training) - 1.0)))
        g_loss = g_gan + self.cycle_weight * cycle + self.identity_weight * identity
        return {"g_gan": g_gan, "cycle": cycle, "identity": identity, "g_loss": g_loss}, fake_y, fake_x

    def discriminator_loss(self, x, y, fake_y, fake_x, training=True):
        """Least squares, halved: (D(real) - 1)^2 + D(generated)^2, summed over the two discriminators."""
        def one(discriminator, real, fake):
            return 0.5 * (keras.ops.mean(keras.ops.square(discriminator(real, training=training) - 1.0))
                          + keras.ops.mean(keras.ops.square(discriminator(fake, training=training))))
        return one(self.discriminator_y, y, fake_y) + one(self.discriminator_x, x, fake_x)

    def train_step(self, batch):
        x, y = batch
        g_variables = self._generator_variables()
        with tf.GradientTape() as tape:
            results, fake_y, fake_x = self.generator_losses(x, y)
        self.g_opt.apply_gradients(zip(tape.gradient(results["g_loss"], g_variables), g_variables))
        pooled_y = self.history_y(tf.stop_gradient(fake_y))
        pooled_x = self.history_x(tf.stop_gradient(fake_x))
        d_variables = self._discriminator_variables()
        with tf.GradientTape() as tape:
            results["d_loss"] = self.discriminator_loss(x, y, pooled_y, pooled_x)
        self.d_opt.apply_gradients(zip(tape.gradient(results["d_loss"], d_variables), d_variables))
        return self._report(results)


def _adam(recipe: TranslationRecipe) -> keras.optimizers.Adam:
    return keras.optimizers.Adam(recipe.learning_rate, beta_1=recipe.beta_1)


def build(recipe: TranslationRecipe, channels: int, seed: int = 0, *, resolution: int = 64,
          run_eagerly: bool = False) -> _Translator:
    """A compiled Pix2Pix or CycleGAN for `recipe` on images of `channels` channels, seeded by `seed`."""
    settings.seed_everything(seed)
    unet = dict(resolution=resolution, channels_in=channels, width=recipe.width, max_width=recipe.max_width,
                norm=recipe.norm, dropout=recipe.dropout)
    patch = dict(resolution=resolution, width=recipe.d_width, downsamples=recipe.patch_downsamples, norm=recipe.norm)
    if recipe.kind == "pix2pix":
        discriminator = (patchgan_discriminator(channels_source=channels, channels_target=channels, **patch)
                         if recipe.adversarial else None)
        model = Pix2Pix(unet_generator(seed=seed, **unet), discriminator, l1_weight=recipe.l1_weight)
        model.compile(_adam(recipe), _adam(recipe) if recipe.adversarial else None, run_eagerly=run_eagerly)
        return model
    model = CycleGAN(unet_generator(seed=seed, **unet), unet_generator(seed=seed + 1, **unet),
                     patchgan_discriminator(channels_target=channels, conditional=False, **patch),
                     patchgan_discriminator(channels_target=channels, conditional=False, **patch),
                     cycle_weight=recipe.cycle_weight, identity_weight=recipe.identity_weight,
                     history=recipe.history, seed=seed)
    model.compile(_adam(recipe), _adam(recipe), run_eagerly=run_eagerly)
    return model


def pipeline(pairs: PairedDataset, recipe: TranslationRecipe, *, seed: int, epochs: int, first_epoch: int = 0):
    """Batches of (source, target) for pix2pix; for CycleGAN the two sides are shuffled apart (seeds seed and
    seed + 1), so a batch's sources and targets are not each other's pairs."""
    common = dict(batch_size=recipe.batch_size, epochs=epochs, first_epoch=first_epoch)
    if recipe.kind == "pix2pix":
        return make_pipeline(pairs.sources, pairs.targets, seed=seed, **common)
    return tf.data.Dataset.zip((make_pipeline(pairs.sources, seed=seed, **common),
                                make_pipeline(pairs.targets, seed=seed + 1, **common)))


def train_run(run_dir, pairs: PairedDataset, recipe: TranslationRecipe, *, epochs: int, seed: int = 0,
              minutes: float | None = None, run_eagerly: bool = False, callbacks=(),
              verbose: bool = True) -> train.RunResult:
    """Train `recipe` on the training pairs of `pairs` into run_dir for `epochs` epochs in total, resuming from its
    checkpoint; run.json lists the held-out ids under `heldout`. The result's `gan` is the translator."""
    validation.check_int("epochs", epochs, 1)
    training, held = pairs.split()
    if len(training) < recipe.batch_size:
        raise ValueError(f"{pairs.name} has {len(training)} training pairs, fewer than one batch of "
                         f"{recipe.batch_size}; use more pairs or a smaller batch_size.")
    run_dir = pathlib.Path(run_dir)
    run_info = {"dataset": pairs.name, "channels": int(pairs.sources.shape[-1]), "seed": seed,
                "heldout": sorted(held.ids.tolist())}
    train.prepare_run_dir(run_dir, recipe, run_info)
    model = build(recipe, pairs.sources.shape[-1], seed, resolution=pairs.sources.shape[1], run_eagerly=run_eagerly)
    first_epoch, history = train.resume_point(run_dir, model)
    if first_epoch >= epochs:
        return train.RunResult(model, first_epoch, history, "epochs")
    batches = pipeline(training, recipe, seed=seed, epochs=epochs, first_epoch=first_epoch)
    epochs_done, history, stopped_by = train.fit_resumable(
        model, run_dir, batches, first_epoch=first_epoch, history=history, epochs=epochs,
        steps_per_epoch=len(training) // recipe.batch_size, minutes=minutes, callbacks=callbacks, verbose=verbose)
    return train.RunResult(model, epochs_done, history, stopped_by)


def stored_recipe(run_dir) -> TranslationRecipe | None:
    """The translation recipe stored in run_dir; None when run_dir holds no run; ValueError for a GAN's run."""
    path = pathlib.Path(run_dir) / checkpoints.RECIPE
    if not path.exists():
        return None
    text = path.read_text()
    if not is_translation_recipe(text):
        raise ValueError(f"{run_dir} holds a GAN run (recipe {json.loads(text).get('name')!r}), not a translation "
                         "run; use a new run directory.")
    return TranslationRecipe.from_json(text)


def load_translator(run_dir, *, reverse: bool = False) -> keras.Model:
    """The trained generator of a translation run (reverse: CycleGAN's target-to-source one), in safe mode."""
    run_dir = pathlib.Path(run_dir)
    recipe = stored_recipe(run_dir)
    if recipe is None:
        raise ValueError(f"{run_dir} holds no translation run: train one with "
                         "python -m gan_utils train --dataset emoji_pairs --recipe pix2pix --out DIR.")
    if reverse and recipe.kind != "cyclegan":
        raise ValueError(f"{run_dir} is a {recipe.kind} run, which translates one way only; --reverse needs a "
                         "cyclegan run.")
    path = run_dir / (checkpoints.REVERSE_GENERATOR if reverse else checkpoints.GENERATOR)
    if not path.exists():
        raise ValueError(f"{path} does not exist yet: the run has not finished an epoch.")
    return keras.saving.load_model(path, safe_mode=True)


def translate(generator: keras.Model, images, *, batch_size: int = 64) -> np.ndarray:
    """generator(images) in batches, float32 in [-1, 1]. pix2pix's dropout stays on: a second call differs."""
    check_images(images)
    expected = tuple(generator.input_shape[1:])
    if images.shape[1:] != expected:
        raise ValueError(f"this generator translates images of shape {expected}; got {images.shape[1:]}.")
    outputs = [np.asarray(generator(images[i:i + batch_size], training=False))
               for i in range(0, len(images), batch_size)]
    return np.clip(np.concatenate(outputs), -1.0, 1.0).astype(np.float32)


def cycle_hiding(generator: keras.Model, reverse: keras.Model, sources, targets, *, noise_std: float = HIDING_NOISE,
                 seed: int = 0) -> dict:
    """What CycleGAN's cycle loss can hide (Chu et al. 2017): the mean L1 of the reconstruction F(G(x)) against x,
    clean and with Gaussian noise of `noise_std` added to G(x), beside the translation's own L1 against the true
    targets. A reconstruction far better than the translation that the noise destroys was carried by a signal
    hidden in G(x), not by what G(x) shows."""
    translated = translate(generator, sources)
    noise = np.random.default_rng(seed).normal(0.0, noise_std, translated.shape).astype(np.float32)
    noisy = np.clip(translated + noise, -1.0, 1.0)
    return {"translation_l1": float(translation_metrics.l1(translated, targets).mean()),
            "reconstruction_l1": float(translation_metrics.l1(translate(reverse, translated), sources).mean()),
            "reconstruction_l1_noisy": float(translation_metrics.l1(translate(reverse, noisy), sources).mean()),
            "noise_l1": float(np.abs(noisy - translated).mean()), "noise_std": float(noise_std)}
