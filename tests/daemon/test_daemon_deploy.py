"""deploy/: the systemd unit verifies, and each example keeps the properties the README promises."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "systemd" / "secscan.service"


def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this host")
    secscan = Path(sys.executable).with_name("secscan")
    unit = tmp_path / "secscan.service"  # verify checks that ExecStart exists: point it at this venv
    unit.write_text(UNIT.read_text().replace("/opt/secscan/bin/secscan", str(secscan)))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # unknown keys are only warnings: none allowed


def test_systemd_unit_is_hardened() -> None:
    directives = dict(
        line.split("=", 1)
        for line in UNIT.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert directives["DynamicUser"] == "yes" and directives["NoNewPrivileges"] == "yes"
    assert directives["ProtectSystem"] == "strict" and directives["StateDirectory"] == "secscan"
    assert directives["LoadCredential"].startswith("github-token:")
    assert directives["KillMode"] == "mixed" and directives["ExecReload"].endswith("-HUP $MAINPID")
    assert "secscan daemon --config" in directives["ExecStart"]


def test_container_runs_as_non_root_on_a_pinned_base_with_a_healthcheck() -> None:
    text = (DEPLOY / "container" / "Containerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=\S+:\d+\.\d+\.\d+-slim-\w+$", text, re.M)  # an exact version
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"HEALTHCHECK .*\n?.*/healthz", text)
    compose = yaml.safe_load((DEPLOY / "container" / "compose.yaml").read_text())
    service = compose["services"]["secscan"]
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert service["build"]["dockerfile"] == "deploy/container/Containerfile"


def test_kubernetes_example_runs_one_non_root_daemon() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "secscan.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    assert tomllib.loads(config["data"]["secscan.toml"])["daemon"]["health_listen"] == "0.0.0.0:9477"


def test_github_actions_example_runs_secscan_with_least_privilege() -> None:
    workflow = yaml.safe_load((DEPLOY / "github-actions" / "secscan.yml").read_text())
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["scan"]
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "secscan run ." in runs
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False


def test_every_deploy_file_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for path in sorted(p for p in DEPLOY.rglob("*") if p.is_file()):
        assert str(path.relative_to(REPO)) in readme, path


def test_postgres_compose_runs_the_daemon_on_a_postgresql_store() -> None:
    compose = yaml.safe_load((DEPLOY / "container" / "compose.postgres.yaml").read_text())
    secscan, postgres = compose["services"]["secscan"], compose["services"]["postgres"]
    assert postgres["image"].split(":")[-1].startswith("15")
    assert secscan["build"]["args"]["EXTRAS"] == "postgres"
    assert secscan["depends_on"]["postgres"]["condition"] == "service_healthy"
    db = secscan["command"][secscan["command"].index("--db") + 1]
    assert db.startswith("postgresql://") and ":" not in db.split("@")[0].removeprefix("postgresql://")
    assert secscan["read_only"] is True and secscan["cap_drop"] == ["ALL"]
    assert 'EXTRAS:+[$EXTRAS]' in (DEPLOY / "container" / "Containerfile").read_text()


def test_fleet_compose_runs_postgresql_and_two_workers_after_the_migration() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    worker, migrate = services["worker"], services["migrate"]
    assert services["postgres"]["image"].split(":")[-1].startswith("15")
    assert migrate["build"]["args"]["EXTRAS"] == "fleet" and migrate["command"][:2] == ["fleet", "migrate"]
    assert worker["deploy"]["replicas"] == 2 and worker["command"][:2] == ["fleet", "worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    db = worker["command"][worker["command"].index("--db") + 1]
    assert db.startswith("postgresql://") and ":" not in db.split("@")[0].removeprefix("postgresql://")
    assert worker["read_only"] is True and worker["cap_drop"] == ["ALL"]


def test_fleet_kubernetes_example_runs_replicated_workers_over_an_external_postgresql() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "secscan-fleet.yaml").read_text()))
    service = next(d for d in docs if d["kind"] == "Service")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert service["spec"]["type"] == "ExternalName" and deployment["spec"]["replicas"] > 1
    assert pod["initContainers"][0]["args"][:2] == ["fleet", "migrate"]
    assert pod["containers"][0]["args"][:2] == ["fleet", "worker"]
    assert pod["terminationGracePeriodSeconds"] > 30 and pod["securityContext"]["runAsNonRoot"] is True
