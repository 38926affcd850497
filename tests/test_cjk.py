"""The CJK dataset: the GB2312 level-1 character list, deterministic centred rendering, the cache key and the
errors without the fonts; with the fetched fonts, the real faces and their centring."""
import dataclasses

import numpy as np
import pytest
from PIL import ImageFont

from gan_utils import cjk, registry, settings


def test_gb2312_level1_is_the_3755_hanzi_in_code_order():
    characters = cjk.gb2312_level1()
    assert len(characters) == len(set(characters)) == 3755
    assert characters[:4] == "啊阿埃挨" and characters[-1] == "座"
    assert all("\u4e00" <= c <= "\u9fff" for c in characters)  # CJK Unified Ideographs
    codes = [c.encode("gb2312") for c in characters]
    assert codes == sorted(codes) and codes[-1] == b"\xd7\xf9"


def test_rendering_is_deterministic_and_the_em_box_is_centred():
    font = ImageFont.load_default(cjk.FONT_SIZE)  # Pillow's own font: Latin, but drawn the same way
    glyphs = cjk.render("HOX", font)
    assert glyphs.shape == (3, 64, 64) and glyphs.dtype == np.uint8
    assert np.array_equal(glyphs, cjk.render("HOX", font))
    assert glyphs.min() == cjk.INK and (glyphs[:, 0, :] == cjk.PAPER).all()
    ink_columns = np.nonzero((glyphs[0] < 128).any(axis=0))[0]
    assert abs((ink_columns.min() + ink_columns.max()) / 2 - 31.5) <= 1.5  # H is centred left to right


def test_the_cache_key_follows_every_rendering_parameter(monkeypatch):
    key = cjk.cache_key()
    monkeypatch.setattr(cjk, "FONT_SIZE", cjk.FONT_SIZE - 1)
    assert cjk.cache_key() != key


def test_without_the_fonts_the_error_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path))
    with pytest.raises(registry.FetchError, match="NotoSansCJK-Regular.ttc is not in .*python -m gan_utils fetch"):
        cjk.load(tmp_path / "packages")


def test_a_font_file_of_another_family_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not Noto Serif CJK SC Bold"):
        cjk.open_face(_noto_or_skip("sans-bold"), "serif-bold")


def _noto_or_skip(face):
    try:
        return registry.verified(cjk.FILES[face])
    except registry.FetchError:
        pytest.skip("needs the fonts: python -m gan_utils fetch cjk (.ci/run fetches them)")


@pytest.mark.parametrize("face", cjk.FACES)
def test_each_fetched_face_is_its_sc_font_and_centres_the_characters(face):
    font = cjk.open_face(_noto_or_skip(face), face)
    glyphs = cjk.render(cjk.gb2312_level1()[::15], font)
    ink = glyphs < 128
    rows, columns = ink.any(axis=2), ink.any(axis=1)
    centre_y = (rows.argmax(1) + 63 - rows[:, ::-1].argmax(1)) / 2
    centre_x = (columns.argmax(1) + 63 - columns[:, ::-1].argmax(1)) / 2
    assert rows.any(axis=1).all()  # every character has ink: no missing glyphs
    assert abs(centre_y.mean() - 31.5) < 1 and abs(centre_x.mean() - 31.5) < 1
    assert rows[:, :2].sum() == 0 and rows[:, -2:].sum() == 0  # nothing touches the edges
