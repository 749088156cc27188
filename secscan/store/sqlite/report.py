"""Aggregate SQL of the dashboard (issue 8) on an open read transaction.

Everything is counted and summed in SQLite, so the report over a million findings reads a few
thousand rows. The costly part of an aggregate in SQLite is the sort behind ``GROUP BY``, so one
pass groups every finding by (target, severity, state, triage, SLA status at ``now``, age bucket,
trend points) and everything else reads only what it needs: open findings for the top rules, the
findings with an ``introduced_at`` for the MTTD medians, a bounded top-N for the overdue lists and
the history of the trend window (older points are the current counts minus later changes). The
SLA rules are those of :func:`secscan.core.sla.status` (see ``_report_sql``), so the figures equal
:mod:`secscan.core.metrics` over the same findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from secscan.config.policy import load_sla_policy
from secscan.core.errors import StoreError
from secscan.core.model import Severity
from secscan.core.ports.report_model import (
    Dashboard,
    DashboardQuery,
    FindingCell,
    RankedGroup,
    SpanSum,
    TargetInfo,
    TrendPoint,
)
from secscan.core.ports.store import OPEN_STATES
from secscan.core.records import SUPPRESSIONS_ACTOR
from secscan.fs.names import from_db
from secscan.store.dialect import dialect_of
from secscan.store.sqlite import report_findings as _report_findings
from secscan.store.sqlite import report_lists as _report_lists
from secscan.store.sqlite import sla as _sla
from secscan.store.sqlite.db import Connection
from secscan.store.sqlite.report_areas import AREA_ORDER, area_expr
from secscan.store.sqlite.report_sql import (
    OPEN,
    SEVERITY_INDEX,
    SEVERITY_ORDER,
    STATE_ORDER,
    STATUS_ORDER,
    TRIAGE_ORDER,
    US,
    Exprs,
    exprs,
    from_micros,
)


def resolve_targets(conn: Connection, names: Sequence[str]) -> tuple[dict[int, TargetInfo], str]:
    """The targets in scope by id and a ``WHERE`` fragment over ``f.target_id``. Raises StoreError."""
    rows = list(conn.execute("SELECT id, name, root FROM targets ORDER BY name"))
    if not names:
        return {int(pk): TargetInfo(name, from_db(root)) for pk, name, root in rows}, "1 = 1"
    known = {name: (int(pk), from_db(root)) for pk, name, root in rows}
    missing = [n for n in names if n not in known]
    if missing:
        raise StoreError(f"no target named {missing[0]!r} in the database; list them with `secscan findings`")
    chosen = {known[n][0]: TargetInfo(n, known[n][1]) for n in sorted(set(names))}
    return chosen, f"f.target_id IN ({', '.join(str(pk) for pk in chosen)})"


def dashboard(conn: Connection, query: DashboardQuery) -> Dashboard:
    """Every aggregate of the dashboard at ``query.now``."""
    policy = query.policy or _sla.stored_policy(conn) or load_sla_policy()
    targets, where = resolve_targets(conn, query.targets)
    cur = conn
    ex = exprs(policy, query.now, dialect_of(conn))
    groups = _groups(cur, where, ex, query, area_expr(cur, query.areas))
    cells: dict[tuple[Any, ...], int] = {}
    mttr: dict[Severity, list[int]] = {}
    mttd: dict[Severity, list[int]] = {}
    ages: dict[tuple[Severity, int], int] = {}
    per_target: dict[int, dict[Severity, int]] = {}
    points = query.points
    counted, breached = [0] * points, [0] * points
    for tid, area, sup, sev_i, state_i, triage_i, status_i, age, kf, kb, count, *spans in groups:
        fix_s, fix_n, det_s, det_n = spans
        sev, state = SEVERITY_ORDER[sev_i], STATE_ORDER[state_i]
        key = (sev, state, TRIAGE_ORDER[triage_i], STATUS_ORDER[status_i], tid, area, sup)
        cells[key] = cells.get(key, 0) + count
        _add(mttr, sev, fix_s, fix_n)
        _add(mttd, sev, det_s, det_n)
        if state in OPEN_STATES:
            ages[(sev, age)] = ages.get((sev, age), 0) + count
            target = per_target.setdefault(tid, {})
            target[sev] = target.get(sev, 0) + count
        if kf >= 0:
            counted[kf] += count
        if kb >= 0:
            breached[kb] += count
    open_now = dict.fromkeys(Severity, 0)
    for (sev, state, *_), n in cells.items():
        open_now[sev] += n if state in OPEN_STATES else 0
    ranked = _report_lists.ranked([(targets[t].name, None, c) for t, c in per_target.items()], query.top)
    expiring, expiring_total = _report_findings.expiring(cur, where, query)
    return Dashboard(
        now=query.now,
        policy=policy,
        targets=tuple(targets.values()),
        cells=tuple(
            FindingCell(k[0], k[1], k[2], k[3], n, targets[k[4]].name, AREA_ORDER[k[5]], bool(k[6]))
            for k, n in cells.items()
        ),
        mttr={s: SpanSum(v[0], v[1]) for s, v in mttr.items()},
        mttd=_report_lists.medians(cur, where, {s: SpanSum(v[0], v[1]) for s, v in mttd.items()}),
        ages=ages,
        top_rules=_report_lists.top_rules(cur, where, query.top),
        top_targets=tuple(RankedGroup(name, None, counts) for name, _, counts in ranked),
        breached=_report_findings.listed(cur, where, ex, f"{ex.status} = 3", query.rows),
        due_soon=_report_findings.listed(cur, where, ex, f"{ex.status} = 2", query.rows),
        trend=_trend(cur, where, ex, query, open_now, counted, breached),
        runs=_report_lists.recent_runs(conn, [t.name for t in targets.values()], query.runs_per_target),
        uploads=_report_lists.upload_health(cur),
        urgent=_report_findings.listed(
            cur, where, ex, "1 = 1", query.rows, worst_first=True, severities=URGENT
        ),
        expiring=expiring,
        expiring_total=expiring_total,
        target_runs=_report_lists.target_runs(cur, targets),
    )


URGENT = (Severity.CRITICAL, Severity.HIGH)
"""The severities of the report's "act on today" list."""


def _add(acc: dict[Severity, list[int]], sev: Severity, total: int | None, count: int) -> None:
    if count:
        pair = acc.setdefault(sev, [0, 0])
        pair[0] += total or 0
        pair[1] += count


def _groups(cur: Any, where: str, ex: Exprs, query: DashboardQuery, area: str) -> list[tuple[Any, ...]]:
    """The one grouped pass: every finding in scope under one integer key (one sort key is
    cheaper than ten), decoded by :func:`_decode`."""
    n, step, p = query.points - 1, query.step // US, query.points + 1
    fixed = "CASE WHEN f.state = 'fixed' AND f.fixed_at IS NOT NULL THEN f.fixed_at - f.first_seen END"
    sup = f"(CASE WHEN f.triage_actor = '{SUPPRESSIONS_ACTOR}' THEN 1 ELSE 0 END)"
    det = ex.dialect.greatest("f.first_seen - f.introduced_at", "0")
    extra = f", {fixed} AS fix, {det} AS det, {area} AS ar, {sup} AS sup"
    rows = ex.rows(where, extra)
    key = (
        f"(((((((tid * {_N_AREA} + ar) * 2 + sup) * {_N_SEV} + sev) * {_N_STATE} + st) * {_N_TRIAGE} + tr) "
        f"* {_N_STATUS} + {ex.status}) * {_N_AGE} + {ex.age(query.age_limits)}) * {p * p} "
        f"+ ({ex.counted_from(n, step)} + 1) * {p} + {ex.breached_from(n, step)} + 1"
    )
    sql = (
        "SELECT k, count(*), sum(fix), count(fix), sum(det), count(det) "
        f"FROM (SELECT {key} AS k, fix, det FROM ({rows}) AS r {ex.dialect.no_flatten}) AS g GROUP BY k"
    )
    return [(*_decode(k, p), *rest) for k, *rest in cur.execute(sql).fetchall()]


_N_SEV, _N_STATE, _N_TRIAGE, _N_STATUS, _N_AGE, _N_AREA = 5, 5, 3, 5, 6, len(AREA_ORDER)


def _decode(key: int, p: int) -> tuple[int, ...]:
    """(target id, area, suppressed, severity, state, triage, status, age, counted from,
    breached from)."""
    key, kb = divmod(key, p)
    key, kf = divmod(key, p)
    key, age = divmod(key, _N_AGE)
    key, status = divmod(key, _N_STATUS)
    key, triage = divmod(key, _N_TRIAGE)
    key, state = divmod(key, _N_STATE)
    key, sev = divmod(key, _N_SEV)
    key, sup = divmod(key, 2)
    tid, area = divmod(key, _N_AREA)
    return tid, area, sup, sev, state, triage, status, age, kf - 1, kb - 1


def _trend(
    cur: Any,
    where: str,
    ex: Exprs,
    query: DashboardQuery,
    open_now: Mapping[Severity, int],
    counted: list[int],
    breached: list[int],
) -> tuple[TrendPoint, ...]:
    """Points ``now - (n-k) * step``, k = 0..n. Open findings at a point are the current ones
    minus the changes recorded after it (only the history after the first point is read);
    SLA compliance counts each finding from its first sighting and breached from its due time
    unless its clock was paused before (current clocks and triage)."""
    n, step = query.points - 1, query.step // US
    first = ex.now - n * step
    delta = (
        f"((CASE WHEN h.to_state IN {OPEN} THEN 1 ELSE 0 END) "
        f"- (CASE WHEN coalesce(h.from_state, '') IN {OPEN} THEN 1 ELSE 0 END))"
    )
    at = "h.at * 1000000"
    bucket = f"CASE WHEN {at} > {ex.now:d} THEN {n + 1:d} ELSE {n:d} - ({ex.now:d} - {at}) / {step:d} END"
    rows = cur.execute(
        f"SELECT {SEVERITY_INDEX}, {bucket}, sum({delta}) "
        f"FROM history h {ex.dialect.join_first} findings f ON f.id = h.finding_id "
        f"WHERE h.at * 1000000 > {first:d} AND {where} "
        f"AND (h.to_state IN {OPEN}) != (coalesce(h.from_state, '') IN {OPEN}) GROUP BY 1, 2"
    ).fetchall()
    changes = [dict.fromkeys(Severity, 0) for _ in range(n + 2)]  # n + 1: changes after now
    for sev_i, k, d in rows:
        changes[k][SEVERITY_ORDER[sev_i]] += d
    opened = [{s: open_now[s] - changes[n + 1][s] for s in Severity}]
    for k in range(n, 0, -1):  # open(t_{k-1}) = open(t_k) - changes in (t_{k-1}, t_k]
        opened.append({s: opened[-1][s] - changes[k][s] for s in Severity})
    opened.reverse()
    points, total, bad = [], 0, 0
    for k in range(n + 1):
        total, bad = total + counted[k], bad + breached[k]
        points.append(TrendPoint(from_micros(ex.now - (n - k) * step), opened[k], total, total - bad))
    return tuple(points)
