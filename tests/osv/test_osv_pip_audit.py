"""The real pip-audit against the local OSV server (fixtures and the bundled example database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from secscan.scanners.osv import OsvDatabase, OsvServer
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.e2e

# The lead's end-to-end test relies on exactly these hits of examples/vulnerable-app.
EXAMPLE_HITS = {
    ("jinja2", "2.10"): {"PYSEC-2019-217", "PYSEC-2021-66"},
    ("pyyaml", "5.3"): {"PYSEC-2020-96", "PYSEC-2021-142"},
    ("requests", "2.25.1"): {"PYSEC-2023-74"},
    ("urllib3", "1.26.4"): {"PYSEC-2021-108", "PYSEC-2023-192", "PYSEC-2023-212"},
    ("werkzeug", "2.2.2"): {"PYSEC-2023-221", "PYSEC-2023-57", "PYSEC-2023-58"},
    ("flask", "2.2.4"): {"PYSEC-2023-62"},
}


def pip_audit(database: OsvDatabase, requirements: Path, cache: Path) -> tuple[int, dict[str, Any]]:
    with OsvServer(database) as server:
        proc = subprocess.run(
            [
                sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
                "-s", "osv", "--osv-url", server.query_url, "-f", "json", "--progress-spinner", "off",
                "--cache-dir", str(cache),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {dep["name"]: dep for dep in report["dependencies"]}


def test_pip_audit_reads_fixture_records(fixture_db: OsvDatabase, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "Demo_Pkg==1.0.0\njinja2==2.10\nOther.Pkg==1.4\nrequests==2.31.0\n", encoding="utf-8"
    )
    code, report = pip_audit(fixture_db, requirements, tmp_path / "cache")
    assert code == 1
    deps = by_name(report)
    assert deps["requests"]["vulns"] == []
    (demo,) = deps["demo-pkg"]["vulns"]
    assert demo["id"] == "PYSEC-2024-999"
    assert demo["fix_versions"] == ["1.2.1", "2.0.3"]
    assert sorted(demo["aliases"]) == ["CVE-2024-0001", "GHSA-xxxx-yyyy-zzzz"]
    assert demo["description"] == "Example vulnerability in demo-pkg"
    (jinja,) = deps["jinja2"]["vulns"]
    assert (jinja["id"], jinja["fix_versions"]) == ("PYSEC-2019-217", ["2.10.1"])
    assert sorted(jinja["aliases"]) == ["CVE-2019-10906", "GHSA-462w-v97r-4m45"]
    (other,) = deps["other-pkg"]["vulns"]  # last_affected: no fix version; CVE is preferred over GHSA
    assert (other["id"], other["fix_versions"], other["aliases"]) == (
        "CVE-2024-0002",
        [],
        ["GHSA-aaaa-bbbb-cccc"],
    )


def test_pip_audit_on_the_bundled_example(tmp_path: Path) -> None:
    pinned = [
        line
        for line in (EXAMPLE / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    ]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(pinned) + "\n", encoding="utf-8")
    database = OsvDatabase.load(EXAMPLE / "osv")
    assert len(database) == sum(map(len, EXAMPLE_HITS.values()))  # only records that are hit
    code, report = pip_audit(database, requirements, tmp_path / "cache")
    assert code == 1
    found = {(d["name"], d["version"]): {v["id"] for v in d["vulns"]} for d in report["dependencies"]}
    assert found == EXAMPLE_HITS
    fixes = {v["id"]: v["fix_versions"] for d in report["dependencies"] for v in d["vulns"]}
    assert fixes["PYSEC-2023-192"] == ["1.26.17", "2.0.6"]
    assert fixes["PYSEC-2023-221"] == ["2.3.8", "3.0.1"]
