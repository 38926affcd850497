"""The W-space explorer: what each control does to the latents, what is drawn, and the static figure."""
import numpy as np
import pytest

from gan_utils import style_explorer

NUM_WS, W_DIM = 4, 3
rng = np.random.default_rng(0)
BASES = {"real 1": rng.normal(size=(NUM_WS, W_DIM)), "sample 2": rng.normal(size=(NUM_WS, W_DIM))}
W_AVG = rng.normal(size=W_DIM)
DIRECTIONS = {"darker": np.array([1.0, 0.0, 0.0]), "vendor": np.array([0.0, 0.0, 1.0])}
GROUPS = {"coarse": range(0, 2), "fine": range(2, 4)}


class Recorder:
    """draw(ws): images whose pixels are the mean of ws, recording every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, ws):
        self.calls.append(np.array(ws))
        return np.tanh(np.broadcast_to(np.asarray(ws).mean(axis=(1, 2))[:, None, None, None], (len(ws), 4, 4, 3)))


def _explorer(draw=None):
    return style_explorer.StyleExplorer(draw or Recorder(), BASES, W_AVG, layer_groups=GROUPS, directions=DIRECTIONS)


def test_compose_truncates_then_mixes_then_moves_along_the_directions():
    base, other = BASES["real 1"], BASES["sample 2"]
    ws = style_explorer.compose(base, W_AVG, psi=0.5, mix_from=other, mix_layers=range(2, 4), directions=DIRECTIONS,
                                amounts={"darker": 2.0})
    expected = W_AVG + 0.5 * (base - W_AVG)
    expected[2:4] = other[2:4]
    expected = expected + 2.0 * DIRECTIONS["darker"]
    np.testing.assert_allclose(ws, expected, rtol=1e-6)


def test_the_explorer_draws_the_first_image_untouched_then_follows_each_control():
    draw = Recorder()
    explorer = _explorer(draw)
    np.testing.assert_allclose(draw.calls[0][0], BASES["real 1"], rtol=1e-6)
    explorer.psi.value = 0.0
    np.testing.assert_allclose(explorer.ws, np.broadcast_to(W_AVG, (NUM_WS, W_DIM)), rtol=1e-6)
    explorer.psi.value = 1.0
    explorer.mix_from.value, explorer.mix_layers.value = "sample 2", "fine"
    np.testing.assert_allclose(explorer.ws[2:], BASES["sample 2"][2:], rtol=1e-6)
    np.testing.assert_allclose(explorer.ws[:2], BASES["real 1"][:2], rtol=1e-6)
    explorer.amounts["vendor"].value = -1.5
    np.testing.assert_allclose(explorer.ws[:2], BASES["real 1"][:2] - 1.5 * DIRECTIONS["vendor"], rtol=1e-6)
    np.testing.assert_allclose(explorer.drawn, draw(explorer.ws[None])[0])
    assert bytes(explorer.image.value).startswith(b"\x89PNG")


def test_the_static_figure_has_a_psi_row_and_a_row_per_direction():
    draw = Recorder()
    fig = style_explorer.static_style_explorer(draw, BASES["real 1"], W_AVG, directions=DIRECTIONS)
    assert len(draw.calls) == 1 and draw.calls[0].shape == (15, NUM_WS, W_DIM)  # 3 rows of 5
    np.testing.assert_allclose(draw.calls[0][4], np.broadcast_to(W_AVG, (NUM_WS, W_DIM)), rtol=1e-6)  # psi = 0
    np.testing.assert_allclose(draw.calls[0][5], BASES["real 1"] - 2.0 * DIRECTIONS["darker"], rtol=1e-6)
    assert "darker, vendor" in fig.axes[0].get_title()


def test_bad_inputs_are_named():
    with pytest.raises(TypeError, match="draw must be"):
        style_explorer.StyleExplorer("g", BASES, W_AVG, layer_groups=GROUPS)
    with pytest.raises(ValueError, match=r"images\['b'\] must have shape"):
        style_explorer.StyleExplorer(Recorder(), {"a": BASES["real 1"], "b": np.zeros((2, 3))}, W_AVG,
                                     layer_groups=GROUPS)
    with pytest.raises(ValueError, match="as many of each"):
        style_explorer.static_style_explorer(Recorder(), BASES["real 1"], W_AVG, directions=DIRECTIONS, amounts=(1,))
