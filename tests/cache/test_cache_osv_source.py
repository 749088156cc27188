"""The offline OSV database's name in the keys of cached dependency audits (issue 7's
vulnerability source): the content hash the build of its compiled index recorded, which is the
very hash a run would compute itself, taken without reading the database again; and never the
hash of an older content."""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from secscan.fs.digest import tree_digest
from secscan.scanners.cache import audit
from secscan.scanners.cache.db import ResultCache
from secscan.scanners.osv.index_stamp import recorded_content
from secscan.scanners.osv.index_store import open_index
from secscan.scanners.osv.signature import CONTENT_LIMIT, DatasetSignature, dataset_signature


def later() -> int:
    """A clock ten seconds ahead: what a test just wrote counts as settled."""
    return time.time_ns() + 10 * 10**9


def settled(path: Path) -> DatasetSignature:
    return dataset_signature(path, later)


def record(record_id: str, fixed: str = "2.0") -> str:
    return json.dumps({
        "id": record_id,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "pkg"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }],
    })  # fmt: skip


def folder_dataset(root: Path) -> Path:
    """Records in folders, and what the reader skips but the hash covers (hidden, other files)."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "X-1.json").write_text(record("X-1"), encoding="utf-8")
    (root / "pkg" / "X-2.json").write_text(record("X-2", "3.0"), encoding="utf-8")
    (root / "X-3.json").write_text(record("X-3"), encoding="utf-8")
    (root / ".id-allocator").write_text("7\n", encoding="utf-8")
    (root / "README.md").write_text("records\n", encoding="utf-8")
    return root


def zip_dataset(archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("X-1.json", record("X-1"))
    return archive


def built(dataset: Path, folder: Path) -> None:
    index = open_index(dataset, folder, now_ns=later)
    assert index is not None and index.built
    index.close()


def name_of(dataset: Path, cache_file: Path, folder: Path | None) -> str | None:
    """The source name a run with this result cache gives the dataset."""
    with ResultCache(cache_file, 10**8) as cache:
        return audit.source_of(dataset, None, cache, folder)[0]()


@pytest.fixture(autouse=True)
def _settled_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The datasets of these tests are seconds old: count them as settled, as they will be."""
    monkeypatch.setattr(audit, "dataset_signature", settled)


@pytest.mark.parametrize("make", [lambda p: folder_dataset(p / "db"), lambda p: zip_dataset(p / "all.zip")])
def test_the_build_records_the_hash_a_run_would_compute(tmp_path: Path, make: object) -> None:
    dataset = make(tmp_path)  # type: ignore[operator]
    folder = tmp_path / "index"
    built(dataset, folder)
    expected = tree_digest(dataset, CONTENT_LIMIT)
    assert expected is not None and recorded_content(settled(dataset), folder) == expected
    assert name_of(dataset, tmp_path / "new-cache.db", folder) == f"osv-db:{expected}"
    assert name_of(dataset, tmp_path / "no-index.db", None) == f"osv-db:{expected}"  # as hashed directly


def test_a_new_cache_takes_the_recorded_hash_without_reading_the_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, folder = folder_dataset(tmp_path / "db"), tmp_path / "index"
    built(dataset, folder)
    expected = f"osv-db:{tree_digest(dataset, CONTENT_LIMIT)}"

    def not_again(root: Path, limit: int) -> str | None:
        raise AssertionError(f"{root} hashed again")

    monkeypatch.setattr(audit, "tree_digest", not_again)
    assert name_of(dataset, tmp_path / "first.db", folder) == expected
    assert name_of(dataset, tmp_path / "second.db", folder) == expected
    with pytest.raises(AssertionError, match="hashed again"):  # no index kept: the database is hashed
        name_of(dataset, tmp_path / "third.db", tmp_path / "empty-index-folder")


def test_a_dataset_changed_with_its_old_sizes_and_dates_gets_a_new_name(tmp_path: Path) -> None:
    """``cp -p``, ``touch -r``, ``unzip``: neither the recorded hash nor the one a cache
    remembers names the new content, whether or not its index was built yet."""
    dataset, folder = folder_dataset(tmp_path / "db"), tmp_path / "index"
    built(dataset, folder)
    old = name_of(dataset, tmp_path / "kept.db", folder)  # this cache remembers it too
    path = dataset / "pkg" / "X-1.json"
    before = path.stat()
    path.write_text(record("X-1", "9.0"), encoding="utf-8")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    new = f"osv-db:{tree_digest(dataset, CONTENT_LIMIT)}"
    assert new != old
    assert recorded_content(settled(dataset), folder) is None  # the index is of the old signature
    assert name_of(dataset, tmp_path / "kept.db", folder) == new
    assert name_of(dataset, tmp_path / "fresh.db", folder) == new
    built(dataset, folder)  # the next build records the new content
    assert recorded_content(settled(dataset), folder) == new.removeprefix("osv-db:")
    assert name_of(dataset, tmp_path / "after-build.db", folder) == new


def test_a_stamp_without_a_hash_or_of_another_signature_is_not_taken(tmp_path: Path) -> None:
    dataset, folder = folder_dataset(tmp_path / "db"), tmp_path / "index"
    built(dataset, folder)
    (stamp_path,) = folder.glob("*.json")
    stamp = json.loads(stamp_path.read_text())
    expected = stamp["content"]
    assert expected == tree_digest(dataset, CONTENT_LIMIT)

    stamp["content"] = "0" * 64
    stamp["signature"] = "f" * 64  # another dataset state's, under this state's name
    stamp_path.write_text(json.dumps(stamp))
    assert recorded_content(settled(dataset), folder) is None
    assert name_of(dataset, tmp_path / "a.db", folder) == f"osv-db:{expected}"  # hashed instead

    del stamp["content"]  # an older secscan's stamp: the index is rebuilt, with the hash
    stamp["signature"] = settled(dataset).digest
    stamp_path.write_text(json.dumps(stamp))
    assert recorded_content(settled(dataset), folder) is None
    built(dataset, folder)
    assert recorded_content(settled(dataset), folder) == expected


def test_a_copied_index_keeps_its_recorded_hash(tmp_path: Path) -> None:
    dataset, folder = folder_dataset(tmp_path / "db"), tmp_path / "index"
    built(dataset, folder)
    (index,) = folder.glob("*.sqlite")
    shutil.copy2(index, tmp_path / "copy")
    (tmp_path / "copy").replace(index)  # another inode: re-hashed and restamped, not rebuilt
    again = open_index(dataset, folder, now_ns=later)
    assert again is not None and not again.built
    again.close()
    assert recorded_content(settled(dataset), folder) == tree_digest(dataset, CONTENT_LIMIT)


def test_an_unsettled_dataset_has_no_recorded_hash(tmp_path: Path) -> None:
    dataset, folder = folder_dataset(tmp_path / "db"), tmp_path / "index"
    built(dataset, folder)
    assert recorded_content(dataset_signature(dataset), folder) is None  # real clock: just written
