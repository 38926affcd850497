"""Named, complete training configurations: architecture, losses, optimisers and batch size.

A recipe says *what* is trained; a profile (gan_utils.settings) says *how much*.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import warnings
from collections.abc import Callable

import keras

from gan_utils import ada
from gan_utils import augment as augmentation
from gan_utils import distribute, ema, losses, models, schedules

MIXED_POLICY = "mixed_float16"  # GPUs; a TPU would use "mixed_bfloat16", which needs no loss scaling
EMA_HALF_LIFE = ema.half_life_images(0.999, 64)  # part one's EMA, 0.999 per update at batch 64: ~44,340 images


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that defines a GAN run except its budget; stored as recipe.json in a run directory.

    The fields after batch_size up to n_critic are the quality techniques of chapter 6; their defaults switch
    them off. resolution and architecture say what size of image and which family of networks it builds.
    """

    name: str
    description: str
    latent_dim: int
    generator: dict  # keyword arguments of the architecture's generator builder, without latent_dim and channels
    discriminator: dict  # keyword arguments of the architecture's discriminator builder, without channels
    g_loss: str
    g_learning_rate: float
    d_learning_rate: float
    beta_1: float
    beta_2: float
    batch_size: int
    d_loss: str = "minimax"  # a name from losses.DISCRIMINATOR_LOSSES
    gradient_penalty: float = 0.0  # lambda of the WGAN-GP penalty on real/fake interpolates (0: off)
    r1_gamma: float = 0.0  # gamma of the R1 penalty on real images, added as gamma / 2 * R1 (0: off)
    ema_half_life_images: float = 0.0  # the generator's moving average's half-life in images (0: no EMA generator)
    ema_ramp: float = 0.0  # > 0: the half-life is at most this share of the images seen (0: part one's warm-up)
    augment: tuple = ()  # DiffAugment policy, names from augment.POLICIES, applied to real and fake images
    num_classes: int = 0  # > 0: a class-conditional generator and projection discriminator (chapter 7)
    n_critic: int = 1  # discriminator steps per generator step, each on its own real batch (WGAN-GP uses 5)
    resolution: int = 32  # the image side the recipe was tuned for; at_resolution() adapts it to another
    architecture: str = "dcgan"  # the network family, a key of models.ARCHITECTURES
    # Chapter 8's techniques, off by default.
    r2_gamma: float = 0.0  # gamma of the R2 penalty on generated images, added as gamma / 2 * R2 (R3GAN)
    r1_interval: int = 1  # lazy regularisation: R1 and R2 on every k-th discriminator step, weighted by k
    ada_target: float = 0.0  # adaptive augmentation steering E[sign D(x)] towards this (0.6 in ADA; 0: off)
    ada_speed_images: int = ada.SPEED_IMAGES  # images over which ADA's p can move from 0 to 1
    path_length: float = 0.0  # weight of StyleGAN2's path-length regulariser (2 in the paper; 0: off)
    horizon_images: int = 0  # > 0: learning rates and gammas fall along a half cosine over this many images
    lr_final_ratio: float = 1.0  # ... the learning rates' end over their start
    gamma_final_ratio: float = 1.0  # ... the gammas' end over their start
    reconstruction: float = 0.0  # weight of a self-supervised discriminator's reconstruction loss (FastGAN; 0: off)

    def __post_init__(self):
        self._check_architecture()
        losses.generator_loss(self.g_loss)  # raises on an unknown name
        losses.discriminator_loss_fn(self.d_loss)
        augmentation.check_policy(self.augment)
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise ValueError(f"recipe {self.name!r}: num_classes must be 0 (unconditional) or the number of "
                             f"classes; got {self.num_classes!r}.")
        for field in ("latent_dim", "batch_size", "n_critic", "r1_interval", "ada_speed_images"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"recipe {self.name!r}: {field} must be a positive integer; got {value!r}.")
        for field in ("g_learning_rate", "d_learning_rate"):
            if not getattr(self, field) > 0:
                raise ValueError(f"recipe {self.name!r}: {field} must be positive; got {getattr(self, field)!r}.")
        for field in ("gradient_penalty", "r1_gamma", "r2_gamma", "path_length", "horizon_images", "reconstruction"):
            if not getattr(self, field) >= 0:
                raise ValueError(f"recipe {self.name!r}: {field} must be 0 (off) or positive; "
                                 f"got {getattr(self, field)!r}.")
        for field in ("lr_final_ratio", "gamma_final_ratio"):
            if not 0 < getattr(self, field) <= 1:
                raise ValueError(f"recipe {self.name!r}: {field} must be in (0, 1] (1: no decay); "
                                 f"got {getattr(self, field)!r}.")
        if not 0 <= self.ada_target < 1:
            raise ValueError(f"recipe {self.name!r}: ada_target must be in [0, 1), 0 for no adaptive augmentation "
                             f"(ADA uses 0.6); got {self.ada_target!r}.")
        if self.ada_target and self.augment:
            raise ValueError(f"recipe {self.name!r}: choose one augmentation, a DiffAugment policy (augment) or "
                             f"adaptive augmentation (ada_target), not both.")
        coupled = self.discriminator.get("minibatch_std") or self.discriminator.get("norm") == "batch"
        if coupled and (self.gradient_penalty or self.r1_gamma or self.r2_gamma):
            raise ValueError(f"recipe {self.name!r}: R1 and gradient penalties need per-sample input gradients, "
                             f"but its discriminator couples the samples of a batch (minibatch std or batch "
                             f"norm). Switch those off in the discriminator, or drop the penalty.")
        if self.resolution not in models.RESOLUTIONS or isinstance(self.resolution, bool):
            raise ValueError(f"recipe {self.name!r}: resolution must be one of "
                             f"{', '.join(map(str, models.RESOLUTIONS))}; got {self.resolution!r}.")
        for field in ("ema_half_life_images", "ema_ramp"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"recipe {self.name!r}: {field} must be 0 (off) or a positive number (part one's "
                                 f"EMA has a half-life of {EMA_HALF_LIFE:,.0f} images); got {value!r}.")

    def _check_architecture(self) -> None:
        """The family exists and its builders take every argument the recipe gives them."""
        if not isinstance(self.architecture, str) or self.architecture not in models.ARCHITECTURES:
            raise ValueError(f"recipe {self.name!r}: architecture must be one of {', '.join(models.ARCHITECTURES)}; "
                             f"got {self.architecture!r}.")
        family = models.ARCHITECTURES[self.architecture]
        for part, builder in (("generator", family.generator), ("discriminator", family.discriminator)):
            takes = [p for p in inspect.signature(builder).parameters
                     if p not in ("latent_dim", "channels", "name", *models.COMMON_ARGUMENTS)]
            unknown = [key for key in getattr(self, part) if key not in takes]
            if unknown:
                raise ValueError(f"recipe {self.name!r}: the {self.architecture} {part} takes no argument "
                                 f"{', '.join(map(repr, unknown))}; it takes {', '.join(takes)}.")

    def _adapted(self, resolution: int) -> tuple["Recipe", str | None]:
        """(this recipe at `resolution`, the sentence at_resolution warns with, or None when nothing changed)."""
        if resolution not in models.RESOLUTIONS or isinstance(resolution, bool):
            raise ValueError(f"resolution must be one of {', '.join(map(str, models.RESOLUTIONS))}; got {resolution!r}.")
        if resolution == self.resolution:
            return self, None
        adapt = models.ARCHITECTURES[self.architecture].at_resolution
        if adapt is None:
            raise ValueError(f"recipe {self.name!r}: its {self.architecture} networks are built for "
                             f"{self.resolution}x{self.resolution} images only and cannot adapt to "
                             f"{resolution}x{resolution}; choose a recipe made for that size.")
        try:
            generator, discriminator = adapt(self.generator, self.discriminator,
                                             resolution.bit_length() - self.resolution.bit_length())
        except ValueError as error:
            raise ValueError(f"recipe {self.name!r} cannot shrink to {resolution}x{resolution}: {error}") from None

        def widths(part: dict) -> tuple[str, tuple]:  # dcgan, keras_io and stylegan2's generator: filters
            return ("blocks", part["filters"]) if "filters" in part else ("stage widths", part["widths"])  # r3gan

        (g_what, g_widths), (d_what, d_widths) = widths(generator), widths(discriminator)
        d_named = f"{d_widths}" if d_what == g_what else f"{d_what} {d_widths}"
        note = (f"recipe {self.name!r} was tuned for {self.resolution}x{self.resolution} images; at "
                f"{resolution}x{resolution} its generator's {g_what} are {g_widths} and its discriminator's "
                f"{d_named}, untuned.")
        return dataclasses.replace(self, resolution=resolution, generator=generator, discriminator=discriminator), note

    def at_resolution(self, resolution: int) -> "Recipe":
        """This recipe for `resolution`-pixel images, adapted by its architecture's rule (for dcgan and keras_io,
        models.add_or_drop_blocks: per doubling of its own resolution one more stride-2 up-block at the
        generator's end and one more down-block at the discriminator's start, each with half the width of its
        neighbour; per halving one block fewer on each side; for r3gan, models.add_or_drop_stages, the same per
        stage). Says so in a UserWarning; a family that cannot adapt raises ValueError."""
        recipe, note = self._adapted(resolution)
        if note:
            warnings.warn(note, UserWarning, stacklevel=2)
        return recipe

    def build_models(self, channels: int, *, mixed_precision: bool = False) -> tuple[keras.Model, keras.Model]:
        """A fresh (generator, discriminator) pair of the recipe's architecture for images with `channels`
        channels at the recipe's resolution; mixed_precision builds them with the mixed_float16 policy (float16
        maths, float32 weights and outputs)."""
        family = models.ARCHITECTURES[self.architecture]
        with models.dtype_policy(MIXED_POLICY if mixed_precision else "float32"):
            generator = family.generator(self.latent_dim, channels, **self._common(), **self.generator)
            discriminator = family.discriminator(channels, **self._common(), **self.discriminator)
        return generator, discriminator

    def build_generator(self, channels: int) -> keras.Model:
        """A fresh float32 generator of the recipe's architecture, alone (to load stored weights into)."""
        return models.ARCHITECTURES[self.architecture].generator(self.latent_dim, channels, **self._common(),
                                                                 **self.generator)

    def _common(self) -> dict:
        """The builders' shared arguments; batch statistics over the global batch when distributed."""
        return {"num_classes": self.num_classes, "sync_batch_norm": distribute.num_replicas() > 1,
                "resolution": self.resolution}

    def learning_rate(self, start: float, images_per_step: int):
        """`start`, or with a horizon the half cosine from it to lr_final_ratio * start in images seen."""
        if not self.horizon_images:
            return start
        return schedules.ImagesCosine(start, start * self.lr_final_ratio, self.horizon_images, images_per_step)

    def build_optimizers(self, *, mixed_precision: bool = False) -> tuple[keras.optimizers.Optimizer, ...]:
        """Two Adam optimisers (g_opt, d_opt): each network keeps its own moment estimates; with a horizon their
        rates follow learning_rate's schedule. With mixed_precision each is wrapped in its own
        LossScaleOptimizer, so float16 gradients do not underflow."""
        g_rate = self.learning_rate(self.g_learning_rate, self.batch_size * self.n_critic)
        g_opt = keras.optimizers.Adam(g_rate, beta_1=self.beta_1, beta_2=self.beta_2)
        d_opt = keras.optimizers.Adam(self.learning_rate(self.d_learning_rate, self.batch_size), beta_1=self.beta_1,
                                      beta_2=self.beta_2)
        if mixed_precision:
            return keras.optimizers.LossScaleOptimizer(g_opt), keras.optimizers.LossScaleOptimizer(d_opt)
        return g_opt, d_opt

    def to_json(self) -> str:
        """The recipe as JSON text (lists for tuples), as written to recipe.json."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        """The recipe stored by to_json; list-valued model arguments become tuples again. An older recipe's
        per-update ema_decay becomes the half-life in images it had at its batch size."""
        fields = json.loads(text)
        if "ema_decay" in fields:
            decay = fields.pop("ema_decay")
            fields["ema_half_life_images"] = ema.half_life_images(decay, fields["batch_size"]) if decay else 0.0
        fields["augment"] = tuple(fields.get("augment", ()))
        for part in ("generator", "discriminator"):
            fields[part] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields[part].items()}
        return cls(**fields)


RECIPES: dict[str, Recipe] = {
    "classic": Recipe(
        name="classic",
        description="TensorFlow's DCGAN tutorial at 32x32: dense to 8x8x256, 5x5 transposed convolutions, "
        "batch norm, LeakyReLU, a dropout discriminator, Adam 1e-4, batch 256. For the benchmarks.",
        latent_dim=100,
        generator={"dense_filters": 256, "filters": (128, 64), "strides": (1, 2), "kernel_size": 5,
                   "norm": "batch", "activation": "leaky_relu", "upsample": "transpose"},
        discriminator={"filters": (64, 128), "kernel_size": 5, "norm": "none", "activation": "leaky_relu",
                       "dropout": 0.3},
        g_loss="non_saturating",
        g_learning_rate=1e-4,
        d_learning_rate=1e-4,
        beta_1=0.9,
        beta_2=0.999,
        batch_size=256,
    ),
    "dcgan": Recipe(
        name="dcgan",
        description="A plain DCGAN (Radford et al.) for 32x32 images, sized for a 2-core CPU: "
        "4x4x256 -> 32x32 with 4x4 transposed convolutions and batch norm, a 3-layer LeakyReLU "
        "discriminator, Adam 2e-4 with beta_1 0.5, batch 64. No quality tricks.",
        latent_dim=100,
        generator={"dense_filters": 256, "filters": (128, 64), "strides": (2, 2), "kernel_size": 4,
                   "norm": "batch", "activation": "relu", "upsample": "transpose"},
        discriminator={"filters": (64, 128, 256), "kernel_size": 4, "norm": "none", "activation": "leaky_relu",
                       "dropout": 0.0},
        g_loss="non_saturating",
        g_learning_rate=2e-4,
        d_learning_rate=2e-4,
        beta_1=0.5,
        beta_2=0.999,
        batch_size=64,
    ),
}


AUGMENT_POLICY = ("translation", "cutout")  # on grey digits, colour jitter measured worse (chapter 6)

RECIPES["best"] = dataclasses.replace(
    RECIPES["dcgan"],
    name="best",
    description="Chapter 6's combination for small datasets: the dcgan networks and losses plus "
    "differentiable augmentation (translation and cutout) of real and generated images, two time-scale "
    "learning rates (D 4e-4, G 2e-4, a constant ratio) and an EMA generator (0.999 per update at batch 64, a "
    "half-life of about 44,340 images) for sampling; no spectral normalisation, minibatch std or hinge loss. "
    "Chosen with benchmarks/choose_best.py (20 epochs, seeds 100-104) and benchmarks/time_to_quality.py (ten "
    "minutes, seeds 0-2: the longer budget decides where the two disagree); chapter 6 re-measures it on seeds 0-4.",
    d_learning_rate=4e-4,
    ema_half_life_images=EMA_HALF_LIFE,
    augment=AUGMENT_POLICY,
)

RECIPES["classic64"] = Recipe(
    name="classic64",
    description="keras-io's DCGAN to generate face images (fchollet), for 64x64 CelebA, as published; for the "
    "benchmarks only. Dense to 8x8x128, three stride-2 4x4 transposed convolutions (128, 256, 512) with "
    "LeakyReLU and no batch norm, a 5x5 sigmoid output; a three-block LeakyReLU discriminator; noisy labels "
    "(+0.05 U(0, 1)), the non-saturating generator loss, Adam 1e-4 with Keras' default betas, batch 32. "
    "Expressed in the book's conventions: images in [-1, 1] (fixed rescalings to keras-io's [0, 1] at the "
    "generator's end and the discriminator's start) and a discriminator logit for 'real', where keras-io's "
    "sigmoid gives the probability of 'fake' (p_fake = sigmoid(-logit)); the losses are binary cross-entropy "
    "from logits, as Keras computes them for a sigmoid output. Its dropout rate is 0: keras-io's train_step "
    "calls the discriminator without training=True, so its Dropout(0.2) never acts.",
    latent_dim=128,
    generator={"dense_filters": 128, "filters": (128, 256, 512), "kernel_size": 4, "output_kernel_size": 5},
    discriminator={"filters": (64, 128, 128), "kernel_size": 4, "dropout": 0.0},
    g_loss="non_saturating",
    d_loss="keras_io_noisy",
    g_learning_rate=1e-4,
    d_learning_rate=1e-4,
    beta_1=0.9,
    beta_2=0.999,
    batch_size=32,
    resolution=64,
    architecture="keras_io",
)


def _at_64(name: str) -> Recipe:
    """RECIPES[name] at 64x64 as at_resolution makes it, named `name` + "64", without the warning."""
    recipe, _ = RECIPES[name]._adapted(64)
    return dataclasses.replace(
        recipe, name=f"{name}64",
        description=f"{name} at 64x64, untuned, as at_resolution(64) adapts it: generator blocks "
        f"{recipe.generator['filters']}, discriminator blocks {recipe.discriminator['filters']}; everything else "
        f"as in {name}. For the 64x64 benchmarks beside classic64.")


RECIPES["dcgan64"] = _at_64("dcgan")
RECIPES["best64"] = _at_64("best")

# Chapter 8's modern recipes at 64x64, sized for a 2-core CPU; ADA for emoji's 1,596 training images.
HORIZON_IMAGES = 500_000  # about what 90 minutes of training give on 2 cores at 64x64: the schedules' end
# StyleGAN2-ADA's EMA (ema_kimg = 10 * batch / 32, ema_rampup 0.05) at batch 64: a half-life of 20,000 images, at
# most 5% of the images seen, so a short run's average never reaches back to its blurry start.
MODERN_EMA_HALF_LIFE, MODERN_EMA_RAMP = 20_000, 0.05

RECIPES["r3gan"] = Recipe(
    name="r3gan",
    description="R3GAN (Huang et al. 2024) at 64x64, written from the paper and sized for a 2-core CPU: the "
    "relativistic pairing loss with R1 and R2 (gamma 2, falling to 0.2), normalisation-free residual networks "
    "of inverted bottlenecks with grouped convolutions (widths 128 to 8, one block per stage, the official "
    "FFHQ-64 preset is 768 wide with two), Adam with beta_1 0 and beta_2 0.99, learning rate 5e-4 falling to "
    "1.25e-4, both along a half cosine over 500k images seen, an EMA generator and adaptive augmentation (ADA, "
    "target 0.6). Batch 64. Two changes for a CPU: R1 and R2 are lazy, every 4th step with 4 times the weight "
    "(StyleGAN2's lazy regularisation), which trains about 3 times more images a minute here; and the learning "
    "rate starts at 5e-4 rather than the paper's 2e-4: in 5-minute runs on a validation seed (100) it ended at "
    "FID 3,894 after 32k images, the paper's rate at 6,786 after 26k.",
    latent_dim=64,
    generator={},
    discriminator={},
    g_loss="relativistic",
    d_loss="relativistic",
    g_learning_rate=5e-4,
    d_learning_rate=5e-4,
    beta_1=0.0,
    beta_2=0.99,
    batch_size=64,
    r1_gamma=2.0,
    r2_gamma=2.0,
    r1_interval=4,
    ema_half_life_images=MODERN_EMA_HALF_LIFE,
    ema_ramp=MODERN_EMA_RAMP,
    ada_target=0.6,
    horizon_images=HORIZON_IMAGES,
    lr_final_ratio=0.25,
    gamma_final_ratio=0.1,
    resolution=64,
    architecture="r3gan",
)

RECIPES["stylegan2"] = Recipe(
    name="stylegan2",
    description="A StyleGAN2 generator (Karras et al. 2020) at 64x64 sized for a 2-core CPU (z and w of 128, 2 "
    "mapping layers, synthesis widths 128 to 16, noise inputs, skip outputs, style mixing 0.9) against R3GAN's "
    "discriminator, with StyleGAN2-ADA's small-data settings for the rest: the logistic (minimax) loss, lazy R1 "
    "every 16 steps, Adam with betas (0, 0.99), the generator at 2.5e-3 (its layers have equalised learning "
    "rates), an EMA generator and ADA (target 0.6). Two settings follow the discriminator, which is R3GAN's: its "
    "learning rate is the r3gan recipe's, 5e-4 (R3GAN's layers are not equalised, so StyleGAN2's 2.5e-3 would "
    "move them several times faster), and R1's gamma is 1, of the order R3GAN uses for it (2) rather than "
    "StyleGAN2-ADA's 0.0128 for its own discriminator; in 5-minute runs on a validation seed (100) gamma 1 "
    "scored better than 0.1 and 0.0128. Path-length regularisation is off (path_length=2 switches it on). "
    "Batch 64.",
    latent_dim=128,
    generator={"w_dim": 128, "mapping_layers": 2, "filters": (128, 128, 64, 32, 16)},
    discriminator={},
    g_loss="non_saturating",
    d_loss="minimax",
    g_learning_rate=2.5e-3,
    d_learning_rate=5e-4,
    beta_1=0.0,
    beta_2=0.99,
    batch_size=64,
    r1_gamma=1.0,
    r1_interval=16,
    ema_half_life_images=MODERN_EMA_HALF_LIFE,
    ema_ramp=MODERN_EMA_RAMP,
    ada_target=0.6,
    resolution=64,
    architecture="stylegan2",
)

RECIPES["fastgan"] = Recipe(
    name="fastgan",
    description="FastGAN (Liu et al. 2021), made for few images and little compute, at 64x64 sized for a 2-core "
    "CPU: a generator of nearest-neighbour up-blocks with GLU and batch norm (widths 128 at 4x4 to 8 at 64x64) "
    "whose skip-layer excitation gates the 32- and 64-pixel features by the 4- and 8-pixel ones; a spectrally "
    "normalised discriminator that judges the whole image and the image halved (5x5 patch logits each) and, on "
    "real images, reconstructs the image halved and one quarter of it from its own 8x8 features (the "
    "self-supervised loss, weight 1); hinge losses, Adam 2e-4 with betas (0.5, 0.999), DiffAugment and an EMA "
    "generator. Batch 32. Departures from the paper: no noise injection in the generator; no spectral "
    "normalisation in the generator (batch norm follows each of its convolutions); the reconstruction is scored "
    "by the mean absolute pixel error, where the paper uses a pretrained VGG's perceptual distance (not "
    "available offline), and drawn at 32x32 by two up-blocks; the hinge's real margin is 1, where the paper "
    "draws it from U(0.8, 1); DiffAugment's translation and cutout, chapter 6's measured policy, where the "
    "paper uses colour and translation (colour jitter moves skin tones); z of 128 rather than 256; the EMA is "
    "StyleGAN2-ADA's (a half-life of 20,000 images, at most 5% of those seen), where the paper averages with "
    "0.999 per step of 8 images (a half-life of 5,500).",
    latent_dim=128,
    generator={},
    discriminator={},
    g_loss="hinge",
    d_loss="hinge",
    g_learning_rate=2e-4,
    d_learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    batch_size=32,
    ema_half_life_images=MODERN_EMA_HALF_LIFE,
    ema_ramp=MODERN_EMA_RAMP,
    augment=AUGMENT_POLICY,
    reconstruction=1.0,
    resolution=64,
    architecture="fastgan",
)

# Starting points for the gpu profile's larger datasets. Neither was tuned or measured here (no GPU was
# available): they combine settings from the literature with techniques chapter 6 measured on digits.
RECIPES["cifar10"] = dataclasses.replace(
    RECIPES["dcgan"],
    name="cifar10",
    description="A starting point for CIFAR-10 on a GPU, not tuned here: SN-GAN's choices (Miyato et al. 2018), "
    "spectral normalisation in the discriminator, hinge loss, z of 128 and Adam 2e-4 (0.5, 0.999), on the dcgan "
    "networks made twice as wide, plus an EMA generator. Natural colour images need more capacity and a "
    "steadier discriminator than digits.",
    latent_dim=128,
    generator={**RECIPES["dcgan"].generator, "dense_filters": 512, "filters": (256, 128)},
    discriminator={**RECIPES["dcgan"].discriminator, "filters": (128, 256, 512), "spectral_norm": True},
    g_loss="hinge",
    d_loss="hinge",
    ema_half_life_images=EMA_HALF_LIFE,
)

RECIPES["fashion_mnist"] = dataclasses.replace(
    RECIPES["best"],
    name="fashion_mnist",
    description="A starting point for Fashion-MNIST on a GPU, not tuned here: best without augmentation (the "
    "dcgan networks, two time-scale learning rates and an EMA generator). Its 60,000 images give the "
    "discriminator far less to memorise than the small folders where augmentation pays.",
    augment=(),
)

SMALL_DATASETS = ("digits", "folder")  # fixed, small collections, whose discriminators overfit: best is their default
# (shapes is not among them: any number can be drawn, so augmentation has nothing to prevent, chapter 7)
# Datasets with a recipe of their own. Part two's are 64x64: emoji's 1,596 training images are a small fixed
# collection like digits (best64; benchmarks/time_to_quality.py --dataset emoji measures it); cjk's 12,016 glyphs
# get the plain dcgan64, untuned.
DATASET_RECIPES = {"cifar10": "cifar10", "fashion_mnist": "fashion_mnist", "emoji": "best64", "cjk": "dcgan64"}

@dataclasses.dataclass(frozen=True)
class Technique:
    """One quality technique: whether a recipe uses it, and the recipe with it switched on or off."""

    name: str
    used_by: Callable[[Recipe], bool]
    switch_on: Callable[[Recipe], Recipe]
    switch_off: Callable[[Recipe], Recipe]


def _discriminator_flag(flag: str) -> tuple:
    return (lambda r: bool(r.discriminator.get(flag, False)),
            lambda r: dataclasses.replace(r, discriminator={**r.discriminator, flag: True}),
            lambda r: dataclasses.replace(r, discriminator={**r.discriminator, flag: False}))


TECHNIQUES = {t.name: t for t in [
    Technique("spectral norm", *_discriminator_flag("spectral_norm")),
    Technique("minibatch std", *_discriminator_flag("minibatch_std")),
    Technique("hinge loss", lambda r: r.d_loss == "hinge",
              lambda r: dataclasses.replace(r, d_loss="hinge", g_loss="hinge"),
              lambda r: dataclasses.replace(r, d_loss="minimax", g_loss="non_saturating")),
    Technique("two time-scales", lambda r: r.d_learning_rate != r.g_learning_rate,
              lambda r: dataclasses.replace(r, d_learning_rate=2 * r.g_learning_rate),
              lambda r: dataclasses.replace(r, d_learning_rate=r.g_learning_rate)),
    Technique("EMA generator", lambda r: r.ema_half_life_images > 0,
              lambda r: dataclasses.replace(r, ema_half_life_images=EMA_HALF_LIFE),
              lambda r: dataclasses.replace(r, ema_half_life_images=0.0)),
    Technique("augmentation", lambda r: bool(r.augment),
              lambda r: dataclasses.replace(r, augment=AUGMENT_POLICY),
              lambda r: dataclasses.replace(r, augment=())),
]}


def _technique(name: str) -> Technique:
    if name not in TECHNIQUES:
        raise ValueError(f"Unknown technique {name!r}; choose one of {', '.join(TECHNIQUES)}.")
    return TECHNIQUES[name]


def leave_out(recipe: Recipe, technique: str) -> Recipe:
    """`recipe` without `technique` (a key of TECHNIQUES), named "<recipe> - <technique>"."""
    t = _technique(technique)
    if not t.used_by(recipe):
        raise ValueError(f"recipe {recipe.name!r} does not use {technique}; use add() to try it.")
    return dataclasses.replace(t.switch_off(recipe), name=f"{recipe.name} - {technique}")


def add(recipe: Recipe, technique: str) -> Recipe:
    """`recipe` with `technique` (a key of TECHNIQUES) switched on, named "<recipe> + <technique>"."""
    t = _technique(technique)
    if t.used_by(recipe):
        raise ValueError(f"recipe {recipe.name!r} already uses {technique}; use leave_out() to remove it.")
    return dataclasses.replace(t.switch_on(recipe), name=f"{recipe.name} + {technique}")


def one_change_variants(recipe: Recipe) -> dict[str, Recipe]:
    """Every recipe that differs from `recipe` in one technique: each technique it uses left out, and each
    one it does not use added. The controlled comparison of chapter 6."""
    variants = [leave_out(recipe, n) if t.used_by(recipe) else add(recipe, n) for n, t in TECHNIQUES.items()]
    return {variant.name: variant for variant in variants}


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`: a key of RECIPES, or a one-change variant named as leave_out() and add() name
    them ("best - augmentation", "dcgan + spectral norm"), so a benchmark or the command line can run it."""
    if name in RECIPES:
        return RECIPES[name]
    for sign, change in ((" - ", leave_out), (" + ", add)):
        base, found, technique = name.partition(sign)
        if found and base in RECIPES:
            return change(RECIPES[base], technique)
    raise ValueError(f"Unknown recipe {name!r}; choose one of {', '.join(RECIPES)}, or a variant of one such as "
                     f"'best - augmentation' or 'dcgan + spectral norm' (techniques: {', '.join(TECHNIQUES)}).")


def scale_batch(recipe: Recipe, factor: int) -> Recipe:
    """`recipe` with its batch size multiplied by `factor` (the gpu profile's batch_scale), learning rates
    unchanged: Adam's step size does not grow with the batch, and GAN training is sensitive to the rates."""
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be a positive integer (1 keeps the recipe's batch); got {factor!r}.")
    return recipe if factor == 1 else dataclasses.replace(recipe, batch_size=recipe.batch_size * factor)


def default_recipe(dataset: str) -> Recipe:
    """The recipe the command line and the later chapters use for `dataset` when none is named: the
    dataset's own recipe for `cifar10`, `fashion_mnist`, `emoji` and `cjk` (DATASET_RECIPES), `best` for the
    small datasets, whose discriminators overfit without augmentation, else `dcgan`."""
    from gan_utils.data import IMAGE_DATASETS

    if dataset not in IMAGE_DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}; choose one of {', '.join(IMAGE_DATASETS)}.")
    if dataset in DATASET_RECIPES:
        return RECIPES[DATASET_RECIPES[dataset]]
    return RECIPES["best" if dataset in SMALL_DATASETS else "dcgan"]
