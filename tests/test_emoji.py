"""The emoji dataset, read from tarballs built like emoji-datasource's: the catalogue and its labels, compositing
over white without resampling, the by-design split, the cache, and the errors for a wrong package."""
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import tarfile

import numpy as np
import pytest
from PIL import Image

from fixtures import fetched
from gan_utils import data, emoji, registry, settings

# Two designs with skin tones, one without, and an emoji outside the people subcategories.
ENTRIES = [
    {"short_name": "wave", "subcategory": "person-gesture", "sort_order": 3, "image": "1f64b.png",
     "has_img_google": True, "has_img_twitter": True,
     "skin_variations": {m: {"image": f"1f64b-{m.lower()}.png", "has_img_google": True, "has_img_twitter": True}
                         for m in emoji.SKIN_MODIFIERS}},
    {"short_name": "baby", "subcategory": "person", "sort_order": 1, "image": "1F476.png",
     "has_img_google": True, "has_img_twitter": True,
     "skin_variations": {"1F3FB": {"image": "1f476-1f3fb.png", "has_img_google": True, "has_img_twitter": False}}},
    {"short_name": "ninja", "subcategory": "person-role", "sort_order": 2, "image": "1f977.png",
     "has_img_google": True, "has_img_twitter": True},
    {"short_name": "grinning", "subcategory": "face-smiling", "sort_order": 0, "image": "1f600.png",
     "has_img_google": True, "has_img_twitter": True},
]
RED_HALF = (200, 0, 0, 128)  # a half-transparent red pixel; over white it is 255 - (255 - 200) * 128/255 etc.


def _png(size=64, colour=RED_HALF) -> bytes:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))  # transparent: white once composited
    image.putpixel((5, 7), colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _package(path: pathlib.Path, vendor: str, *, size=64, skip=()) -> pathlib.Path:
    stems = [pathlib.PurePath(v["image"]).stem.lower() for e in ENTRIES
             for v in [e, *(e.get("skin_variations") or {}).values()] if v.get(f"has_img_{vendor}")]
    with tarfile.open(path, "w:gz") as tar:
        for name, content in [*((f"package/img/{vendor}/64/{s}.png", _png(size)) for s in stems if s not in skip),
                              (f"package/img/{vendor}/32/{stems[0]}.png", _png(32)),
                              ("package/emoji.json", json.dumps(ENTRIES).encode())]:  # emoji.json last, as may be
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def tarballs(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "cache"))
    folder = tmp_path / "packages"
    folder.mkdir()
    files = {}
    for vendor in emoji.VENDORS:
        path = _package(folder / emoji.FILES[vendor].name, vendor)
        files[vendor] = dataclasses.replace(emoji.FILES[vendor], sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    monkeypatch.setattr(emoji, "FILES", files)
    return folder, files


def test_catalogue_lists_people_by_design_skin_tone_and_vendor():
    items, designs = emoji.catalogue(ENTRIES)
    assert designs == ("baby", "ninja", "wave")  # sort order; the smiling face is not a person
    assert [(i.stem, emoji.VENDORS[i.vendor], emoji.SKIN_TONES[i.skin_tone]) for i in items[:5]] == [
        ("1f476", "google", "none"), ("1f476", "twitter", "none"), ("1f476-1f3fb", "google", "light"),
        ("1f977", "google", "none"), ("1f977", "twitter", "none")]
    assert len(items) == 3 + 2 + 12  # baby: 3 images (twitter has no light variant), ninja 2, wave 6 tones x 2
    wave = [i for i in items if i.design == 2]
    assert sorted({i.skin_tone for i in wave}) == list(range(6)) and {i.subcategory for i in wave} == {3}


def test_composite_puts_transparency_over_white_without_resampling():
    pixels = emoji.composite(_png(), "test.png")
    assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8
    assert (pixels[0, 0] == 255).all()  # fully transparent: white
    alpha = 128 / 255
    expected = [round(200 * alpha + 255 * (1 - alpha)), round(255 * (1 - alpha)), round(255 * (1 - alpha))]
    assert np.abs(pixels[7, 5].astype(int) - expected).max() <= 1  # (x=5, y=7) over white
    with pytest.raises(ValueError, match="is 32x32, not 64x64"):
        emoji.composite(_png(32), "small.png")


def test_load_reads_the_verified_tarballs_and_labels_every_image(tarballs):
    folder, _ = tarballs
    dataset = emoji.load(folder)
    assert dataset.images.shape == (17, 64, 64, 3) and dataset.images.dtype == np.float32
    assert dataset.images.min() >= -1 and dataset.images.max() == 1
    assert dataset.class_names == emoji.SKIN_TONES and (dataset.labels == dataset.factors["skin_tone"]).all()
    assert set(dataset.factors) == {"vendor", "skin_tone", "design", "subcategory"}
    assert list(dataset.ids[:3]) == ["1f476", "1f476", "1f476-1f3fb"]
    assert (np.bincount(dataset.factors["vendor"]) == [9, 8]).all()


def test_the_decoded_arrays_are_cached_and_reused(tarballs):
    folder, files = tarballs
    first = emoji.arrays(files, folder)
    cached = list((settings.cache_dir() / "datasets").glob("emoji-*.npz"))
    assert len(cached) == 1 and not list(cached[0].parent.glob(".*"))  # written atomically, nothing partial left
    for path in folder.iterdir():
        path.unlink()  # the cache alone must do now
    again = emoji.arrays(files, folder)
    assert all(np.array_equal(first[key], again[key]) for key in first)


def test_a_tarball_that_is_not_the_pinned_one_is_refused_before_reading(tarballs):
    folder, files = tarballs
    with open(folder / files["google"].name, "ab") as stream:
        stream.write(b"junk")
    with pytest.raises(registry.FetchError, match="truncated or not the pinned emoji-datasource-google@16.0.0"):
        emoji.load(folder)


def test_a_package_missing_an_image_or_of_another_size_is_named(tmp_path):
    complete = {v: _package(tmp_path / f"{v}.tgz", v) for v in emoji.VENDORS}
    gap = {**complete, "twitter": _package(tmp_path / "gap.tgz", "twitter", skip={"1f977"})}
    with pytest.raises(ValueError, match="1 people emoji listed in emoji.json have no 64-pixel image, e.g. "
                                         "twitter/1f977"):
        emoji.decode(gap)
    resized = {**complete, "google": _package(tmp_path / "big.tgz", "google", size=72)}
    with pytest.raises(ValueError, match="is 72x72, not 64x64"):
        emoji.decode(resized)


def test_the_split_holds_out_whole_designs_deterministically(tarballs):
    folder, _ = tarballs
    dataset = emoji.load(folder)
    mask = emoji.heldout(dataset)
    assert (mask == emoji.heldout(dataset)).all() and mask.any() and not mask.all()
    held, kept = set(dataset.factors["design"][mask]), set(dataset.factors["design"][~mask])
    assert held and not held & kept  # every image of a held-out design, each tone and vendor, goes with it
    assert len(held) == 1  # a fifth of 3 designs, at least one


def test_heldout_groups_takes_a_fifth_of_the_groups_and_checks_its_input():
    groups = np.repeat(np.arange(172), 3)
    mask = data.heldout_groups(groups, seed=0)
    assert len(set(groups[mask])) == round(0.2 * 172) and mask.sum() == 3 * round(0.2 * 172)
    assert not (mask == data.heldout_groups(groups, seed=1)).all()
    with pytest.raises(ValueError, match="fraction must be between 0 and 1"):
        data.heldout_groups(groups, fraction=1.5)
    with pytest.raises(ValueError, match="one group per image"):
        data.heldout_groups(np.zeros((2, 2)))


def test_the_fetch_command_packs_both_vendors_verifies_and_decodes(tarballs, tmp_path, monkeypatch, capsys):
    from gan_utils.__main__ import main

    folder, files = tarballs
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"  # serves the test's tarballs by package name, as `npm pack NAME@VERSION` would
    npm.write_text("#!/bin/sh\n" + "".join(f'case "$3" in {f.package}@{f.version}) cp {folder / f.name} . ;; esac\n'
                                            for f in files.values()))
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(registry, "cache_dir", lambda: tmp_path / "fetched")
    assert main(["fetch", "emoji"]) == 0
    printed = capsys.readouterr().out
    assert "emoji: 2 files verified" in printed and "17 images decoded into the cache" in printed
    assert sorted(p.name for p in (tmp_path / "fetched").iterdir()) == sorted(f.name for f in files.values())
    assert emoji.load(tmp_path / "fetched").images.shape == (17, 64, 64, 3)


def test_skin_luminance_averages_the_warm_pixels_only():
    images = np.full((3, 4, 4, 3), 1.0, "float32")  # white background
    skin = np.array([0.9, 0.7, 0.5]) * 2 - 1  # a warm colour in [0, 1]: (0.9, 0.7, 0.5)
    images[0, :2] = skin  # half the image skin
    images[1, :1] = skin
    images[1, 1:2] = np.array([0.2, 0.4, 0.9]) * 2 - 1  # a cool (blue) colour is not skin
    luminance = emoji.skin_luminance(images)
    expected = 0.299 * 0.9 + 0.587 * 0.7 + 0.114 * 0.5
    np.testing.assert_allclose(luminance[:2], [expected, expected], rtol=1e-6)
    assert np.isnan(luminance[2])  # no skin pixels at all
    with pytest.raises(ValueError, match="colour"):
        emoji.skin_luminance(images[..., :1])


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji files are not fetched: python -m gan_utils fetch emoji")
def test_skin_luminance_falls_from_the_light_to_the_dark_modifier_on_the_data():
    dataset = emoji.load()
    luminance = emoji.skin_luminance(dataset.images)
    means = [np.nanmean(luminance[dataset.labels == tone]) for tone in range(1, 6)]
    assert all(a > b for a, b in zip(means, means[1:])), means
    # and within a design and vendor, each step to a darker modifier darkens it in most cases
    steps = []
    for design, vendor in set(zip(dataset.factors["design"], dataset.factors["vendor"])):
        same = (dataset.factors["design"] == design) & (dataset.factors["vendor"] == vendor)
        by_tone = dict(zip(dataset.labels[same], luminance[same]))
        steps += [by_tone[t] > by_tone[t + 1] for t in range(1, 5) if t in by_tone and t + 1 in by_tone]
    assert np.mean(steps) > 0.9, np.mean(steps)


def test_design_change_ignores_skin_and_averages_the_rest():
    before = np.full((1, 4, 4, 3), 1.0, "float32")
    before[0, :2] = np.array([0.9, 0.7, 0.5]) * 2 - 1  # 8 skin pixels
    before[0, 2, :2] = -1.0  # 2 black pixels (outline)
    after = before.copy()
    after[0, :2] = np.array([0.5, 0.35, 0.2]) * 2 - 1  # a darker skin: not counted
    assert emoji.design_change(before, after)[0] == 0.0
    after[0, 2, 0] = 0.0  # one outline pixel to grey: 0.5 of change on 1 of the 8 non-skin pixels
    np.testing.assert_allclose(emoji.design_change(before, after), [0.5 / 8], rtol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        emoji.design_change(before, after[:, :2])


def test_skin_tone_edit_judges_the_direction_of_the_skin_change_and_the_design_kept():
    before = np.full((3, 4, 4, 3), 1.0, "float32")
    before[:2, :2] = np.array([0.9, 0.7, 0.5]) * 2 - 1  # images 0 and 1: 8 skin pixels; image 2: no skin
    after = before.copy()
    after[:2, :2] = np.array([0.5, 0.35, 0.2]) * 2 - 1  # darker skin on both
    after[1, 3, :] = -1.0  # image 1 also loses its white bottom row: 4 of 8 non-skin pixels change by 1
    moved, kept = emoji.skin_tone_edit(before, after, darker=True, threshold=0.1)
    np.testing.assert_array_equal(moved, [True, True, False])  # no skin: cannot move
    np.testing.assert_array_equal(kept, [True, False, True])
    moved_lighter, _ = emoji.skin_tone_edit(before, after, darker=False, threshold=0.1)
    assert not moved_lighter.any()
    _, kept_loosely = emoji.skin_tone_edit(before, after, darker=True, threshold=0.5)
    assert kept_loosely[1]  # a change of exactly 0.5 is within the threshold


def test_tone_variant_pairs_pair_adjacent_modifiers_of_one_design_and_vendor():
    import types

    fake = types.SimpleNamespace(labels=np.array([1, 2, 3, 1, 2, 0, 1]),
                                 factors={"design": np.array([0, 0, 0, 0, 1, 1, 1]),
                                          "vendor": np.array([0, 0, 0, 1, 0, 0, 0])})
    first, second = emoji.tone_variant_pairs(fake)
    # design 0, vendor 0: tones 1-2 and 2-3; design 1: tones 1-2 (the "none" tone 0 pairs with nothing)
    assert sorted(zip(first.tolist(), second.tolist())) == [(0, 1), (1, 2), (6, 4)]


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji files are not fetched: python -m gan_utils fetch emoji")
def test_the_design_threshold_tells_tone_variants_from_different_designs():
    dataset = emoji.load()
    threshold, missed, false_keep = emoji.design_kept_threshold(dataset)
    first, second = emoji.tone_variant_pairs(dataset)
    same = emoji.design_change(dataset.images[first], dataset.images[second])
    assert missed == pytest.approx(np.mean(same > threshold), abs=0.01)
    assert missed < 0.1 and false_keep < 0.05  # the check is right for most real pairs of both kinds
