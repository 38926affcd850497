"""Paired datasets: pairing by identity (not position), the held-out split that keeps groups whole, and the real
pairs where the data has been fetched."""
import numpy as np
import pytest

from fixtures import fetched
from gan_utils import cjk, data, emoji, pairs


def _emoji_like(stems_google, stems_twitter, designs) -> data.ImageDataset:
    """A tiny emoji-shaped dataset: each image's value is its index, so pairs can be traced back."""
    stems = list(stems_google) + list(stems_twitter)
    n = len(stems)
    images = np.repeat(np.linspace(-1, 1, n, dtype=np.float32), 8 * 8 * 3).reshape(n, 8, 8, 3)
    vendor = np.array([0] * len(stems_google) + [1] * len(stems_twitter), np.int64)
    design = np.array([designs[s] for s in stems], np.int64)
    return data.ImageDataset(name="emoji", images=images, labels=np.zeros(n, np.int64), class_names=("none",),
                             factors={"vendor": vendor, "design": design}, ids=np.array(stems), split_by="design")


def test_emoji_pairs_match_by_stem_not_position_and_skip_unpaired_images():
    designs = {"a": 0, "a-1": 0, "b": 1, "c": 2, "d": 3, "e": 4}
    dataset = _emoji_like(["a", "a-1", "b", "c", "d", "e"], ["e", "d", "c", "a", "b"], designs)  # no twitter a-1
    paired = pairs.emoji_pairs(dataset)
    assert list(paired.ids) == ["a", "b", "c", "d", "e"]
    for k, stem in enumerate(paired.ids):
        source = dataset.images[list(dataset.ids[:6]).index(stem)]
        target = dataset.images[6 + list(dataset.ids[6:]).index(stem)]
        np.testing.assert_array_equal(paired.sources[k], source)
        np.testing.assert_array_equal(paired.targets[k], target)
    assert list(paired.groups) == [0, 1, 2, 3, 4]


def test_emoji_heldout_is_the_emoji_datasets_heldout_and_keeps_designs_whole():
    stems = [f"{d}-{t}" for d in range(20) for t in range(3)]
    designs = {s: int(s.split("-")[0]) for s in stems}
    dataset = _emoji_like(stems, stems[::-1], designs)
    paired = pairs.emoji_pairs(dataset)
    mask = emoji.heldout(dataset)
    assert set(paired.ids[paired.heldout]) == set(dataset.ids[mask])
    train, held = paired.split()
    assert len(train) + len(held) == len(paired) and len(held) == 4 * 3  # a fifth of 20 designs, 3 tones each
    assert not set(train.groups) & set(held.groups)
    assert held.heldout.all() and not train.heldout.any()


def test_cjk_pairs_take_sans_regular_to_serif_regular_by_character():
    characters = ["一", "二", "三", "四", "五"]
    faces = cjk.FACES
    order = {face: (characters if f % 2 == 0 else characters[::-1]) for f, face in enumerate(faces)}
    ids = np.array([c for face in faces for c in order[face]])
    face = np.repeat(np.arange(len(faces)), len(characters))
    index = {c: k for k, c in enumerate(characters)}
    images = (face[:, None, None, None] * 0.1 + np.array([index[c] for c in ids])[:, None, None, None] * 0.01
              ).astype(np.float32) * np.ones((1, 8, 8, 1), np.float32)
    dataset = data.ImageDataset(name="cjk", images=images, labels=face, class_names=faces,
                                factors={"face": face, "character": np.array([index[c] for c in ids], np.int64)},
                                ids=ids, split_by="character")
    paired = pairs.cjk_pairs(dataset)
    assert list(paired.ids) == characters  # sans-regular's order
    np.testing.assert_allclose(paired.sources[:, 0, 0, 0], faces.index("sans-regular") * 0.1 + np.arange(5) * 0.01,
                               rtol=1e-6)
    np.testing.assert_allclose(paired.targets[:, 0, 0, 0], faces.index("serif-regular") * 0.1 + np.arange(5) * 0.01,
                               rtol=1e-6)
    assert list(paired.groups) == [0, 1, 2, 3, 4]
    assert paired.heldout.sum() == 1  # a fifth of five characters


def test_paired_dataset_rejects_mismatched_pairs():
    images = np.zeros((3, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="as many images"):
        pairs.PairedDataset("x", images, images[:2], np.arange(3), np.arange(3), np.zeros(3, bool), "a", "b")
    with pytest.raises(ValueError, match="groups must have shape"):
        pairs.PairedDataset("x", images, images, np.arange(3), np.arange(2), np.zeros(3, bool), "a", "b")
    with pytest.raises(ValueError, match="not a paired dataset.*emoji_pairs"):
        pairs.load("emoji")


@pytest.mark.skipif(not fetched("emoji"), reason="the emoji packages are not fetched (python -m gan_utils fetch emoji)")
def test_real_emoji_pairs():
    paired = pairs.load("emoji_pairs")
    assert len(paired) == 997 and paired.sources.shape == (997, 64, 64, 3)
    train, held = paired.split()
    assert not set(train.groups) & set(held.groups)
    assert 0.15 < len(held) / len(paired) < 0.25


@pytest.mark.skipif(not fetched("cjk"), reason="the CJK fonts are not fetched (python -m gan_utils fetch cjk)")
def test_real_cjk_pairs():
    paired = pairs.load("cjk_pairs")
    assert len(paired) == 3755 and paired.sources.shape == (3755, 64, 64, 1)
    assert len(set(paired.ids)) == 3755
    train, held = paired.split()
    assert len(held) == round(0.2 * 3755) and not set(train.ids) & set(held.ids)
