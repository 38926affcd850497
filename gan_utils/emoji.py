"""The emoji people: Noto's and Twemoji's "people" emoji at their native 64x64, read straight from the npm
tarballs of emoji-datasource, composited over white, with their labels and a split by base design.

Nothing is unpacked and nothing is resampled: one sequential pass over each tarball collects the 64-pixel PNGs
and `emoji.json`, and the decoded arrays are cached under a key made of the tarballs' sha256 and the reading
parameters.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pathlib
import tarfile

import numpy as np
from PIL import Image

from gan_utils import data, registry, settings

VERSION = "16.0.0"
RESOLUTION = 64  # native: the packages' 64-pixel images, never resampled
VENDORS = ("google", "twitter")
VENDOR_ART = {"google": "Noto Emoji (Google, Apache-2.0)", "twitter": "Twemoji (Twitter, CC-BY-4.0)"}
SUBCATEGORIES = ("person", "person-role", "person-fantasy", "person-gesture")
SKIN_MODIFIERS = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")  # Fitzpatrick 1-2 to 6: light to dark
SKIN_TONES = ("none", "light", "medium-light", "medium", "medium-dark", "dark")  # index 0: no modifier
BACKGROUND = 255  # composited over white
ATTRIBUTION = ("Emoji art: Noto Emoji by Google (Apache-2.0) and Twemoji by Twitter (CC-BY-4.0), "
               f"from emoji-datasource {VERSION}.")

FILES = {
    "google": registry.PackageFile(
        name=f"emoji-datasource-google-{VERSION}.tgz", client="npm", package="emoji-datasource-google",
        version=VERSION, sha256="fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438",
        manual=f"the emoji-data project's release v{VERSION} (github.com/iamcal/emoji-data)"),
    "twitter": registry.PackageFile(
        name=f"emoji-datasource-twitter-{VERSION}.tgz", client="npm", package="emoji-datasource-twitter",
        version=VERSION, sha256="f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877",
        manual=f"the emoji-data project's release v{VERSION} (github.com/iamcal/emoji-data)"),
}


@dataclasses.dataclass(frozen=True)
class Item:
    """One image's labels: its file stem (lowercase, as in the packages) and what it shows."""

    stem: str
    vendor: int  # index into VENDORS
    skin_tone: int  # index into SKIN_TONES
    design: int  # index into the catalogue's designs, in the packages' sort order
    subcategory: int  # index into SUBCATEGORIES


def catalogue(entries: list[dict], vendors=VENDORS) -> tuple[list[Item], tuple[str, ...]]:
    """The people emoji of `emoji.json` as items (design by design in sort order, skin tone, vendor) for every
    image a vendor draws, and the designs' names. A design's skin-tone variants share its design index."""
    people = sorted((e for e in entries if e.get("subcategory") in SUBCATEGORIES), key=lambda e: e["sort_order"])
    items, designs = [], []
    for entry in people:
        variants = [(0, entry)] + [(SKIN_MODIFIERS.index(key) + 1, variant)
                                   for key, variant in sorted((entry.get("skin_variations") or {}).items())
                                   if key in SKIN_MODIFIERS]
        for tone, variant in variants:
            for v, vendor in enumerate(vendors):
                if variant.get(f"has_img_{vendor}"):
                    items.append(Item(stem=pathlib.PurePath(variant["image"]).stem.lower(), vendor=VENDORS.index(vendor),
                                      skin_tone=tone, design=len(designs),
                                      subcategory=SUBCATEGORIES.index(entry["subcategory"])))
        designs.append(entry["short_name"])
    return items, tuple(designs)


def composite(png: bytes, name: str) -> np.ndarray:
    """A 64x64 RGBA PNG over white, as uint8 (64, 64, 3); ValueError for any other size (nothing is resampled)."""
    image = Image.open(io.BytesIO(png))
    if image.size != (RESOLUTION, RESOLUTION):
        raise ValueError(f"{name} is {image.size[0]}x{image.size[1]}, not {RESOLUTION}x{RESOLUTION}: the package is "
                         f"not emoji-datasource {VERSION} as pinned.")
    white = Image.new("RGBA", image.size, (BACKGROUND,) * 3 + (255,))
    return np.asarray(Image.alpha_composite(white, image.convert("RGBA")).convert("RGB"))


def read_tarball(path: pathlib.Path, vendor: str) -> tuple[list[dict], dict[str, bytes]]:
    """One sequential pass over a vendor's tarball: its `emoji.json` and the bytes of every 64-pixel PNG by stem."""
    folder = f"package/img/{vendor}/{RESOLUTION}/"
    entries, pngs = None, {}
    with tarfile.open(path, mode="r|gz") as tar:  # a stream: members are read in order, never seeked
        for member in tar:
            if member.name == "package/emoji.json":
                entries = json.load(tar.extractfile(member))
            elif member.name.startswith(folder) and member.name.endswith(".png") and member.isfile():
                pngs[member.name[len(folder):-len(".png")].lower()] = tar.extractfile(member).read()
    if entries is None:
        raise ValueError(f"{path} holds no package/emoji.json: it is not an emoji-datasource tarball.")
    return entries, pngs


def decode(tarballs: dict[str, pathlib.Path]) -> dict:
    """The dataset's arrays from the vendors' tarballs: uint8 images (N, 64, 64, 3), the label columns, the stems
    and the designs' names, with the catalogue taken from the first vendor's `emoji.json`."""
    read = {vendor: read_tarball(path, vendor) for vendor, path in tarballs.items()}
    items, designs = catalogue(read[next(iter(tarballs))][0], vendors=tuple(tarballs))
    missing = [f"{VENDORS[i.vendor]}/{i.stem}" for i in items if i.stem not in read[VENDORS[i.vendor]][1]]
    if missing:
        raise ValueError(f"{len(missing)} people emoji listed in emoji.json have no 64-pixel image, e.g. "
                         f"{', '.join(missing[:3])}: the tarballs are not emoji-datasource {VERSION} as pinned.")
    images = np.stack([composite(read[VENDORS[i.vendor]][1][i.stem], f"{VENDORS[i.vendor]}/{i.stem}.png")
                       for i in items])
    columns = {key: np.array([getattr(i, key) for i in items], np.int64)
               for key in ("vendor", "skin_tone", "design", "subcategory")}
    return {"images": images, "stems": np.array([i.stem for i in items]), "designs": np.array(designs), **columns}


def cache_key(files: dict[str, registry.PackageFile]) -> str:
    """What the decoded arrays depend on: the tarballs' hashes and the reading parameters."""
    parameters = json.dumps({"version": VERSION, "resolution": RESOLUTION, "background": BACKGROUND,
                             "subcategories": SUBCATEGORIES, "sha256": {v: f.sha256 for v, f in files.items()}},
                            sort_keys=True)
    return hashlib.sha256(parameters.encode()).hexdigest()[:16]


def arrays(files: dict[str, registry.PackageFile] | None = None, folder: pathlib.Path | None = None) -> dict:
    """The decoded arrays, from the cache if present, else from the verified tarballs (then cached atomically).
    `files` defaults to FILES, the pinned tarballs."""
    files = files or FILES
    cached = settings.cache_dir() / "datasets" / f"emoji-{VERSION}-{cache_key(files)}.npz"
    if cached.is_file():
        with np.load(cached) as stored:
            return {key: stored[key] for key in stored.files}
    decoded = decode({vendor: registry.verified(file, folder) for vendor, file in files.items()})
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}.npz")
    np.savez(partial, **decoded)
    os.replace(partial, cached)
    return decoded


def load(folder: pathlib.Path | None = None) -> data.ImageDataset:
    """The 1,994 people emoji as float32 (1994, 64, 64, 3) in [-1, 1]. Labels are the skin tones (0: none, then
    light to dark); the factors are vendor, skin_tone, design and subcategory; the ids are the file stems.
    `folder` holds the tarballs (default: registry.cache_dir())."""
    decoded = arrays(folder=folder)
    images = data.uint8_to_unit(decoded["images"])
    factors = {key: decoded[key] for key in ("vendor", "skin_tone", "design", "subcategory")}
    return data.ImageDataset(name="emoji", images=images, labels=decoded["skin_tone"], class_names=SKIN_TONES,
                             factors=factors, ids=decoded["stems"], split_by="design")


def heldout(dataset: data.ImageDataset, seed: int = 0) -> np.ndarray:
    """The held-out mask: every image (each skin tone, both vendors) of a seeded fifth of the base designs."""
    return data.heldout_groups(dataset.groups, seed=seed)


SKIN_MIN_RED_OVER_BLUE = 0.15  # skin and its shading are warm: red above blue by this much of the [0, 1] range
SKIN_MAX_VALUE = 0.98  # brighter pixels are the white background


def _unit_and_skin(images) -> tuple[np.ndarray, np.ndarray]:
    """Images in [0, 1] and their skin-coloured pixels: red >= green >= blue, red - blue >= 0.15, not background."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be colour (N, H, W, 3) in [-1, 1]; got shape {images.shape}.")
    unit = (images + 1.0) / 2.0
    red, green, blue = unit[..., 0], unit[..., 1], unit[..., 2]
    return unit, (red >= green) & (green >= blue) & (red - blue >= SKIN_MIN_RED_OVER_BLUE) & (red < SKIN_MAX_VALUE)


def skin_luminance(images) -> np.ndarray:
    """Each image's mean luminance (Rec. 601, in [0, 1]) over its skin-coloured pixels, NaN where it has none: a
    skin-tone check that needs no classifier. On the dataset it falls from the light modifier to the dark one
    (tests/test_emoji.py)."""
    unit, skin = _unit_and_skin(images)
    luminance = 0.299 * unit[..., 0] + 0.587 * unit[..., 1] + 0.114 * unit[..., 2]
    counts = skin.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (luminance * skin).sum(axis=(1, 2)) / counts, np.nan)


def design_change(before, after) -> np.ndarray:
    """Per pair, the mean absolute change (in [0, 1] units) of the pixels that are skin-coloured in neither image:
    what changed besides the skin. Two skin-tone variants of one real design score near 0."""
    unit_before, skin_before = _unit_and_skin(before)
    unit_after, skin_after = _unit_and_skin(after)
    if unit_before.shape != unit_after.shape:
        raise ValueError(f"before and after must have one shape; got {unit_before.shape} and {unit_after.shape}.")
    rest = ~skin_before & ~skin_after
    change = np.abs(unit_before - unit_after).mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rest.any(axis=(1, 2)), (change * rest).sum(axis=(1, 2)) / rest.sum(axis=(1, 2)), np.nan)


def skin_tone_edit(before, after, darker: bool, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Per image, whether an edit towards darker (or lighter) skin moved skin_luminance the intended way (an image
    without skin pixels fails) and whether it kept the design (design_change at most threshold)."""
    moved = skin_luminance(after) - skin_luminance(before)
    with np.errstate(invalid="ignore"):
        intended = (moved < 0) if darker else (moved > 0)  # NaN compares False
        return intended, design_change(before, after) <= threshold


def tone_variant_pairs(dataset: data.ImageDataset) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b) of one design and vendor drawn with adjacent skin-tone modifiers (light and
    medium-light, ...): the changes a perfect skin-tone edit makes."""
    key = {(d, v, t): i for i, (d, v, t) in enumerate(zip(dataset.factors["design"], dataset.factors["vendor"],
                                                             dataset.labels))}
    pairs = [(i, key[(d, v, t + 1)]) for (d, v, t), i in key.items() if t >= 1 and (d, v, t + 1) in key]
    return tuple(np.array(side) for side in zip(*pairs)) if pairs else (np.array([], int), np.array([], int))


def design_kept_threshold(dataset: data.ImageDataset, seed: int = 0) -> tuple[float, float, float]:
    """The design_change below which an edit keeps an emoji's design: the threshold that best separates real pairs of
    one design in adjacent skin tones (tone_variant_pairs) from as many random pairs of different designs, with the
    fewest errors of both kinds summed. Returns it with the share of same-design pairs above it and the share of
    different-design pairs below it."""
    first, second = tone_variant_pairs(dataset)
    other = np.random.default_rng(seed).permutation(len(dataset))[:len(first)]
    strangers = dataset.factors["design"][other] != dataset.factors["design"][first]
    same = design_change(dataset.images[first], dataset.images[second])
    different = design_change(dataset.images[first][strangers], dataset.images[other][strangers])
    same, different = np.sort(same[np.isfinite(same)]), np.sort(different[np.isfinite(different)])
    candidates = np.unique(np.concatenate([same, different]))
    missed = 1.0 - np.searchsorted(same, candidates, side="right") / len(same)
    false_keep = np.searchsorted(different, candidates, side="right") / len(different)
    best = int(np.argmin(missed + false_keep))
    return float(candidates[best]), float(missed[best]), float(false_keep[best])
