"""pip-audit adapter: real pip-audit against a loopback OSV server; target code never runs.

The OSV server here is a small stand-in (http.server on 127.0.0.1:0) that answers exactly what
pip-audit 2.10 sends (osv.md section 3): one POST per package, ``{"vulns": [records]}`` or ``{}``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from secscan.config.policy import load_policy
from secscan.core.errors import ScannerError
from secscan.core.model import NotificationLevel, Severity
from secscan.scanners._pip_audit_report import parse_report
from secscan.scanners.interface import Command, CommandResult, ScanJob
from secscan.scanners.pip_audit import PipAuditScanner

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "pip-audit"
RECORDS = {p.stem: json.loads(p.read_text()) for p in (ASSETS / "osv").glob("*.json")}
FILES = ("requirements.txt", "requirements/dev.txt", "setup.py")


class _OsvHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    records: Sequence[Mapping[str, Any]] = ()
    queries: list[Any]

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.queries.append(query)
        name, version = query["package"]["name"], query["version"]
        vulns = [
            r
            for r in self.records
            for a in r["affected"]
            if a["package"] == {**a["package"], "name": name, "ecosystem": "PyPI"}
            and version in a["versions"]
        ]
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def osv_server() -> Iterator[tuple[str, list[Any]]]:
    queries: list[Any] = []
    handler = type("Handler", (_OsvHandler,), {"records": tuple(RECORDS.values()), "queries": queries})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query", queries
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "target"
    shutil.copytree(ASSETS / "project", root)
    return root


def _job(root: Path, tmp_path: Path, files: Sequence[str] = FILES, **kw: Any) -> ScanJob:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return ScanJob(root=root, files=tuple(files), workdir=workdir, policy=load_policy(), **kw)


def _run(commands: Sequence[Command]) -> list[CommandResult]:
    results = []
    for command in commands:
        with command.stdout_path.open("wb") as out:
            done = subprocess.run(
                command.argv,
                cwd=command.cwd,
                stdout=out,
                stderr=subprocess.PIPE,
                env={**_env(), **command.env},
                timeout=120,
                check=False,
            )
        results.append(CommandResult(command, done.returncode, 0.0, done.stderr.decode()[-2000:]))
    return results


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "HTTP_PROXY", "http_proxy")}


def test_real_pip_audit_finds_pinned_vulnerabilities_without_running_target_code(
    project: Path, tmp_path: Path, osv_server: tuple[str, list[Any]]
) -> None:
    url, queries = osv_server
    scanner = PipAuditScanner()
    job = _job(project, tmp_path, osv_url=url, options={"advisory_lookup": RECORDS.get})
    plan = scanner.plan(job)

    # Two layers: pip-audit refuses two pins of one package in one run.
    assert [c.argv[c.argv.index("-r") + 1] for c in plan.commands] == [
        str(job.workdir / "requirements-0.txt"),
        str(job.workdir / "requirements-1.txt"),
    ]
    assert (
        job.workdir / "requirements-0.txt"
    ).read_text() == "demo-pkg==1.0.0\njinja2==2.10\nrequests==2.31.0\n"
    assert (job.workdir / "requirements-1.txt").read_text() == "demo-pkg==1.2.0\njinja2==2.11.3\n"
    for command in plan.commands:
        assert command.cwd == job.workdir
        assert command.argv[1:3] == ("-m", "pip_audit")
        for flag in ("--no-deps", "--disable-pip", "--progress-spinner", "--cache-dir"):
            assert flag in command.argv
        assert command.argv[command.argv.index("--osv-url") + 1] == url
        assert "127.0.0.1" in command.env["NO_PROXY"]
        assert str(project) not in " ".join(command.argv)
    not_audited = {(n.path, n.line, n.message) for n in plan.notifications}
    assert ("requirements.txt", 8, "not audited: editable (.)") in not_audited
    assert ("requirements.txt", 13, "not audited: unpinned (flask>=2)") in not_audited
    assert all(n.level is NotificationLevel.WARNING for n in plan.notifications)
    leaked = "CANARY" in repr(plan)
    assert not leaked, "a credential from the requirements file reached the plan"

    results = _run(plan.commands)
    assert [r.exit_code for r in results] == [1, 1], [r.stderr_tail for r in results]
    assert all(scanner.exit_ok(r.exit_code) for r in results)
    output = scanner.parse(job, results)

    assert not (project / "SETUP_PY_WAS_EXECUTED").exists()
    assert sorted((q["package"]["name"], q["version"]) for q in queries) == [
        ("demo-pkg", "1.0.0"),
        ("demo-pkg", "1.2.0"),
        ("jinja2", "2.10"),
        ("jinja2", "2.11.3"),
        ("requests", "2.31.0"),
    ]
    got = sorted((f.location.path, f.location.start_line, f.rule_id, f.identity) for f in output.findings)
    assert got == [
        ("requirements.txt", 3, "PYSEC-2019-217", "jinja2|PYSEC-2019-217"),
        ("requirements.txt", 4, "PYSEC-2024-999", "demo-pkg|PYSEC-2024-999"),
        ("requirements/dev.txt", 3, "PYSEC-2024-999", "demo-pkg|PYSEC-2024-999"),
    ]
    jinja = next(f for f in output.findings if f.rule_id == "PYSEC-2019-217")
    assert jinja.message == (
        "jinja2 2.10 is affected by PYSEC-2019-217 (CVE-2019-10906); fixed in 2.10.1: "
        "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape."
    )
    assert jinja.aliases == ("CVE-2019-10906",)
    assert jinja.severity is Severity.HIGH  # no score, no label: the policy's advisory default
    demo = next(f for f in output.findings if f.rule_id == "PYSEC-2024-999")
    assert demo.severity is Severity.CRITICAL and demo.tool_severity == "CVSS 9.8"  # vector wins over label
    assert demo.message.startswith("demo-pkg 1.0.0 is affected by PYSEC-2024-999 (CVE-2024-0001, GHSA-")
    assert {f.tool for f in output.findings} == {"pip-audit"}

    rules = {r.id: r for r in output.rules}
    assert set(rules) == {"PYSEC-2019-217", "PYSEC-2024-999"}
    assert rules["PYSEC-2019-217"].help_uri == "https://access.redhat.com/errata/RHSA-2019:1152"
    assert rules["PYSEC-2019-217"].short_description.startswith("In Pallets Jinja before 2.10.1")
    assert "2.10.1" in rules["PYSEC-2019-217"].help_text
    assert rules["PYSEC-2024-999"].short_description == "Example vulnerability in demo-pkg"
    assert rules["PYSEC-2024-999"].help_uri == "https://osv.dev/vulnerability/PYSEC-2024-999"
    assert rules["PYSEC-2024-999"].tags == ("security", "dependency", "external/cwe/cwe-94")
    assert output.scope == frozenset({"requirements.txt", "requirements/dev.txt"})


def test_without_osv_url_the_default_service_is_used(project: Path, tmp_path: Path) -> None:
    plan = PipAuditScanner().plan(_job(project, tmp_path, args=("--timeout", "5")))
    argv = plan.commands[0].argv
    assert "-s" not in argv and "--osv-url" not in argv
    assert argv[-2:] == ("--timeout", "5")
    assert plan.commands[0].env == {}


def test_the_offline_service_starts_with_the_first_command_and_not_for_a_skip(
    project: Path, tmp_path: Path
) -> None:
    calls: list[int] = []

    def service() -> str:
        calls.append(1)
        return "http://127.0.0.1:9/v1/query"

    plan = PipAuditScanner().plan(_job(project, tmp_path, options={"osv_service": service}))
    argv = plan.commands[0].argv
    assert argv[argv.index("--osv-url") + 1] == "http://127.0.0.1:9/v1/query"
    assert "127.0.0.1" in plan.commands[0].env["NO_PROXY"]
    assert calls
    calls.clear()
    (tmp_path / "empty").mkdir()
    empty = _job(tmp_path / "empty", tmp_path, files=[], options={"osv_service": service})
    skipped = PipAuditScanner().plan(empty)
    assert skipped.skip_reason is not None and calls == []


def test_no_requirement_files_skips(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    plan = PipAuditScanner().plan(_job(tmp_path, tmp_path, files=["app.py"]))
    assert plan.commands == () and plan.skip_reason is not None
    assert "no requirement files" in plan.skip_reason


def test_nothing_pinned_skips_but_still_reports(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-e .\nflask>=2\n")
    plan = PipAuditScanner().plan(_job(tmp_path, tmp_path, files=["requirements.txt"]))
    assert plan.commands == () and plan.skip_reason is not None and "pinned" in plan.skip_reason
    assert [(n.line, n.message) for n in plan.notifications] == [
        (1, "not audited: editable (.)"),
        (2, "not audited: unpinned (flask>=2)"),
    ]


def test_custom_globs_and_bad_globs(tmp_path: Path) -> None:
    (tmp_path / "deps.lock").write_text("a==1\n")
    job = _job(tmp_path, tmp_path, files=["deps.lock"], options={"requirements": ["*.lock"]})
    assert len(PipAuditScanner().plan(job).commands) == 1
    with pytest.raises(ScannerError, match="list of glob strings"):
        PipAuditScanner().plan(replace(job, options={"requirements": "*.lock"}))


def test_exit_codes() -> None:
    scanner = PipAuditScanner()
    assert [scanner.exit_ok(c) for c in (0, 1, 2, -9)] == [True, True, False, False]
    assert scanner.version() not in ("", "unknown")


@pytest.mark.parametrize(
    "name", ["truncated.json", "no-dependencies.json", "vuln-without-id.json", "not-json.txt", "bad-fix.json"]
)
def test_malformed_reports_raise_scanner_error(name: str) -> None:
    with pytest.raises(ScannerError, match="pip-audit report"):
        parse_report((ASSETS / "reports" / name).read_bytes(), name)


def _fake_results(job: ScanJob, report: bytes | None) -> list[CommandResult]:
    out = job.workdir / "pip-audit-0.json"
    if report is not None:
        out.write_bytes(report)
    command = Command(("python", "-m", "pip_audit", "-o", str(out)), job.workdir, job.workdir / "x.stdout")
    return [CommandResult(command, 1, 0.1, "")]


def test_recorded_report_parses_and_skipped_dependencies_leave_the_scope(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    (tmp_path / "requirements-dev.txt").write_text("demo-pkg==1.0.0\nrequests==2.31.0\n")
    job = _job(tmp_path, tmp_path, files=["requirements.txt", "requirements-dev.txt"])
    report = json.loads((ASSETS / "reports" / "recorded-osv-layer0.json").read_text())
    deps = [d for d in report["dependencies"] if d["name"] == "jinja2"]
    report["dependencies"] = [*deps, {"name": "Demo_Pkg", "skip_reason": "could not be found on the index"}]
    output = PipAuditScanner().parse(job, _fake_results(job, json.dumps(report).encode()))
    assert [(f.rule_id, f.severity, f.aliases) for f in output.findings] == [
        ("PYSEC-2019-217", Severity.HIGH, ("CVE-2019-10906",)),
    ]
    assert output.rules[0].help_uri == "https://osv.dev/vulnerability/PYSEC-2019-217"  # no record looked up
    assert output.scope == frozenset({"requirements.txt"})
    assert {(n.path, n.line, n.message) for n in output.notifications} == {
        ("requirements-dev.txt", 1, "not audited: demo-pkg==1.0.0: could not be found on the index"),
        ("requirements-dev.txt", 2, "not audited: requests==2.31.0: missing from pip-audit's report"),
    }


def test_missing_report_raises(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("a==1\n")
    job = _job(tmp_path, tmp_path, files=["requirements.txt"])
    with pytest.raises(ScannerError, match="wrote no readable report"):
        PipAuditScanner().parse(job, _fake_results(job, None))


def test_with_the_offline_osv_database_server_and_the_runner(project: Path, tmp_path: Path) -> None:
    """The wiring the pipeline uses: OsvDatabase + OsvServer + run_scanner."""
    from secscan.core.model import ScannerStatus
    from secscan.scanners.osv import OsvDatabase, OsvServer
    from secscan.scanners.runner import run_scanner

    database = OsvDatabase.load(ASSETS / "osv")
    with OsvServer(database) as server:
        job = _job(project, tmp_path, osv_url=server.query_url, options={"advisory_lookup": database.get})
        result = run_scanner(PipAuditScanner(), job, timeout_s=120)
    assert result.status is ScannerStatus.OK, result.reason
    assert sorted((f.location.path, f.rule_id, f.severity) for f in result.findings) == [
        ("requirements.txt", "PYSEC-2019-217", Severity.HIGH),
        ("requirements.txt", "PYSEC-2024-999", Severity.CRITICAL),
        ("requirements/dev.txt", "PYSEC-2024-999", Severity.CRITICAL),
    ]
    assert len([n for n in result.notifications if n.message.startswith("not audited")]) == 11
    assert not (project / "SETUP_PY_WAS_EXECUTED").exists()


def test_parse_reports_the_requirements_its_plan_gave_pip_audit(tmp_path: Path) -> None:
    """parse() reuses the plan's reading of the requirement files (issue 18): a file edited while
    pip-audit ran does not make the run report pins that pip-audit was never given."""
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    job = _job(tmp_path, tmp_path, files=["requirements.txt"])
    report = json.loads((ASSETS / "reports" / "recorded-osv-layer0.json").read_text())
    report["dependencies"] = [d for d in report["dependencies"] if d["name"] == "jinja2"]
    scanner = PipAuditScanner()
    assert len(scanner.plan(job).commands) == 1
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\nrequests==2.31.0\n")
    output = scanner.parse(job, _fake_results(job, json.dumps(report).encode()))
    assert [f.rule_id for f in output.findings] == ["PYSEC-2019-217"] and output.notifications == ()
    unplanned = PipAuditScanner().parse(job, _fake_results(job, json.dumps(report).encode()))
    assert [n.message for n in unplanned.notifications] == [
        "not audited: requests==2.31.0: missing from pip-audit's report"
    ]  # without a plan, the files are read as they are


def test_a_database_without_pypi_advisories_audits_nothing_and_closes_nothing(
    project: Path, tmp_path: Path
) -> None:
    """An empty folder, or another ecosystem's dataset, answers "no vulnerability" for every pin:
    that is not a clean audit. pip-audit is incomplete, nothing is closed, and its answers are not
    cached (a second run against the same database says the same)."""
    from secscan.app import run as app
    from secscan.config.settings import build_settings
    from secscan.core.model import FindingState, ScannerStatus
    from secscan.store import FindingQuery, open_store

    settings = build_settings({"scan": {"fail_on": "none"}, "cache": {"path": str(tmp_path / "cache.db")}})
    db = tmp_path / "s.db"

    def run(database: Path) -> app.RunResult:
        return app.run(app.RunRequest(target=project, settings=settings, sarif_path=tmp_path / "o.sarif",
                                      only=("pip-audit",), osv_db=database, db=str(db), target_name="app"))  # fmt: skip

    assert run(ASSETS / "osv").run.scanners[0].status is ScannerStatus.OK
    with open_store(str(db)) as store:
        found = {t.fingerprint for t in store.list_findings(FindingQuery(target="app"))}
    assert len(found) == 3
    npm_only = tmp_path / "npm"
    npm_only.mkdir()
    (npm_only / "GHSA-npm.json").write_text(json.dumps({
        "id": "GHSA-xxxx-yyyy-zzzz", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.0.0"]}],
    }))  # fmt: skip
    empty = tmp_path / "empty"
    empty.mkdir()
    for database in (empty, empty, npm_only):
        result = run(database)
        [audit] = result.run.scanners
        assert audit.status is ScannerStatus.INCOMPLETE, audit.reason
        assert audit.reason is not None and audit.reason.startswith("the OSV database holds no PyPI advisories")
        assert int(result.exit_code) == 3
        with open_store(str(db)) as store:
            states = {t.fingerprint: t.state for t in store.list_findings(FindingQuery(target="app"))}
        assert set(states) == found and FindingState.FIXED not in states.values()


@pytest.mark.parametrize("kind", ["file", "fifo", "missing"])
def test_an_osv_database_that_cannot_be_one_is_refused_before_any_scanner(
    project: Path, tmp_path: Path, kind: str
) -> None:
    from secscan.app import run as app
    from secscan.app.pipeline import ScanHooks
    from secscan.config.settings import build_settings
    from secscan.core.errors import InputError

    database = tmp_path / "osv"
    if kind == "file":
        database.write_text("x\n")
    elif kind == "fifo":
        os.mkfifo(database)
    request = app.RunRequest(target=project, settings=build_settings({}), sarif_path=tmp_path / "o.sarif",
                             osv_db=database, db=str(tmp_path / "s.db"), target_name="app")  # fmt: skip
    expected = "does not exist" if kind == "missing" else "is neither a folder nor a .zip file"
    started: list[object] = []
    with pytest.raises(InputError, match=f"OSV database .* {expected}; "):
        app.run(request, ScanHooks(on_start=started.append))
    assert started == [] and not (tmp_path / "o.sarif").exists()
