"""Tests for gan_utils.data: offline datasets, the checked download path, the folder loader and pipelines."""
import dataclasses
import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from gan_utils import data

UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: refused at once, no real network attempt


def assert_book_images(images, n, channels):
    assert images.shape == (n, 32, 32, channels)
    assert images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0


# ---------------------------------------------------------------- check_images


def test_check_images_accepts_float32_nhwc_in_range():
    data.check_images(np.zeros((2, 32, 32, 3), np.float32))


def test_check_images_rejects_uint8_with_the_rescaling_fix():
    with pytest.raises(TypeError, match=r"127\.5"):
        data.check_images(np.zeros((2, 32, 32, 1), np.uint8))


def test_check_images_rejects_0_255_floats_with_the_rescaling_fix():
    images = np.full((2, 32, 32, 1), 255.0, np.float32)
    with pytest.raises(ValueError, match=r"max 255\.0\. Divide by 127\.5 and subtract 1"):
        data.check_images(images)


@pytest.mark.parametrize("shape", [(32, 32, 3), (2, 3, 32, 32)])
def test_check_images_rejects_non_nhwc_shapes(shape):
    with pytest.raises(ValueError, match="NHWC"):
        data.check_images(np.zeros(shape, np.float32))


def test_check_images_rejects_nan_and_lists():
    with pytest.raises(ValueError, match="NaN"):
        data.check_images(np.full((1, 32, 32, 1), np.nan, np.float32))
    with pytest.raises(TypeError, match="NumPy array"):
        data.check_images([[0.0]])


def test_image_dataset_rejects_labels_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        data.ImageDataset("x", np.zeros((3, 32, 32, 1), np.float32), np.zeros(2, np.int64), None)


# ---------------------------------------------------------------- digits


def test_digits_are_1797_grey_32x32_images_with_labels():
    ds = data.load_digits()
    assert_book_images(ds.images, 1797, 1)
    assert len(ds) == 1797 and ds.channels == 1
    assert ds.labels.dtype == np.int64 and set(ds.labels) == set(range(10))
    assert ds.class_names == tuple("0123456789")
    # 0 ink maps to -1 and full ink to +1: background corners are black, strokes reach white.
    assert ds.images[:, 0, 0, 0].max() == -1.0
    assert ds.images.max() == 1.0


def test_digits_resize_keeps_the_8x8_picture():
    from sklearn.datasets import load_digits

    small = load_digits().images[0] / 8.0 - 1.0
    big = data.load_digits().images[0, :, :, 0]
    block_means = big.reshape(8, 4, 8, 4).mean(axis=(1, 3))
    assert np.corrcoef(block_means.ravel(), small.ravel())[0, 1] > 0.95


# ---------------------------------------------------------------- shapes


def test_shapes_have_book_format_and_factors_in_range():
    ds = data.make_shapes(300, seed=0)
    assert_book_images(ds.images, 300, 3)
    assert set(ds.factors) == set(data.SHAPE_FACTORS)
    for key, count in data.SHAPE_FACTORS.items():
        assert ds.factors[key].min() >= 0 and ds.factors[key].max() < count
    assert np.array_equal(ds.labels, ds.factors["kind"])
    assert ds.class_names == ("square", "circle", "triangle")


def test_shapes_are_deterministic_in_the_seed():
    a, b, c = data.make_shapes(50, seed=1), data.make_shapes(50, seed=1), data.make_shapes(50, seed=2)
    assert np.array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)


def test_shapes_background_is_black_and_shapes_have_a_dimmed_palette_colour():
    ds = data.make_shapes(200, seed=3)
    palette = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1], [1, 1, -1]], np.float32)
    low, high = data.BRIGHTNESS_RANGE
    for image, colour in zip(ds.images, ds.factors["colour"]):
        lit = (image > -1).any(axis=-1)
        assert 0 < lit.sum() < lit.size
        brightest = image.reshape(-1, 3)[np.argmax(image.sum(axis=-1))]  # a fully covered pixel
        off = palette[colour] == -1
        np.testing.assert_array_equal(brightest[off], -1)  # the palette's other channels stay black
        on = (brightest[~off] + 1) / 2
        assert low - 1e-6 <= on.min() and on.max() <= high + 1e-6 and np.ptp(on) < 1e-6  # one factor
        assert (image[~lit] == -1).all()


def test_shapes_area_grows_with_size_and_differs_by_kind():
    ds = data.make_shapes(3000, seed=4, channels=1)
    area = ((ds.images[..., 0] + 1) / 2).sum(axis=(1, 2))  # brightness-weighted
    covered = (ds.images[..., 0] > -1).sum(axis=(1, 2))
    kind, size = ds.factors["kind"], ds.factors["size"]
    for k in range(3):
        by_size = [covered[(kind == k) & (size == s)] for s in range(3)]
        assert by_size[0].max() < by_size[1].min() and by_size[1].max() < by_size[2].min()  # sizes stay apart
    for s in range(3):
        means = [area[(kind == k) & (size == s)].mean() for k in range(3)]
        assert len({round(m) for m in means}) == 3  # square, circle and triangle of one size differ


def test_shapes_position_factors_move_the_centre_of_mass():
    ds = data.make_shapes(500, seed=5, channels=1)
    ink = ds.images[..., 0] + 1
    cols = np.arange(32) + 0.5
    centre_x = (ink.sum(axis=1) * cols).sum(axis=1) / ink.sum(axis=(1, 2))
    for x, expected in enumerate(data.SHAPE_POSITIONS):
        offsets = centre_x[ds.factors["x"] == x] - expected
        assert np.abs(offsets).max() < data.POSITION_JITTER + 1.0  # the triangle's mass sits below its centre
        assert offsets.std() > 0.5  # jittered, not on a grid


def test_shapes_grey_levels_stay_in_four_separate_bands():
    ds = data.make_shapes(400, seed=6, channels=1)
    assert_book_images(ds.images, 400, 1)
    brightest = ds.images.max(axis=(1, 2, 3))
    bands = [brightest[ds.factors["colour"] == c] for c in range(data.SHAPE_FACTORS["colour"])]
    assert all(a.max() < b.min() for a, b in zip(bands, bands[1:]))


def test_shapes_never_repeat_an_image_even_within_one_factor_combination():
    ds = data.make_shapes(2000, seed=7, channels=1)
    flat = ds.images.reshape(len(ds), -1)
    assert len(np.unique(flat, axis=0)) == len(ds)
    keys = np.stack([ds.factors[k] for k in data.SHAPE_FACTORS], axis=1)
    _, combination = np.unique(keys, axis=0, return_inverse=True)
    twins = [np.flatnonzero(combination == c) for c in np.unique(combination)]
    closest = min(np.abs(flat[g[0]] - flat[g[1]]).max() for g in twins if len(g) > 1)
    assert closest > 0.01  # same factors, still visibly different pixels


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 2.5}, {"n": 5, "channels": 2}])
def test_shapes_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        data.make_shapes(**kwargs)


# ---------------------------------------------------------------- toy2d


def test_toy2d_ring_points_lie_near_eight_centres_on_radius_two():
    toy = data.make_toy2d(n=4000, seed=0)
    assert toy.points.shape == (4000, 2) and toy.points.dtype == np.float32
    assert toy.centres.shape == (8, 2) and toy.std == 0.05
    np.testing.assert_allclose(np.linalg.norm(toy.centres, axis=1), 2.0, rtol=1e-6)
    offsets = toy.points - toy.centres[toy.labels]
    assert abs(offsets.std() - 0.05) < 0.005
    assert toy.modes_covered(toy.points) == 8
    assert toy.high_quality_fraction(toy.points) > 0.98
    assigned = toy.assign_modes(toy.points)
    assert np.array_equal(assigned[assigned >= 0], toy.labels[assigned >= 0])


def test_toy2d_is_deterministic_in_the_seed():
    a, b, c = (data.make_toy2d(n=100, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


def test_toy2d_grid_has_a_square_grid_within_minus_two_two():
    toy = data.make_toy2d("grid", n=500, seed=0)
    assert toy.centres.shape == (25, 2)
    assert np.unique(toy.centres[:, 0]).tolist() == [-2, -1, 0, 1, 2]
    with pytest.raises(ValueError, match="perfect square"):
        data.make_toy2d("grid", modes=8)


@pytest.mark.parametrize("kwargs", [{"kind": "spiral"}, {"n": 0}, {"std": 0.0}, {"modes": 0}])
def test_toy2d_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        data.make_toy2d(**kwargs)


@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_toy2d_density_integrates_to_one(kind):
    toy = data.make_toy2d(kind, n=10)
    step = 0.01
    ticks = np.arange(-3, 3, step) + step / 2
    xy = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
    assert abs(toy.density(xy).sum() * step**2 - 1.0) < 1e-3


def test_toy2d_density_peaks_at_the_centres():
    toy = data.make_toy2d(n=10)
    peak = 1 / (8 * 2 * np.pi * 0.05**2)
    np.testing.assert_allclose(toy.density(toy.centres), peak, rtol=1e-6)
    assert toy.density(np.zeros((1, 2)))[0] < 1e-100


def test_assign_modes_uses_the_max_std_radius():
    toy = data.make_toy2d(n=10)
    outward = toy.centres[3] / np.linalg.norm(toy.centres[3])
    inside = toy.centres[3] + 2.9 * toy.std * outward
    outside = toy.centres[3] + 3.1 * toy.std * outward
    assert toy.assign_modes(np.stack([inside, outside])).tolist() == [3, -1]
    assert toy.assign_modes(outside[None], max_std=4.0).tolist() == [3]


def test_modes_covered_counts_centres_with_enough_points():
    toy = data.make_toy2d(n=10)
    assert toy.modes_covered(np.repeat(toy.centres[:1], 100, axis=0)) == 1
    assert toy.modes_covered(np.repeat(toy.centres, 10, axis=0)) == 8
    assert toy.modes_covered(np.zeros((100, 2))) == 0
    mostly_one = np.concatenate([np.repeat(toy.centres[:1], 99, axis=0), toy.centres[1:2]])
    assert toy.modes_covered(mostly_one, min_fraction=0.01) == 2
    assert toy.modes_covered(mostly_one, min_fraction=0.05) == 1


def test_high_quality_fraction_counts_points_near_any_centre():
    toy = data.make_toy2d(n=10)
    points = np.concatenate([toy.centres[:3], np.zeros((1, 2))])
    assert toy.high_quality_fraction(points) == 0.75
    with pytest.raises(ValueError, match=r"\(M, 2\)"):
        toy.high_quality_fraction(np.zeros((4, 3)))


# ---------------------------------------------------------------- downloads


def unreachable(monkeypatch, name, sha256=None):
    """Point the dataset's downloads at a refused local port, optionally with another expected hash."""
    specs = tuple(
        dataclasses.replace(spec, origin=UNREACHABLE + spec.fname, sha256=sha256 or spec.sha256)
        for spec in data.DOWNLOADS[name]
    )
    monkeypatch.setitem(data.DOWNLOADS, name, specs)


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_specs_use_the_keras_origins_and_hashes():
    (mnist,) = data.DOWNLOADS["mnist"]
    assert mnist.origin == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert mnist.sha256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    (cifar,) = data.DOWNLOADS["cifar10"]
    assert cifar.origin == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert cifar.sha256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_offline_download_raises_one_clear_error_naming_offline_datasets(monkeypatch, tmp_path, name):
    unreachable(monkeypatch, name)
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load(name, cache_dir=tmp_path)
    message = str(info.value)
    assert f"Could not download '{name}'" in message
    for offline in ("digits", "shapes", "toy2d"):
        assert offline in message
    assert str(tmp_path / "datasets") in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert isinstance(info.value, ConnectionError)


def write_fake_mnist(tmp_path, n=5):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    y = np.arange(n, dtype=np.uint8) % 10
    path = tmp_path / "datasets" / "mnist.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
    return path, x, y


def test_mnist_loads_a_hash_checked_cache_file_and_pads_with_background(monkeypatch, tmp_path):
    path, x, y = write_fake_mnist(tmp_path)
    unreachable(monkeypatch, "mnist", sha256=sha256_of(path))
    ds = data.load_mnist(cache_dir=tmp_path)
    assert_book_images(ds.images, 5, 1)
    assert (ds.images[:, :2] == -1).all() and (ds.images[:, -2:] == -1).all()
    assert (ds.images[:, :, :2] == -1).all() and (ds.images[:, :, -2:] == -1).all()
    np.testing.assert_allclose(ds.images[:, 2:30, 2:30, 0], x / 127.5 - 1, atol=1e-6)
    assert ds.labels.tolist() == y.tolist() and ds.labels.dtype == np.int64
    assert ds.class_names == tuple("0123456789")


def test_mnist_cache_file_with_wrong_hash_is_downloaded_again(monkeypatch, tmp_path):
    write_fake_mnist(tmp_path)
    unreachable(monkeypatch, "mnist", sha256="0" * 64)
    with pytest.raises(data.DatasetUnavailableError):
        data.load_mnist(cache_dir=tmp_path)


def test_load_dispatches_to_mnist_and_takes_a_subset(monkeypatch, tmp_path):
    path, x, _ = write_fake_mnist(tmp_path)
    unreachable(monkeypatch, "mnist", sha256=sha256_of(path))
    ds = data.load("mnist", n=3, seed=0, cache_dir=tmp_path)
    assert len(ds) == 3 and ds.name == "mnist"


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def write_fake_fashion(tmp_path, n=4):
    folder = tmp_path / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    x = np.full((n, 28, 28), 255, np.uint8)
    y = np.array([9, 0, 3, 7][:n], np.uint8)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(idx_bytes(x))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(idx_bytes(y))
    return folder, y


def test_fashion_mnist_parses_cached_idx_files(monkeypatch, tmp_path):
    _, y = write_fake_fashion(tmp_path)
    unreachable(monkeypatch, "fashion_mnist")
    ds = data.load_fashion_mnist(cache_dir=tmp_path)
    assert_book_images(ds.images, 4, 1)
    assert (ds.images[:, 2:30, 2:30] == 1).all() and ds.images[:, :2].max() == -1
    assert ds.labels.tolist() == y.tolist()
    assert ds.class_names[9] == "Ankle boot"


def test_fashion_mnist_rejects_a_corrupt_idx_file_by_name(monkeypatch, tmp_path):
    folder, _ = write_fake_fashion(tmp_path)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03garbage"))
    unreachable(monkeypatch, "fashion_mnist")
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz is not a valid 3-D IDX file; delete it"):
        data.load_fashion_mnist(cache_dir=tmp_path)


def write_fake_cifar(tmp_path, per_batch=2):
    path = tmp_path / "datasets" / "cifar-10-python.tar.gz"
    path.parent.mkdir(parents=True)
    chw = np.zeros((per_batch, 3, 32, 32), np.uint8)
    chw[:, 0] = 255  # red plane full, green empty, blue half-way
    chw[:, 2] = 128
    with tarfile.open(path, "w:gz") as tar:
        for i in range(1, 6):
            batch = {b"batch_label": b"fake", b"data": chw.reshape(per_batch, -1), b"labels": [i] * per_batch}
            # Protocol 3 stores bytes natively, as the Python 2 originals store their str data.
            payload = pickle.dumps(batch, protocol=3)
            info = tarfile.TarInfo(f"cifar-10-batches-py/data_batch_{i}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def test_cifar10_parses_a_hash_checked_cached_archive_channels_last(monkeypatch, tmp_path):
    path = write_fake_cifar(tmp_path)
    unreachable(monkeypatch, "cifar10", sha256=sha256_of(path))
    ds = data.load_cifar10(cache_dir=tmp_path)
    assert_book_images(ds.images, 10, 3)
    assert (ds.images[..., 0] == 1).all() and (ds.images[..., 1] == -1).all()
    np.testing.assert_allclose(ds.images[..., 2], 128 / 127.5 - 1, atol=1e-6)
    assert ds.labels.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert ds.class_names[0] == "airplane"


def test_cifar10_refuses_pickles_that_would_run_code(monkeypatch, tmp_path):
    path = tmp_path / "datasets" / "cifar-10-python.tar.gz"
    path.parent.mkdir(parents=True)
    payload = pickle.dumps({b"data": dataclasses.replace}, protocol=3)
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    unreachable(monkeypatch, "cifar10", sha256=sha256_of(path))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        data.load_cifar10(cache_dir=tmp_path)


# ---------------------------------------------------------------- folder


def save(path, array):
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def test_folder_loads_png_and_jpeg_of_any_size_sorted(tmp_path):
    save(tmp_path / "b.PNG", np.full((40, 60, 3), 255))
    save(tmp_path / "a.jpg", np.zeros((100, 50, 3)))
    save(tmp_path / "c.jpeg", np.full((32, 32, 3), 255))
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "sub").mkdir()
    save(tmp_path / "sub" / "d.png", np.zeros((8, 8, 3)))  # subfolders are not searched
    ds = data.load_folder(tmp_path)
    assert_book_images(ds.images, 3, 3)
    assert ds.labels is None and ds.class_names is None
    np.testing.assert_allclose(ds.images.mean(axis=(1, 2, 3)), [-1, 1, 1], atol=0.02)  # a, b, c
    assert data.load_folder(tmp_path, channels=1).images.shape == (3, 32, 32, 1)


@pytest.mark.parametrize("wide", [True, False])
def test_folder_centre_crops_non_square_images(tmp_path, wide):
    thirds = np.zeros((64, 192, 3), np.uint8)
    thirds[:, :64, 0], thirds[:, 64:128, 1], thirds[:, 128:, 2] = 255, 255, 255  # red | green | blue
    save(tmp_path / "x.png", thirds if wide else thirds.transpose(1, 0, 2))
    image = data.load_folder(tmp_path).images[0]
    np.testing.assert_allclose(image[..., 1], 1.0, atol=0.15)  # only the green middle third is kept
    np.testing.assert_allclose(image[..., [0, 2]], -1.0, atol=0.15)


def test_folder_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        data.load_folder(tmp_path / "missing")
    empty, nested, others, broken = (tmp_path / name for name in ("empty", "nested", "others", "broken"))
    for folder in (empty, nested / "cats", others, broken):
        folder.mkdir(parents=True)
    with pytest.raises(ValueError, match=r"No images \(\.jpg, \.jpeg, \.png\) found in .*empty: it is empty; put"):
        data.load_folder(empty)
    save(nested / "cats" / "tom.png", np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match=r"nested: subfolders \(cats\) are not searched, so put the image files"):
        data.load_folder(nested)
    for name in ("notes.txt", "a.gif", "b.webp", "c.bmp"):
        (others / name).write_bytes(b"not one of the accepted formats")
    with pytest.raises(ValueError, match=r"others: it holds only other files \(a\.gif, b\.webp, c\.bmp, \.\.\.\); "
                                         "convert your images to one of those formats"):
        data.load_folder(others)
    save(broken / "good.png", np.zeros((32, 32, 3)))
    (broken / "broken.png").write_text("this is not a PNG")
    with pytest.raises(ValueError, match="Could not read broken.png"):
        data.load_folder(broken)


# ---------------------------------------------------------------- load()


def test_load_rejects_unknown_names_listing_the_valid_ones():
    with pytest.raises(ValueError, match="digits, shapes, mnist, fashion_mnist, cifar10, emoji, cjk, folder"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="make_toy2d"):
        data.load("toy2d")


def test_load_checks_path_belongs_to_folder_only(tmp_path):
    with pytest.raises(ValueError, match="needs path="):
        data.load("folder")
    with pytest.raises(ValueError, match="only for"):
        data.load("digits", path=tmp_path)


def test_load_subset_is_deterministic_in_the_seed():
    a, b, c = (data.load("digits", n=100, seed=s) for s in (3, 3, 4))
    assert_book_images(a.images, 100, 1)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.labels, c.labels)


@pytest.mark.parametrize("n", [0, -1, 1798, 2.0])
def test_load_rejects_bad_subset_sizes(n):
    with pytest.raises(ValueError, match="n"):
        data.load("digits", n=n)


def test_load_shapes_draws_n_images():
    ds = data.load("shapes", n=40, seed=2)
    assert len(ds) == 40 and np.array_equal(ds.images, data.make_shapes(40, seed=2).images)


# ---------------------------------------------------------------- make_pipeline


def epoch_orders(dataset, count):
    """The label order of each epoch in a pipeline whose epochs hold `count` labels each."""
    order = np.concatenate([labels.numpy() for _, labels in dataset]).tolist()
    return [order[i:i + count] for i in range(0, len(order), count)]


def test_pipeline_yields_full_batches_only():
    images = data.make_shapes(10, seed=0, channels=1).images
    batches = list(data.make_pipeline(images, batch_size=4, seed=0, epochs=2))
    assert [tuple(b.shape) for b in batches] == [(4, 32, 32, 1)] * 4  # 2 left over in each epoch are dropped
    assert batches[0].dtype.name == "float32"


def test_pipeline_batches_hold_the_right_images_for_their_labels():
    ds = data.make_shapes(32, seed=0, channels=1)
    for batch, ids in data.make_pipeline(ds.images, np.arange(32), batch_size=8, seed=3):
        np.testing.assert_array_equal(batch.numpy(), ds.images[ids.numpy()])


def test_pipeline_reshuffles_each_epoch_and_repeats_with_the_seed():
    ds = data.make_shapes(64, seed=0, channels=1)
    ids = np.arange(64)
    first, second = epoch_orders(data.make_pipeline(ds.images, ids, batch_size=8, seed=7, epochs=2), 64)
    assert sorted(first) == ids.tolist() and sorted(second) == ids.tolist()
    assert first != second
    assert epoch_orders(data.make_pipeline(ds.images, ids, batch_size=8, seed=7, epochs=2), 64) == [first, second]
    assert epoch_orders(data.make_pipeline(ds.images, ids, batch_size=8, seed=8, epochs=2), 64)[0] != first


def test_pipeline_resumed_at_an_epoch_gives_that_epochs_batches():
    ds = data.make_shapes(40, seed=0, channels=1)
    ids = np.arange(40)
    full = epoch_orders(data.make_pipeline(ds.images, ids, batch_size=10, seed=5, epochs=4), 40)
    resumed = epoch_orders(data.make_pipeline(ds.images, ids, batch_size=10, seed=5, epochs=4, first_epoch=2), 40)
    assert resumed == full[2:]


def test_pipeline_without_shuffle_keeps_the_order():
    ds = data.make_shapes(16, seed=0, channels=1)
    orders = epoch_orders(data.make_pipeline(ds.images, np.arange(16), batch_size=4, seed=0, epochs=2,
                                             shuffle=False), 16)
    assert orders == [list(range(16))] * 2


def test_pipeline_rejects_bad_input_with_the_fix():
    uint8 = np.zeros((8, 32, 32, 1), np.uint8)
    with pytest.raises(TypeError, match=r"127\.5"):
        data.make_pipeline(uint8, batch_size=2, seed=0)
    with pytest.raises(ValueError, match="NHWC"):
        data.make_pipeline(np.zeros((8, 32, 32), np.float32), batch_size=2, seed=0)
    images = np.zeros((8, 32, 32, 1), np.float32)
    with pytest.raises(ValueError, match="larger than the dataset .8 images.*no batch"):
        data.make_pipeline(images, batch_size=9, seed=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        data.make_pipeline(images, batch_size=0, seed=0)
    with pytest.raises(ValueError, match="one entry per image"):
        data.make_pipeline(images, np.arange(7), batch_size=2, seed=0)
    with pytest.raises(ValueError, match="first_epoch must be an integer in"):
        data.make_pipeline(images, batch_size=2, seed=0, epochs=3, first_epoch=3)


def test_a_folder_loads_at_64_and_128_pixels_and_refuses_other_sizes(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((90, 120, 3), 200, np.uint8)).save(tmp_path / "a.png")
    for side in (64, 128):
        assert data.load("folder", path=tmp_path, resolution=side).images.shape == (1, side, side, 3)
    with pytest.raises(ValueError, match="resolution must be one of 32, 64, 128"):
        data.load_folder(tmp_path, resolution=48)
    with pytest.raises(ValueError, match='resolution= is only for load\\("folder"\\)'):
        data.load("digits", resolution=64)


def test_a_dataset_split_by_a_factor_keeps_it_through_subsets():
    images = np.zeros((6, 64, 64, 3), np.float32)
    dataset = data.ImageDataset("toy", images, None, None, factors={"design": np.array([0, 0, 1, 1, 2, 2])},
                                ids=np.array(list("abcdef")), split_by="design")
    assert dataset.resolution == 64 and list(dataset.groups) == [0, 0, 1, 1, 2, 2]
    part = dataset.subset([1, 2])
    assert part.split_by == "design" and list(part.groups) == [0, 1] and list(part.ids) == ["b", "c"]
    with pytest.raises(ValueError, match="split_by='skin' must name one of its factors"):
        data.ImageDataset("toy", images, None, None, factors={"design": np.zeros(6, int)}, split_by="skin")
    with pytest.raises(ValueError, match="must be square"):
        data.ImageDataset("toy", np.zeros((2, 32, 64, 3), np.float32), None, None)
