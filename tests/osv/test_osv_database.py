"""Loading OSV databases: layouts, encodings, indexes, withdrawn records, hashes and guards."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from secscan.core.errors import InputError
from secscan.scanners.osv import LoadLimits, OsvDatabase
from tests.osv.conftest import FIXTURE_IDS, FIXTURES, zip_tree


def ids(records: object) -> list[str]:
    return [r["id"] for r in records]  # type: ignore[attr-defined]


def test_folder_holds_both_layouts_and_skips_withdrawn(fixture_db: OsvDatabase) -> None:
    assert ids(fixture_db.records()) == FIXTURE_IDS
    assert len(fixture_db) == 4
    assert fixture_db.withdrawn == 1
    assert fixture_db.get("PYSEC-2024-998") is None
    assert fixture_db.query("demo-pkg", "9.9") == []  # the withdrawn record would match everything


def test_yaml_scalars_stay_strings(fixture_db: OsvDatabase) -> None:
    record = fixture_db.get("PYSEC-2024-999")
    assert record is not None
    assert record["affected"][0]["versions"] == ["1.0.0", "1.2.0", "2.10", "3.1"]
    assert record["modified"] == "2024-05-01T00:00:00Z"  # unquoted timestamp, still a string
    assert record["database_specific"] == {"severity": "MODERATE", "reviewed": True}
    assert record["details"].startswith("Handmade fixture")
    real = fixture_db.get("PYSEC-2019-217")
    assert real is not None
    assert {"2.0", "2.1", "2.10"} <= set(real["affected"][0]["versions"])


def test_float_trap_in_queries(fixture_db: OsvDatabase) -> None:
    assert ids(fixture_db.query("demo-pkg", "2.10")) == ["PYSEC-2024-999"]
    assert ids(fixture_db.query("demo-pkg", "2.10.0")) == ["PYSEC-2024-999"]  # PEP 440 equal
    assert fixture_db.query("demo-pkg", "2.1") == []
    assert ids(fixture_db.query("jinja2", "2.10")) == ["PYSEC-2019-217"]


@pytest.mark.parametrize("name", ["demo-pkg", "Demo_Pkg", "DEMO.pkg", "demo__pkg"])
def test_query_canonicalises_pypi_names(fixture_db: OsvDatabase, name: str) -> None:
    assert ids(fixture_db.query(name, "1.0.0")) == ["PYSEC-2024-999"]


def test_query_npm_exact_names_and_semver_ranges(fixture_db: OsvDatabase) -> None:
    assert ids(fixture_db.query("Left_Pad", "1.0.0", ecosystem="npm")) == ["x_NPM-0001"]
    assert fixture_db.query("left-pad", "1.0.0", ecosystem="npm") == []
    assert ids(fixture_db.query("Left_Pad", "1.5.0", ecosystem="npm")) == ["x_NPM-0001"]  # SEMVER range
    assert fixture_db.query("Left_Pad", "2.0.0", ecosystem="npm") == []
    assert fixture_db.query("Left_Pad", "1.0.0") == []  # ecosystem defaults to PyPI
    assert fixture_db.query("demo-pkg", "1.0.0", ecosystem="pypi") == []  # case-sensitive


def test_query_without_version_lists_every_record_of_the_package(fixture_db: OsvDatabase) -> None:
    assert ids(fixture_db.query("other-pkg", None)) == ["GHSA-aaaa-bbbb-cccc"]
    assert fixture_db.query("unknown", None) == []


def test_get_by_id_and_alias(fixture_db: OsvDatabase) -> None:
    for key in ("PYSEC-2024-999", "GHSA-xxxx-yyyy-zzzz", "CVE-2024-0001"):
        record = fixture_db.get(key)
        assert record is not None and record["id"] == "PYSEC-2024-999"
    assert fixture_db.get("CVE-2019-10906")["id"] == "PYSEC-2019-217"  # type: ignore[index]
    assert fixture_db.get("PYSEC-0000-0") is None


def test_zip_of_either_layout_matches_the_folder(fixture_db: OsvDatabase, tmp_path: Path) -> None:
    nested = OsvDatabase.load(zip_tree(FIXTURES, tmp_path / "nested.zip"))
    flat = OsvDatabase.load(zip_tree(FIXTURES / "osvdev", tmp_path / "all.zip"))
    assert ids(nested.records()) == FIXTURE_IDS
    assert nested.withdrawn == 1
    assert nested.content_hash == fixture_db.content_hash
    assert ids(flat.records()) == ["GHSA-aaaa-bbbb-cccc", "x_NPM-0001"]
    assert ids(flat.query("other-pkg", "1.2")) == ["GHSA-aaaa-bbbb-cccc"]


def test_content_hash_ignores_encoding_and_layout(fixture_db: OsvDatabase, tmp_path: Path) -> None:
    for record in fixture_db.records():
        (tmp_path / f"{record['id']}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    as_json = OsvDatabase.load(tmp_path)
    assert as_json.content_hash == fixture_db.content_hash
    assert len(fixture_db.content_hash) == 64


def test_content_hash_changes_with_content(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "pypa", tmp_path / "db")
    before = OsvDatabase.load(tmp_path / "db").content_hash
    record = tmp_path / "db" / "jinja2" / "PYSEC-2019-217.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("2.10.1", "2.10.2"), encoding="utf-8")
    assert OsvDatabase.load(tmp_path / "db").content_hash != before


def test_duplicate_ids_keep_the_newest(tmp_path: Path) -> None:
    base = {"id": "PYSEC-2024-1", "affected": [], "details": "old", "modified": "2024-01-01T00:00:00Z"}
    (tmp_path / "a.json").write_text(json.dumps(base), encoding="utf-8")
    newer = base | {"details": "new", "modified": "2024-02-01T00:00:00Z"}
    (tmp_path / "b.json").write_text(json.dumps(newer), encoding="utf-8")
    database = OsvDatabase.load(tmp_path)
    assert len(database) == 1
    assert database.get("PYSEC-2024-1")["details"] == "new"  # type: ignore[index]


def test_non_record_files_are_ignored(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "pypa", tmp_path / "db")
    (tmp_path / "db" / ".id-allocator").write_text("garbage: [", encoding="utf-8")
    (tmp_path / "db" / "README.md").write_text("# not a record", encoding="utf-8")
    (tmp_path / "db" / ".git").mkdir()
    (tmp_path / "db" / ".git" / "x.yaml").write_text("garbage: [", encoding="utf-8")
    assert len(OsvDatabase.load(tmp_path / "db")) == 2


def test_from_records_checks_like_the_loader() -> None:
    database = OsvDatabase.from_records([{"id": "x_A-1", "modified": "2024-01-01T00:00:00Z"}])
    assert len(database) == 1
    with pytest.raises(InputError, match=r"<records>\[0\] has no string 'id'"):
        OsvDatabase.from_records([{"modified": "2024-01-01T00:00:00Z"}])


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("PYSEC-1.json", '{"id": "PYSEC-1", ', r"is not valid JSON \(line 1"),
        ("PYSEC-1.yaml", "id: PYSEC-1\naffected: [\n", r"is not valid YAML \(line \d+"),
        ("PYSEC-1.yaml", "modified: '2024-01-01T00:00:00Z'\n", "has no string 'id'"),
        ("PYSEC-1.yaml", "- id: PYSEC-1\n", "is not a mapping"),
        ("PYSEC-1.yaml", "", "is not a mapping"),
        ("PYSEC-1.yaml", "id: a\nmodified: b\naliases: x\n", "'aliases' must be a list"),
        ("PYSEC-1.yaml", "id: a\nmodified: b\naffected: [1]\n", "'affected' must hold objects"),
        ("PYSEC-1.yaml", "id: a\nmodified: b\n---\nid: c\n", "more than one YAML document"),
        ("PYSEC-1.yaml", "a: &x [1, 2]\nb: *x\n", "anchors/aliases"),
        ("PYSEC-1.yaml", "? [1]\n: 2\n", "mapping key is not a plain string"),
        ("PYSEC-1.yaml", "a: " + "[" * 100 + "]" * 100 + "\n", "nesting deeper"),
        ("PYSEC-1.yaml", b"id: \xff\xfe\n", "is not valid YAML"),
        ("PYSEC-1.json", b'{"id": "\xff"}', "is not UTF-8|not valid JSON"),
    ],
)
def test_malformed_file_is_a_one_line_input_error(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    path = tmp_path / "pkg" / name
    path.parent.mkdir()
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(InputError, match=expected) as caught:
        OsvDatabase.load(tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message


def test_bad_database_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        OsvDatabase.load(tmp_path / "missing")
    (tmp_path / "records.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"neither a folder nor a \.zip"):
        OsvDatabase.load(tmp_path / "records.txt")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="not a readable zip archive"):
        OsvDatabase.load(tmp_path / "broken.zip")


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("PyPI/PYSEC-1.json", b" " * (2 * 1024 * 1024) + b'{"id": "PYSEC-1"}')
    limits = LoadLimits(max_file_bytes=1024 * 1024)
    with pytest.raises(InputError, match=r"bomb.zip!PyPI/PYSEC-1.json is larger than 1048576 bytes"):
        OsvDatabase.load(archive, limits)


def test_total_and_count_caps(tmp_path: Path) -> None:
    archive = zip_tree(FIXTURES, tmp_path / "db.zip")
    with pytest.raises(InputError, match="expands to more than 1000 bytes"):
        OsvDatabase.load(archive, LoadLimits(max_total_bytes=1000))
    with pytest.raises(InputError, match="more than 2 record files"):
        OsvDatabase.load(FIXTURES, LoadLimits(max_files=2))


def test_oversized_file_in_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "PYSEC-1.json").write_bytes(b" " * 5000)
    with pytest.raises(InputError, match=r"PYSEC-1\.json is larger than 4096 bytes"):
        OsvDatabase.load(tmp_path, LoadLimits(max_file_bytes=4096))


def test_real_pypa_database_loads(shared: Callable[..., Path]) -> None:
    database = OsvDatabase.load(shared("data", "osv-pypi"))
    assert len(database) > 2600
    assert database.withdrawn > 0
    assert ids(database.query("jinja2", "2.10")) == ["PYSEC-2019-217", "PYSEC-2021-66"]
    assert database.query("jinja2", "3.1.4") == []


def test_concurrent_first_queries_agree() -> None:
    database = OsvDatabase.load(FIXTURES)  # fresh: nothing compiled yet
    probes = [("demo-pkg", "1.0.0"), ("jinja2", "2.10"), ("other-pkg", "1.2"), ("demo-pkg", "9")] * 25
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda p: ids(database.query(*p)), probes))
    expected = {
        ("demo-pkg", "1.0.0"): ["PYSEC-2024-999"],
        ("jinja2", "2.10"): ["PYSEC-2019-217"],
        ("other-pkg", "1.2"): ["GHSA-aaaa-bbbb-cccc"],
        ("demo-pkg", "9"): [],
    }
    assert answers == [expected[p] for p in probes]
