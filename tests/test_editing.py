"""Directions in W from labels: a direction planted in synthetic latents is recovered, edits move the chosen
layers only, and the labelling path (generator, extractor head, merged values) finds the planted direction."""
import numpy as np
import pytest

from gan_utils import editing

W_DIM = 6
TRUE = np.array([0.6, -0.8, 0, 0, 0, 0], "float32")  # unit vector


def test_a_direction_planted_in_separable_latents_is_recovered():
    w = np.random.default_rng(0).standard_normal((400, W_DIM))
    vector, accuracy = editing.fit_direction(w, w @ TRUE > 0)
    assert float(vector @ TRUE) > 0.97 and np.linalg.norm(vector) == pytest.approx(1, abs=1e-6)
    assert accuracy > 0.95
    flipped, _ = editing.fit_direction(w, w @ TRUE < 0)
    assert float(flipped @ TRUE) < -0.97  # the normal points to the positive group


def test_an_edit_moves_the_chosen_layers_by_amount_times_the_direction():
    latents = np.random.default_rng(1).standard_normal((3, 4, W_DIM)).astype("float32")
    moved = editing.edit(latents, TRUE, 2.0, layers=range(1, 3))
    np.testing.assert_allclose(moved[:, 1:3], latents[:, 1:3] + 2.0 * TRUE, atol=1e-6)
    np.testing.assert_array_equal(moved[:, [0, 3]], latents[:, [0, 3]])
    whole = editing.edit(latents, editing.Direction("x", TRUE, 1.0, (1, 1)), -1.0)
    np.testing.assert_allclose(whole, latents - TRUE, atol=1e-6)
    listed = editing.edit(latents, TRUE, 1.0, layers=[0, 3])
    np.testing.assert_allclose(listed[:, [0, 3]], latents[:, [0, 3]] + TRUE, atol=1e-6)
    np.testing.assert_array_equal(listed[:, 1:3], latents[:, 1:3])
    with pytest.raises(ValueError, match="direction"):
        editing.edit(latents, TRUE[:3], 1.0)
    for layers in ([], [4], [-1], [1.5]):
        with pytest.raises(ValueError, match="layer indices in 0..3"):
            editing.edit(latents, TRUE, 1.0, layers=layers)


class PlantedGenerator:
    """w = z[:W_DIM]; the image's first pixel is w . TRUE, so any labelling by that pixel plants TRUE in W."""

    latent_dim, num_ws, w_avg = W_DIM, 2, np.zeros(W_DIM, "float32")
    mapping = None  # present, as wspace checks; w_plus does its work

    def w_plus(self, z, training=False, truncation_psi=1.0):
        return np.repeat(np.asarray(z)[:, None, :], self.num_ws, axis=1)

    def seed_noise(self, seed):
        pass

    def synthesis(self, ws, noise=True, shared_noise=False):
        images = np.zeros((len(ws), 2, 2, 1), "float32")
        images[:, 0, 0, 0] = np.tanh(np.asarray(ws)[:, 0] @ TRUE)
        return images


class FourValuedHead:
    """A head with 4 values by the first pixel's quartile band: -1..-0.5, ..., 0.5..1."""

    def head_probabilities(self, images, head):
        band = np.clip(((images[:, 0, 0, 0] + 1) * 2).astype(int), 0, 3)
        return np.eye(4, dtype="float32")[band]


def test_direction_labels_samples_with_the_head_and_merges_values():
    found = editing.direction(PlantedGenerator(), FourValuedHead(), "band", positive={3}, negative={0}, n=600)
    assert float(found.vector @ TRUE) > 0.97 and found.counts[0] > 50 and found.counts[1] > 50
    merged = editing.direction(PlantedGenerator(), FourValuedHead(), "band", positive={1}, negative={0},
                               merge=[0, 0, 1, 1], n=600, attribute="upper half")
    assert merged.attribute == "upper half" and float(merged.vector @ TRUE) > 0.97
    assert sum(merged.counts) == 600  # merged, every sample falls in one of the two groups


@pytest.mark.parametrize("positive, negative", [(set(), {0}), ({1}, {1, 2})])
def test_overlapping_or_empty_groups_are_refused(positive, negative):
    with pytest.raises(ValueError, match="disjoint"):
        editing.direction(PlantedGenerator(), FourValuedHead(), "band", positive=positive, negative=negative)


def test_a_group_without_samples_is_refused():
    w = np.random.default_rng(0).standard_normal((20, W_DIM))
    with pytest.raises(ValueError, match="both groups need"):
        editing.fit_direction(w, np.ones(20, bool))


class LayeredGenerator(PlantedGenerator):
    """Three layers: layer 0 moves the attribute pixel only, layer 1 moves it and the design pixel, layer 2
    neither (its style draws nothing)."""

    num_ws = 3

    def synthesis(self, ws, noise=True, shared_noise=False):
        ws = np.asarray(ws)
        images = np.zeros((len(ws), 2, 2, 1), "float32")
        images[:, 0, 0, 0] = ws[:, 0] @ TRUE + ws[:, 1] @ TRUE
        images[:, 0, 1, 0] = ws[:, 1] @ TRUE
        return images


def attribute_and_design(before, after, sign):
    """Moved: the attribute pixel went the sign's way; kept: the design pixel changed by under 0.1."""
    change = after[:, 0, 0, 0] - before[:, 0, 0, 0]
    return sign * change > 0, np.abs(after[:, 0, 1, 0] - before[:, 0, 1, 0]) < 0.1


def test_layer_effects_edit_each_layer_alone_and_pick_the_ones_that_move_only_the_attribute():
    ws = 0.05 * np.random.default_rng(2).standard_normal((16, 3, W_DIM)).astype("float32")  # inside the clip
    effects = editing.layer_effects(LayeredGenerator(), ws, TRUE, 0.2, attribute_and_design)
    np.testing.assert_array_equal(effects, [[1, 1], [1, 0], [0, 1]])
    assert editing.pick_layers(effects) == [0]
    assert editing.pick_layers(effects, kept=0.0) == [0, 1]
    with pytest.raises(ValueError, match="no layer moves"):
        editing.pick_layers(effects[1:])
    with pytest.raises(ValueError, match="num_ws, 2"):
        editing.pick_layers(effects[:, 0])
