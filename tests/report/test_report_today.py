"""What a security lead acts on first: open critical and high findings by name, per target, per
area, the score and its definition, triage and the accepted risks that end soon (issue 19)."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from report_history import POLICY as HISTORY_POLICY
from report_history import History, rule_name
from report_mixed import AREAS, AWS_NAME, JINJA, NOW, POLICY, SHOP, T0, _run, plant

from secscan.app import tracking
from secscan.config.report import ReportConfig
from secscan.core import metrics, score
from secscan.core.areas import Area, area_of
from secscan.core.model import FindingState, Severity
from secscan.core.ports.store import OPEN_STATES, TriageStatus
from secscan.report import api
from secscan.store import FindingQuery, Store, open_store

MIXED = tuple[Store, Path]
CONFIG = ReportConfig(areas=AREAS)


def _report(store: Store, **config: object) -> api.figures.DashboardReport:
    return api.build_dashboard(store, NOW, policy=POLICY, config=ReportConfig(areas=AREAS, **config))  # type: ignore[arg-type]


def test_open_critical_and_high_findings_are_listed_by_name(mixed_db: MIXED) -> None:
    store, _ = mixed_db
    r = _report(store)
    rows = r.urgent_rows
    open_urgent = [
        t
        for t in store.list_findings(FindingQuery(states=OPEN_STATES))
        if t.severity in (Severity.CRITICAL, Severity.HIGH)
    ]
    assert r.urgent == len(rows) == len(open_urgent) == 5  # the triaged high is not there
    first = rows[0]
    f = first.finding
    assert (f.severity, f.rule_name, f.tool, f.rule_id) == (
        Severity.CRITICAL,
        AWS_NAME,
        "detect-secrets",
        "AWS Access Key",
    )
    assert (f.target, f.path, f.line, first.age) == ("shop", "app/settings.py", 6, NOW - f.first_seen)
    assert f.sla.value == "breached" and f.due_at == f.first_seen + timedelta(hours=2)
    assert first.owners == ("@acme/backend",)
    dep = next(x.finding for x in rows if x.finding.tool == "pip-audit")
    assert dep.package is not None and (dep.package.name, dep.package.version, dep.package.fixed) == (
        "jinja2",
        "2.10",
        ("2.10.1", "2.11.3"),
    )
    assert dep.rule_name and dep.rule_name.startswith("In Pallets Jinja")
    assert [x.finding.severity for x in rows] == sorted(
        (x.finding.severity for x in rows), key=lambda s: -s.rank
    )
    assert [x.finding.rule_id for x in rows if x.finding.tool == "zizmor"] == ["template-injection"]


def test_the_page_answers_what_to_act_on_first(mixed_db: MIXED, tmp_path: Path) -> None:
    store, _ = mixed_db
    page = api.write_report(store, tmp_path / "r.html", "html", NOW, policy=POLICY, config=CONFIG).read_text()
    sections = re.findall(r'<section id="([^"]+)"', page)
    assert sections[0] == "today" and sections.index("score") < sections.index("charts")
    today = page[
        page.index('<section id="today">') : page.index("</section>", page.index('<section id="today">'))
    ]
    assert AWS_NAME in today and "detect-secrets" in today and "app/settings.py:6" in today
    assert "2.10 &rarr; 2.10.1, 2.11.3" in today and "@acme/backend" in today and "breached" in today
    md = api.render(api.build(store, NOW, policy=POLICY, config=CONFIG), "md")
    assert md.index("## Act on today") < md.index("## Security score") < md.index("## Trends")
    assert f"**{AWS_NAME}**" in md and "jinja2 2\\.10 → 2\\.10\\.1, 2\\.11\\.3" in md
    doc = json.loads(api.render(api.build(store, NOW, policy=POLICY, config=CONFIG), "json"))
    assert doc["urgent_total"] == 5 and doc["urgent"][0]["rule_name"] == AWS_NAME
    assert doc["urgent"][0]["sla"] == "breached" and doc["urgent"][0]["owners"] == ["@acme/backend"]
    pkg = next(u["package"] for u in doc["urgent"] if u["tool"] == "pip-audit")
    assert pkg == {"ecosystem": "PyPI", "name": "jinja2", "version": "2.10", "fixed": ["2.10.1", "2.11.3"]}


def test_the_store_keeps_rule_names_and_packages(tmp_path: Path) -> None:
    db = tmp_path / "facts.db"
    with open_store(db) as store:
        tracking.record_run(store, _run("shop", "/x", SHOP, T0), T0, POLICY, ())
    with sqlite3.connect(db) as conn:
        names = dict(
            conn.execute(
                "SELECT t.value, r.description FROM rules r JOIN texts t ON t.id = r.rule_ref"
            ).fetchall()
        )
        assert names["AWS Access Key"] == AWS_NAME and names["B101"] == "Assert used" and len(names) == 11
        tags = conn.execute(
            "SELECT tags FROM rules r JOIN texts t ON t.id = r.rule_ref WHERE t.value = 'DS002'"
        )
        assert json.loads(tags.fetchone()[0]) == ["misconfiguration", "dockerfile"]
        rows = conn.execute("SELECT ecosystem, name, version, fixed FROM finding_packages").fetchall()
        assert rows == [("PyPI", "jinja2", "2.10", '["2.10.1", "2.11.3"]')]
    with sqlite3.connect(db) as conn:  # count every write to the two tables from now on
        conn.executescript(
            "CREATE TABLE writes (t TEXT);"
            "CREATE TRIGGER w1 AFTER UPDATE ON rules BEGIN INSERT INTO writes VALUES ('rules'); END;"
            "CREATE TRIGGER w2 AFTER INSERT ON rules BEGIN INSERT INTO writes VALUES ('rules'); END;"
            "CREATE TRIGGER w3 AFTER UPDATE ON finding_packages BEGIN INSERT INTO writes VALUES ('p'); END;"
            "CREATE TRIGGER w4 AFTER INSERT ON finding_packages BEGIN INSERT INTO writes VALUES ('p'); END;"
        )
    upgraded = [  # the same advisory on a version that is still affected: same finding, new version
        replace(p, finding=replace(p.finding, package=replace(JINJA, version="2.10.0.1")))
        if p.finding.package
        else p
        for p in SHOP
    ]
    with open_store(db) as store:
        tracking.record_run(
            store, _run("shop", "/x", SHOP, T0 + timedelta(hours=1)), T0 + timedelta(hours=1), POLICY, ()
        )
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM writes").fetchone() == (0,)  # a re-run writes nothing
        tracking.record_run(
            store, _run("shop", "/x", upgraded, T0 + timedelta(hours=2)), T0 + timedelta(hours=2), POLICY, ()
        )
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM finding_packages").fetchall() == [("2.10.0.1",)]
        assert conn.execute("SELECT t FROM writes").fetchall() == [("p",)]


def test_findings_are_filed_in_the_policy_areas(mixed_db: MIXED) -> None:
    store, _ = mixed_db
    r = _report(store)
    tags = {p.finding.fingerprint: p.rule.tags for p in SHOP}
    findings = store.list_findings()
    by_area: dict[Area, list] = {a: [] for a in Area}
    for t in findings:
        by_area[area_of(t.tool, tags.get(t.fingerprint, ()), AREAS)].append(t)
    got = {a.area: a for a in r.areas}
    assert [a.area for a in r.areas] == list(Area)
    for area, mine in by_area.items():
        assert got[area].score == metrics.security_score(mine, POLICY, NOW), area
        assert sum(got[area].open.values()) == sum(t.is_open for t in mine), area
    assert got[Area.SECRETS].open[Severity.HIGH] == 1  # gitleaks, by [report] areas
    assert got[Area.DEPENDENCIES].open[Severity.MEDIUM] == 1  # trivy's CVE rule, by its tags
    assert got[Area.INFRASTRUCTURE].open[Severity.MEDIUM] == 1  # trivy's Dockerfile rule, by its tags
    assert r.metrics.score == metrics.security_score(findings, POLICY, NOW)
    assert r.metrics.score <= min(a.score for a in r.areas)
    default = api.build_dashboard(store, NOW, policy=POLICY)  # without [report] areas gitleaks is code
    assert {a.area: a for a in default.areas}[Area.SECRETS].open[Severity.HIGH] == 0


def test_each_target_shows_its_open_findings_breaches_last_complete_scan_and_score(mixed_db: MIXED) -> None:
    store, _ = mixed_db
    r = _report(store)
    rows = {t.name: t for t in r.target_rows}
    assert set(rows) == {"shop", "legacy"}
    for name, row in rows.items():
        mine = store.list_findings(FindingQuery(target=name))
        assert row.score == metrics.security_score(mine, POLICY, NOW)
        assert sum(row.open.values()) == sum(t.is_open for t in mine)
    legacy, shop = rows["legacy"], rows["shop"]
    last_complete = (
        NOW - timedelta(hours=30) + timedelta(minutes=2)
    )  # the partial run after it does not count
    assert legacy.last_complete_at == last_complete and legacy.last_complete_age == NOW - last_complete
    assert legacy.stale and not shop.stale
    assert shop.breached == r.breached - legacy.breached > 0
    assert [t.name for t in r.target_rows] == ["shop", "legacy"]  # worst score first
    page = api.render(api.build(store, NOW, policy=POLICY, config=CONFIG), "html")
    assert 'id="stale"' in page and "<strong>legacy</strong> (last complete scan 1d 5h ago)" in page
    fresh = _report(store, expected_every_hours=48)
    assert not any(t.stale for t in fresh.target_rows)


def test_triage_suppressions_and_risks_that_end_soon(mixed_db: MIXED) -> None:
    store, _ = mixed_db
    t = _report(store).triage
    triaged = store.list_findings(FindingQuery(states=frozenset({FindingState.TRIAGED})))
    by_status = {s: sum(1 for x in triaged if x.triage and x.triage.status is s) for s in TriageStatus}
    assert (t.false_positive, t.accepted_risk) == (
        by_status[TriageStatus.FALSE_POSITIVE],
        by_status[TriageStatus.ACCEPTED_RISK],
    )
    assert (t.false_positive, t.accepted_risk, t.suppressed) == (1, 5, 3)
    assert t.expiring_total == 4  # the high ending in 3 days and the suppression of 3 files; not 20 days
    assert [(e.rule_id, e.count, e.actor) for e in t.expiring] == [
        ("B324", 1, "alice"),
        ("B105", 3, "suppressions-file"),
    ]
    assert t.expiring[1].until == NOW + timedelta(days=5)
    longer = _report(store, expiring_days=30).triage
    assert longer.expiring_total == 5 and longer.expiring[-1].reason == "not exploitable"


def test_the_score_is_defined_beside_the_number(mixed_db: MIXED, tmp_path: Path) -> None:
    store, _ = mixed_db
    report = api.build(store, NOW, policy=POLICY, config=ReportConfig(areas=AREAS, score_baseline=20))
    page = api.render(report, "html")
    section = page[page.index('<section id="score">') :]
    section = section[: section.index("</section>")]
    assert "Policy baseline 20" in section and 'id="score-definition"' in section
    for line in score.definition(20):
        assert line.replace("'", "&#39;") in section
    assert "&#10003; met" in section  # 20 is met by this score
    md = api.render(report, "md")
    assert " ".join(score.definition(20)) in md.replace("\\", "")


def test_history_rules_are_named(history_db: tuple[Store, History]) -> None:
    store, h = history_db
    r = api.build_dashboard(store, h.now, policy=HISTORY_POLICY)
    named = [g for g in r.dashboard.top_rules if g.label]
    assert named and all(g.label == rule_name(str(g.tool), g.name) for g in named)


@pytest.mark.parametrize("severity", [Severity.CRITICAL, Severity.HIGH])
def test_one_more_critical_or_high_is_listed_first_of_its_kind(tmp_path: Path, severity: Severity) -> None:
    planted = (*SHOP, plant("bandit", "B999", "Brand new", severity, "new.py", 1))
    with open_store(tmp_path / "db.sqlite") as store:
        tracking.record_run(store, _run("shop", "/x", planted, NOW - timedelta(minutes=10)), NOW, POLICY, ())
        rows = api.build_dashboard(store, NOW, policy=POLICY).urgent_rows
    mine = [x.finding for x in rows if x.finding.severity is severity]
    assert "Brand new" in [f.rule_name for f in mine]
