"""The OSV engine over ecosystems: SemVer for npm, purls, fixes per match, filtered loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secscan.core.purl import from_purl, to_purl
from secscan.scanners.osv import LoadLimits, OsvDatabase
from secscan.scanners.osv.matching import is_affected
from secscan.scanners.osv.reader import iter_records, may_name
from secscan.scanners.osv.versions import Schemes, parse_semver
from tests.osv.conftest import FIXTURES, NPM_RECORDS


def npm_record(
    *ranges: list[dict[str, str]],
    versions: list[str] | None = None,
    name: str = "pkg",
    kind: str = "ECOSYSTEM",
) -> dict[str, Any]:
    affected: dict[str, Any] = {
        "package": {"ecosystem": "npm", "name": name},
        "ranges": [{"type": kind, "events": events} for events in ranges],
    }
    if versions is not None:
        affected["versions"] = versions
    return {"id": "x_NPM-T", "modified": "2025-01-01T00:00:00Z", "affected": [affected]}


def hits(record: dict[str, Any], *versions: str, name: str = "pkg") -> list[str]:
    return [v for v in versions if is_affected(record, name, v, ecosystem="npm")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("=1.2.3", "1.2.3"),
        (" 1.2.3 ", "1.2.3"),
        ("14.0", "14.0.0"),
        ("5", "5.0.0"),
        ("1.4.4-lts.1", "1.4.4-lts.1"),
        ("15.0.4-canary.51", "15.0.4-canary.51"),
        ("1.0.0+build.5", "1.0.0+build.5"),
        ("2.0-rc.1", "2.0.0-rc.1"),
    ],
)
def test_semver_readings(text: str, expected: str) -> None:
    parsed = parse_semver(text)
    assert parsed is not None and str(parsed) == expected


@pytest.mark.parametrize("text", ["", "latest", "1.2.3.4", "01.2.3", "1.2.3-01", "^1.2.3", "1.x", "abc"])
def test_not_semver(text: str) -> None:
    assert parse_semver(text) is None


def test_semver_precedence_not_pep440() -> None:
    """Pre-releases, identifiers and build metadata as SemVer 2.0.0 orders them (PEP 440 would not)."""
    rec = npm_record([{"introduced": "1.0.0-alpha.beta"}, {"fixed": "1.0.0-rc.1"}])
    assert hits(
        rec,
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta.11",
        "1.0.0-beta.2",
        "1.0.0-rc.1",
        "1.0.0",
    ) == ["1.0.0-alpha.beta", "1.0.0-beta.11", "1.0.0-beta.2"]
    build = npm_record([{"introduced": "0"}, {"fixed": "2.0.0+build.9"}])
    assert hits(build, "1.9.9", "2.0.0", "2.0.0+other") == ["1.9.9"]  # build metadata does not count


def test_npm_ranges_last_affected_limit_unsorted_and_versions() -> None:
    rec = npm_record(
        [{"fixed": "2.4.1"}, {"introduced": "0"}],
        [{"introduced": "3.0.0"}, {"last_affected": "3.2.0"}],
        [{"introduced": "5.0.0"}, {"limit": "5.5.0"}],
        versions=["v9.0.0", "10.0.0+x"],
    )
    assert hits(
        rec, "0.0.1", "2.4.0", "2.4.1", "3.2.0", "3.2.1", "5.4.9", "5.5.0", "9.0.0", "10.0.0", "11.0.0"
    ) == [
        "0.0.1",
        "2.4.0",
        "3.2.0",
        "5.4.9",
        "9.0.0",
        "10.0.0",
    ]


def test_npm_names_are_exact_and_scoped() -> None:
    rec = npm_record([{"introduced": "0"}], name="@Scope/Pkg")
    assert hits(rec, "1.0.0", name="@Scope/Pkg") == ["1.0.0"]
    assert hits(rec, "1.0.0", name="@scope/pkg") == []
    assert not is_affected(rec, "@Scope/Pkg", "1.0.0")  # PyPI by default


def test_other_ecosystems_use_semver_only_for_semver_ranges() -> None:
    def record(kind: str) -> dict[str, Any]:
        return {
            "id": "x",
            "modified": "m",
            "affected": [
                {
                    "package": {"ecosystem": "crates.io", "name": "c"},
                    "ranges": [{"type": kind, "events": [{"introduced": "1.0.0"}]}],
                }
            ],
        }

    assert is_affected(record("SEMVER"), "c", "1.5.0", ecosystem="crates.io")
    assert not is_affected(record("ECOSYSTEM"), "c", "1.5.0", ecosystem="crates.io")  # unknown ordering
    assert Schemes().for_range("PyPI", "SEMVER") is not None  # PEP 440, as the pip-audit path always did


def test_matches_carry_the_fixes_of_the_ranges_that_hold_the_version() -> None:
    database = OsvDatabase.from_records(
        [
            npm_record(
                [{"introduced": "0"}, {"fixed": "14.2.31"}], [{"introduced": "15.0.0"}, {"fixed": "15.4.5"}]
            ),
            npm_record(
                [{"introduced": "0"}, {"fixed": "1.0.0"}],
                [{"introduced": "20.0.0"}, {"fixed": "20.1.0"}],
                versions=["14.5.0"],
            )
            | {"id": "x_NPM-U"},
        ]
    )
    assert [(m.record["id"], m.fixed) for m in database.matches("npm", "pkg", "14.1.0")] == [
        ("x_NPM-T", ("14.2.31",))
    ]
    assert [(m.record["id"], m.fixed) for m in database.matches("npm", "pkg", "15.1.0")] == [
        ("x_NPM-T", ("15.4.5",))
    ]
    # listed, in no range: the fixes above it
    assert [(m.record["id"], m.fixed) for m in database.matches("npm", "pkg", "14.5.0")] == [
        ("x_NPM-U", ("20.1.0",))
    ]


def test_load_keeps_only_the_wanted_packages_and_counts_ecosystems(tmp_path: Path) -> None:
    full = OsvDatabase.load(NPM_RECORDS)
    assert len(full) == 4  # one of the five is withdrawn
    filtered = OsvDatabase.load(NPM_RECORDS, packages={("npm", "tiny-lib")})
    assert sorted(r["id"] for r in filtered.records()) == ["x_NPMT-0002", "x_NPMT-0003"]
    assert (
        filtered.advisories("npm") == 4
        and filtered.advisories("PyPI") == 1
        and filtered.advisories("Go") == 0
    )
    assert [m.record["id"] for m in filtered.matches("npm", "tiny-lib", "1.2.0")] == ["x_NPMT-0002"]
    mixed = OsvDatabase.load(FIXTURES, packages={("npm", "Left_Pad"), ("PyPI", "demo-pkg")})
    assert sorted(r["id"] for r in mixed.records()) == ["PYSEC-2024-999", "x_NPM-0001"]


def test_files_that_cannot_name_the_ecosystem_are_not_decoded(tmp_path: Path) -> None:
    (tmp_path / "go.json").write_text(
        '{"id": "GO-1", "affected": [{"package": {"ecosystem": "Go"}}]'
    )  # broken
    escaped = {"id": "x_E", "modified": "m", "affected": [{"package": {"ecosystem": "npm", "name": "e"}}]}
    (tmp_path / "escaped.json").write_text(json.dumps(escaped).replace('"npm"', '"\\u006epm"'))
    assert not may_name(b'{"ecosystem": "Go"}', {"npm"})
    assert may_name(b'{"ecosystem": "\\u006epm"}', {"npm"})
    records = list(iter_records(tmp_path, LoadLimits(), {"npm"}))  # the broken Go record is skipped
    assert [r["id"] for r in records] == ["x_E"]


_label = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,12}", fullmatch=True)
_version = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.one_of(st.none(), st.from_regex(r"[0-9A-Za-z]{1,6}(\.[0-9A-Za-z]{1,6}){0,2}", fullmatch=True)),
)


@given(st.one_of(_label, st.builds(lambda s, n: f"@{s}/{n}", _label, _label)), _version)
def test_property_npm_purls_round_trip(name: str, version: str) -> None:
    purl = to_purl("npm", name, version)
    assert purl is not None and purl.startswith("pkg:npm/")
    parsed = from_purl(purl)
    assert (parsed.ecosystem, parsed.name, parsed.version) == ("npm", name, version)


def test_purl_examples() -> None:
    assert to_purl("npm", "@scope/name", "1.2.3") == "pkg:npm/%40scope/name@1.2.3"
    assert from_purl("pkg:npm/%40scope/name@1.2.3").name == "@scope/name"
    assert to_purl("PyPI", "demo-pkg", "1.0") == "pkg:pypi/demo-pkg@1.0"
    assert to_purl("crates.io", "serde", "1.0.0") is None
    assert from_purl("pkg:cargo/serde@1.0.0").ecosystem is None
