"""The MLP generator and discriminator of chapter 1."""
import numpy as np
import pytest

from gan_utils import models


def test_mlp_generator_maps_latent_noise_to_points():
    generator = models.mlp_generator(latent_dim=16, output_dim=2, width=8, depth=2)
    assert generator(np.zeros((5, 16), "float32")).shape == (5, 2)
    assert len([l for l in generator.layers if hasattr(l, "units")]) == 3


def test_mlp_discriminator_returns_one_logit_per_point():
    discriminator = models.mlp_discriminator(input_dim=2, width=8, depth=1)
    logits = discriminator(np.ones((4, 2), "float32")).numpy()
    assert logits.shape == (4, 1)
    assert discriminator.layers[-1].activation.__name__ == "linear"  # logits, not probabilities


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"width": 2.5}, {"depth": -1}, {"output_dim": True}])
def test_builders_reject_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer"):
        models.mlp_generator(**kwargs)
