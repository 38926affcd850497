"""Tests for gan_utils.plots: what each figure draws, checked on the drawn data."""
import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gan_utils import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def constant_tiles(values, height=2, width=3, channels=1):
    """N images, image k filled with values[k]."""
    values = np.asarray(values, dtype=np.float32)
    return np.broadcast_to(values[:, None, None, None], (len(values), height, width, channels)).copy()


def only_image(fig):
    (ax,) = [a for a in fig.axes if a.images]
    (image,) = ax.images
    return ax, image


# ----------------------------------------------------------------------------- images_to_mosaic


def test_mosaic_maps_minus_one_to_black_and_one_to_white():
    mosaic = plots.images_to_mosaic(constant_tiles([-1.0, 0.0, 1.0, 0.5]), ncols=4, pad=0)
    assert mosaic.dtype == np.float32
    np.testing.assert_allclose(mosaic[0, [0, 3, 6, 9]], [0.0, 0.5, 1.0, 0.75])


def test_mosaic_places_tile_k_at_its_row_and_column():
    values = np.linspace(-0.9, 0.9, 6)
    mosaic = plots.images_to_mosaic(constant_tiles(values, height=2, width=3), ncols=3, pad=1)
    assert mosaic.shape == (2 * 2 + 1, 3 * 3 + 2)
    for k, value in enumerate(values):
        row, col = divmod(k, 3)
        tile = mosaic[row * 3 : row * 3 + 2, col * 4 : col * 4 + 3]
        np.testing.assert_allclose(tile, (value + 1) / 2, rtol=0, atol=1e-6)


def test_mosaic_separates_tiles_with_pad_value_and_fills_unused_cells():
    mosaic = plots.images_to_mosaic(-np.ones((7, 4, 4, 1), np.float32), pad=2, pad_value=1.0)
    assert mosaic.shape == (3 * 4 + 2 * 2, 3 * 4 + 2 * 2)  # ceil(sqrt(7)) = 3 columns, 3 rows
    np.testing.assert_array_equal(mosaic[4:6, :], 1.0)  # horizontal border after row 0
    np.testing.assert_array_equal(mosaic[:, 4:6], 1.0)  # vertical border after column 0
    np.testing.assert_array_equal(mosaic[12:, 6:], 1.0)  # cells 7 and 8 are blank
    np.testing.assert_array_equal(mosaic[12:, :4], 0.0)  # cell 6 holds the last image


def test_mosaic_is_2d_for_grayscale_and_rgb_for_colour():
    gray = plots.images_to_mosaic(np.zeros((4, 5, 6, 1), np.float32), pad=1)
    colour = plots.images_to_mosaic(np.zeros((4, 5, 6, 3), np.float32), pad=1)
    assert gray.shape == (11, 13)
    assert colour.shape == (11, 13, 3)


def test_mosaic_keeps_colour_channels_apart():
    image = np.stack([np.full((2, 2), -1.0), np.full((2, 2), 0.0), np.full((2, 2), 1.0)], axis=-1)[None]
    mosaic = plots.images_to_mosaic(image.astype(np.float32))
    np.testing.assert_allclose(mosaic[0, 0], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("n, grid", [(1, (1, 1)), (7, (3, 3)), (100, (10, 10)), (10, (3, 4))])
def test_mosaic_default_layout_is_about_square(n, grid):
    mosaic = plots.images_to_mosaic(np.zeros((n, 8, 8, 1), np.float32), pad=1)
    rows, cols = grid
    assert mosaic.shape == (rows * 9 - 1, cols * 9 - 1)


def test_mosaic_accepts_float_error_and_clips_it():
    mosaic = plots.images_to_mosaic(constant_tiles([1.0005, -1.0005]), ncols=2, pad=0)
    assert mosaic.min() == 0.0 and mosaic.max() == 1.0


def test_images_in_0_255_raise_with_the_fix():
    with pytest.raises(ValueError, match=r"\[-1, 1\].*max 255.*Divide by 127.5 and subtract 1"):
        plots.images_to_mosaic(np.full((2, 4, 4, 1), 255.0))


def test_images_with_three_dimensions_raise_and_explain_nhwc():
    with pytest.raises(ValueError, match=r"NHWC.*\(N, H, W, C\).*images\[\.\.\., None\]"):
        plots.images_to_mosaic(np.zeros((5, 8, 8), np.float32))


@pytest.mark.parametrize("shape, fix", [((2, 4, 4, 4), "alpha"), ((2, 3, 8, 8), "channels-first")])
def test_images_with_wrong_channels_raise(shape, fix):
    with pytest.raises(ValueError, match=fix):
        plots.images_to_mosaic(np.zeros(shape, np.float32))


def test_images_with_nan_raise():
    images = np.zeros((2, 4, 4, 1), np.float32)
    images[1, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        plots.images_to_mosaic(images)


def test_images_that_are_not_numbers_raise_type_error():
    with pytest.raises(TypeError, match="real numbers"):
        plots.images_to_mosaic(np.full((1, 2, 2, 1), "a"))


@pytest.mark.parametrize(
    "kwargs, error", [({"ncols": 0}, ValueError), ({"ncols": 2.5}, TypeError), ({"pad": -1}, ValueError)]
)
def test_mosaic_rejects_bad_layout_arguments(kwargs, error):
    with pytest.raises(error):
        plots.images_to_mosaic(np.zeros((3, 4, 4, 1), np.float32), **kwargs)


# ----------------------------------------------------------------------------- image_grid


def test_image_grid_draws_one_gray_image_equal_to_the_mosaic_with_fixed_limits():
    images = constant_tiles([-0.5, -0.5, -0.5], height=4, width=4)  # all one grey: autoscaling would make it black
    fig = plots.image_grid(images, title="three grey squares")
    ax, image = only_image(fig)
    assert isinstance(fig, Figure)
    np.testing.assert_array_equal(np.asarray(image.get_array()), plots.images_to_mosaic(images))
    assert image.get_clim() == (0.0, 1.0)
    assert image.get_cmap().name == "gray"
    np.testing.assert_allclose(image.to_rgba(np.float32(0.25))[:3], [0.25, 0.25, 0.25], atol=0.01)


def test_image_grid_shows_colour_images_as_rgb():
    images = np.random.default_rng(0).uniform(-1, 1, (5, 6, 6, 3)).astype(np.float32)
    _, image = only_image(plots.image_grid(images, ncols=5))
    np.testing.assert_allclose(np.asarray(image.get_array()), plots.images_to_mosaic(images, ncols=5))
    assert image.get_array().shape == (6, 5 * 7 - 1, 3)


def test_image_grid_hides_ticks_and_shows_the_title():
    ax, _ = only_image(plots.image_grid(np.zeros((4, 8, 8, 1), np.float32), title="samples at step 100"))
    assert ax.get_title() == "samples at step 100"
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0


def test_image_grid_draws_each_label_at_its_tile():
    labels = ["zero", "one", "two", "three", "four"]
    ax, _ = only_image(plots.image_grid(np.zeros((5, 8, 8, 1), np.float32), labels=labels, ncols=3))
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert set(texts) == set(labels)
    assert texts["four"] == (1 * 9, 1 * 9)  # row 1, column 1, 8-pixel tiles and a 1-pixel border


def test_image_grid_with_wrong_number_of_labels_raises():
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        plots.image_grid(np.zeros((3, 4, 4, 1), np.float32), labels=["a", "b"])
    with pytest.raises(TypeError, match="sequence"):
        plots.image_grid(np.zeros((3, 4, 4, 1), np.float32), labels="abc")


def test_image_grid_of_100_images_is_a_single_image():
    images = np.random.default_rng(1).uniform(-1, 1, (100, 32, 32, 1)).astype(np.float32)
    ax, image = only_image(plots.image_grid(images))
    assert len(ax.images) == 1
    assert image.get_array().shape == (10 * 33 - 1, 10 * 33 - 1)


def test_image_grid_out_of_range_raises_before_drawing():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        plots.image_grid(np.full((2, 4, 4, 3), 255.0))


def test_image_grid_draws_on_a_given_ax_and_returns_its_figure():
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    assert plots.image_grid(np.zeros((2, 4, 4, 1), np.float32), ax=ax, title="t") is fig
    assert len(ax.images) == 1
    with pytest.raises(ValueError, match="not both"):
        plots.image_grid(np.zeros((2, 4, 4, 1), np.float32), ax=ax, figsize=(3, 3))


def test_plots_leave_no_open_pyplot_figures():
    before = plt.get_fignums()
    plots.image_grid(np.zeros((2, 4, 4, 1), np.float32))
    plots.plot_2d(np.zeros((3, 2)))
    plots.plot_curves({"loss": [1.0, 2.0]})
    assert plt.get_fignums() == before


# ----------------------------------------------------------------------------- plot_2d


def test_plot_2d_background_is_the_surface_on_the_grid():
    seen = []

    def right_half(points):
        seen.append(points)
        return (points[:, 0] > 0).astype(np.float32)

    fig = plots.plot_2d(surface=right_half, extent=(-2, 2, -1, 1), resolution=10)
    ax, image = only_image(fig)
    (points,) = seen
    assert points.dtype == np.float32 and points.shape == (100, 2)
    expected = np.zeros((10, 10))
    expected[:, 5:] = 1.0
    np.testing.assert_array_equal(np.asarray(image.get_array()), expected)
    assert image.get_extent() == [-2.0, 2.0, -1.0, 1.0]
    assert image.origin == "lower"
    assert image.get_clim() == (0.0, 1.0)


def test_plot_2d_background_rows_run_from_bottom_to_top():
    fig = plots.plot_2d(surface=lambda p: p[:, 1], extent=(-3, 3, -3, 3), resolution=6, vmin=None, vmax=None)
    _, image = only_image(fig)
    array = np.asarray(image.get_array())
    np.testing.assert_allclose(array[:, 0], [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])  # pixel centres, lowest y first
    assert image.get_clim() == (-2.5, 2.5)  # vmin=vmax=None autoscales, as for a density


def test_plot_2d_colorbar_is_labelled_with_surface_label():
    fig = plots.plot_2d(surface=lambda p: np.exp(-(p**2).sum(axis=1)), surface_label="p(x)", vmin=None, vmax=None)
    colorbar_axes = [ax for ax in fig.axes if not ax.images]
    assert [ax.get_ylabel() for ax in colorbar_axes] == ["p(x)"]


def test_plot_2d_accepts_a_surface_returning_a_column():
    _, image = only_image(plots.plot_2d(surface=lambda p: np.full((len(p), 1), 0.5), resolution=4))
    np.testing.assert_array_equal(np.asarray(image.get_array()), np.full((4, 4), 0.5))


def test_plot_2d_scatters_the_given_points_with_a_legend():
    real = np.array([[0.0, 1.0], [1.0, 2.0], [-1.0, -2.0]])
    fake = np.array([[0.5, 0.5], [2.0, -1.0]], np.float32)
    fig = plots.plot_2d(real, fake)
    (ax,) = fig.axes
    real_points, fake_points = ax.collections
    np.testing.assert_allclose(real_points.get_offsets(), real)
    np.testing.assert_allclose(fake_points.get_offsets(), fake)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real", "generated"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")
    assert ax.get_xlim() == (-3.0, 3.0) and ax.get_ylim() == (-3.0, 3.0)
    assert ax.get_aspect() == 1.0


def test_plot_2d_counts_points_outside_the_view_in_the_legend():
    fig = plots.plot_2d(fake=np.array([[0.0, 0.0], [10.0, 0.0], [0.0, -4.0]]), extent=(-3, 3, -3, 3))
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "generated (2 of 3 outside the view)"


@pytest.mark.parametrize("points", [np.zeros((4, 3)), np.zeros(2), np.zeros((2, 2, 2))])
def test_plot_2d_rejects_points_not_shaped_n_by_2(points):
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.plot_2d(real=points)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.plot_2d(fake=points)


def test_plot_2d_rejects_nan_points():
    with pytest.raises(ValueError, match="NaN"):
        plots.plot_2d(fake=np.array([[0.0, np.nan]]))


def test_plot_2d_rejects_a_surface_returning_the_wrong_number_of_values():
    with pytest.raises(ValueError, match="returned 3 values .* for 100 grid points"):
        plots.plot_2d(surface=lambda p: np.zeros(3), resolution=10)


def test_plot_2d_rejects_a_surface_returning_nan():
    with pytest.raises(ValueError, match="NaN or inf at 1 of 16"):
        plots.plot_2d(surface=lambda p: np.where(np.arange(len(p)) == 0, np.nan, 0.5), resolution=4)


def test_plot_2d_rejects_bad_arguments():
    with pytest.raises(ValueError, match="something to draw"):
        plots.plot_2d()
    with pytest.raises(TypeError, match="callable"):
        plots.plot_2d(surface=np.zeros((10, 10)))
    with pytest.raises(ValueError, match="xmin < xmax"):
        plots.plot_2d(np.zeros((1, 2)), extent=(3, -3, -3, 3))


# ----------------------------------------------------------------------------- plot_curves


def test_plot_curves_draws_each_series_against_its_index():
    history = {"d_loss": [0.7, 0.6, 0.5], "g_loss": [1.0, 1.5, 2.0, 2.5]}
    (ax,) = plots.plot_curves(history, xlabel="epoch", ylabel="loss", title="losses").axes
    for line, (name, values) in zip(ax.get_lines(), history.items()):
        assert line.get_label() == name
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(values)))
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d_loss", "g_loss"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "losses")


def test_plot_curves_uses_shared_x_values():
    (ax,) = plots.plot_curves({"fid": [50.0, 30.0, 20.0]}, x=[100, 200, 300]).axes
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [100, 200, 300])


def test_plot_curves_smooths_with_a_trailing_mean_over_the_faint_raw_line():
    values = np.random.default_rng(2).normal(size=50)
    (ax,) = plots.plot_curves({"d_loss": values}, smooth=5).axes
    raw, smoothed = ax.get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), values)
    assert raw.get_alpha() < 1 and raw.get_color() == smoothed.get_color()
    expected = np.array([values[max(0, i - 4) : i + 1].mean() for i in range(50)])
    np.testing.assert_allclose(smoothed.get_ydata(), expected)
    np.testing.assert_allclose(smoothed.get_ydata()[4:], np.convolve(values, np.ones(5) / 5, mode="valid"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d_loss"]


def test_plot_curves_leaves_nan_as_a_gap_and_smoothing_skips_it():
    (ax,) = plots.plot_curves({"loss": [1.0, np.nan, 3.0, 5.0]}, smooth=2).axes
    raw, smoothed = ax.get_lines()
    assert np.isnan(raw.get_ydata()[1])
    np.testing.assert_allclose(smoothed.get_ydata(), [1.0, 1.0, 3.0, 4.0])


def test_plot_curves_logy_sets_a_log_scale_and_needs_positive_values():
    (ax,) = plots.plot_curves({"fid": [40.0, 20.0, 10.0]}, logy=True).axes
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="positive"):
        plots.plot_curves({"critic": [1.0, -0.5]}, logy=True)


def test_plot_curves_rejects_empty_or_mismatched_history():
    with pytest.raises(ValueError, match="history is empty"):
        plots.plot_curves({})
    with pytest.raises(ValueError, match=r"x has 2 values but history\['g_loss'\] has 3"):
        plots.plot_curves({"d_loss": [1.0, 2.0], "g_loss": [1.0, 2.0, 3.0]}, x=[0, 1])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plots.plot_curves({"d_loss": []})
    with pytest.raises(ValueError, match="smooth"):
        plots.plot_curves({"d_loss": [1.0]}, smooth=0)


def test_plot_curves_points_a_keras_history_to_its_dict():
    class FakeHistory:
        history = {"loss": [1.0]}

    with pytest.raises(TypeError, match=r"history\.history"):
        plots.plot_curves(FakeHistory())


# ----------------------------------------------------------------------------- animations


def upscaled_mosaic(images, scale):
    """The uint8 pixels save_animation should draw for one frame, without a caption band."""
    mosaic = np.round(plots.images_to_mosaic(images) * 255).astype(np.uint8)
    return mosaic.repeat(scale, axis=0).repeat(scale, axis=1)


def gif_durations_and_loop(path):
    from PIL import Image

    with Image.open(path) as gif:
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info.get("duration"))
        gif.seek(0)
        return durations, gif.info.get("loop")


def noise_frames(count, seed=0, shape=(4, 32, 32, 1)):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(count)]


def test_save_animation_writes_a_looping_gif_of_upscaled_mosaics(tmp_path):
    import imageio.v3 as iio

    frames = [constant_tiles([-0.6 + 0.5 * k, 0.2, -1.0, 1.0], height=4, width=6) for k in range(3)]
    path = plots.save_animation(frames, tmp_path / "training.gif", fps=4, scale=3)
    assert path == tmp_path / "training.gif" and path.is_file()
    decoded = iio.imread(path, index=None, mode="L")
    assert decoded.shape == (3, (2 * 4 + 1) * 3, (2 * 6 + 1) * 3)  # a 2x2 mosaic with a 1-pixel border, tripled
    for frame, images in zip(decoded, frames):
        np.testing.assert_allclose(frame, upscaled_mosaic(images, 3), atol=1)  # grey levels survive the GIF
    assert abs(int(decoded[0, 0, 0]) - (-0.6 + 1) / 2 * 255) <= 1  # tile 0 of frame 0: (x + 1) / 2 * 255 = 51
    durations, loop = gif_durations_and_loop(path)
    assert durations == [250, 250, 250] and loop == 0


@pytest.mark.parametrize("fps, duration", [(4, 250), (3, 330), (10, 100), (0.5, 2000)])
def test_save_animation_shows_each_frame_for_1000_over_fps_ms_in_gif_steps_of_10_ms(tmp_path, fps, duration):
    path = plots.save_animation(noise_frames(2, shape=(1, 4, 4, 1)), tmp_path / "a.gif", fps=fps, scale=1)
    assert gif_durations_and_loop(path) == ([duration, duration], 0)


def test_save_animation_draws_each_caption_in_a_band_above_the_mosaic(tmp_path):
    import imageio.v3 as iio

    frames = noise_frames(3, shape=(4, 32, 32, 1))
    path = plots.save_animation(frames, tmp_path / "a.gif", captions=["epoch 1", "epoch 2", "epoch 10"], scale=2)
    decoded = iio.imread(path, index=None, mode="L")
    mosaic_height, mosaic_width = 65 * 2, 65 * 2
    assert decoded.shape[0] == 3 and decoded.shape[2] == mosaic_width
    band = decoded.shape[1] - mosaic_height
    assert 10 <= band <= 40
    for frame, images in zip(decoded, frames):
        np.testing.assert_array_equal(frame[band:], upscaled_mosaic(images, 2))
        assert (frame[:band] < 128).any() and np.median(frame[:band]) == 255  # dark text on a white band
    assert not np.array_equal(decoded[0, :band], decoded[2, :band])  # each frame has its own caption


def test_save_animation_keeps_colour_within_gif_quantisation(tmp_path):
    import imageio.v3 as iio

    colours = np.array([[-1.0, 0.0, 1.0], [0.5, -0.5, 0.2]], np.float32)
    frames = [np.broadcast_to(colours[:, None, None, :] * s, (2, 8, 8, 3)).copy() for s in (1.0, 0.5)]
    path = plots.save_animation(frames, tmp_path / "colour.gif", scale=2)
    decoded = iio.imread(path, index=None, mode="RGB")
    assert decoded.shape == (2, 8 * 2, (2 * 8 + 1) * 2, 3)
    for frame, images in zip(decoded, frames):
        np.testing.assert_allclose(frame, upscaled_mosaic(images, 2), atol=3)


def test_save_animation_accepts_a_5d_stack_and_replaces_an_existing_file(tmp_path):
    import imageio.v3 as iio

    path = tmp_path / "a.gif"
    plots.save_animation(noise_frames(4, shape=(1, 4, 4, 1)), path, scale=1)
    plots.save_animation(np.stack(noise_frames(2, seed=1, shape=(1, 4, 4, 1))), path, scale=1)
    assert iio.imread(path, index=None, mode="L").shape == (2, 4, 4)
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]  # no temporary file left behind


@pytest.mark.parametrize("budget_in_frames", [2.2, 4.2])
def test_save_animation_over_max_bytes_keeps_every_kth_frame_ending_with_the_last(tmp_path, budget_in_frames):
    import imageio.v3 as iio

    frames = noise_frames(13)  # noise barely compresses: each frame costs about the same
    frames[-1] = -frames[-1]  # a distinct final state
    two_frames = plots.save_animation([frames[0], frames[-1]], tmp_path / "two.gif", scale=1).stat().st_size
    max_bytes = int(two_frames / 2 * budget_in_frames)
    path = plots.save_animation(frames, tmp_path / "capped.gif", scale=1, max_bytes=max_bytes)
    assert path.stat().st_size <= max_bytes
    decoded = iio.imread(path, index=None, mode="L")
    expected = [upscaled_mosaic(images, 1) for images in frames]
    kept = [next(i for i, e in enumerate(expected) if np.array_equal(frame, e)) for frame in decoded]
    assert kept[-1] == 12  # the final state of training is always shown
    assert len(kept) == int(budget_in_frames)  # 2 frames: the first and last; 4 frames: 0, 4, 8, 12
    steps = np.diff(kept)
    assert (steps == steps[0]).all() and steps[0] > 1  # evenly spaced, counted back from the last frame


def test_save_animation_that_cannot_fit_raises_and_says_what_to_reduce(tmp_path):
    path = tmp_path / "big.gif"
    with pytest.raises(ValueError, match=r"max_bytes=1,000.*fewer images per frame \(now 4\).*smaller scale"):
        plots.save_animation(noise_frames(5), path, max_bytes=1_000)
    assert not path.exists()


def test_save_animation_rejects_bad_inputs_with_the_fix(tmp_path):
    path = tmp_path / "a.gif"
    frames = noise_frames(3, shape=(2, 4, 4, 1))
    with pytest.raises(ValueError, match="frames is empty"):
        plots.save_animation([], path)
    with pytest.raises(ValueError, match=r"frames\[2\] has shape \(3, 4, 4, 1\) but frames\[0\] has shape \(2, 4, 4"):
        plots.save_animation([*frames[:2], np.zeros((3, 4, 4, 1), np.float32)], path)
    with pytest.raises(ValueError, match=r"frames\[1\] must be in \[-1, 1\].*Divide by 127.5"):
        plots.save_animation([frames[0], np.full((2, 4, 4, 1), 255.0, np.float32)], path)
    with pytest.raises(ValueError, match=r"one 4-D array.*\[images\]"):
        plots.save_animation(frames[0], path)
    with pytest.raises(ValueError, match="2 captions for 3 frames"):
        plots.save_animation(frames, path, captions=["epoch 1", "epoch 2"])
    with pytest.raises(TypeError, match="sequence of 3 strings"):
        plots.save_animation(frames, path, captions="epoch")
    with pytest.raises(ValueError, match=r"must end with \.gif.*a\.mp4"):
        plots.save_animation(frames, tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="fps"):
        plots.save_animation(frames, path, fps=0)
    with pytest.raises(ValueError, match="scale"):
        plots.save_animation(frames, path, scale=0)
    with pytest.raises(FileNotFoundError, match="mkdir"):
        plots.save_animation(frames, tmp_path / "missing" / "a.gif")
    assert not path.exists()


def test_show_animation_returns_an_ipython_image_holding_the_gif(tmp_path):
    from IPython.display import Image

    path = plots.save_animation(noise_frames(2, shape=(1, 4, 4, 1)), tmp_path / "a.gif", scale=1)
    shown = plots.show_animation(str(path))
    assert isinstance(shown, Image)
    assert shown.format == "gif" and shown.data == path.read_bytes()
    with pytest.raises(FileNotFoundError, match="save_animation"):
        plots.show_animation(tmp_path / "none.gif")


@pytest.mark.parametrize("side, channels", [(64, 3), (64, 1), (128, 3)])
def test_grids_and_animations_work_at_every_resolution(tmp_path, side, channels):
    from PIL import Image

    rng = np.random.default_rng(0)
    frames = [rng.uniform(-1, 1, (4, side, side, channels)).astype(np.float32) for _ in range(3)]
    mosaic = plots.images_to_mosaic(frames[0], ncols=2, pad=1)
    assert mosaic.shape[:2] == (2 * side + 1, 2 * side + 1)
    figure = plots.image_grid(frames[0])
    plt.close(figure)
    path = plots.save_animation(frames, tmp_path / "training.gif", scale=1)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size[0] >= 2 * side


# ----------------------------------------------------------------------------- save_grid


def read_png(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.mode, np.asarray(image)


def test_save_grid_writes_the_upscaled_mosaic_over_a_white_band_with_dark_caption_text(tmp_path):
    images = noise_frames(1, shape=(4, 32, 32, 1))[0]
    path = plots.save_grid(images, tmp_path / "grid.png", "All 4 samples of runs/digits, seed 0.", scale=2)
    assert path == tmp_path / "grid.png"
    mode, pixels = read_png(path)
    assert mode == "L" and pixels.shape[1] == 65 * 2  # a 2x2 mosaic with a 1-pixel gap, doubled; grayscale stays L
    np.testing.assert_array_equal(pixels[:130], upscaled_mosaic(images, 2))  # PNG is lossless: exactly the tiles
    band = pixels[130:]
    assert 10 <= len(band) <= 60 and (band < 128).any() and np.median(band) == 255


def test_save_grid_keeps_colour_exactly(tmp_path):
    images = noise_frames(1, shape=(3, 16, 16, 3))[0]
    mode, pixels = read_png(plots.save_grid(images, tmp_path / "colour.png", "three colour samples", ncols=3, scale=1))
    assert mode == "RGB"
    np.testing.assert_array_equal(pixels[:16], np.round(plots.images_to_mosaic(images, ncols=3) * 255).astype(np.uint8))


def test_save_grid_wraps_the_caption_to_the_grid_and_starts_a_line_at_each_newline(tmp_path):
    images = noise_frames(1, shape=(4, 32, 32, 1))[0]

    def band_and_width(caption):
        _, pixels = read_png(plots.save_grid(images, tmp_path / "grid.png", caption, scale=2))
        return pixels.shape[0] - 130, pixels.shape[1]

    one_line, one_width = band_and_width("seed 0")
    two_lines, _ = band_and_width("seed 0\nlicence")
    wrapped, wrapped_width = band_and_width(" ".join(["word"] * 40))  # far wider than 130 pixels on one line
    assert two_lines > one_line and wrapped > 2 * one_line and one_width == wrapped_width == 130
    _, unbreakable_width = band_and_width("x" * 60)  # one word: the image widens rather than cut it off
    assert unbreakable_width > 130


def test_save_grid_rejects_bad_arguments_with_the_fix(tmp_path):
    images = constant_tiles([0.0, 1.0])
    with pytest.raises(ValueError, match="must end with .png"):
        plots.save_grid(images, tmp_path / "grid.jpg", "caption")
    with pytest.raises(TypeError, match="str or pathlib.Path"):
        plots.save_grid(images, 3, "caption")
    with pytest.raises(ValueError, match="caption must say what produced the images"):
        plots.save_grid(images, tmp_path / "grid.png", "  ")
    with pytest.raises(FileNotFoundError, match="mkdir"):
        plots.save_grid(images, tmp_path / "missing" / "grid.png", "caption")
    with pytest.raises(ValueError, match="Divide by 127.5"):
        plots.save_grid(images * 255, tmp_path / "grid.png", "caption")
    assert not (tmp_path / "grid.png").exists()
