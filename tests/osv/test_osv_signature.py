"""The signature of an OSV dataset folder: the listing it hashes (every entry's name, type,
inode, size, ``mtime`` and ``ctime``, hidden entries left out, links not followed), checked
against a plain reference walk, and each of those values changing it."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from secscan.scanners.osv.signature import _VERSION, SignatureError, dataset_signature


def reference(root: Path) -> tuple[str, int]:
    """The digest and newest timestamp, as the module docstring defines them, the slow way."""
    digest = hashlib.sha256(_VERSION)
    newest = 0

    def line(name: bytes, st: os.stat_result) -> bytes:
        fields = (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        return name + b"\0" + oct(fields[0])[2:].encode() + b"".join(b"\0%d" % f for f in fields[1:]) + b"\n"

    def walk(folder: Path, prefix: bytes) -> None:
        nonlocal newest
        names = sorted(os.fsencode(p.name) for p in folder.iterdir() if not p.name.startswith("."))
        folders = []
        for name in names:
            st = (folder / os.fsdecode(name)).lstat()
            newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
            digest.update(line(prefix + name, st))
            if stat.S_ISDIR(st.st_mode):
                folders.append(name)
        for name in reversed(folders):  # the last subfolder first
            walk(folder / os.fsdecode(name), prefix + name + b"/")

    st = root.stat()
    digest.update(line(b"", st))
    newest = max(st.st_mtime_ns, st.st_ctime_ns)
    walk(root, b"")
    return digest.hexdigest(), newest


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "db"
    for folder in ("a", "b/c", "b/d", "zz", "b/c/e"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for path in ("X-1.json", "a/X-2.yaml", "b/X-3.json", "b/c/X-4.json", "b/c/e/X-5.json", "zz/README"):
        (root / path).write_text(path * 3, encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref\n", encoding="utf-8")
    (root / ".id-allocator").write_text("1\n", encoding="utf-8")
    (root / "b" / "link").symlink_to(root / "a")  # listed, not followed
    (root / os.fsdecode(b"b/\xff-latin1.json")).write_bytes(b"{}")  # a name that is not UTF-8
    return root


def test_the_digest_is_the_listing_the_module_describes(dataset: Path) -> None:
    signature = dataset_signature(dataset)
    assert (signature.digest, signature.newest_ns) == reference(dataset)
    assert signature.path == dataset.resolve()


def _digest(path: Path) -> str:
    return dataset_signature(path).digest


def _rewrite_keeping_size_and_mtime(path: Path) -> None:
    before = path.stat()
    path.write_bytes(bytes(reversed(path.read_bytes())))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _replace_by_a_copy(path: Path) -> None:
    copy = path.with_name("copy.tmp")
    shutil.copy2(path, copy)
    copy.replace(path)  # same content, size and mtime: another inode


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "b/c/e/X-5.json").chmod(0o600), id="mode"),
        pytest.param(lambda root: _replace_by_a_copy(root / "b/c/X-4.json"), id="inode"),
        pytest.param(lambda root: (root / "a/X-2.yaml").write_text("longer", encoding="utf-8"), id="size"),
        pytest.param(lambda root: os.utime(root / "X-1.json", ns=(0, 10**18)), id="mtime"),
        pytest.param(lambda root: _rewrite_keeping_size_and_mtime(root / "b/X-3.json"), id="ctime"),
        pytest.param(lambda root: (root / "b/d/X-6.json").write_text("{}", encoding="utf-8"), id="added"),
        pytest.param(lambda root: (root / "zz/README").unlink(), id="removed"),
        pytest.param(lambda root: (root / "b/c/X-4.json").rename(root / "b/c/X-7.json"), id="renamed"),
        pytest.param(lambda root: (root / "b/c/e").chmod(0o700), id="a folder's mode"),
    ],
)
def test_every_value_of_every_entry_counts(dataset: Path, change: object) -> None:
    before = _digest(dataset)
    time.sleep(0.01)  # a later tick of the file-system clock for the ctime
    change(dataset)  # type: ignore[operator]
    assert _digest(dataset) != before
    assert dataset_signature(dataset).digest == reference(dataset)[0]


def test_hidden_entries_and_what_links_point_to_do_not_count(dataset: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}", encoding="utf-8")
    (dataset / "zz" / "outside").symlink_to(outside)
    before = _digest(dataset)
    time.sleep(0.01)
    (dataset / ".git" / "HEAD").write_text("another ref\n", encoding="utf-8")
    (dataset / ".git" / "index").write_text("x", encoding="utf-8")  # inside a hidden folder
    outside.write_text('{"id": "X-9"}', encoding="utf-8")
    assert _digest(dataset) == before


def test_a_zip_is_its_stat_and_a_missing_dataset_an_error(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    archive.write_bytes(b"PK")
    before = dataset_signature(archive)
    assert before.digest == hashlib.sha256(_VERSION + _line_of(archive)).hexdigest()
    time.sleep(0.01)
    _rewrite_keeping_size_and_mtime(archive)
    assert dataset_signature(archive).digest != before.digest
    with pytest.raises(SignatureError):
        dataset_signature(tmp_path / "missing")


def _line_of(path: Path) -> bytes:
    st = path.stat()
    return b"\0%o\0%d\0%d\0%d\0%d\n" % (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
