"""Severity of OSV records: CVSS base scores computed from vectors, labels, policy mapping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secscan.config.policy import load_policy
from secscan.core.model import Severity
from secscan.scanners.osv import OsvDatabase, advisory_severity, record_severity

V3_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
V3_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V4_MEDIUM = "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"  # 5.1
V2_HIGH = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5


def rec(severity: Any = None, affected_severity: Any = None, label: Any = None) -> dict[str, Any]:
    record: dict[str, Any] = {"id": "x_T-1", "modified": "2024-01-01T00:00:00Z", "affected": []}
    if severity is not None:
        record["severity"] = severity
    if affected_severity is not None:
        record["affected"] = [{"package": {"ecosystem": "PyPI", "name": "a"}, "severity": affected_severity}]
    if label is not None:
        record["database_specific"] = {"severity": label}
    return record


@pytest.mark.parametrize(
    ("kind", "vector", "score"),
    [
        ("CVSS_V3", V3_HIGH, 7.5),
        ("CVSS_V3", V3_CRITICAL, 9.8),
        ("CVSS_V4", V4_MEDIUM, 5.1),
        ("CVSS_V2", V2_HIGH, 7.5),
    ],
)
def test_scores_are_computed_from_vectors(kind: str, vector: str, score: float) -> None:
    assert record_severity(rec([{"type": kind, "score": vector}])) == (score, None)


def test_highest_score_wins_across_record_and_affected() -> None:
    record = rec([{"type": "CVSS_V4", "score": V4_MEDIUM}], [{"type": "CVSS_V3", "score": V3_CRITICAL}])
    assert record_severity(record) == (9.8, None)


def test_labels() -> None:
    assert record_severity(rec(label="moderate")) == (None, "MODERATE")
    assert record_severity(rec([{"type": "Ubuntu", "score": "high"}])) == (None, "HIGH")
    both = rec([{"type": "Ubuntu", "score": "low"}], label="CRITICAL")
    assert record_severity(both) == (None, "CRITICAL")


@pytest.mark.parametrize(
    "severity",
    [
        [{"type": "CVSS_V3", "score": "garbage"}],
        [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}],
        [{"type": "CVSS_V3", "score": V4_MEDIUM}],
        [{"type": "CVSS_V4", "score": V3_HIGH}],
        [{"type": "CVSS_V2", "score": ""}],
        [{"type": "CVSS_V9", "score": V3_HIGH}],
        [{"type": "CVSS_V3", "score": 7.5}],
        [{"score": V3_HIGH}],
        ["CVSS:3.1"],
        "not a list",
    ],
)
def test_bad_vectors_are_ignored(severity: Any) -> None:
    assert record_severity(rec(severity, label=["not", "a", "string"])) == (None, None)


def test_bad_vector_beside_a_good_one() -> None:
    record = rec([{"type": "CVSS_V3", "score": "garbage"}, {"type": "CVSS_V3", "score": V3_HIGH}])
    assert record_severity(record) == (7.5, None)


def test_policy_mapping(fixture_db: OsvDatabase) -> None:
    policy = load_policy()
    demo = fixture_db.get("PYSEC-2024-999")  # CVSS 7.5 and label MODERATE: the score wins
    assert demo is not None and record_severity(demo) == (7.5, "MODERATE")
    assert advisory_severity(demo, policy) is Severity.HIGH
    other = fixture_db.get("GHSA-aaaa-bbbb-cccc")  # CVSS v4 5.1
    assert other is not None and advisory_severity(other, policy) is Severity.MEDIUM
    jinja = fixture_db.get("PYSEC-2019-217")  # no severity at all: the policy default
    assert jinja is not None and record_severity(jinja) == (None, None)
    assert advisory_severity(jinja, policy) is policy.advisory_default
    assert advisory_severity(rec(label="LOW"), policy) is Severity.LOW


@given(st.sampled_from(["CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu", "x"]), st.text(max_size=80))
def test_property_any_vector_text_never_raises(kind: str, vector: str) -> None:
    score, _ = record_severity(rec([{"type": kind, "score": vector}]))
    assert score is None or 0.0 <= score <= 10.0


@given(
    st.sampled_from(["CVSS:3.1/", "CVSS:4.0/", ""]),
    st.lists(st.sampled_from(list("AVNLHCIPSUR:/0")), max_size=60),
)
def test_property_vector_like_text_never_raises(prefix: str, chars: list[str]) -> None:
    for kind in ("CVSS_V2", "CVSS_V3", "CVSS_V4"):
        score, _ = record_severity(rec([{"type": kind, "score": prefix + "".join(chars)}]))
        assert score is None or 0.0 <= score <= 10.0


def test_cvss_loads_only_with_the_first_vector_scored() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from secscan.scanners.osv.severity import record_severity\n"
        "assert record_severity({'database_specific': {'severity': 'HIGH'}}) == (None, 'HIGH')\n"
        "print('cvss' in sys.modules, 'decimal' in sys.modules)\n"
        "record_severity({'severity': [{'type': 'CVSS_V3', 'score': "
        "'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'}]})\n"
        "print('cvss' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "True"]
