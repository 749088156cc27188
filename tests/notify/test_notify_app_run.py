"""End to end through ``secscan.app.run`` with the real bandit on a one-file tree: a new critical
finding gives one PagerDuty trigger, the same scan again sends nothing, the fix one resolve."""

from __future__ import annotations

from pathlib import Path

import pytest
from notify_helpers import ROUTING_KEY, FakeServer

from secscan.app import RunRequest, run
from secscan.settings import load_settings

VULNERABLE = "import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n"
FIXED = "import shlex\nimport subprocess\n\n\ndef run(cmd):\n    return subprocess.call(shlex.split(cmd))\n"


def _config(tmp_path: Path, pd: FakeServer) -> Path:
    """A trusted config: only bandit, B602 (shell=True with a variable) critical, one pager."""
    (tmp_path / "severity.toml").write_text('[bandit.rules]\nB602 = "critical"\n', encoding="utf-8")
    config = tmp_path / "secscan.toml"
    config.write_text(
        "[scanners.detect-secrets]\nenabled = false\n[scanners.pip-audit]\nenabled = false\n"
        '[policy]\nseverity = "severity.toml"\n'
        '[notify]\nallow_hosts = ["127.0.0.1"]\n'
        f'[notify.pager]\ntype = "pagerduty"\nevents_url = "{pd.url}/v2/enqueue"\n',
        encoding="utf-8",
    )
    return config


def test_secscan_run_pages_a_new_critical_once_and_resolves_it_after_the_fix(
    pagerduty: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", ROUTING_KEY)
    tree = tmp_path / "shop"
    tree.mkdir()
    source = tree / "app.py"
    source.write_text(VULNERABLE, encoding="utf-8")
    settings = load_settings(_config(tmp_path, pagerduty))
    request = RunRequest(
        target=tree, settings=settings, sarif_path=tmp_path / "out.sarif", db=str(tmp_path / "secscan.db")
    )

    first = run(request)
    critical = [f for f in first.run.findings if f.severity.value == "critical"]
    assert [f.rule_id for f in critical] == ["B602"]
    key = f"secscan/finding/shop/{critical[0].fingerprint}"
    assert [(b["event_action"], b["dedup_key"]) for b in pagerduty.accepted()] == [("trigger", key)]

    run(request)  # the same scan again
    assert len(pagerduty.requests) == 1

    source.write_text(FIXED, encoding="utf-8")
    fixed = run(request)
    assert "B602" not in {f.rule_id for f in fixed.run.findings}
    assert [(b["event_action"], b["dedup_key"]) for b in pagerduty.accepted()] == [
        ("trigger", key),
        ("resolve", key),
    ]
    assert pagerduty.errors == []
    assert "B602" in pagerduty.accepted()[0]["payload"]["summary"]
