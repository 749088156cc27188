"""Pure reconciliation: identity, fixed-only-when-proven, reopen, triage, suppressions, baseline."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.core import sla
from secscan.core.decisions import apply_triage, expire_triage
from secscan.core.errors import ConfigError
from secscan.core.model import (
    Finding,
    FindingState,
    Location,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.ports.store import BaselineState, HistoryEvent, Suppression, TrackedFinding, TriageStatus
from secscan.core.triage import (
    SUPPRESSIONS_ACTOR,
    Reconciliation,
    covers,
    end_of_day,
    parse_suppressions,
    reconcile,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
BANDIT = ToolName("bandit")
SECRETS = ToolName("detect-secrets")
POLICY = sla.SlaPolicy(
    windows={
        Severity.CRITICAL: 2 * H,
        Severity.HIGH: 24 * H,
        Severity.MEDIUM: 7 * 24 * H,
        Severity.LOW: 30 * 24 * H,
        Severity.INFO: None,
    }
)


def fnd(
    n: int, *, path: str = "", line: int = 1, tool: ToolName = BANDIT, sev: Severity = Severity.HIGH
) -> Finding:
    return Finding(
        tool=tool,
        rule_id=f"R{n % 3}",
        message=f"issue {n}",
        location=Location(path or f"src/m{n}.py", line),
        severity=sev,
        fingerprint=f"{n:04x}" + "ab" * 30,
    )


def scanner(
    findings: tuple[Finding, ...] | list[Finding],
    *,
    tool: ToolName = BANDIT,
    status: ScannerStatus = ScannerStatus.OK,
    scope: frozenset[str] | None = None,
) -> ScannerResult:
    if scope is None:
        scope = frozenset({"."}) if status is ScannerStatus.OK else frozenset()
    return ScannerResult(tool, "1.0", status, 1.0, 0, tuple(findings), scope=scope)


def scan(*scanners: ScannerResult, run_id: str = "r") -> ScanRun:
    return ScanRun(RunId(run_id), "/repo", "repo", T0, T0, scanners)


def ingest(
    prev: list[TrackedFinding] | tuple[TrackedFinding, ...],
    run: ScanRun,
    now: datetime,
    policy: sla.SlaPolicy = POLICY,
    suppressions: tuple[Suppression, ...] = (),
) -> tuple[Reconciliation, list[TrackedFinding]]:
    """Reconcile and return the tracked set after it (as the store would hold it)."""
    rec = reconcile(prev, run, now, policy, suppressions)
    state = {t.fingerprint: t for t in prev}
    state.update({t.fingerprint: t for t in rec.changed})
    return rec, sorted(state.values(), key=lambda t: t.fingerprint)


def fps(items: tuple[TrackedFinding, ...]) -> set[str]:
    return {t.fingerprint for t in items}


def test_first_run_everything_is_new_with_a_running_clock() -> None:
    rec, tracked = ingest([], scan(scanner([fnd(1), fnd(2)])), T0)
    assert fps(rec.new) == {fnd(1).fingerprint, fnd(2).fingerprint}
    assert all(t.state is FindingState.NEW and t.first_seen == T0 and t.sla == sla.start(T0) for t in tracked)
    assert [e.event for e in rec.history] == [HistoryEvent.OPENED, HistoryEvent.OPENED]
    assert all(b is BaselineState.NEW for b in rec.baseline.values())


def test_a_finding_that_moved_keeps_id_first_seen_clock_and_triage() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1, line=10)])), T0)
    triaged, _ = apply_triage(tracked[0], TriageStatus.ACCEPTED_RISK, "ok", None, "alice", T0 + H)
    rec, after = ingest([triaged], scan(scanner([fnd(1, line=99)])), T0 + 2 * H)
    (moved,) = after
    assert moved.id == tracked[0].id and moved.first_seen == T0
    assert moved.sla == triaged.sla and moved.triage == triaged.triage
    assert moved.line == 99 and moved.state is FindingState.TRIAGED
    assert fps(rec.unchanged) == {moved.fingerprint} and not rec.new and not rec.fixed


@pytest.mark.parametrize("status", [ScannerStatus.FAILED, ScannerStatus.TIMEOUT, ScannerStatus.SKIPPED])
def test_a_scanner_that_did_not_finish_ok_closes_nothing(status: ScannerStatus) -> None:
    _, tracked = ingest([], scan(scanner([fnd(1)])), T0)
    rec, after = ingest(tracked, scan(scanner([], status=status, scope=frozenset({"."}))), T0 + H)
    assert not rec.fixed and after[0].state is FindingState.NEW
    assert fps(rec.unconfirmed) == {fnd(1).fingerprint}


def test_fixed_only_by_the_scanner_that_reported_it_over_a_covering_scope() -> None:
    secret = fnd(2, tool=SECRETS, path="conf/settings.py")
    _, tracked = ingest([], scan(scanner([fnd(1, path="src/a.py")]), scanner([secret], tool=SECRETS)), T0)
    # bandit ok but scanned only another file; detect-secrets failed
    run = scan(
        scanner([], scope=frozenset({"src/b.py"})),
        scanner([], tool=SECRETS, status=ScannerStatus.FAILED),
    )
    rec, tracked = ingest(tracked, run, T0 + H)
    assert not rec.fixed and not run.complete
    # a partial run where bandit covered src/ fixes the bandit finding only
    run = scan(
        scanner([], scope=frozenset({"src/"})), scanner([], tool=SECRETS, status=ScannerStatus.TIMEOUT)
    )
    rec, tracked = ingest(tracked, run, T0 + 2 * H)
    assert fps(rec.fixed) == {fnd(1, path="src/a.py").fingerprint}
    by_fp = {t.fingerprint: t for t in tracked}
    fixed = by_fp[fnd(1).fingerprint]
    assert fixed.state is FindingState.FIXED and fixed.fixed_at == T0 + 2 * H
    assert fixed.sla.paused_at == T0 + 2 * H
    assert by_fp[secret.fingerprint].state is FindingState.NEW
    assert [e.event for e in rec.history] == [HistoryEvent.FIXED]


@pytest.mark.parametrize(
    ("scope", "path", "expected"),
    [
        (frozenset({"a/b.py"}), "a/b.py", True),
        (frozenset({"a/c.py"}), "a/b.py", False),
        (frozenset({"a"}), "a/b/c.py", True),
        (frozenset({"a/"}), "a/b/c.py", True),
        (frozenset({"ab/"}), "a/b.py", False),
        (frozenset({"."}), "x.py", True),
        (frozenset(), "x.py", False),
    ],
)
def test_scope_coverage(scope: frozenset[str], path: str, expected: bool) -> None:
    assert covers(scope, path) is expected


@pytest.mark.parametrize("reopen", list(sla.ReopenPolicy))
def test_a_finding_that_comes_back_is_reopened_per_policy(reopen: sla.ReopenPolicy) -> None:
    policy = replace(POLICY, reopen=reopen)
    _, tracked = ingest([], scan(scanner([fnd(1)])), T0, policy)
    _, tracked = ingest(tracked, scan(scanner([])), T0 + H, policy)
    rec, tracked = ingest(tracked, scan(scanner([fnd(1)])), T0 + 10 * H, policy)
    (back,) = tracked
    assert fps(rec.reopened) == {back.fingerprint} and back.state is FindingState.REOPENED
    assert back.fixed_at is None and back.first_seen == T0 and back.sla.running
    expected_due = T0 + 10 * H + 24 * H if reopen is sla.ReopenPolicy.RESTART else T0 + 9 * H + 24 * H
    assert sla.due_at(back.sla, back.severity, policy) == expected_due
    _, tracked = ingest(tracked, scan(scanner([fnd(1)])), T0 + 11 * H, policy)
    assert tracked[0].state is FindingState.UNCHANGED


def test_a_false_positive_that_comes_back_stays_triaged() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1)])), T0)
    fp, _ = apply_triage(tracked[0], TriageStatus.FALSE_POSITIVE, "test code", None, "bob", T0)
    _, tracked = ingest([fp], scan(scanner([])), T0 + H)
    assert tracked[0].state is FindingState.FIXED and tracked[0].triage == fp.triage
    rec, tracked = ingest(tracked, scan(scanner([fnd(1)])), T0 + 2 * H)
    assert tracked[0].state is FindingState.TRIAGED and not tracked[0].sla.running
    assert fps(rec.reopened) == {fp.fingerprint}


def test_an_accepted_risk_that_expires_reopens_and_resumes_at_the_expiry() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0)
    until = T0 + 5 * H
    risk, entry = apply_triage(tracked[0], TriageStatus.ACCEPTED_RISK, "vendor fix", until, "carol", T0 + H)
    assert entry.event is HistoryEvent.TRIAGED and risk.sla.paused_at == T0 + H
    rec, tracked = ingest([risk], scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0 + 4 * H)
    assert tracked[0].state is FindingState.TRIAGED  # still before the expiry
    rec, tracked = ingest(tracked, scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0 + 30 * H)
    (t,) = tracked
    assert t.state is FindingState.UNCHANGED and t.triage is None and t.sla.running
    assert t.sla.paused == 4 * H  # paused from T0+1h to the expiry at T0+5h, not to T0+30h
    assert [e.event for e in rec.history] == [HistoryEvent.TRIAGE_EXPIRED]
    assert sla.status(t.sla, t.severity, POLICY, T0 + 30 * H) is sla.SlaStatus.BREACHED


def test_expire_triage_is_a_no_op_while_the_decision_holds() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1)])), T0)
    risk, _ = apply_triage(tracked[0], TriageStatus.ACCEPTED_RISK, "r", T0 + H, "x", T0)
    assert expire_triage(risk, T0 + H - timedelta(seconds=1)) == (risk, ())
    after, entries = expire_triage(risk, T0 + H)
    assert after.state is FindingState.UNCHANGED and [e.event for e in entries] == [
        HistoryEvent.TRIAGE_EXPIRED
    ]


def test_triage_open_lifts_a_decision_and_resumes_the_clock() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1)])), T0)
    fp, _ = apply_triage(tracked[0], TriageStatus.FALSE_POSITIVE, "no", None, "a", T0 + H)
    back, entry = apply_triage(fp, TriageStatus.OPEN, "it is real", None, "b", T0 + 3 * H)
    assert back.state is FindingState.UNCHANGED and back.triage is None
    assert back.sla.running and back.sla.paused == 2 * H
    assert (entry.event, entry.actor, entry.from_state) == (HistoryEvent.UNTRIAGED, "b", FindingState.TRIAGED)


SUPPRESSIONS = """
[[suppression]]
rule = "R1"
tool = "bandit"
path = "src/*"
reason = "asserts in src are fine"

[[suppression]]
fingerprint = "0002ab"
reason = "false alarm"
status = "false-positive"
expires = 2025-03-02
"""


def test_parse_suppressions() -> None:
    by_rule, by_fp = parse_suppressions(SUPPRESSIONS)
    assert by_rule == Suppression(reason="asserts in src are fine", rule="R1", tool=BANDIT, path="src/*")
    assert by_fp.status is TriageStatus.FALSE_POSITIVE
    assert by_fp.expires == end_of_day(date(2025, 3, 2)) == datetime(2025, 3, 3, tzinfo=UTC)


def test_the_last_day_a_date_can_name_holds_to_its_last_second() -> None:
    assert end_of_day(date(9999, 12, 31)) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert end_of_day(date(9999, 12, 30)) == datetime(9999, 12, 31, tzinfo=UTC)
    [never] = parse_suppressions('[[suppression]]\nrule = "R1"\nreason = "x"\nexpires = 9999-12-31\n')
    assert never.expires == end_of_day(date.max)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[suppression]]\nrule = "B1"', "reason"),
        ('[[suppression]]\nreason = "x"', "rule' or 'fingerprint"),
        ('[[suppression]]\nrule = "B1"\nreason = "x"\nwhen = 1', "unknown key"),
        ('[[suppression]]\nrule = "B1"\nreason = "x"\nexpires = "soon"', "expires"),
        ('[[suppression]]\nrule = "B1"\nreason = "x"\nstatus = "open"', "status"),
        ("suppression = 3", "array of tables"),
    ],
)
def test_bad_suppressions_name_the_entry(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_suppressions(text)


def test_suppressions_triage_like_a_decision_and_lift_when_removed_or_expired() -> None:
    sup = parse_suppressions(SUPPRESSIONS)
    run = scan(scanner([fnd(1), fnd(2), fnd(3), fnd(7, path="lib/x.py")]))
    rec, tracked = ingest([], run, T0, suppressions=sup)
    by_fp = {t.fingerprint: t for t in tracked}
    assert by_fp[fnd(1).fingerprint].state is FindingState.TRIAGED  # R1 in src/
    assert by_fp[fnd(1).fingerprint].triage is not None
    assert by_fp[fnd(1).fingerprint].triage.actor == SUPPRESSIONS_ACTOR  # type: ignore[union-attr]
    assert by_fp[fnd(2).fingerprint].triage.status is TriageStatus.FALSE_POSITIVE  # type: ignore[union-attr]
    assert by_fp[fnd(3).fingerprint].state is FindingState.NEW  # rule R0
    assert by_fp[fnd(7).fingerprint].state is FindingState.NEW  # rule R1, but outside src/
    # re-ingest with the same file: no new history
    rec, tracked = ingest(tracked, run, T0 + H, suppressions=sup)
    assert rec.history == ()
    # the fingerprint entry expires at the end of 2025-03-02; the rule entry is removed
    rec, tracked = ingest(tracked, run, datetime(2025, 3, 3, 1, tzinfo=UTC), suppressions=())
    assert all(t.state is FindingState.UNCHANGED and t.triage is None for t in tracked)
    assert sorted(e.event for e in rec.history) == [HistoryEvent.TRIAGE_EXPIRED, HistoryEvent.UNTRIAGED]


def test_a_manual_decision_wins_over_the_suppressions_file() -> None:
    sup = (Suppression(reason="file", rule="R1"),)
    _, tracked = ingest([], scan(scanner([fnd(1)])), T0)
    manual, _ = apply_triage(tracked[0], TriageStatus.FALSE_POSITIVE, "mine", None, "dave", T0)
    rec, tracked = ingest([manual], scan(scanner([fnd(1)])), T0 + H, suppressions=sup)
    assert tracked[0].triage == manual.triage and rec.history == ()


def test_baseline_states_against_the_previous_complete_run() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1), fnd(2), fnd(3)])), T0)
    # a partial run (another scanner failed) sees fnd(1) moved; it does not move the baseline
    partial = scan(
        scanner([fnd(1, line=5), fnd(2), fnd(3)]), scanner([], tool=SECRETS, status=ScannerStatus.FAILED)
    )
    rec, tracked = ingest(tracked, partial, T0 + H)
    assert rec.baseline[fnd(1).fingerprint] is BaselineState.UPDATED
    rec, tracked = ingest(tracked, scan(scanner([fnd(1, line=5), fnd(2), fnd(4)])), T0 + 2 * H)
    assert rec.baseline == {
        fnd(1).fingerprint: BaselineState.UPDATED,  # still against the first (complete) run
        fnd(2).fingerprint: BaselineState.UNCHANGED,
        fnd(4).fingerprint: BaselineState.NEW,
    }
    assert fps(rec.absent) == {fnd(3).fingerprint}
    rec, _ = ingest(tracked, scan(scanner([fnd(1, line=5), fnd(2), fnd(4)])), T0 + 3 * H)
    assert set(rec.baseline.values()) == {BaselineState.UNCHANGED} and rec.absent == ()


def test_severity_change_is_recorded_and_moves_the_due_time() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1, sev=Severity.LOW)])), T0)
    rec, tracked = ingest(tracked, scan(scanner([fnd(1, sev=Severity.CRITICAL)])), T0 + H)
    assert [e.event for e in rec.history] == [HistoryEvent.SEVERITY_CHANGED]
    assert sla.due_at(tracked[0].sla, tracked[0].severity, POLICY) == T0 + 2 * H


# -- properties ------------------------------------------------------------------------------

finding_sets = st.lists(
    st.builds(
        fnd,
        st.integers(0, 40),
        line=st.integers(1, 500),
        tool=st.sampled_from([BANDIT, SECRETS]),
        sev=st.sampled_from(list(Severity)),
    ),
    max_size=25,
    unique_by=lambda f: f.fingerprint,
)


def _runs(findings: list[Finding], ok: bool = True) -> ScanRun:
    bandit = [f for f in findings if f.tool == BANDIT]
    secrets = [f for f in findings if f.tool == SECRETS]
    status = ScannerStatus.OK if ok else ScannerStatus.FAILED
    return scan(scanner(bandit), scanner(secrets, tool=SECRETS, status=status))


def _lifecycle(tracked: list[TrackedFinding]) -> list[tuple[object, ...]]:
    return [(t.fingerprint, t.state, t.first_seen, t.sla, t.triage, t.fixed_at) for t in tracked]


@settings(max_examples=60, deadline=None)
@given(first=finding_sets, second=finding_sets, ok=st.booleans())
def test_reingesting_the_same_results_is_idempotent(
    first: list[Finding], second: list[Finding], ok: bool
) -> None:
    _, tracked = ingest([], _runs(first), T0)
    _, once = ingest(tracked, _runs(second, ok), T0 + H)
    rec, twice = ingest(once, _runs(second, ok), T0 + 2 * H)
    assert not rec.new and not rec.reopened and not rec.fixed
    assert all(e.event is not HistoryEvent.OPENED for e in rec.history)
    settled = [(t.fingerprint, t.first_seen, t.sla, t.triage, t.fixed_at) for t in once]
    assert [(t.fingerprint, t.first_seen, t.sla, t.triage, t.fixed_at) for t in twice] == settled


@settings(max_examples=60, deadline=None)
@given(first=finding_sets, second=finding_sets, seed=st.integers(0, 2**16))
def test_shuffling_changes_nothing(first: list[Finding], second: list[Finding], seed: int) -> None:
    _, tracked = ingest([], _runs(first), T0)
    shuffled = list(second)
    random.Random(seed).shuffle(shuffled)
    prev = list(tracked)
    random.Random(seed).shuffle(prev)
    rec_a, a = ingest(tracked, _runs(second), T0 + H)
    rec_b, b = ingest(prev, _runs(shuffled), T0 + H)
    assert a == b
    assert rec_a.history == rec_b.history and rec_a.baseline == rec_b.baseline
    assert (rec_a.new, rec_a.unchanged, rec_a.fixed) == (rec_b.new, rec_b.unchanged, rec_b.fixed)


@settings(max_examples=60, deadline=None)
@given(first=finding_sets, second=finding_sets, shift=st.integers(1, 300))
def test_moving_lines_changes_nothing(first: list[Finding], second: list[Finding], shift: int) -> None:
    _, tracked = ingest([], _runs(first), T0)
    moved = [
        replace(f, location=replace(f.location, start_line=f.location.start_line + shift)) for f in second
    ]
    rec_a, a = ingest(tracked, _runs(second), T0 + H)
    rec_b, b = ingest(tracked, _runs(moved), T0 + H)
    assert _lifecycle(a) == _lifecycle(b)
    assert [(t.fingerprint, t.state) for t in rec_a.changed] == [
        (t.fingerprint, t.state) for t in rec_b.changed
    ]
    assert fps(rec_a.fixed) == fps(rec_b.fixed) and fps(rec_a.new) == fps(rec_b.new)


def test_suppressions_none_leaves_the_files_decisions_and_empty_lifts_them() -> None:
    sup = (Suppression(reason="file", rule="R1"),)
    _, tracked = ingest([], scan(scanner([fnd(1), fnd(4)])), T0, suppressions=sup)
    run = scan(scanner([fnd(1)]))  # fnd(4) is gone too: fixed, its decision kept
    rec = reconcile(tracked, run, T0 + H, POLICY, None)
    assert [e.event for e in rec.history] == [HistoryEvent.FIXED]
    assert {t.fingerprint: t.triage for t in rec.changed} == {t.fingerprint: t.triage for t in tracked}
    rec = reconcile(tracked, run, T0 + H, POLICY, ())
    lifted = {e.fingerprint for e in rec.history if e.event is HistoryEvent.UNTRIAGED}
    assert lifted == {fnd(1).fingerprint}  # a fixed finding keeps its decision until it comes back


def test_a_finding_seen_again_keeps_when_its_code_arrived() -> None:
    _, tracked = ingest([], scan(scanner([fnd(1), fnd(2)])), T0)
    arrived = [replace(t, introduced_at=T0 - 48 * H) for t in tracked]
    rec = reconcile(arrived, scan(scanner([fnd(1, line=5), fnd(2, sev=Severity.LOW)])), T0 + H, POLICY)
    assert [t.introduced_at for t in rec.unchanged] == [T0 - 48 * H, T0 - 48 * H]
