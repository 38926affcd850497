"""Chinese characters: the 3,755 GB2312 level-1 hanzi rendered at 64x64 in Noto Sans and Noto Serif CJK SC,
Regular and Bold, from Debian's fonts-noto-cjk (SIL Open Font License 1.1).

Rendering is deterministic: black ink on white, the em box centred on the canvas, one size for every face, so
a character sits in the same place in every face (what Sans-to-Serif translation needs). The rendering
parameters are part of the cache key.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gan_utils import data, registry, settings

RESOLUTION = 64
FONT_SIZE = 56  # pixels per em: the em box fills the canvas but for a 4-pixel margin on each side
INK, PAPER = 0, 255
EM_BOX_CENTRE = 0.38  # Noto CJK's ideographic em box runs from 0.88 em above the baseline to 0.12 em below
SC_INDEX = 2  # the Simplified Chinese face inside each Noto CJK collection (.ttc)
DEBIAN_PACKAGE, DEBIAN_VERSION = "fonts-noto-cjk", "1:20220127+repack1-1"  # Sans 2.004, Serif 2.001
FONT_DIR = "/usr/share/fonts/opentype/noto/"
FACES = ("sans-regular", "sans-bold", "serif-regular", "serif-bold")
_FONTS = {  # face -> (file, sha256, the family and style the file's SC face must report)
    "sans-regular": ("NotoSansCJK-Regular.ttc", "b76b0433203017ca80401b2ee0dd69350349871c4b19d504c34dbdd80541690a",
                     ("Noto Sans CJK SC", "Regular")),
    "sans-bold": ("NotoSansCJK-Bold.ttc", "faa5f3656a78b2e2d450d27fe8382c778bc2b6bb5ea29c986664a6a435056ceb",
                  ("Noto Sans CJK SC", "Bold")),
    "serif-regular": ("NotoSerifCJK-Regular.ttc", "a04178ec485dffdff7cc0c0c20e1fce9202d7e2160d805e8e44a4c8841c58481",
                      ("Noto Serif CJK SC", "Regular")),
    "serif-bold": ("NotoSerifCJK-Bold.ttc", "a5d4b046c127da3d7c72f98b46c41489cd29bf52abfdf18aba920903e920d4ac",
                   ("Noto Serif CJK SC", "Bold")),
}
FILES = {face: registry.PackageFile(
    name=name, client="apt", package=DEBIAN_PACKAGE, version=DEBIAN_VERSION, sha256=digest, member=FONT_DIR + name,
    manual=f"the Noto CJK project (github.com/notofonts/noto-cjk, {'Sans 2.004' if 'Sans' in name else 'Serif 2.001'}"
           f", {name})") for face, (name, digest, _) in _FONTS.items()}
ATTRIBUTION = "Characters rendered from Noto Sans CJK SC and Noto Serif CJK SC (Adobe and Google, SIL OFL 1.1)."


def gb2312_level1() -> str:
    """The 3,755 level-1 hanzi of GB2312 in code order: rows 16 to 55, 94 per row, the last row 89."""
    characters = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF if row < 0xD7 else 0xFA):
            characters.append(bytes([row, cell]).decode("gb2312"))
    return "".join(characters)


def open_face(path: pathlib.Path, face: str) -> ImageFont.FreeTypeFont:
    """The SC face of a Noto CJK collection at FONT_SIZE; ValueError if the file holds another font there."""
    font = ImageFont.truetype(str(path), FONT_SIZE, index=SC_INDEX)
    expected = _FONTS[face][2]
    if font.getname() != expected:
        raise ValueError(f"{path.name} holds {' '.join(font.getname())} at index {SC_INDEX}, not {' '.join(expected)}.")
    return font


def render(characters: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    """Each character drawn on its own 64x64 canvas, em box centred: uint8 (N, 64, 64), ink 0 on paper 255."""
    glyphs = np.empty((len(characters), RESOLUTION, RESOLUTION), np.uint8)
    centre = RESOLUTION / 2
    baseline = centre + EM_BOX_CENTRE * FONT_SIZE  # puts the em box's centre at the canvas' centre
    for k, character in enumerate(characters):
        canvas = Image.new("L", (RESOLUTION, RESOLUTION), PAPER)
        ImageDraw.Draw(canvas).text((centre, baseline), character, fill=INK, font=font, anchor="ms")
        glyphs[k] = np.asarray(canvas)
    return glyphs


def cache_key() -> str:
    """What the rendered arrays depend on: the fonts' hashes and every rendering parameter."""
    parameters = json.dumps({"resolution": RESOLUTION, "font_size": FONT_SIZE, "ink": INK, "paper": PAPER,
                             "index": SC_INDEX, "em_box_centre": EM_BOX_CENTRE, "fonts": {f: v[1] for f, v in _FONTS.items()}},
                            sort_keys=True)
    return hashlib.sha256(parameters.encode()).hexdigest()[:16]


def arrays(folder: pathlib.Path | None = None, faces=FACES) -> dict:
    """uint8 glyphs (N, 64, 64) with their character and face, face by face; cached after the first rendering."""
    cached = settings.cache_dir() / "datasets" / f"cjk-{'-'.join(faces)}-{cache_key()}.npz"
    if cached.is_file():
        with np.load(cached) as stored:
            return {key: stored[key] for key in stored.files}
    characters = gb2312_level1()
    glyphs = [render(characters, open_face(registry.verified(FILES[face], folder), face)) for face in faces]
    rendered = {"images": np.concatenate(glyphs), "characters": np.array(list(characters) * len(faces)),
                "face": np.repeat(np.arange(len(faces)), len(characters)), "faces": np.array(faces)}
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}.npz")
    np.savez(partial, **rendered)
    os.replace(partial, cached)
    return rendered


def load(folder: pathlib.Path | None = None) -> data.ImageDataset:
    """The 15,020 glyphs as float32 (15020, 64, 64, 1) in [-1, 1]; labels are the faces, ids the characters."""
    rendered = arrays(folder)
    characters = rendered["characters"]
    index = {c: k for k, c in enumerate(dict.fromkeys(characters.tolist()))}
    return data.ImageDataset(name="cjk", images=data.uint8_to_unit(rendered["images"])[..., None],
                             labels=rendered["face"], class_names=tuple(rendered["faces"].tolist()),
                             factors={"face": rendered["face"],
                                      "character": np.array([index[c] for c in characters], np.int64)},
                             ids=characters, split_by="character")


def heldout(dataset: data.ImageDataset, seed: int = 0) -> np.ndarray:
    """The held-out mask: every face of a seeded fifth of the characters."""
    return data.heldout_groups(dataset.groups, seed=seed)
