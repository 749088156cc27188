"""The scanner runner: isolation, deadlines, cancellation and failure isolation.

The fake scanners subclass the real ``Scanner`` ABC and run tiny ``python -c`` commands.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.errors import ScannerError
from secscan.core.model import (
    Finding,
    Location,
    Notification,
    NotificationLevel,
    ScannerResult,
    ScannerStatus,
    ToolName,
)
from secscan.scanners._sharding import split_arguments
from secscan.scanners._subprocess import STDERR_TAIL_BYTES, BatchEnd, run_commands
from secscan.scanners.interface import Command, CommandResult, Plan, ScanJob, Scanner, ScanOutput
from secscan.scanners.runner import run_all, run_scanner

PY = sys.executable

# A command that starts a grandchild which ignores SIGTERM (so only SIGKILL ends it), records
# the grandchild's pid, says it is ready, then sleeps.
SPAWN_AND_HANG = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
with open("pids.json", "w") as fh:
    fh.write('{"leader": %d, "child": %d}' % (os.getpid(), child.pid))
time.sleep(60)
"""


class FakeScanner(Scanner):
    """Runs one ``python -c`` per code string; parse() reads each stdout file."""

    name = ToolName("fake")

    def __init__(
        self,
        *codes: str,
        ok: Sequence[int] = (0,),
        skip: str | None = None,
        plan_error: Exception | None = None,
    ) -> None:
        self.codes = codes
        self.ok = tuple(ok)
        self.skip = skip
        self.plan_error = plan_error

    def version(self) -> str:
        return "0.0-test"

    def plan(self, job: ScanJob) -> Plan:
        if self.plan_error is not None:
            raise self.plan_error
        note = Notification(NotificationLevel.NOTE, "planned")
        if self.skip is not None:
            return Plan(skip_reason=self.skip, notifications=(note,))
        commands = tuple(
            Command(argv=(PY, "-c", code), cwd=job.root, stdout_path=job.workdir / f"out-{i}.txt")
            for i, code in enumerate(self.codes)
        )
        return Plan(commands=commands, notifications=(note,))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code in self.ok

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        findings = []
        for result in results:
            text = result.command.stdout_path.read_text()
            if not text.startswith("finding"):
                raise ScannerError(f"{self.name} output {result.command.stdout_path} is malformed")
            findings.append(
                Finding(
                    tool=self.name,
                    rule_id="R1",
                    message=text.strip(),
                    location=Location("a.py"),
                    severity=job.policy.secret("x", False),
                )
            )
        return ScanOutput(findings=tuple(findings), rules=(), scope=frozenset({"a.py"}))


class OtherScanner(FakeScanner):
    name = ToolName("other")


class CrashingParse(FakeScanner):
    name = ToolName("crashy")

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        raise KeyError("oops")


@pytest.fixture
def job(tmp_path: Path) -> ScanJob:
    root = tmp_path / "target"
    root.mkdir()
    return ScanJob(root=root, files=("a.py",), workdir=tmp_path / "work", policy=load_policy())


def other_job(job: ScanJob, name: str) -> ScanJob:
    return ScanJob(root=job.root, files=job.files, workdir=job.workdir.parent / name, policy=job.policy)


def gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether ``pid`` is dead (absent or a zombie) within ``within_s`` (a bound, not a measure)."""
    until = time.monotonic() + within_s
    while time.monotonic() < until:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


def read_pids(root: Path, within_s: float = 10.0) -> dict[str, int]:
    until = time.monotonic() + within_s
    path = root / "pids.json"
    while time.monotonic() < until:
        if path.exists():
            try:
                return dict(json.loads(path.read_text()))
            except json.JSONDecodeError:
                pass  # half written
        time.sleep(0.01)
    raise AssertionError("the command never wrote its pids")


def test_ok_scanner_records_findings_version_scope_and_notifications(job: ScanJob) -> None:
    result = run_scanner(FakeScanner("print('finding one')"), job, timeout_s=30)
    assert result.status is ScannerStatus.OK
    assert result.reason is None
    assert result.version == "0.0-test"
    assert result.exit_code == 0
    assert [f.message for f in result.findings] == ["finding one"]
    assert result.scope == frozenset({"a.py"})
    assert [n.message for n in result.notifications] == ["planned"]
    assert result.duration_s > 0


def test_non_ok_exit_code_fails_with_the_last_stderr_line(job: ScanJob) -> None:
    code = "import sys; sys.stderr.write('noise\\nerror: unknown flag --bogus\\n'); sys.exit(2)"
    result = run_scanner(FakeScanner("print('finding')", code), job, timeout_s=30)
    assert result.status is ScannerStatus.FAILED
    assert result.exit_code == 2
    assert result.reason is not None
    assert "fake exited with code 2" in result.reason
    assert "error: unknown flag --bogus" in result.reason
    assert "noise" not in result.reason
    assert result.findings == () and result.scope == frozenset()


def test_failure_reason_is_one_bounded_line(job: ScanJob) -> None:
    code = "import sys; sys.stderr.write('x' * 5000 + '\\t\\x1b[31m' + 'y' * 50); sys.exit(3)"
    result = run_scanner(FakeScanner(code), job, timeout_s=30)
    assert result.status is ScannerStatus.FAILED
    assert result.reason is not None
    assert "\n" not in result.reason and "\x1b" not in result.reason
    assert len(result.reason) < 400


def test_a_failure_reason_cut_at_its_limit_keeps_no_part_of_a_secret(job: ScanJob) -> None:
    """The reason is redacted after the cut, with the values detect-secrets found: a cut inside
    one kept a prefix the redactor could not recognise any more."""
    secret = "Zq8Hk2Vb7Nm4Xc1Lp6Rt"
    code = f"import sys; sys.stderr.write('bad line: ' + 'w ' * 90 + 'password={secret} and more'); sys.exit(3)"
    result = run_scanner(FakeScanner(code), job, timeout_s=30)
    assert result.reason is not None and "w w…;" in result.reason
    assert not [secret[i : i + 4] for i in range(len(secret) - 3) if secret[i : i + 4] in result.reason]


def test_exit_codes_that_the_scanner_accepts_are_ok(job: ScanJob) -> None:
    result = run_scanner(FakeScanner("print('finding'); raise SystemExit(1)", ok=(0, 1)), job, timeout_s=30)
    assert result.status is ScannerStatus.OK
    assert result.exit_code == 1


def test_timeout_kills_the_group_and_the_grandchild(job: ScanJob) -> None:
    result = run_scanner(FakeScanner(SPAWN_AND_HANG), job, timeout_s=0.5)
    assert result.status is ScannerStatus.TIMEOUT
    assert result.reason == "fake timed out after 0.5 s; raise [scanners.fake] timeout"
    assert result.findings == () and result.scope == frozenset()
    pids = read_pids(job.root)
    assert gone(pids["leader"]), "the scanner process survived its timeout"
    assert gone(pids["child"]), "the scanner's grandchild (ignoring SIGTERM) survived its timeout"


def test_one_deadline_covers_all_commands_of_a_scanner(job: ScanJob) -> None:
    result = run_scanner(FakeScanner("print('finding')", "import time; time.sleep(60)"), job, timeout_s=0.4)
    assert result.status is ScannerStatus.TIMEOUT


def test_parse_error_fails_one_scanner_while_the_others_survive(job: ScanJob) -> None:
    done: list[str] = []
    items = [
        (FakeScanner("print('not what parse expects')"), job, 30.0),
        (OtherScanner("print('finding kept')"), other_job(job, "other"), 30.0),
        (CrashingParse("print('finding')"), other_job(job, "crashy"), 30.0),
    ]
    results = run_all(items, on_done=lambda r: done.append(r.name))
    assert [r.name for r in results] == ["fake", "other", "crashy"]
    assert sorted(done) == ["crashy", "fake", "other"]
    bad, good, crashed = results
    assert bad.status is ScannerStatus.FAILED
    assert bad.reason is not None and "malformed" in bad.reason
    assert good.status is ScannerStatus.OK
    assert [f.message for f in good.findings] == ["finding kept"]
    assert crashed.status is ScannerStatus.FAILED
    assert crashed.reason is not None and "KeyError" in crashed.reason and "bug" in crashed.reason


def test_a_timeout_does_not_lose_a_concurrent_scanner(job: ScanJob) -> None:
    results = run_all(
        [
            (FakeScanner("import time; time.sleep(60)"), job, 0.3),
            (OtherScanner("print('finding kept')"), other_job(job, "other"), 30.0),
        ]
    )
    assert [r.status for r in results] == [ScannerStatus.TIMEOUT, ScannerStatus.OK]


def test_cancel_event_kills_running_scanners(job: ScanJob) -> None:
    cancel = threading.Event()
    results: list[ScannerResult] = []
    worker = threading.Thread(
        target=lambda: results.extend(run_all([(FakeScanner(SPAWN_AND_HANG), job, 60.0)], cancel=cancel))
    )
    worker.start()
    pids = read_pids(job.root)
    cancel.set()
    worker.join(30)
    assert not worker.is_alive()
    [result] = results
    assert result.status is ScannerStatus.FAILED
    assert result.reason is not None and "cancelled" in result.reason
    assert gone(pids["leader"]) and gone(pids["child"]), "cancel left a process behind"


def test_a_cancel_before_the_start_runs_nothing(job: ScanJob) -> None:
    cancel = threading.Event()
    cancel.set()
    result = run_scanner(FakeScanner("open('started', 'w').close()"), job, 30, cancel=cancel)
    assert result.status is ScannerStatus.FAILED
    assert result.reason == "fake was cancelled before it started"
    assert not (job.root / "started").exists()


def test_plan_errors_become_failed_results(job: ScanJob) -> None:
    failed = run_scanner(
        FakeScanner(plan_error=ScannerError("fake is not installed; pip install fake")), job, 5
    )
    assert failed.status is ScannerStatus.FAILED
    assert failed.reason == "fake is not installed; pip install fake"
    crashed = run_scanner(FakeScanner(plan_error=RuntimeError("boom")), job, 5)
    assert crashed.status is ScannerStatus.FAILED
    assert crashed.reason is not None and "RuntimeError" in crashed.reason


def test_skip_reason_gives_a_skipped_result(job: ScanJob) -> None:
    result = run_scanner(FakeScanner(skip="no Python files to scan"), job, 5)
    assert result.status is ScannerStatus.SKIPPED
    assert result.reason == "no Python files to scan"
    assert [n.message for n in result.notifications] == ["planned"]
    assert result.exit_code is None


def test_a_command_that_cannot_start_fails_the_scanner(job: ScanJob) -> None:
    class Missing(FakeScanner):
        def plan(self, job: ScanJob) -> Plan:
            argv = (str(job.root / "no-such-tool"),)
            return Plan(commands=(Command(argv=argv, cwd=job.root, stdout_path=job.workdir / "o"),))

    result = run_scanner(Missing(), job, 5)
    assert result.status is ScannerStatus.FAILED
    assert result.reason is not None and "cannot start" in result.reason


def test_on_done_errors_are_raised_after_every_scanner_finished(job: ScanJob) -> None:
    def explode(result: ScannerResult) -> None:
        raise ValueError(f"callback failed for {result.name}")

    with pytest.raises(ValueError, match="callback failed"):
        run_all([(FakeScanner("print('finding')"), job, 30.0)], on_done=explode)
    assert run_all([]) == []


def test_commands_get_a_clean_environment(job: ScanJob, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "gh-token-that-must-not-leak")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    job.workdir.mkdir()
    out = job.workdir / "env.json"
    command = Command(
        argv=(PY, "-c", "import json, os; print(json.dumps(dict(os.environ)))"),
        cwd=job.root,
        stdout_path=out,
        env={"EXTRA": "1"},
    )
    batch = run_commands([command], deadline=time.monotonic() + 30)
    assert batch.end is BatchEnd.COMPLETED
    env = json.loads(out.read_text())
    assert "GITHUB_TOKEN" not in env and "PYTHONPATH" not in env
    assert env["EXTRA"] == "1"
    assert env["LC_ALL"] == "C.UTF-8" and env["PYTHONHASHSEED"] == "0"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONSAFEPATH"] == "1"
    assert env["PATH"] == os.environ["PATH"]


def test_stdin_is_empty_and_stderr_keeps_only_a_tail(job: ScanJob) -> None:
    job.workdir.mkdir()
    code = "import sys; data = sys.stdin.read(); sys.stderr.write('a' * 100_000 + 'END'); print(len(data))"
    command = Command(argv=(PY, "-c", code), cwd=job.root, stdout_path=job.workdir / "o.txt")
    [result] = run_commands([command], deadline=time.monotonic() + 30).results
    assert (job.workdir / "o.txt").read_text().strip() == "0"
    assert result.exit_code == 0
    assert result.stderr_tail.endswith("END")
    assert len(result.stderr_tail.encode()) <= STDERR_TAIL_BYTES


def test_split_arguments_bounds_each_chunk_and_keeps_order() -> None:
    paths = [f"dir/file-{i:04}.py" for i in range(1000)]
    chunks = split_arguments(paths, limit=1000)
    assert [p for chunk in chunks for p in chunk] == paths
    assert all(sum(len(p) + 1 for p in chunk) <= 1000 for chunk in chunks)
    assert split_arguments(["x" * 5000], limit=10) == [["x" * 5000]]


# A tool whose child grows past any cap (a parser expanding a hostile file), and says when it has.
GROWS = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c",
    "import time; open('started', 'w').close(); hoard = bytearray(400 * 1024 * 1024);"
    " hoard[::4096] = b'x' * len(hoard[::4096]); time.sleep(60)"])
child.wait()
print("finding")
"""


def test_a_command_tree_past_the_memory_cap_is_killed_and_fails_the_scanner(job: ScanJob) -> None:
    """The cap holds for the tool's children too; the scanner fails (closes nothing) long before its
    timeout, and the reason says why and what to do."""
    mib = 1024 * 1024
    result = run_scanner(FakeScanner(GROWS), job, timeout_s=120, memory_cap=200 * mib)
    assert result.status is ScannerStatus.FAILED, result.reason
    assert result.reason is not None and result.reason.startswith("fake was stopped, ")
    assert "MiB resident, over the cap of 200 MiB; exclude the file that makes it grow" in result.reason
    assert result.findings == () and result.scope == frozenset()
    assert (job.root / "started").exists()  # the child ran, and was stopped for its memory (the reason)


def test_under_the_memory_cap_a_command_runs_as_without_one(job: ScanJob) -> None:
    mib = 1024 * 1024
    code = "import time; hoard = bytearray(30 * 1024 * 1024); time.sleep(1.5); print('finding')"
    result = run_scanner(FakeScanner(code), job, timeout_s=120, memory_cap=400 * mib)
    assert result.status is ScannerStatus.OK, result.reason
    assert [f.message for f in result.findings] == ["finding"]


def test_a_tool_exiting_125_on_its_own_is_not_taken_for_the_memory_cap(job: ScanJob) -> None:
    result = run_scanner(FakeScanner("import sys; sys.exit(125)"), job, timeout_s=60, memory_cap=1024 * 1024 * 1024)
    assert result.status is ScannerStatus.FAILED
    assert result.reason is not None and result.reason.startswith("fake exited with code 125")
