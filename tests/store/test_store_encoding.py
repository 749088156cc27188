"""The compact encoding (interned texts, 32-byte fingerprints) round-trips; set_introduced for MTTD."""

from __future__ import annotations

import sqlite3
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest

from secscan.app.tracking import record_run
from secscan.core import sla
from secscan.core.model import Finding, FindingState, Location, Severity, ToolName
from secscan.core.ports.store import construct
from secscan.store import Store, TrackedFinding, open_store
from secscan.store.sqlite.texts import decode_fingerprint, encode_fingerprint, prefix_bounds
from tests.store.builders import POLICY, T0, H, fnd, make_run


def test_odd_fingerprints_round_trip_as_text(store: Store) -> None:
    odd = [replace(fnd(1), fingerprint="ABCDEF0123-not-hex"), replace(fnd(2), fingerprint="abcd" * 4)]
    record_run(store, make_run("r1", [*odd, fnd(3)]), T0, POLICY)
    assert {t.fingerprint for t in store.list_findings()} == {f.fingerprint for f in (*odd, fnd(3))}
    assert store.get_finding("abcdabcd").fingerprint == "abcd" * 4  # a text one, by prefix
    assert store.get_finding(fnd(3).id).fingerprint == fnd(3).fingerprint  # a stored-bytes one
    again = record_run(store, make_run("r2", [*odd, fnd(3)]), T0 + H, POLICY)
    assert not again.new and len(again.unchanged) == 3


def test_texts_are_stored_once_and_changes_are_kept(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    same = [
        Finding(
            f.tool,
            f.rule_id,
            "same message",
            Location("src/one.py", n),
            f.severity,
            fingerprint=f.fingerprint,
        )
        for n, f in enumerate((fnd(n) for n in range(50)), 1)
    ]
    with open_store(db) as store:
        record_run(store, make_run("r1", same), T0, POLICY)
        moved = [replace(same[0], message="reworded", location=Location("src/two.py", 9)), *same[1:]]
        record_run(store, make_run("r2", moved), T0 + H, POLICY)
        t = store.get_finding(same[0].fingerprint)
        assert (t.message, t.path, t.line) == ("reworded", "src/two.py", 9)
        assert store.get_finding(same[1].fingerprint).message == "same message"
    conn = sqlite3.connect(db)
    values = [v for (v,) in conn.execute("SELECT value FROM texts")]
    kinds = {r[0] for r in conn.execute("SELECT typeof(fingerprint) FROM findings")}
    conn.close()
    assert sorted(values) == sorted(
        {"bandit", "R0", "R1", "R2", "same message", "src/one.py", "reworded", "src/two.py"}
    )
    assert kinds == {"blob"}


def test_fingerprint_encoding_helpers() -> None:
    fp = "0f" * 32
    assert encode_fingerprint(fp) == bytes([15] * 32) and decode_fingerprint(encode_fingerprint(fp)) == fp
    assert encode_fingerprint("0F" * 32) == "0F" * 32  # upper case is not the canonical form: kept as text
    low, high = prefix_bounds("0f0") or (b"", b"")
    assert low <= bytes([15] * 32) <= high and prefix_bounds("x") is None and prefix_bounds("0" * 65) is None


def test_set_introduced_first_value_wins(store: Store) -> None:
    record_run(store, make_run("r1", [fnd(1), fnd(2)]), T0, POLICY)
    assert store.get_finding(fnd(1).id).introduced_at is None
    unknown = "ee" * 32
    count = store.set_introduced("repo", {fnd(1).fingerprint: T0 - 48 * H, unknown: T0})
    assert count == 1
    assert store.set_introduced("repo", {fnd(1).fingerprint: T0 - H}) == 0  # already known
    assert store.set_introduced("other-target", {fnd(2).fingerprint: T0}) == 0
    assert store.set_introduced("repo", {}) == 0
    record_run(store, make_run("r2", [fnd(1, line=30), fnd(2)]), T0 + H, POLICY)  # moved: kept
    assert store.get_finding(fnd(1).id).introduced_at == T0 - 48 * H
    assert store.get_finding(fnd(2).id).introduced_at is None


def test_construct_builds_what_the_constructor_builds() -> None:
    fields = {
        "fingerprint": "ab" * 32, "target": "repo", "tool": ToolName("bandit"), "rule_id": "B1",
        "path": "a.py", "line": 3, "message": "m", "severity": Severity.HIGH, "state": FindingState.NEW,
        "first_seen": T0, "last_seen": T0 + H, "sla": sla.start(T0), "baseline_sig": 5,
    }  # fmt: skip
    built, real = construct(TrackedFinding, **fields), TrackedFinding(**fields)  # type: ignore[arg-type]
    assert built == real and hash(built.sla) == hash(real.sla) and built.triage is None
    assert (built.fixed_at, built.introduced_at, built.id) == (None, None, real.id)
    assert replace(built, line=4) == replace(real, line=4)
    with pytest.raises(FrozenInstanceError):
        built.line = 9  # type: ignore[misc]
