"""The dashboard's lists on an open read transaction: top rules, MTTD medians, recent runs, each
target's scan times and the upload outbox. Each reads only the rows it needs (see ``_report``);
the findings listed by name are in ``_report_findings``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from secscan.core.model import Severity, ToolName
from secscan.core.ports.report_model import (
    OutboxIssue,
    RankedGroup,
    SpanSum,
    TargetInfo,
    TargetRuns,
    UploadHealth,
)
from secscan.core.ports.store import RunSummary
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite import runs as _runs
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.report_findings import rule_name
from secscan.store.sqlite.report_sql import OPEN, SEVERITY_INDEX, SEVERITY_ORDER
from secscan.store.sqlite.rows import from_ts, opt_dt

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
    named = {
        (texts[rule], texts[tool]): rule_name(name, desc, texts[rule])
        for tool, rule, name, desc in cur.execute("SELECT tool_ref, rule_ref, name, description FROM rules")
        if (tool, rule) in per_rule
    }
    groups = [(texts[rule], ToolName(texts[tool]), counts) for (tool, rule), counts in per_rule.items()]
    result = []
    for name, tool, counts in ranked(groups, top):
        result.append(RankedGroup(name, tool, counts, named.get((name, tool or ""))))
    return tuple(result)


def medians(cur: Any, where: str, sums: Mapping[Severity, SpanSum]) -> dict[Severity, SpanSum]:
    """``sums`` with the middle value(s) of each severity's sorted ``first_seen - introduced_at``
    (clamped at 0). The spans are fetched and sorted in Python: a list sort of plain integers is
    about three times cheaper than SQLite's windowed sort of the same rows."""
    spans: list[list[int]] = [[] for _ in SEVERITY_ORDER]
    for sev_i, value in cur.execute(
        f"SELECT {SEVERITY_INDEX}, {dialect_of(cur).greatest('f.first_seen - f.introduced_at', '0')} "
        "FROM findings f "
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


def recent_runs(conn: Connection, targets: Sequence[str], per_target: int) -> tuple[RunSummary, ...]:
    runs: list[RunSummary] = []
    for name in targets:
        runs += _runs.load_runs(conn, name, per_target, complete_only=False)
    return tuple(runs)


def target_runs(cur: Any, targets: Mapping[int, TargetInfo]) -> tuple[TargetRuns, ...]:
    """Per target in scope: its first and last run, and when its last complete run finished."""
    spans = {
        tid: (first, last)
        for tid, first, last in cur.execute(
            "SELECT target_id, min(started_at), max(started_at) FROM runs GROUP BY 1"
        )
    }
    complete = dict(
        cur.execute(
            "SELECT target_id, max(coalesce(finished_at, started_at)) FROM runs WHERE status = 'complete' "
            "GROUP BY 1"
        ).fetchall()
    )
    found = []
    for tid, info in targets.items():
        first, last = spans.get(tid, (None, None))
        found.append(TargetRuns(info.name, opt_dt(first), opt_dt(last), opt_dt(complete.get(tid))))
    return tuple(found)


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
