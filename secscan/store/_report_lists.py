"""The dashboard's lists on an open read transaction: top rules, overdue findings, MTTD medians,
recent runs and the upload outbox. Each reads only the rows it needs (see ``_report``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from secscan.model import FindingState, Severity, ToolName
from secscan.store import _bulk, _runs
from secscan.store._db import Connection
from secscan.store._report_sql import (
    OPEN,
    RANK,
    SEVERITY_INDEX,
    SEVERITY_ORDER,
    STATUS_ORDER,
    Exprs,
    from_micros,
)
from secscan.store._rows import from_ts, opt_dt
from secscan.store.interface import RunSummary
from secscan.store.report_model import OutboxIssue, OverdueFinding, RankedGroup, SpanSum, UploadHealth

_STATES = {s.value: s for s in FindingState}
Group = tuple[str, ToolName | None, Mapping[Severity, int]]


def ranked(groups: Sequence[Group], top: int) -> list[Group]:
    """The ``top`` groups by open findings, then by worst severity, then by name."""
    return sorted(groups, key=lambda g: (-sum(g[2].values()), -max(s.rank for s in g[2]), g[0], g[1] or ""))[
        :top
    ]


def top_rules(cur: Any, where: str, top: int) -> tuple[RankedGroup, ...]:
    rows = cur.execute(
        f"SELECT f.tool_ref, f.rule_ref, {SEVERITY_INDEX}, count(*) FROM findings f "
        f"WHERE f.state IN {OPEN} AND {where} GROUP BY 1, 2, 3"
    ).fetchall()
    per_rule: dict[tuple[int, int], dict[Severity, int]] = {}
    for tool, rule, sev_i, count in rows:
        per_rule.setdefault((tool, rule), {})[SEVERITY_ORDER[sev_i]] = count
    texts = _bulk.load_texts(cur, {ref for key in per_rule for ref in key})
    groups = [(texts[rule], ToolName(texts[tool]), counts) for (tool, rule), counts in per_rule.items()]
    return tuple(RankedGroup(name, tool, counts) for name, tool, counts in ranked(groups, top))


def medians(cur: Any, where: str, sums: Mapping[Severity, SpanSum]) -> dict[Severity, SpanSum]:
    """``sums`` with the middle value(s) of each severity's sorted ``first_seen - introduced_at``
    (clamped at 0). The spans are fetched and sorted in Python: a list sort of plain integers is
    about three times cheaper than SQLite's windowed sort of the same rows."""
    spans: list[list[int]] = [[] for _ in SEVERITY_ORDER]
    for sev_i, value in cur.execute(
        f"SELECT {SEVERITY_INDEX}, max(f.first_seen - f.introduced_at, 0) FROM findings f "
        f"WHERE f.introduced_at IS NOT NULL AND {where}"
    ):
        spans[sev_i].append(value)
    found = {}
    for sev, total in sums.items():
        values = sorted(spans[SEVERITY_ORDER.index(sev)])
        n = len(values)
        middle = () if n == 0 else (values[n // 2],) if n % 2 else (values[n // 2 - 1], values[n // 2])
        found[sev] = SpanSum(total.total_s, total.count, middle)
    return found


def overdue(cur: Any, where: str, ex: Exprs, status: int, rows: int) -> tuple[OverdueFinding, ...]:
    """The first ``rows`` open findings with SLA status ``STATUS_ORDER[status]``, in ``secscan
    sla`` order (due time, worst severity, fingerprint): a bounded top-N, then their details."""
    inner = ex.rows(f"f.state IN {OPEN} AND {where}", f", {RANK} AS rank, f.fingerprint AS fp")
    found = cur.execute(
        f"SELECT id, s0 + win AS due FROM ({inner}) WHERE {ex.status} = {status:d} "
        f"ORDER BY due, rank DESC, fp LIMIT {rows:d}"
    ).fetchall()
    if not found:
        return ()
    due = dict(found)
    details = cur.execute(
        f"SELECT f.id, {_bulk.FINGERPRINT}, t.name, f.tool_ref, f.rule_ref, f.path_ref, f.line, f.severity, "
        "f.state, "
        "f.first_seen FROM findings f JOIN targets t ON t.id = f.target_id "
        "WHERE f.id IN (SELECT value FROM json_each(?))",
        (f"[{','.join(str(int(pk)) for pk in due)}]",),
    ).fetchall()
    by_id = {row[0]: row for row in details}
    texts = _bulk.load_texts(cur, {ref for row in details for ref in row[3:6]})
    result = []
    for pk in due:
        _, fp, target, tool, rule, path, line, sev, state, first = by_id[pk]
        result.append(
            OverdueFinding(
                fp,
                target,
                ToolName(texts[tool]),
                texts[rule],
                texts[path],
                line,
                Severity(sev),
                _STATES[state],
                from_ts(first),
                from_micros(due[pk]),
                STATUS_ORDER[status],
            )
        )
    return tuple(result)


def recent_runs(conn: Connection, targets: Sequence[str], per_target: int) -> tuple[RunSummary, ...]:
    runs: list[RunSummary] = []
    for name in targets:
        runs += _runs.load_runs(conn, name, per_target, complete_only=False)
    return tuple(runs)


def upload_health(cur: Any, problems: int = 10) -> UploadHealth:
    """The upload outbox at a glance (the table is shared by every target)."""
    counts = dict(cur.execute("SELECT status, count(*) FROM outbox_uploads GROUP BY 1").fetchall())
    last = cur.execute("SELECT max(delivered_at) FROM outbox_uploads").fetchone()[0]
    rows = cur.execute(
        "SELECT key, kind, status, attempts, created_at, last_error FROM outbox_uploads "
        "WHERE status != 'delivered' ORDER BY created_at DESC, id DESC LIMIT ?",
        (problems,),
    ).fetchall()
    issues = tuple(OutboxIssue(k, kind, st, att, from_ts(at), err) for k, kind, st, att, at, err in rows)
    return UploadHealth(counts, opt_dt(last), issues)
