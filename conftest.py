"""Test-wide settings: every test and notebook runs in the smoke profile unless told otherwise.

At the root (not in tests/) so that `pytest book/01_theory.ipynb` alone also runs in smoke.
"""
import os
import tempfile

import matplotlib

# setdefault: the GPU CI job sets GAN_BOOK_PROFILE=auto to run the notebooks in the profile the hardware picks.
os.environ.setdefault("GAN_BOOK_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Classifiers and feature caches of a test run go to a fresh folder, never the reader's ~/.cache.
os.environ.setdefault("GAN_BOOK_CACHE", tempfile.mkdtemp(prefix="gan_book_test_cache_"))
matplotlib.use("Agg")

