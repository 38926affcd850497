"""Test-wide settings: every test and notebook runs in the smoke profile unless told otherwise; the hints of
book/appendix_hints.md run after their chapters; pytest-xdist keeps each notebook and test module on one worker.

At the root (not in tests/) so that `pytest book/01_theory.ipynb` alone also runs in smoke, with its hints.
"""
import os
import pathlib
import sys
import tempfile
from collections import defaultdict

import matplotlib

ROOT = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))  # hint_blocks, shared with tests/test_hints.py
import hint_blocks  # noqa: E402

# setdefault: the GPU CI job sets GAN_BOOK_PROFILE=auto to run the notebooks in the profile the hardware picks.
os.environ.setdefault("GAN_BOOK_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    # A worker per core, so one thread per worker for TensorFlow and oneDNN (their kernels and subprocesses
    # inherit it): two workers with two threads each would fight over two cores.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
SHARED_CACHE_FOLDERS = ("packages", "datasets")  # what a test run borrows from the reader's cache (see below)
GB_PER_WORKER = 3  # a worker running a smoke notebook peaks near 2 GB; this leaves room for the system
OWN_GROUP = {"test_benchmarks.py", "test_cli.py"}  # modules of independent, long tests: spread over the workers


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


# Set before pytest-xdist starts its workers, so they all share the one fresh cache (its files are written
# atomically) and train each smoke classifier once.
if not os.environ.get("GAN_BOOK_CACHE"):  # a cache the user chose is used as it is
    os.environ["GAN_BOOK_CACHE"] = _fresh_cache()
matplotlib.use("Agg")


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per core, but no more than the memory holds (GB_PER_WORKER each), so an 8 GB
    laptop runs two notebooks at a time, not eight."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return max(1, min(os.cpu_count() or 1, int(memory_gb // GB_PER_WORKER)))


def _hint_cells(notebook_file, blocks):
    """nbval cells that run each hint block of this chapter notebook in its kernel, after the chapter."""
    import nbformat
    from nbval.plugin import IPyNbCell

    class HintCell(IPyNbCell):
        def reportinfo(self):
            return self.path, 0, f"{self.parent.name}::{self.name}"

    chapter = hint_blocks.chapter_of(pathlib.Path(notebook_file.path))
    return [HintCell.from_parent(notebook_file, name=block.label, cell_num=10_000 + number,
                                 cell=nbformat.v4.new_code_cell(block.kernel_source()),
                                 options=defaultdict(bool, check=False))
            for number, block in enumerate(b for b in blocks if b.chapter == chapter)]


def pytest_collection_modifyitems(config, items):
    """Appends each chapter's hint cells after its last cell."""
    try:
        blocks = hint_blocks.parse_hints(hint_blocks.HINTS.read_text())
    except ValueError:
        blocks = []  # tests/test_hints.py reports the parse error
    notebook_files = {}
    for index, item in enumerate(items):
        if item.path.suffix == ".ipynb":
            notebook_files[item.parent] = index  # the last cell of each notebook seen so far
    for notebook_file, last in sorted(notebook_files.items(), key=lambda pair: -pair[1]):
        items[last + 1:last + 1] = _hint_cells(notebook_file, blocks)


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist hands out whole notebooks (their cells share one kernel) and whole modules (their tests
    share fixtures), except the modules in OWN_GROUP, whose tests go out one by one.

    A scheduler rather than xdist_group marks: with pytest 9, `--dist loadgroup` cannot rename the tests it
    groups, and so sends a notebook's cells to different workers."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return nodeid if pathlib.PurePath(module).name in OWN_GROUP else module

    return ByModule(config, log)
