"""End to end: the real scanners over the bundled example, then ``secscan report``: the committed
AWS key is named first, dependency findings carry their installed and fixed versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE

pytestmark = pytest.mark.e2e


def _secscan(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SECSCAN_DEBUG"}
    env["XDG_STATE_HOME"] = str(cwd / ".state")
    return subprocess.run(
        [sys.executable, "-P", "-m", "secscan", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_the_example_report_names_what_to_act_on(tmp_path: Path) -> None:
    db = tmp_path / "example.db"
    for _ in range(2):  # the second run is served from the result cache: names must survive it
        run = _secscan(
            "run", EXAMPLE, "--db", db, "--sarif", tmp_path / "x.sarif", "--fail-on", "none", cwd=tmp_path
        )
        assert run.returncode == 0, run.stderr
    rep = _secscan("report", "--db", db, "--format", "json", "--output", "-", cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr
    doc = json.loads(rep.stdout)
    first = doc["urgent"][0]
    assert (first["severity"], first["tool"], first["rule"]) == (
        "critical",
        "detect-secrets",
        "AWS Access Key",
    )
    assert first["rule_name"] == "AWS Access Key in the source tree" and first["path"] == "app/settings.py"
    deps = [u for u in doc["urgent"] if u["tool"] in ("pip-audit", "lockfile-audit")]
    assert deps and all(u["package"] and u["package"]["version"] for u in deps)
    jinja = next(u for u in deps if u["rule"] == "PYSEC-2019-217" and u["tool"] == "pip-audit")
    assert jinja["package"]["name"] == "jinja2" and "2.10.1" in jinja["package"]["fixed"]
    bandit = [u for u in doc["urgent"] if u["tool"] == "bandit"]
    assert bandit and all(u["rule_name"] and u["rule_name"] != u["rule"] for u in bandit)  # not only B602
    page = _secscan("report", "--db", db, "--output", tmp_path / "r.html", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    html = (tmp_path / "r.html").read_text()
    today = html[html.index('<section id="today">') : html.index('<section id="score">')]
    assert "AWS Access Key in the source tree" in today and "jinja2</code> 2.10 &rarr;" in today
