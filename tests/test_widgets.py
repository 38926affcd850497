"""Tests for gan_utils.widgets: the explorer's callbacks are driven from Python (no kernel) with a NumPy generator."""
import io
import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported anywhere

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from gan_utils import latent, plots  # noqa: E402
from gan_utils.widgets import LatentExplorer, static_explorer  # noqa: E402

LATENT_DIM = 6
CLASSES = ["plane", "car", "bird"]
HEIGHT, WIDTH = 4, 5


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class FakeGenerator:
    """Records each call; image k is tanh(z[k, 0]) everywhere except row 1, which holds labels[k] / 10."""

    def __init__(self, channels=1):
        self.channels = channels
        self.calls = []

    def __call__(self, z, labels):
        self.calls.append((np.array(z), None if labels is None else np.array(labels)))
        images = np.broadcast_to(np.tanh(z[:, 0])[:, None, None, None], (len(z), HEIGHT, WIDTH, self.channels)).copy()
        if labels is not None:
            images[:, 1] = (np.asarray(labels, dtype=np.float32) / 10)[:, None, None]
        return images.astype(np.float32)

    @property
    def z(self):
        return self.calls[-1][0]

    @property
    def labels(self):
        return self.calls[-1][1]


def explorer_with(generate=None, **kwargs):
    generate = FakeGenerator() if generate is None else generate
    kwargs = {"latent_dim": LATENT_DIM, "class_names": CLASSES, "num_images": 4, "seed": 3, **kwargs}
    return generate, LatentExplorer(generate, **kwargs)


def latents(seed, n=4):
    return latent.normal_latents(n, LATENT_DIM, seed)


# ----------------------------------------------------------------------------- LatentExplorer


def test_constructing_draws_once_from_seed_a_latents_and_class_0():
    fake, explorer = explorer_with()
    assert len(fake.calls) == 1
    assert (explorer.seed_a.value, explorer.seed_b.value, explorer.t.value, explorer.threshold.value) == (
        3, 4, 0.0, math.inf)
    assert fake.z.dtype == np.float32 and fake.z.shape == (4, LATENT_DIM)
    np.testing.assert_allclose(fake.z, latents(3), atol=1e-5)
    assert fake.labels.dtype == np.int64
    np.testing.assert_array_equal(fake.labels, [0, 0, 0, 0])
    np.testing.assert_array_equal(explorer.z, fake.z)
    np.testing.assert_array_equal(explorer.labels, fake.labels)


def test_t_one_redraws_with_seed_b_latents():
    fake, explorer = explorer_with()
    explorer.t.value = 1.0
    assert len(fake.calls) == 2
    np.testing.assert_allclose(fake.z, latents(4), atol=1e-5)
    np.testing.assert_array_equal(explorer.z, fake.z)


def test_t_half_gives_each_rows_slerp_midpoint():
    fake, explorer = explorer_with()
    explorer.t.value = 0.5
    z_a, z_b = latents(3), latents(4)
    expected = np.stack([latent.slerp(z_a[i], z_b[i], 0.5) for i in range(4)])
    np.testing.assert_allclose(fake.z, expected, atol=1e-5)
    assert not np.allclose(fake.z, (z_a + z_b) / 2, atol=1e-3)  # slerp, not a straight line


def test_changing_a_seed_redraws_from_its_latents():
    fake, explorer = explorer_with()
    explorer.seed_a.value = 11
    np.testing.assert_allclose(fake.z, latents(11), atol=1e-5)
    explorer.t.value = 1.0
    explorer.seed_b.value = 12
    np.testing.assert_allclose(fake.z, latents(12), atol=1e-5)


def test_class_dropdown_passes_the_new_label_for_every_row():
    fake, explorer = explorer_with()
    assert [label for label, _ in explorer.class_dropdown.options] == CLASSES
    explorer.class_dropdown.value = 2
    assert len(fake.calls) == 2
    np.testing.assert_array_equal(fake.labels, [2, 2, 2, 2])
    np.testing.assert_allclose(explorer.images[:, 1], 0.2)


def test_threshold_truncates_the_interpolated_z():
    fake, explorer = explorer_with()
    explorer.t.value = 0.3
    interpolated = fake.z.copy()
    explorer.threshold.value = 0.5
    np.testing.assert_array_equal(fake.z, latent.truncate(interpolated, 0.5))
    assert np.abs(fake.z).max() <= 0.5
    explorer.threshold.value = math.inf
    np.testing.assert_array_equal(fake.z, interpolated)


def test_images_are_what_the_generator_returned_for_the_drawn_z():
    fake, explorer = explorer_with()
    explorer.t.value = 0.7
    np.testing.assert_array_equal(explorer.images, FakeGenerator()(explorer.z, explorer.labels))


@pytest.mark.parametrize("channels", [1, 3])
def test_image_widget_holds_a_png_of_the_one_row_mosaic_upscaled(channels):
    _, explorer = explorer_with(FakeGenerator(channels), scale=3)
    assert explorer.image.format == "png"
    png = explorer.image.value
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = np.asarray(Image.open(io.BytesIO(png)))
    mosaic = plots.images_to_mosaic(explorer.images, ncols=4)
    assert mosaic.shape[:2] == (HEIGHT, 4 * (WIDTH + 1) - 1)  # one row, 1-pixel gaps
    assert decoded.shape[:2] == (3 * mosaic.shape[0], 3 * mosaic.shape[1])
    upscaled = np.repeat(np.repeat(np.round(mosaic * 255), 3, axis=0), 3, axis=1)
    np.testing.assert_array_equal(decoded, upscaled.astype(np.uint8))


def test_widget_lays_out_every_control_and_the_image():
    _, explorer = explorer_with()
    assert isinstance(explorer.widget, ipywidgets.Box)

    def descendants(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from descendants(child)

    shown = list(descendants(explorer.widget))
    for control in (explorer.class_dropdown, explorer.seed_a, explorer.seed_b, explorer.t, explorer.threshold, explorer.image):
        assert any(control is widget for widget in shown)


def test_unconditional_explorer_has_no_dropdown_and_passes_no_labels():
    fake, explorer = explorer_with(class_names=None)
    assert explorer.class_dropdown is None
    assert not any(isinstance(w, ipywidgets.Dropdown) for w in explorer.widget.children[0].children)
    assert fake.labels is None and explorer.labels is None
    explorer.t.value = 1.0
    assert len(fake.calls) == 2 and fake.labels is None
    np.testing.assert_allclose(fake.z, latents(4), atol=1e-5)


def test_redraw_draws_again_from_the_current_controls():
    fake, explorer = explorer_with()
    explorer.redraw()
    assert len(fake.calls) == 2
    np.testing.assert_array_equal(fake.calls[0][0], fake.calls[1][0])


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"latent_dim": 0}, ValueError, "latent_dim"),
        ({"latent_dim": 2.5}, TypeError, "latent_dim"),
        ({"num_images": 0}, ValueError, "num_images"),
        ({"class_names": "cat"}, TypeError, "class_names"),
        ({"class_names": []}, ValueError, "class_names is empty"),
        ({"class_names": ["cat", 1]}, TypeError, r"class_names\[1\]"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_explorer_rejects_bad_arguments(kwargs, error, match):
    fake = FakeGenerator()
    with pytest.raises(error, match=match):
        explorer_with(fake, **kwargs)
    assert not fake.calls


def test_explorer_rejects_a_generate_that_is_not_callable():
    with pytest.raises(TypeError, match="generate must be a callable"):
        LatentExplorer(np.zeros(3), latent_dim=LATENT_DIM)


@pytest.mark.parametrize(
    ("output", "match"),
    [
        (lambda z: np.zeros((len(z), HEIGHT, WIDTH), np.float32), "4-D NHWC"),
        (lambda z: np.zeros((len(z) + 1, HEIGHT, WIDTH, 1), np.float32), "returned 5 images for 4 latents"),
        (lambda z: np.full((len(z), HEIGHT, WIDTH, 3), 1.5, np.float32), r"in \[-1, 1\]"),
    ],
)
def test_explorer_rejects_a_generator_returning_the_wrong_images(output, match):
    with pytest.raises(ValueError, match=match):
        explorer_with(lambda z, labels: output(z))


def test_explorer_clips_float_error_just_outside_the_range():
    _, explorer = explorer_with(lambda z, labels: np.full((len(z), HEIGHT, WIDTH, 1), 1.0005, np.float64))
    assert explorer.images.dtype == np.float32
    np.testing.assert_array_equal(explorer.images, 1.0)


def test_a_failed_redraw_keeps_the_last_drawn_state():
    fake = FakeGenerator()
    _, explorer = explorer_with(lambda z, labels: fake(z, labels) * (3.0 if labels[0] == 1 else 1.0))
    z, png = explorer.z, explorer.image.value
    with pytest.raises(ValueError, match=r"in \[-1, 1\]"):
        explorer.class_dropdown.value = 1
    assert explorer.z is z and explorer.image.value == png and explorer.labels[0] == 0


# ----------------------------------------------------------------------------- static_explorer


def test_static_explorer_draws_a_row_per_class_with_that_class_label():
    fake = FakeGenerator()
    fig = static_explorer(fake, latent_dim=LATENT_DIM, class_names=CLASSES, steps=5, seed_a=2, seed_b=7, threshold=0.8)
    assert isinstance(fig, Figure)
    assert len(fake.calls) == len(CLASSES)
    z_a, z_b = latents(2, n=1)[0], latents(7, n=1)[0]
    expected_z = latent.truncate(np.stack([latent.slerp(z_a, z_b, t) for t in np.linspace(0, 1, 5)]), 0.8)
    for index, (z, labels) in enumerate(fake.calls):
        assert z.dtype == np.float32
        np.testing.assert_allclose(z, expected_z, atol=1e-5)
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(labels, np.full(5, index))

    (ax,) = fig.axes
    (image,) = ax.images
    assert image.get_array().shape == (3 * (HEIGHT + 1) - 1, 5 * (WIDTH + 1) - 1)
    assert [label.get_text() for label in ax.get_yticklabels()] == CLASSES
    assert [label.get_text() for label in ax.get_xticklabels()] == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    title = ax.get_title()
    assert "seed 2" in title and "seed 7" in title and "0.8" in title


def test_static_explorer_draws_one_row_when_unconditional():
    fake = FakeGenerator(channels=3)
    fig = static_explorer(fake, latent_dim=LATENT_DIM, steps=4)
    assert len(fake.calls) == 1 and fake.labels is None
    np.testing.assert_allclose(fake.z[0], latents(0, n=1)[0], atol=1e-5)
    np.testing.assert_allclose(fake.z[-1], latents(1, n=1)[0], atol=1e-5)
    (ax,) = fig.axes
    assert ax.images[0].get_array().shape[:2] == (HEIGHT, 4 * (WIDTH + 1) - 1)
    assert not [label.get_text() for label in ax.get_yticklabels()]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"steps": 1}, ValueError, "steps"),
        ({"threshold": 0.0}, ValueError, "threshold"),
        ({"seed_b": -1}, ValueError, "seed_b"),
        ({"latent_dim": 0}, ValueError, "latent_dim"),
        ({"class_names": []}, ValueError, "class_names"),
    ],
)
def test_static_explorer_rejects_bad_arguments(kwargs, error, match):
    fake = FakeGenerator()
    with pytest.raises(error, match=match):
        static_explorer(fake, **{"latent_dim": LATENT_DIM, **kwargs})
    assert not fake.calls


def test_static_explorer_rejects_a_generator_returning_the_wrong_shape():
    with pytest.raises(ValueError, match="4-D NHWC"):
        static_explorer(lambda z, labels: np.zeros((len(z), 8), np.float32), latent_dim=LATENT_DIM)


def test_importing_widgets_does_not_import_tensorflow():
    code = "import sys, gan_utils.widgets; assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
