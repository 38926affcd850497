"""Test-wide settings: every test and notebook runs in the smoke profile unless told otherwise.

At the root (not in tests/) so that `pytest book/01_theory.ipynb` alone also runs in smoke.
"""
import os
import pathlib
import tempfile

import matplotlib

# setdefault: the GPU CI job sets GAN_BOOK_PROFILE=auto to run the notebooks in the profile the hardware picks.
os.environ.setdefault("GAN_BOOK_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SHARED_CACHE_FOLDERS = ("packages", "datasets")  # what a test run borrows from the reader's cache (see below)


def _fresh_cache() -> str:
    """A fresh cache folder for this run, with the reader's fetched files and decoded datasets linked in.

    Classifiers and feature caches of a test run go to the fresh folder, never the reader's ~/.cache: a weak
    smoke-profile classifier must not be reused by a real run, nor a stale one by the tests. The registry files
    (`packages`: the emoji tarballs and CJK fonts of `python -m gan_utils fetch`, each checked against
    its pinned sha256 before it is read) and the arrays decoded from them (`datasets`: file names keyed by those
    hashes and every decoding parameter) are different: they are the same in every profile and run, so sharing
    them is safe, and without them the notebooks that show emoji or characters could not run offline, or would
    fetch and decode everything again on every run. So they are symlinked from the reader's cache when they exist.
    """
    from gan_utils import settings

    fresh = pathlib.Path(tempfile.mkdtemp(prefix="gan_book_test_cache_"))
    readers = settings.cache_dir()  # GAN_BOOK_CACHE is unset here: the reader's ~/.cache/gan_book
    for name in SHARED_CACHE_FOLDERS:
        if (readers / name).is_dir():
            (fresh / name).symlink_to(readers / name, target_is_directory=True)
    return str(fresh)


if not os.environ.get("GAN_BOOK_CACHE"):  # a cache the user chose is used as it is
    os.environ["GAN_BOOK_CACHE"] = _fresh_cache()
matplotlib.use("Agg")
