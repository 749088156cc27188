"""Compliance evidence of a calendar period (issue 8) on an open read transaction.

What an auditor asks for about ``[start, end)``: the runs, the lifecycle events per severity
(opened, fixed, reopened, SLA breached), every triage decision with its reason and expiry, and
the decisions (manual or from the suppressions file) that ran out. Read from the audit trail
(``history``, ``triage_decisions``), which is append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from secscan.core.model import Severity, ToolName
from secscan.core.ports.report_model import DecisionRecord, Evidence, PeriodRun
from secscan.core.ports.store import OPEN_STATES, HistoryEvent
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.report import resolve_targets
from secscan.store.sqlite.rows import SEVERITIES, from_ts, opt_dt, to_ts

_OPEN = "('" + "', '".join(sorted(s.value for s in OPEN_STATES)) + "')"
_FINDING = "{fingerprint}, t.name, f.tool_ref, f.rule_ref, f.path_ref, f.severity"
_FAILED = "('failed', 'timeout', 'incomplete')"  # ScannerStatus.is_failure


def evidence(
    conn: Connection, start: datetime, end: datetime, targets: Sequence[str], limit: int
) -> Evidence:
    """The evidence of ``[start, end)`` for ``targets`` (empty: all); at most ``limit`` decisions."""
    infos, where = resolve_targets(conn, targets)
    cur = conn
    dialect = dialect_of(conn)
    finding = _FINDING.format(fingerprint=dialect.fingerprint_text)
    span = {"start": to_ts(start), "end": to_ts(end), "limit": limit}
    run_where = where.replace("f.target_id", "r.target_id")
    first_run = {
        name: from_ts(at)
        for name, at in cur.execute(
            "SELECT t.name, min(r.started_at) FROM runs r JOIN targets t ON t.id = r.target_id "
            f"WHERE {run_where} GROUP BY 1"
        )
    }
    runs = tuple(
        PeriodRun(
            run_id,
            name,
            status,
            from_ts(started),
            opt_dt(finished),
            tuple(sorted(set((failed or "").split(",")) - {""})),
        )
        for run_id, name, status, started, finished, failed in cur.execute(
            "SELECT r.run_id, t.name, r.status, r.started_at, r.finished_at, "
            f"(SELECT {dialect.list_agg('s.tool')} FROM "
            f"scanner_runs s WHERE s.run_id = r.id AND s.status IN {_FAILED}) FROM runs r JOIN targets t "
            f"ON t.id = r.target_id WHERE r.started_at >= :start AND r.started_at < :end AND {run_where} "
            "ORDER BY r.started_at, r.id",
            span,
        )
    )
    events: dict[tuple[str, Severity], int] = {}
    for event, severity, count in cur.execute(
        "SELECT h.event, f.severity, count(*) FROM history h JOIN findings f ON f.id = h.finding_id "
        f"WHERE h.at >= :start AND h.at < :end AND {where} GROUP BY 1, 2",
        span,
    ):
        events[(event, SEVERITIES[severity])] = count
    decisions = cur.execute(
        f"SELECT {finding}, d.status, d.reason, d.actor, d.decided_at, d.until, NULL "
        "FROM triage_decisions d "
        "JOIN findings f ON f.id = d.finding_id JOIN targets t ON t.id = f.target_id "
        f"WHERE d.decided_at >= :start AND d.decided_at < :end AND {where} "
        "ORDER BY d.decided_at, d.id LIMIT :limit + 1",
        span,
    ).fetchall()
    expired = cur.execute(
        f"SELECT {finding}, d.status, d.reason, d.actor, d.decided_at, d.until, h.at FROM history h "
        "JOIN findings f ON f.id = h.finding_id JOIN targets t ON t.id = f.target_id "
        "JOIN triage_decisions d ON d.id = (SELECT x.id FROM triage_decisions x "
        "WHERE x.finding_id = h.finding_id "
        "AND x.decided_at <= h.at ORDER BY x.decided_at DESC, x.id DESC LIMIT 1) "
        f"WHERE h.event = '{HistoryEvent.TRIAGE_EXPIRED.value}' AND h.at >= :start AND h.at < :end "
        f"AND {where} "
        "ORDER BY h.at, h.id LIMIT :limit + 1",
        span,
    ).fetchall()
    texts = _bulk.load_texts(cur, {ref for row in (*decisions, *expired) for ref in row[2:5]})
    open_at_end = dict.fromkeys(Severity, 0)
    for severity, count in cur.execute(
        f"SELECT f.severity, sum(CASE WHEN h.to_state IN {_OPEN} THEN 1 ELSE 0 END - "
        f"CASE WHEN h.from_state IN {_OPEN} THEN 1 ELSE 0 END) FROM history h JOIN findings f "
        f"ON f.id = h.finding_id WHERE h.at < :end AND {where} GROUP BY 1",
        span,
    ):
        open_at_end[SEVERITIES[severity]] = count
    return Evidence(
        start=start,
        end=end,
        targets=tuple(infos.values()),
        first_run=first_run,
        runs=runs,
        events=events,
        decisions=tuple(_decision(r, texts) for r in decisions[:limit]),
        expired=tuple(_decision(r, texts) for r in expired[:limit]),
        open_at_end=open_at_end,
        truncated=len(decisions) > limit or len(expired) > limit,
    )


def _decision(row: Sequence[Any], texts: dict[int, str]) -> DecisionRecord:
    fp, target, tool, rule, path, severity, status, reason, actor, decided, until, expired = row
    return DecisionRecord(
        fingerprint=fp,
        target=target,
        tool=ToolName(texts[tool]),
        rule_id=texts[rule],
        path=texts[path],
        severity=SEVERITIES[severity],
        status=status,
        reason=reason,
        actor=actor,
        decided_at=from_ts(decided),
        until=opt_dt(until),
        expired_at=opt_dt(expired),
    )
