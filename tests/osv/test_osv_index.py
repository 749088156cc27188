"""The compiled OSV index: the same answers as a direct load, never stale, never trusted when damaged.

Fresh files written by a test are not *settled* (see ``secscan.scanners.osv.signature``): the tests that
want an index pass a clock ten seconds ahead (``LATER``) instead of waiting.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from secscan.core.errors import InputError
from secscan.fs.locks import file_lock
from secscan.scanners.osv import OsvDatabase, OsvServer
from secscan.scanners.osv.index import CompiledIndex, IndexDamagedError
from secscan.scanners.osv.index_store import IndexUnavailableError, open_index
from secscan.scanners.osv.source import open_advisories
from secscan.scanners.osv.versions import parse_semver
from tests.conftest import EXAMPLE, REPO, shared_path
from tests.osv.conftest import FIXTURES, NPM_RECORDS, zip_tree
from tests.osv.test_osv_npm_oracle import neighbours

LOCKFILE_DB = REPO / "tests" / "scanners" / "lockfiles" / "osv"


def later() -> int:
    """A clock ten seconds ahead: what a test just wrote counts as settled."""
    return time.time_ns() + 10 * 10**9


def index_of(dataset: Path, folder: Path) -> CompiledIndex:
    index = open_index(dataset, folder, now_ns=later)
    assert index is not None
    return index


def record(
    record_id: str, name: str, *, ecosystem: str = "PyPI", fixed: str = "2.0", **extra: Any
) -> dict[str, Any]:
    return {
        "id": record_id,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
        **extra,
    }


def write(folder: Path, name: str, content: Mapping[str, Any] | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


# -- the same answers -------------------------------------------------------------------------


def _probes(records: Iterable[Mapping[str, Any]], around: bool) -> dict[tuple[str, str], set[str]]:
    """Per (ecosystem, name) named by the records: every version they mention (and, ``around``,
    the versions just around each)."""
    found: dict[tuple[str, str], set[str]] = {}
    for rec in records:
        for affected in rec.get("affected") or ():
            package = affected.get("package") or {}
            ecosystem, name = package.get("ecosystem"), package.get("name")
            if not isinstance(ecosystem, str) or not isinstance(name, str):
                continue
            texts = {v for v in affected.get("versions") or () if isinstance(v, str)}
            for found_range in affected.get("ranges") or ():
                for event in found_range.get("events") or ():
                    texts |= {v for v in event.values() if isinstance(v, str)}
            versions = found.setdefault((ecosystem, name), {"0.0.1", "1.0", "999.0", "not a version"})
            for text in texts:
                versions |= neighbours(text) if around and parse_semver(text) is not None else {text}
    return found


def assert_same_answers(
    direct: OsvDatabase, index: CompiledIndex, around: bool = True, most: int | None = None
) -> int:
    """Every answer of ``index`` equals ``direct``'s; how many version queries were compared."""
    records = list(direct.records())
    assert list(index.records()) == records
    assert (len(index), index.withdrawn) == (len(direct), direct.withdrawn)
    compared = 0
    for (ecosystem, name), versions in _probes(records, around).items():
        assert index.advisories(ecosystem) == direct.advisories(ecosystem)
        assert index.query(name, None, ecosystem) == direct.query(name, None, ecosystem)
        for version in sorted(versions)[:most]:
            assert index.matches(ecosystem, name, version) == direct.matches(ecosystem, name, version), (
                ecosystem,
                name,
                version,
            )
            compared += 1
        if versions:
            version = min(versions)
            assert index.query(name, version, ecosystem) == direct.query(name, version, ecosystem)
    for rec in records:
        for vuln_id in (rec["id"], *(rec.get("aliases") or ()), f"{rec['id']}-unknown"):
            assert index.get(vuln_id) == direct.get(vuln_id)
    assert index.advisories("Go") == direct.advisories("Go")
    return compared


@pytest.mark.parametrize(
    "dataset",
    [FIXTURES, NPM_RECORDS, LOCKFILE_DB, EXAMPLE / "osv"],
    ids=["osv-fixtures", "npm-records", "lockfile-fixtures", "example"],
)
def test_the_index_answers_like_a_direct_load(dataset: Path, tmp_path: Path) -> None:
    index = index_of(dataset, tmp_path / "index")
    assert index.built
    assert assert_same_answers(OsvDatabase.load(dataset), index) > 20
    archive = zip_tree(dataset, tmp_path / "all.zip")
    assert assert_same_answers(OsvDatabase.load(archive), index_of(archive, tmp_path / "index")) > 20


def hostile(folder: Path) -> Path:
    """Duplicate ids (newer, older, tied), a shared alias, lone surrogates, non-ASCII names,
    numbers, a record of two ecosystems and a withdrawn one."""
    write(folder, "a/X-1.json", record("X-1", "dup-pkg", aliases=["CVE-A"]))
    newer = record("X-1", "dup-pkg-renamed", fixed="3.0", aliases=["CVE-B"], modified="2024-06-01T00:00:00Z")
    write(folder, "b/X-1.json", newer)
    write(folder, "c/X-1.json", record("X-1", "dup-pkg", modified="2023-01-01T00:00:00Z"))
    write(folder, "d/X-1.json", {**newer, "summary": "a tie: the first one read is kept"})
    write(folder, "X-3.json", record("X-3", "shared", aliases=["CVE-SHARED"]))
    write(folder, "X-2.json", record("X-2", "shared", fixed="1.5", aliases=["CVE-SHARED"]))
    surrogate = json.dumps(record("X-\udc80", "bad\udc80name", aliases=["CVE-\ud800"]))
    write(folder, "X-4.json", surrogate)
    unicode = {
        **record("X-5", "Ünï.Code"),
        "database_specific": {"score": 7.5, "count": 3, "nested": [1, None, True]},
    }
    unicode["affected"][0]["versions"] = ["2.10", "1.0"]
    write(folder, "X-5.json", unicode)
    yaml_record = (
        "id: X-8\nmodified: '2024'\naffected:\n- package: {ecosystem: PyPI, name: yaml-pkg}\n"
        "  versions: ['2.10', 1.0]\ndatabase_specific: {score: 7.5, flag: true}\n"
    )
    write(folder, "X-8.yaml", yaml_record)
    both = record("X-6", "two-worlds", ecosystem="npm", fixed="1.2.3")
    both["affected"].append(record("X-6", "Two_Worlds")["affected"][0])
    write(folder, "X-6.json", both)
    write(folder, "X-7.json", record("X-7", "gone", withdrawn="2024-02-01T00:00:00Z"))
    return folder


def test_hostile_records_are_indexed_like_a_direct_load(tmp_path: Path) -> None:
    dataset = hostile(tmp_path / "db")
    index = index_of(dataset, tmp_path / "index")
    direct = OsvDatabase.load(dataset)
    assert_same_answers(direct, index)
    assert [m.record["id"] for m in index.matches("PyPI", "dup-pkg-renamed", "2.5")] == ["X-1"]
    assert index.matches("PyPI", "dup-pkg", "1.0") == []  # the older record's package is gone
    assert index.get("CVE-A") is None and index.get("CVE-B") == direct.get("X-1")
    assert index.get("X-1") is not None and "summary" not in index.get("X-1")  # type: ignore[operator]
    assert index.get("CVE-SHARED") == direct.get("X-2")  # the smallest id
    assert index.get("X-\udc80") == direct.get("X-\udc80") is not None
    assert [r["id"] for r in index.query("ünï-code", "2.10.0")] == ["X-5"]
    assert index.get("X-5")["database_specific"] == {"score": 7.5, "count": 3, "nested": [1, None, True]}  # type: ignore[index]
    assert index.get("X-8")["database_specific"] == {"score": "7.5", "flag": True}  # type: ignore[index]
    assert [r["id"] for r in index.query("yaml-pkg", "2.10")] == ["X-8"]
    assert index.advisories("npm") == 1 and index.withdrawn == 1


def test_shared_datasets_are_indexed_like_a_direct_load(tmp_path: Path) -> None:
    """The real advisories: GitHub's npm ones (every version they mention and its neighbours) and
    the PyPA database (up to 12 versions it mentions per package, for time)."""
    for name, around, most, least in (("osv-npm", True, None, 3000), ("osv-pypi", False, 12, 5000)):
        dataset = shared_path("data", name)
        index = index_of(dataset, tmp_path / "index")
        assert assert_same_answers(OsvDatabase.load(dataset), index, around, most) > least


# -- built once, used again, never stale --------------------------------------------------------


def test_an_unchanged_dataset_is_compiled_once(tmp_path: Path) -> None:
    dataset, folder = tmp_path / "db", tmp_path / "index"
    write(dataset, "X-1.json", record("X-1", "pkg"))
    assert index_of(dataset, folder).built
    again = index_of(dataset, folder)
    assert not again.built and [m.record["id"] for m in again.matches("PyPI", "pkg", "1.0")] == ["X-1"]
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".lock", ".sqlite"]


def _answer(index: CompiledIndex, name: str = "pkg", version: str = "2.5") -> list[str]:
    return [m.record["id"] for m in index.matches("PyPI", name, version)]


def test_an_edit_in_place_with_the_old_size_and_mtime_is_seen(tmp_path: Path) -> None:
    dataset, folder = tmp_path / "db", tmp_path / "index"
    path = write(dataset, "X-1.json", record("X-1", "pkg", fixed="2.0"))
    assert _answer(index_of(dataset, folder)) == []
    before = path.stat()
    path.write_text(json.dumps(record("X-1", "pkg", fixed="3.0")), encoding="utf-8")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # cp -p, unzip: the old mtime
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    fresh = index_of(dataset, folder)
    assert fresh.built and _answer(fresh) == ["X-1"]


def test_added_removed_and_replaced_records_are_seen(tmp_path: Path) -> None:
    dataset, folder = tmp_path / "db", tmp_path / "index"
    write(dataset, "pkg/X-1.json", record("X-1", "pkg", fixed="2.0"))
    assert _answer(index_of(dataset, folder), version="1.0") == ["X-1"]
    write(dataset, "pkg/X-2.json", record("X-2", "pkg", fixed="3.0"))
    assert _answer(index_of(dataset, folder), version="1.0") == ["X-1", "X-2"]
    (dataset / "pkg" / "X-1.json").unlink()
    assert _answer(index_of(dataset, folder), version="1.0") == ["X-2"]
    replacement = write(tmp_path, "new.json", record("X-2", "pkg", fixed="0.5"))
    replacement.replace(dataset / "pkg" / "X-2.json")  # a rename over the file
    assert _answer(index_of(dataset, folder), version="1.0") == []


def _stored_zip(archive: Path, content: Mapping[str, Any]) -> None:
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo("X-1.json", date_time=(2024, 1, 1, 0, 0, 0)), json.dumps(content))


def test_a_rewritten_zip_of_the_same_size_and_mtime_is_seen(tmp_path: Path) -> None:
    archive, folder = tmp_path / "all.zip", tmp_path / "index"
    _stored_zip(archive, record("X-1", "pkg", fixed="2.0"))
    assert _answer(index_of(archive, folder)) == []
    before = archive.stat()
    _stored_zip(archive, record("X-1", "pkg", fixed="3.0"))  # rewritten in place
    os.utime(archive, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (archive.stat().st_size, archive.stat().st_ino) == (before.st_size, before.st_ino)
    assert _answer(index_of(archive, folder)) == ["X-1"]


def test_a_dataset_changed_in_the_last_seconds_is_read_directly(tmp_path: Path) -> None:
    dataset, folder = tmp_path / "db", tmp_path / "index"
    write(dataset, "X-1.json", record("X-1", "pkg"))
    assert open_index(dataset, folder) is None  # real clock: just written, not settled
    assert not folder.exists()
    direct = open_advisories(dataset, folder)
    assert isinstance(direct, OsvDatabase) and _answer(direct, version="1.0") == ["X-1"]  # type: ignore[arg-type]


def test_old_indexes_are_pruned(tmp_path: Path) -> None:
    dataset, gone, other, folder = tmp_path / "db", tmp_path / "gone", tmp_path / "other", tmp_path / "index"
    for path in (dataset, gone, other):
        write(path, "X-1.json", record("X-1", "pkg"))
    first = index_of(dataset, folder).path
    index_of(gone, folder)
    kept = index_of(other, folder).path
    shutil.rmtree(gone)
    write(dataset, "X-2.json", record("X-2", "pkg"))
    latest = index_of(dataset, folder).path
    assert latest != first
    assert sorted(p.name for p in folder.glob("*.sqlite")) == sorted([latest.name, kept.name])
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(
        [latest.with_suffix(".json").name, kept.with_suffix(".json").name]
    )


# -- never trusted when damaged -----------------------------------------------------------------


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A dataset, the index folder, and the installed index file."""
    dataset, folder = tmp_path / "db", tmp_path / "index"
    write(dataset, "X-1.json", record("X-1", "pkg", details="x" * 40_000))
    write(dataset, "X-2.json", record("X-2", "other"))
    index = index_of(dataset, folder)
    index.close()
    return dataset, folder, index.path


def _truncate(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _flip_in_the_middle(path: Path) -> None:
    before = path.stat()
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _appended(path: Path) -> None:
    with path.open("ab") as fh:
        fh.write(b"\0" * 4096)


@pytest.mark.parametrize("damage", [_truncate, _garbage, _flip_in_the_middle, _appended])
def test_a_damaged_index_is_rebuilt_never_trusted(installed: tuple[Path, Path, Path], damage: Any) -> None:
    dataset, folder, path = installed
    damage(path)
    index = index_of(dataset, folder)
    assert index.built
    assert _answer(index, version="1.0") == ["X-1"] and index.get("X-1")["details"] == "x" * 40_000  # type: ignore[index]


def _restamp(folder: Path, path: Path) -> None:
    """Write the stamp a damaged file would get if the damage happened before it was stamped."""
    import hashlib

    stamp_path = path.with_suffix(".json")
    stamp = json.loads(stamp_path.read_text())
    st = path.stat()
    stamp["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    stamp["stat"] = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    stamp_path.write_text(json.dumps(stamp))


def test_an_index_of_another_format_is_rebuilt(installed: tuple[Path, Path, Path]) -> None:
    dataset, folder, path = installed
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    _restamp(folder, path)
    with pytest.raises(IndexDamagedError):
        CompiledIndex.open(path)
    assert index_of(dataset, folder).built


@pytest.mark.parametrize("stamp", [None, b"", b"{not json", b'{"format": 1}'])
def test_a_missing_or_garbled_stamp_means_a_rebuild(
    installed: tuple[Path, Path, Path], stamp: bytes | None
) -> None:
    dataset, folder, path = installed
    if stamp is None:
        path.with_suffix(".json").unlink()
    else:
        path.with_suffix(".json").write_bytes(stamp)
    assert index_of(dataset, folder).built


def test_a_copied_or_touched_index_is_rehashed_and_kept(installed: tuple[Path, Path, Path]) -> None:
    dataset, folder, path = installed
    copy = path.with_name("copy")
    shutil.copy2(path, copy)
    copy.replace(path)  # another inode and ctime, the same bytes
    again = index_of(dataset, folder)
    assert not again.built and _answer(again, version="1.0") == ["X-1"]
    assert not index_of(dataset, folder).built  # restamped: the next open takes the fast path


def test_damage_met_by_a_query_fails_it_and_the_next_open_rebuilds(
    installed: tuple[Path, Path, Path],
) -> None:
    dataset, folder, path = installed
    with sqlite3.connect(path) as db:  # bit rot below SQLite's structure: a record's bytes
        db.execute("UPDATE records SET body = x'7b7b7b' WHERE id = CAST('X-1' AS BLOB)")
    _restamp(folder, path)
    index = index_of(dataset, folder)
    assert not index.built
    with pytest.raises(IndexDamagedError, match="the next run rebuilds it"):
        index.matches("PyPI", "pkg", "1.0")
    assert not path.exists()
    assert index_of(dataset, folder).built


def test_a_killed_builder_leaves_nothing_that_is_used(installed: tuple[Path, Path, Path]) -> None:
    dataset, folder, path = installed
    leftover = path.with_name(path.name + ".4242-dead.tmp")
    leftover.write_bytes(b"half an index")
    write(dataset, "X-3.json", record("X-3", "pkg"))
    assert index_of(dataset, folder).built
    assert not leftover.exists()


# -- the dataset's errors, the folder's ---------------------------------------------------------


def test_a_malformed_dataset_fails_like_a_direct_load_and_leaves_nothing(tmp_path: Path) -> None:
    dataset, folder = tmp_path / "db", tmp_path / "index"
    write(dataset, "X-1.json", record("X-1", "pkg"))
    write(dataset, "X-2.json", "{broken")
    with pytest.raises(InputError) as direct:
        OsvDatabase.load(dataset)
    with pytest.raises(InputError) as compiled:
        open_index(dataset, folder, now_ns=later)
    assert str(compiled.value) == str(direct.value)
    assert sorted(p.suffix for p in folder.iterdir()) == [".lock"]


def test_an_unusable_folder_falls_back_to_a_direct_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dataset = LOCKFILE_DB
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    with pytest.raises(IndexUnavailableError, match="cannot be used"):
        open_index(dataset, blocker, now_ns=later)
    database = open_advisories(dataset, blocker)
    assert isinstance(database, OsvDatabase)
    assert "reading the OSV database directly" in caplog.text


def test_a_build_held_too_long_by_another_process_is_not_waited_for(tmp_path: Path) -> None:
    dataset, folder = tmp_path / "db", tmp_path / "index"
    write(dataset, "X-1.json", record("X-1", "pkg"))
    index_of(dataset, folder)
    (lock,) = folder.glob("*.lock")
    write(dataset, "X-2.json", record("X-2", "pkg"))  # a new signature: a build is needed
    with file_lock(lock, "a test holding the build lock", 0) as held:
        assert held
        with pytest.raises(IndexUnavailableError, match="being compiled by a test holding the build lock"):
            open_index(dataset, folder, now_ns=later, lock_wait_s=0)


# -- several processes at once ------------------------------------------------------------------

_OPENER = """
import sys, time
from pathlib import Path
from secscan.scanners.osv.index_store import open_index
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.01)
index = open_index(Path(sys.argv[1]), Path(sys.argv[2]), now_ns=lambda: time.time_ns() + 10**10)
print("built" if index.built else "found", len(index.matches("PyPI", "pkg", "1.0")))
"""


def test_processes_starting_at_once_compile_the_index_once(tmp_path: Path) -> None:
    dataset, folder, go = tmp_path / "db", tmp_path / "index", tmp_path / "go"
    for n in range(300):  # enough to make a build take a while
        write(
            dataset,
            f"p{n % 30}/X-{n}.json",
            record(f"X-{n}", "pkg" if n % 3 == 0 else f"p{n}", details="d" * 2000),
        )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, str(dataset), str(folder), str(go)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(4)
    ]
    go.touch()
    outputs = sorted(p.communicate(timeout=120)[0].strip() for p in processes)
    assert all(p.returncode == 0 for p in processes)
    assert outputs == ["built 100", "found 100", "found 100", "found 100"]


def test_a_query_after_close_is_refused_and_leaves_the_index_alone(
    installed: tuple[Path, Path, Path],
) -> None:
    dataset, folder, path = installed
    index = index_of(dataset, folder)
    index.close()  # the run is over; a late server thread may still ask
    with pytest.raises(RuntimeError, match="closed"):
        index.matches("PyPI", "pkg", "1.0")
    assert path.exists() and not index_of(dataset, folder).built


def test_the_server_answers_500_in_one_line_from_a_damaged_index(
    installed: tuple[Path, Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    dataset, folder, path = installed
    with sqlite3.connect(path) as db:
        db.execute("UPDATE records SET body = x'5b5d' WHERE id = CAST('X-1' AS BLOB)")
    _restamp(folder, path)
    body = json.dumps({"package": {"name": "pkg", "ecosystem": "PyPI"}, "version": "1.0"}).encode()
    with OsvServer(index_of(dataset, folder)) as server:
        request = urllib.request.Request(server.query_url, data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=30)
    assert failed.value.code == 500
    assert "is damaged" in json.loads(failed.value.read())["message"]
    assert "Traceback" not in caplog.text and "is damaged" in caplog.text
