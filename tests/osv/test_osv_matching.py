"""OSV affected-version matching: the spec's pseudocode with PEP 440 ordering."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from packaging.version import Version

from secscan.scanners.osv.matching import is_affected


def record(
    *ranges: list[dict[str, str]], versions: list[str] | None = None, **package: str
) -> dict[str, Any]:
    """A record for ``demo-pkg`` on PyPI with one ECOSYSTEM range per ``ranges`` item."""
    affected: dict[str, Any] = {
        "package": {"ecosystem": "PyPI", "name": "demo-pkg"} | package,
        "ranges": [{"type": "ECOSYSTEM", "events": events} for events in ranges],
    }
    if versions is not None:
        affected["versions"] = versions
    return {"id": "x_TEST-1", "modified": "2024-01-01T00:00:00Z", "affected": [affected]}


def hits(rec: dict[str, Any], *versions: str) -> list[str]:
    return [v for v in versions if is_affected(rec, "demo-pkg", v)]


def test_introduced_zero_and_fixed() -> None:
    rec = record([{"introduced": "0"}, {"fixed": "1.2.1"}])
    assert hits(rec, "0", "0.0.1", "1.2.0", "1.2.1rc1", "1.2.1", "1.2.1.post1", "1.3") == [
        "0",
        "0.0.1",
        "1.2.0",
        "1.2.1rc1",  # a pre-release of the fix sorts before it
    ]


def test_introduced_zero_is_before_every_version_even_dev_releases() -> None:
    rec = record([{"introduced": "0"}, {"fixed": "1.0"}])
    assert hits(rec, "0.dev0", "0a1", "0.0.0") == ["0.dev0", "0a1", "0.0.0"]


def test_introduced_only_stays_open() -> None:
    rec = record([{"introduced": "1.0"}])
    assert hits(rec, "0.9", "1.0rc1", "1.0", "99.0") == ["1.0", "99.0"]


def test_last_affected_is_inclusive() -> None:
    rec = record([{"introduced": "1.0"}, {"last_affected": "1.4"}])
    assert hits(rec, "0.9", "1.0", "1.4rc1", "1.4", "1.4.0", "1.4.post1", "1.4.1") == [
        "1.0",
        "1.4rc1",
        "1.4",
        "1.4.0",
    ]


def test_limit_caps_the_range() -> None:
    rec = record([{"introduced": "3.0.0"}, {"limit": "3.5.0"}])
    assert hits(rec, "2.9", "3.0.0", "3.4.9", "3.5.0", "4.0") == ["3.0.0", "3.4.9"]
    star = record([{"introduced": "3.0.0"}, {"limit": "*"}])
    assert hits(star, "2.9", "3.0.0", "400") == ["3.0.0", "400"]


def test_several_introduced_fixed_pairs_and_unsorted_events() -> None:
    rec = record([{"fixed": "2.0.3"}, {"introduced": "2.0"}, {"fixed": "1.2.1"}, {"introduced": "0"}])
    assert hits(rec, "1.0", "1.2.1", "1.9", "2.0", "2.0.2", "2.0.3", "3.0") == ["1.0", "2.0", "2.0.2"]


def test_ranges_are_a_union() -> None:
    rec = record([{"introduced": "1.0"}, {"fixed": "1.1"}], [{"introduced": "2.0"}, {"fixed": "2.1"}])
    assert hits(rec, "0.9", "1.0.5", "1.5", "2.0.5", "2.1") == ["1.0.5", "2.0.5"]


def test_pre_release_introduced() -> None:
    rec = record([{"introduced": "2.0.0rc1"}, {"fixed": "2.0.1"}])
    assert hits(rec, "2.0.0b1", "2.0.0rc1", "2.0.0", "2.0.1a1", "2.0.1") == ["2.0.0rc1", "2.0.0", "2.0.1a1"]


def test_versions_list_exact_and_pep440_equal() -> None:
    rec = record(versions=["2.10", "1.0RC1", "0.9-legacy"])
    assert hits(rec, "2.10", "2.10.0", "2.1", "1.0rc1", "1.0.0rc1", "0.9-legacy", "0.9") == [
        "2.10",
        "2.10.0",
        "1.0rc1",
        "1.0.0rc1",
        "0.9-legacy",  # not PEP 440, still matched exactly
    ]


def test_spec_section5_example() -> None:
    rec = record(
        [{"introduced": "0"}, {"fixed": "1.2.1"}, {"introduced": "2.0"}, {"fixed": "2.0.3"}],
        versions=["1.0.0", "1.2.0"],
    )
    assert hits(rec, "1.0.0", "1.2.1", "2.0.1") == ["1.0.0", "2.0.1"]


def test_unparsable_query_version_matches_only_the_list() -> None:
    rec = record([{"introduced": "0"}], versions=["weird version"])
    assert hits(rec, "weird version", "another weird one", "") == ["weird version"]


def test_range_with_an_unparsable_event_is_ignored() -> None:
    rec = record([{"introduced": "0"}, {"fixed": "2019-09-12"}], versions=["1.0"])
    assert hits(rec, "1.0", "1.1") == ["1.0"]


def test_semver_ranges_count_for_pypi_and_git_ranges_do_not() -> None:
    rec = record()
    rec["affected"][0]["ranges"] = [
        {"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.1.0"}]},
        {"type": "GIT", "repo": "https://x.invalid", "events": [{"introduced": "0"}]},
        {"type": "UNKNOWN", "events": [{"introduced": "0"}]},
    ]
    assert hits(rec, "0.5", "1.0.5", "1.1.0") == ["1.0.5"]


def test_package_identity() -> None:
    rec = record([{"introduced": "0"}], name="Demo_Pkg")
    assert is_affected(rec, "demo.pkg", "1.0")
    assert not is_affected(rec, "other-pkg", "1.0")
    assert not is_affected(rec, "demo-pkg", "1.0", ecosystem="npm")
    npm = record(versions=["1.0.0"], ecosystem="npm", name="Left_Pad")
    assert is_affected(npm, "Left_Pad", "1.0.0", ecosystem="npm")
    assert not is_affected(npm, "left-pad", "1.0.0", ecosystem="npm")


@pytest.mark.parametrize(
    "affected",
    [
        "not a list",
        ["not an object"],
        [{"package": "x"}],
        [{"package": {"ecosystem": "PyPI"}}],
        [{"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "ranges": "x", "versions": "1.0"}],
        [{"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "ranges": [{"type": "ECOSYSTEM"}]}],
        [
            {
                "package": {"ecosystem": "PyPI", "name": "demo-pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": []}],
            }
        ],
        [
            {
                "package": {"ecosystem": "PyPI", "name": "demo-pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "2"}]}],
            }
        ],
        [
            {
                "package": {"ecosystem": "PyPI", "name": "demo-pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 0}, {"bogus": "1"}]}],
                "versions": [1.0, None],
            }
        ],
    ],
)
def test_malformed_affected_never_raises(affected: object) -> None:
    assert not is_affected({"id": "x", "modified": "y", "affected": affected}, "demo-pkg", "1.0")


_release = st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12))
_suffix = st.sampled_from(["", "a1", "b2", "rc1", ".post1", ".dev3"])
_version = st.builds(lambda r, s: ".".join(map(str, r)) + s, _release, _suffix)


@given(_version, _version, _version)
def test_property_introduced_fixed_is_half_open_interval(low: str, high: str, probe: str) -> None:
    assume(Version(low) < Version(high))
    rec = record([{"fixed": high}, {"introduced": low}])  # events are sorted before evaluation
    expected = Version(low) <= Version(probe) < Version(high)
    assert is_affected(rec, "demo-pkg", probe) is expected


@given(_version, _version, _version)
def test_property_last_affected_is_closed_interval(low: str, high: str, probe: str) -> None:
    assume(Version(low) <= Version(high))
    rec = record([{"introduced": low}, {"last_affected": high}])
    expected = Version(low) <= Version(probe) <= Version(high)
    assert is_affected(rec, "demo-pkg", probe) is expected


@given(st.lists(_version, max_size=5), _version)
def test_property_listed_versions_always_match(listed: list[str], probe: str) -> None:
    rec = record(versions=[*listed, probe])
    assert is_affected(rec, "demo-pkg", probe)


@given(st.text(max_size=20), st.lists(st.text(max_size=10), max_size=4))
def test_property_arbitrary_strings_never_raise(probe: str, events: list[str]) -> None:
    kinds = ["introduced", "fixed", "last_affected", "limit"]
    rec = record([{kinds[i % 4]: value} for i, value in enumerate(events)], versions=events)
    assert isinstance(is_affected(rec, "demo-pkg", probe), bool)


def test_fixed_and_reintroduced_at_the_same_version_keeps_record_order() -> None:
    rec = record([{"introduced": "0"}, {"fixed": "1.0"}, {"introduced": "1.0"}, {"fixed": "2.0"}])
    assert hits(rec, "0.5", "1.0", "1.5", "2.0") == ["0.5", "1.0", "1.5"]
