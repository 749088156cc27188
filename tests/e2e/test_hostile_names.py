"""End to end: file names that are not UTF-8 or that carry terminal escapes, and absurd SARIF.

One planted file must never stop a run (issue 13: a name with byte 0xff made every scan of its
target exit 70 in ``triage.baseline_signature``, with no SARIF written). The real ``secscan``
command runs with a strict UTF-8 stdout (as under an ``en_US.UTF-8`` locale), so a raw lone
surrogate anywhere in an output would crash it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from tests.conftest import EXAMPLE

pytestmark = pytest.mark.e2e

BAD = b"bad\xffname.py"
EVIL = b"evil\x1b[2J\x1b]0;pwned\x07[red]x[bold].py"
REQS = b"requirements\xfe.txt"


def secscan(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    # pytest-xdist's workers set COLUMNS=80, which secscan honours: the table would cut the long names
    env = {k: v for k, v in os.environ.items() if k not in ("SECSCAN_DEBUG", "COLUMNS")}
    env |= {"XDG_STATE_HOME": str(cwd / ".state"), "PYTHONIOENCODING": "utf-8:strict"}
    argv = [sys.executable, "-P", "-m", "secscan", *map(str, args)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=300, env=env, check=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(EXAMPLE / "osv", root / "osv")
    config = '[scanners.pip-audit]\nosv_db = "osv"\n[scanners.detect-secrets]\nexclude = ["osv"]\n'
    (root / "secscan.toml").write_text(config)
    (root / "ok.py").write_text("import os\nos.system('ls')\n")
    folder = os.fsencode(root)
    with open(os.path.join(folder, BAD), "wb") as fh:
        fh.write(b"import subprocess\nsubprocess.call('ls', shell=True)\npassword = 'hunter2hunter2x'\n")
    with open(os.path.join(folder, EVIL), "wb") as fh:
        fh.write(b"import os\nos.system('x')\n")
    with open(os.path.join(folder, REQS), "wb") as fh:
        fh.write(b"jinja2==2.10\n")
    return root


def _paths(doc: dict[str, Any]) -> set[bytes]:
    return {os.fsencode(f["path"]) for f in doc["findings"]}


def test_odd_names_are_scanned_recorded_shown_escaped_and_closed(repo: Path, tmp_path: Path) -> None:
    db, sarif = tmp_path / "db.sqlite", tmp_path / "out.sarif"
    run = ("run", repo, "--db", db, "--sarif", sarif, "--fail-on", "none")
    first = secscan(*run, "--format", "json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr.decode(errors="replace")
    doc = json.loads(first.stdout.decode("utf-8"))
    statuses = {s["name"]: s["status"] for s in doc["scanners"] if s["status"] != "skipped"}
    assert doc["status"] == "complete"
    assert statuses == {"bandit": "ok", "detect-secrets": "ok", "pip-audit": "ok", "posture": "ok"}
    assert {BAD, EVIL, REQS, b"ok.py"} <= _paths(doc)  # the names' bytes, losslessly
    found = {(f["tool"], f["rule"], os.fsencode(f["path"])) for f in doc["findings"]}
    assert ("pip-audit", "PYSEC-2019-217", REQS) in found

    log = json.loads(sarif.read_bytes().decode("utf-8"))
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for run in log["runs"]
        for result in run["results"]
        for loc in result["locations"]
    }
    assert "bad%FFname.py" in uris and "requirements%FE.txt" in uris
    files = {os.path.join(os.fsencode(repo), unquote_to_bytes(uri)) for uri in uris}
    assert all(uri.isascii() for uri in uris) and all(map(os.path.isfile, files))  # each names its file

    table = secscan(*run, cwd=tmp_path)  # a table this time, from the warm result cache
    assert table.returncode == 0, table.stderr.decode(errors="replace")
    for stream in (table.stdout, table.stderr):
        assert b"\x1b" not in stream and b"\x07" not in stream and b"\xff" not in stream
    shown = table.stdout.decode("utf-8")
    assert "bad\\xffname.py" in shown and "evil\\x1b[2J" in shown  # escaped, not dropped

    listed = secscan("findings", "--db", db, cwd=tmp_path)
    assert listed.returncode == 0 and b"\x1b" not in listed.stdout and b"bad\\xffname.py" in listed.stdout

    os.unlink(os.path.join(os.fsencode(repo), BAD))
    again = secscan(*run, "--format", "json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    after = json.loads(again.stdout.decode("utf-8"))
    assert BAD not in _paths(after)
    assert {os.fsencode(f["path"]) for f in after["fixed"]} == {BAD}  # found again in the store, closed


def test_absurd_sarif_is_ingested_clamped_and_never_crashes(tmp_path: Path) -> None:
    location = {"artifactLocation": {"uri": "src/a\ud800b.py"}, "region": {"startLine": 10**30}}
    results = [
        {"ruleId": "R\ud800", "message": {"text": "m \udcff"}, "locations": [{"physicalLocation": location}]},
        {
            "ruleId": "R2",
            "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "bad%FFname.py"},
                                                 "region": {"startLine": 3, "startColumn": 10**40}}}],
        },
    ]
    log = tmp_path / "hostile.sarif"
    run = {"tool": {"driver": {"name": "t"}}, "results": results}
    log.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    db = tmp_path / "db.sqlite"
    done = secscan("ingest", log, "--target", "t", "--db", db, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    listed = secscan("findings", "--db", db, "--format", "json", cwd=tmp_path)
    found = json.loads(listed.stdout.decode("utf-8"))["findings"]
    rows = {(os.fsencode(f["path"]), f["line"]) for f in found}
    assert rows == {(b"src/a\xed\xa0\x80b.py", 2**31 - 1), (b"bad\xffname.py", 3)}
