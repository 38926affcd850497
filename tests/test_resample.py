"""Filtered 2x resampling, checked against scipy.signal.upfirdn applied along each axis."""
import keras
import numpy as np
import pytest
import scipy.signal

from gan_utils.models import resample


def _upfirdn_2d(images, up, down, taps, gain):
    """scipy's 1-D upfirdn along height, then width, of (N, H, W, C); full output, no padding."""
    taps = np.asarray(taps, "float64") / np.sum(taps)
    x = scipy.signal.upfirdn(taps * np.sqrt(gain), images.astype("float64"), up=up, down=down, axis=1)
    return scipy.signal.upfirdn(taps * np.sqrt(gain), x, up=up, down=down, axis=2)


def test_the_kernel_is_the_normalised_outer_product_of_the_taps():
    kernel = resample.lowpass_kernel([1, 3, 3, 1])
    assert kernel.shape == (4, 4) and kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(kernel[0], np.array([1, 3, 3, 1]) / 64)
    np.testing.assert_allclose(kernel, kernel.T)


def test_upsample_matches_zero_insertion_and_the_filter_with_gain_four():
    images = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype("float32")
    got = np.asarray(resample.Upsample()(images))
    full = _upfirdn_2d(images, up=2, down=1, taps=resample.DEFAULT_TAPS, gain=4.0)
    assert got.shape == (2, 10, 12, 3)
    np.testing.assert_allclose(got, full[:, 1:11, 1:13], atol=1e-5)  # pad 2 before a 4-tap filter: offset 1


def test_downsample_matches_the_filter_then_every_second_pixel():
    images = np.random.default_rng(1).standard_normal((2, 8, 6, 2)).astype("float32")
    got = np.asarray(resample.Downsample()(images))
    full = _upfirdn_2d(images, up=1, down=2, taps=resample.DEFAULT_TAPS, gain=1.0)
    assert got.shape == (2, 4, 3, 2)
    np.testing.assert_allclose(got, full[:, 1:5, 1:4], atol=1e-5)  # pad 1 before a 4-tap filter: offset 1


@pytest.mark.parametrize("layer", [resample.Upsample(), resample.Downsample()])
def test_a_constant_image_stays_constant_away_from_the_border(layer):
    out = np.asarray(layer(np.full((1, 8, 8, 1), 0.7, "float32")))
    np.testing.assert_allclose(out[0, 2:-2, 2:-2, 0], 0.7, rtol=1e-6)


def test_channels_are_filtered_separately():
    images = np.zeros((1, 4, 4, 2), "float32")
    images[0, :, :, 1] = 1.0
    out = np.asarray(resample.Upsample()(images))
    assert np.all(out[..., 0] == 0.0) and out[..., 1].max() > 0


def test_bad_taps_and_odd_sizes_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="even length"):
        resample.Upsample(taps=[1, 2, 1])
    with pytest.raises(TypeError, match="list of numbers"):
        resample.Downsample(taps="1331")
    with pytest.raises(ValueError, match="non-negative"):
        resample.Upsample(taps=[1, -3, 3, 1])
    with pytest.raises(ValueError, match="must be even"):
        resample.Downsample()(np.zeros((1, 5, 4, 1), "float32"))


def test_both_layers_round_trip_through_keras_saving(tmp_path):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, resample.Downsample(taps=[1, 1])(resample.Upsample()(inputs)))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    images = np.random.default_rng(2).standard_normal((1, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(model(images)), atol=1e-6)
    assert loaded.layers[2].taps == (1.0, 1.0)
