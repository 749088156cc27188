"""The report's application functions: build the dashboard or a period's evidence, render, write.

:func:`write_report` is what ``secscan report`` and the daemon's nightly job call. It reads the
store once (aggregates computed in SQL), renders HTML, Markdown or JSON and writes the file
atomically (temporary file + rename), so a reader such as the daemon's ``/report`` endpoint
never sees half a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, assert_never

from secscan.config.report import ReportConfig
from secscan.core import sla
from secscan.core.ports.report_model import Dashboard, ListedFinding, TargetInfo
from secscan.core.ports.store import Store
from secscan.core.printable import surrogates_escaped
from secscan.fs import owners
from secscan.fs.names import json_dumps
from secscan.report import coverage, document, figures, markdown
from secscan.report.period import Period, PeriodReport, build_period
from secscan.report.sinks import file as sinks_file

Format = Literal["html", "md", "json"]
DEFAULT_SINCE = timedelta(days=30)


def _rows(
    found: Sequence[ListedFinding],
    now: datetime,
    repos: dict[str, str | None],
    rules: dict[str, owners.Codeowners | None],
) -> tuple[figures.FindingRow, ...]:
    rows = []
    for f in found:
        rule = rules.get(f.target)
        link = owners.file_link(repos.get(f.target), f.path, f.line)
        rows.append(
            figures.FindingRow(f, now - f.first_seen, link, () if rule is None else rule.owners(f.path))
        )
    return tuple(rows)


def _enrich(d: Dashboard, config: ReportConfig) -> figures.Listed:
    """Links and owner hints of the listed findings, from each target's checkout (read once)."""
    wanted = {f.target for f in (*d.urgent, *d.breached, *d.due_soon)}
    infos: dict[str, TargetInfo] = {t.name: t for t in d.targets if t.name in wanted}
    repos = {n: config.repositories.get(n) or owners.github_url(t.root) for n, t in infos.items()}
    rules = {n: owners.load_codeowners(t.root) for n, t in infos.items()}
    return figures.Listed(
        _rows(d.urgent, d.now, repos, rules),
        _rows(d.breached, d.now, repos, rules),
        _rows(d.due_soon, d.now, repos, rules),
    )


def build_dashboard(
    store: Store,
    now: datetime,
    *,
    since: timedelta | None = None,
    targets: Sequence[str] = (),
    policy: sla.SlaPolicy | None = None,
    config: ReportConfig | None = None,
) -> figures.DashboardReport:
    """The dashboard at ``now``; trends over ``since`` (default 30 days). Raises StoreError."""
    config = config or ReportConfig()
    window = since or timedelta(days=config.since_days)
    query = figures.trend_query(
        now,
        window,
        policy=policy,
        targets=tuple(targets),
        rows=config.max_rows,
        areas=dict(config.areas),
        expiring_within=timedelta(days=config.expiring_days),
    )
    d = store.dashboard(query)
    report = figures.summarise(
        d,
        window,
        _enrich(d, config),
        baseline=config.score_baseline,
        stale_after=timedelta(hours=config.expected_every_hours),
        expiring_within=query.expiring_within,
    )
    return replace(report, run_uploads=_run_uploads(store, d), coverage=coverage.section(store, targets))


def _run_uploads(store: Store, d: Dashboard) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each listed run's GitHub uploads (category, status), where the store records them."""
    receipts: Any = getattr(store, "uploads", None)  # the uploads feature (issue 5) may be absent
    if receipts is None:
        return {}
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for run in d.runs:
        mine = receipts(run_id=run.run_id)
        if mine:
            found[run.run_id] = tuple(sorted((str(r.category), str(r.status)) for r in mine))
    return found


def render(report: figures.DashboardReport | PeriodReport, fmt: Format) -> str:
    """``report`` as text in ``fmt``."""
    if fmt == "json":
        doc = (
            document.dashboard_document(report)
            if isinstance(report, figures.DashboardReport)
            else document.period_document(report)
        )
        return json_dumps(doc, indent=1) + "\n"
    if fmt == "md":  # a path that is not UTF-8 is shown escaped (secscan.core.printable)
        return surrogates_escaped(
            markdown.render_dashboard(report)
            if isinstance(report, figures.DashboardReport)
            else markdown.render_period(report)
        )
    if fmt == "html":
        from secscan.report import html  # jinja2 loads only when HTML is asked for

        return surrogates_escaped(
            html.render_dashboard(report)
            if isinstance(report, figures.DashboardReport)
            else html.render_period(report)
        )
    assert_never(fmt)


def write_text_atomic(path: Path, text: str) -> Path:
    """Write the report atomically (see :func:`secscan.report.sinks.file.write_text_atomic`), readable
    by others (0644): a report is meant to be read. Raises SinkError."""
    return sinks_file.write_text_atomic(path, text, what="report", mode=0o644)


def build(
    store: Store,
    now: datetime,
    *,
    since: timedelta | None = None,
    targets: Sequence[str] = (),
    period: Period | None = None,
    policy: sla.SlaPolicy | None = None,
    config: ReportConfig | None = None,
) -> figures.DashboardReport | PeriodReport:
    """The dashboard, or with ``period`` that period's compliance evidence. Raises StoreError."""
    config = config or ReportConfig()
    if period is not None:
        every = timedelta(hours=config.expected_every_hours)
        return build_period(store, period, now, targets=targets, expected_every=every)
    return build_dashboard(store, now, since=since, targets=targets, policy=policy, config=config)


def write_report(
    store: Store,
    path: Path,
    fmt: Format,
    now: datetime,
    *,
    since: timedelta | None = None,
    targets: Sequence[str] = (),
    period: Period | None = None,
    policy: sla.SlaPolicy | None = None,
    config: ReportConfig | None = None,
) -> Path:
    """Build the dashboard (or, with ``period``, that period's compliance evidence) and write it
    to ``path`` atomically in ``fmt``. ``policy`` ``None``: the SLA policy stored with the due
    times. Returns ``path``. Raises StoreError or SinkError."""
    report = build(store, now, since=since, targets=targets, period=period, policy=policy, config=config)
    return write_text_atomic(path, render(report, fmt))
