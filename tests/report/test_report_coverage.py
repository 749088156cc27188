"""The coverage map in the store (run_coverage, migration 0008) and the report's Coverage section."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from secscan.app import tracking
from secscan.core.model import CoverageEntry, RunId
from secscan.report import api
from secscan.store import open_store
from tests.store.builders import POLICY, T0, make_run

HOSTILE = "semgrep failed: <script>alert(1)</script> in `a|b`"
COVERAGE = (
    CoverageEntry(
        "Python",
        4,
        3,
        ("bandit",),
        "1 file bandit could not analyse (see its warnings)",
        analysers=("bandit",),
    ),
    CoverageEntry("JavaScript", 80, 0, (), HOSTILE, analysers=("semgrep",)),
    CoverageEntry("secrets", 90, 90, ("detect-secrets",), None, analysers=("detect-secrets",)),
    CoverageEntry(
        "git history", None, 0, (), "git-history is disabled in secscan.toml", "commits", ("git-history",)
    ),
)


def test_a_run_keeps_its_map_and_the_report_shows_each_targets_latest(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        first = dataclasses.replace(make_run("r1", [], target="alpha"), coverage=COVERAGE[:1])
        tracking.record_run(store, first, T0, POLICY)
        second = dataclasses.replace(
            make_run("r2", [], target="alpha", at=T0 + timedelta(days=1)), coverage=COVERAGE
        )
        tracking.record_run(store, second, T0 + timedelta(days=1), POLICY)
        tracking.record_run(store, make_run("r3", [], target="beta"), T0, POLICY)  # recorded without a map
        assert store.coverage(RunId("r1")) == COVERAGE[:1]
        assert store.coverage(RunId("r2")) == COVERAGE  # every field, None files and order included
        assert store.coverage(RunId("nope")) == ()
        [latest] = store.latest_coverage()
        assert (latest.target, latest.run_id, latest.entries) == ("alpha", "r2", COVERAGE)
        assert store.latest_coverage(["beta"]) == ()
        tracking.record_run(store, second, T0 + timedelta(days=1), POLICY)  # recorded again: one map, not two
        assert store.coverage(RunId("r2")) == COVERAGE
        now = T0 + timedelta(days=2)
        pages = {fmt: api.render(api.build(store, now, policy=POLICY), fmt) for fmt in ("html", "md", "json")}  # type: ignore[arg-type]
    html, md, doc = pages["html"], pages["md"], json.loads(pages["json"])
    assert '<section id="coverage">' in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<td>git history</td><td class="num bad">0</td><td class="num">?</td><td>commits</td>' in html
    assert "## Coverage" in md and "<script>" not in md
    assert (
        "| JavaScript | 0 | 80 | files | \\- "
        "| semgrep failed\\: &lt;script&gt;alert\\(1\\)&lt;/script&gt; in \\`a\\|b\\` |"
        in md
    )
    [alpha] = doc["coverage"]
    assert alpha["target"] == "alpha" and alpha["run_id"] == "r2"
    assert alpha["coverage"][3] == {
        "kind": "git history",
        "unit": "commits",
        "files": None,
        "covered": 0,
        "scanners": [],
        "reason": "git-history is disabled in secscan.toml",
    }


def test_the_section_says_so_when_no_run_has_a_map(tmp_path: Path) -> None:
    with open_store(tmp_path / "db.sqlite") as store:
        tracking.record_run(store, make_run("r1", []), T0, POLICY)
        report = api.build(store, T0 + timedelta(hours=1), policy=POLICY)
        assert "No run has recorded a coverage map yet." in api.render(report, "html")
        assert "No run has recorded a coverage map yet." in api.render(report, "md")


def test_a_database_at_0007_upgrades_and_its_runs_have_no_map(tmp_path: Path) -> None:
    from alembic import command

    from secscan.store.sqlite.migrate import alembic_config, sqlalchemy_engine

    db = tmp_path / "old.db"
    engine = sqlalchemy_engine(db)
    with engine.connect() as conn, conn.begin():
        command.upgrade(alembic_config(conn), "0007")
    engine.dispose()
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT INTO targets (id, name, root, created_at) VALUES (1, 'repo', '/srv/repo', 0)")
        raw.execute(
            "INSERT INTO runs (id, run_id, target_id, status, started_at, finished_at, new, unchanged, "
            "reopened, fixed) VALUES (1, 'old', 1, 'complete', 0, 5, 0, 0, 0, 0)"
        )
    raw.close()
    with open_store(db) as store:
        assert store.schema_revision >= "0008"
        assert store.coverage(RunId("old")) == () and store.latest_coverage() == ()
        tracking.record_run(store, dataclasses.replace(make_run("new", []), coverage=COVERAGE), T0, POLICY)
        assert [(c.target, c.run_id) for c in store.latest_coverage()] == [("repo", "new")]
