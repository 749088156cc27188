"""The findings the report lists by name, on an open read transaction: the open critical and high
findings ("act on today"), the breached and due-soon ones, and the accepted risks that expire soon.

Each list is a bounded top-N over the per-row expressions of ``_report_sql`` (only ids and sort
keys), then the details of those few rows: tool, rule, path, the rule's name (``rules``) and the
package of a dependency finding (``finding_packages``).
"""

from __future__ import annotations

import json
from typing import Any

from secscan.core.model import FindingState, Severity, ToolName
from secscan.core.ports.report_model import DashboardQuery, ExpiringDecision, ListedFinding, PackageFacts
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import bulk as _bulk
from secscan.store.sqlite.report_sql import OPEN, RANK, STATUS_ORDER, US, Exprs, from_micros, micros
from secscan.store.sqlite.rows import from_ts

_STATES = {s.value: s for s in FindingState}
_DETAILS = (
    "SELECT f.id, {fingerprint}, t.name, f.tool_ref, f.rule_ref, f.path_ref, f.line, f.severity, "
    "f.state, f.first_seen, r.name, r.description, p.ecosystem, p.name, p.version, p.fixed "
    "FROM findings f JOIN targets t ON t.id = f.target_id "
    "LEFT JOIN rules r ON r.tool_ref = f.tool_ref AND r.rule_ref = f.rule_ref "
    "LEFT JOIN finding_packages p ON p.finding_id = f.id "
    "WHERE f.id {among}"
)


def rule_name(name: str | None, description: str | None, rule_id: str) -> str | None:
    """What to call a rule: its short description, else its name, when either says more than its id."""
    for text in (description, name):
        if text and text.strip() and text.strip() != rule_id:
            return text.strip()
    return None


def _package(
    ecosystem: str | None, name: str | None, version: str | None, fixed: str | None
) -> PackageFacts | None:
    if ecosystem is None or name is None or version is None:
        return None
    try:
        versions = json.loads(fixed or "[]")
    except ValueError:
        versions = []
    return PackageFacts(ecosystem, name, version, tuple(str(v) for v in versions if isinstance(v, str)))


def _details(cur: Any, ids: list[int]) -> tuple[dict[int, tuple[Any, ...]], dict[int, str]]:
    dialect = dialect_of(cur)
    among, param = dialect.in_list(ids)
    sql = _DETAILS.format(fingerprint=dialect.fingerprint_text, among=among)
    rows = cur.execute(sql, (param,)).fetchall()
    texts = _bulk.load_texts(cur, {ref for row in rows for ref in row[3:6]})
    return {row[0]: row for row in rows}, texts


def listed(
    cur: Any,
    where: str,
    ex: Exprs,
    condition: str,
    rows: int,
    *,
    worst_first: bool = False,
    severities: tuple[Severity, ...] = (),
) -> tuple[ListedFinding, ...]:
    """The first ``rows`` open findings meeting ``condition`` (over :meth:`Exprs.rows`), of
    ``severities`` only when given: by due time, worst severity and fingerprint (``secscan sla``
    order), or with ``worst_first`` by severity first, then due time (no window last)."""
    only = f" AND f.severity IN ({', '.join(repr(s.value) for s in severities)})" if severities else ""
    inner = ex.rows(f"f.state IN {OPEN}{only} AND {where}", f", {RANK} AS rank, f.fingerprint AS fp")
    # (s0 + win) is ``due``: PostgreSQL sorts by an output name only when it stands alone
    order = "rank DESC, (s0 + win) IS NULL, s0 + win, fp" if worst_first else "s0 + win, rank DESC, fp"
    found = cur.execute(
        f"SELECT id, s0 + win AS due, {ex.status} AS status FROM ({inner}) AS r WHERE {condition} "
        f"ORDER BY {order} LIMIT {rows:d}"
    ).fetchall()
    if not found:
        return ()
    by_id, texts = _details(cur, [int(pk) for pk, _, _ in found])
    result = []
    for pk, due, status in found:
        _, fp, target, tool, rule, path, line, sev, state, first, name, desc, *package = by_id[pk]
        rule_id = texts[rule]
        result.append(
            ListedFinding(
                fp,
                target,
                ToolName(texts[tool]),
                rule_id,
                texts[path],
                line,
                Severity(sev),
                _STATES[state],
                from_ts(first),
                None if due is None else from_micros(due),
                STATUS_ORDER[status],
                rule_name(name, desc, rule_id),
                _package(*package),
            )
        )
    return tuple(result)


def expiring(cur: Any, where: str, query: DashboardQuery) -> tuple[tuple[ExpiringDecision, ...], int]:
    """Accepted risks (decisions and suppressions) whose ``until`` falls in ``[now, now + window)``,
    one row per decision (target, rule, end, author, reason: a suppression of one rule across many
    files is one row with its count), soonest first (at most ``query.rows``), and how many
    findings they hold in all."""
    start = micros(query.now) // 1_000_000
    end = (micros(query.now) + query.expiring_within // US + 999_999) // 1_000_000
    scope = (
        f"f.triage_until IS NOT NULL AND f.triage_until >= {start:d} AND f.triage_until < {end:d} "
        f"AND f.triage_status = 'accepted-risk' AND f.state = 'triaged' AND {where}"
    )
    found = cur.execute(
        f"SELECT min(f.id), f.triage_until, f.triage_actor, f.triage_reason, count(*), max({RANK}) "
        f"FROM findings f WHERE {scope} "
        "GROUP BY f.target_id, f.tool_ref, f.rule_ref, f.triage_until, f.triage_actor, f.triage_reason "
        "ORDER BY f.triage_until, min(f.id)"
    ).fetchall()
    total = sum(int(row[4]) for row in found)
    found = found[: query.rows]
    if not found:
        return (), total
    by_id, texts = _details(cur, [int(row[0]) for row in found])
    worst = {s.rank: s for s in Severity}
    result = []
    for pk, until, actor, reason, count, rank in found:
        _, fp, target, tool, rule, path, line, _sev, *_, name, desc = by_id[pk][:12]
        rule_id = texts[rule]
        result.append(
            ExpiringDecision(
                fp,
                target,
                ToolName(texts[tool]),
                rule_id,
                rule_name(name, desc, rule_id),
                texts[path],
                line,
                worst[int(rank)],
                from_ts(until),
                actor or "",
                reason or "",
                int(count),
            )
        )
    return tuple(result), total
