"""Paired datasets for image-to-image translation: the same emoji drawn by two vendors, the same character in two
faces, each pair with its group (base design or character) and the held-out split that keeps groups whole.

The pairing is by identity, never by position: an emoji pairs with the other vendor's image of the same file stem,
a glyph with the other face's glyph of the same character. The held-out pairs are those whose images the 64x64
datasets hold out (`emoji.heldout`, `cjk.heldout`), so a translation run and a generator run never disagree on
what was unseen.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from gan_utils import data


@dataclasses.dataclass
class PairedDataset:
    """Source and target images float32 (N, 64, 64, C) in [-1, 1], pair i being sources[i] -> targets[i].

    `ids` name each pair (an emoji's file stem, a character), `groups` hold what a split keeps whole (the base
    design, the character) and `heldout` marks the held-out pairs.
    """

    name: str
    sources: np.ndarray
    targets: np.ndarray
    ids: np.ndarray
    groups: np.ndarray
    heldout: np.ndarray
    source_name: str
    target_name: str

    def __post_init__(self):
        data.check_images(self.sources, name=f"{self.name} sources")
        data.check_images(self.targets, name=f"{self.name} targets")
        if self.sources.shape[:3] != self.targets.shape[:3]:
            raise ValueError(f"{self.name}: sources {self.sources.shape} and targets {self.targets.shape} must hold "
                             "as many images, of the same size.")
        for key in ("ids", "groups", "heldout"):
            if np.shape(getattr(self, key)) != (len(self.sources),):
                raise ValueError(f"{self.name} {key} must have shape ({len(self.sources)},), one per pair; "
                                 f"got {np.shape(getattr(self, key))}.")

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, indices) -> "PairedDataset":
        """The pairs at `indices`, with their ids, groups and held-out marks."""
        return dataclasses.replace(self, sources=self.sources[indices], targets=self.targets[indices],
                                   ids=self.ids[indices], groups=self.groups[indices], heldout=self.heldout[indices])

    def split(self) -> tuple["PairedDataset", "PairedDataset"]:
        """(training pairs, held-out pairs): no group is on both sides."""
        return self.subset(np.flatnonzero(~self.heldout)), self.subset(np.flatnonzero(self.heldout))


def _pair_by_id(dataset: data.ImageDataset, source, target, heldout, **names) -> PairedDataset:
    """Each image at `source` paired with the image at `target` of the same id; sources without one are left out."""
    target_by_id = {key: i for i, key in zip(target, dataset.ids[target])}
    source = np.array([i for i in source if dataset.ids[i] in target_by_id], np.int64)
    target = np.array([target_by_id[key] for key in dataset.ids[source]], np.int64)
    return PairedDataset(sources=dataset.images[source], targets=dataset.images[target], ids=dataset.ids[source],
                         groups=dataset.groups[source], heldout=heldout[source], **names)


def emoji_pairs(dataset: data.ImageDataset | None = None) -> PairedDataset:
    """Every people emoji both vendors draw, Noto (source) to Twemoji (target), paired by file stem; the group is
    the base design, so every skin tone of a held-out design is held out with it. `dataset` defaults to
    emoji.load()."""
    from gan_utils import emoji

    dataset = dataset if dataset is not None else emoji.load()
    vendor = dataset.factors["vendor"]
    source, target = (np.flatnonzero(vendor == emoji.VENDORS.index(v)) for v in ("google", "twitter"))
    return _pair_by_id(dataset, source, target, emoji.heldout(dataset), name="emoji_pairs",
                       source_name="Noto (Google)", target_name="Twemoji (Twitter)")


CJK_SOURCE, CJK_TARGET = "sans-regular", "serif-regular"


def cjk_pairs(dataset: data.ImageDataset | None = None) -> PairedDataset:
    """The 3,755 level-1 characters, Noto Sans CJK SC Regular (source) to Noto Serif CJK SC Regular (target), paired
    by character (the zi2zi task); the group is the character. `dataset` defaults to cjk.load()."""
    from gan_utils import cjk

    dataset = dataset if dataset is not None else cjk.load()
    face = dataset.factors["face"]
    source, target = (np.flatnonzero(face == dataset.class_names.index(f)) for f in (CJK_SOURCE, CJK_TARGET))
    return _pair_by_id(dataset, source, target, cjk.heldout(dataset), name="cjk_pairs",
                       source_name="Noto Sans CJK SC Regular", target_name="Noto Serif CJK SC Regular")


def load(name: str) -> PairedDataset:
    """The paired dataset `name`, one of data.PAIRED_DATASETS."""
    builders = {"emoji_pairs": emoji_pairs, "cjk_pairs": cjk_pairs}
    if name not in builders:
        raise ValueError(f"{name!r} is not a paired dataset; use one of {', '.join(data.PAIRED_DATASETS)}.")
    return builders[name]()
