"""Configuration that cannot be meant, and files named by an untrusted repository (issue 13).

Before: ``[policy] severity = "/dev/zero"`` in a repository's ``secscan.toml`` grew memory until
the host ran out, a FIFO hung the run forever, ``../../../../etc/shadow`` was opened and parsed,
and ``timeout = inf`` was accepted. Now each is one line naming the key or file, exit 2, before
any scanner starts. The commands run as subprocesses with a memory limit and a timeout: those
are guards, so that the old behaviour fails the test instead of the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from secscan.config.suppressions import read_suppressions
from secscan.core.errors import InputError
from secscan.scanners.requirements import collect_requirements

GUARD_S = 120
MAX_PROCESSES = 4 * (os.cpu_count() or 1)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def secscan(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SECSCAN_DEBUG"}
    env["XDG_STATE_HOME"] = str(cwd / "state")
    argv = [sys.executable, "-P", "-m", "secscan", *map(str, args)]
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=GUARD_S, env=env, preexec_fn=_limit_memory,
        check=False,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text("import os\nos.system('ls')\n")
    return root


def _refused(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("secscan: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert all(f in done.stderr for f in fragments), done.stderr


def _run(repo: Path, tmp_path: Path, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    sarif = tmp_path / "out.sarif"
    db = tmp_path / "db.sqlite"
    done = secscan("run", repo, "--sarif", sarif, "--db", db, "--scanner", "bandit", *extra, cwd=tmp_path)
    if done.returncode == 2:
        assert not sarif.exists()  # refused before any scanner started
    return done


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        ('"/dev/zero"', ("'policy.severity' points outside the scanned repository",)),
        ('"../outside.toml"', ("'policy.severity' points outside",)),
        ('"link.toml"', ("'policy.severity' points outside",)),  # a symlink to ../outside.toml
        ('"fifo"', ("is a FIFO",)),
        ('"big.toml"', ("larger than 1000000 bytes",)),
    ],
)
def test_policy_files_named_by_the_repository_stay_inside_it_and_bounded(
    repo: Path, tmp_path: Path, value: str, fragments: tuple[str, ...]
) -> None:
    (tmp_path / "outside.toml").write_text('[advisory]\ndefault = "low"\n')  # valid: only its place is wrong
    (repo / "link.toml").symlink_to(tmp_path / "outside.toml")
    os.mkfifo(repo / "fifo")
    (repo / "big.toml").write_text("# padding\n" * 200_000)
    (repo / "secscan.toml").write_text(f"[policy]\nseverity = {value}\n")
    _refused(_run(repo, tmp_path), *fragments)


def test_the_sla_file_and_the_osv_database_are_checked_too(repo: Path, tmp_path: Path) -> None:
    (repo / "secscan.toml").write_text('[policy]\nsla = "/etc/passwd"\n')
    _refused(_run(repo, tmp_path), "'policy.sla' points outside")
    (repo / "secscan.toml").write_text('[scanners.pip-audit]\nosv_db = "/"\n')
    _refused(_run(repo, tmp_path), "'scanners.pip-audit.osv_db' points outside")


def test_a_trusted_config_may_name_any_regular_file_but_no_device(repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "trusted.toml"
    config.write_text('[policy]\nseverity = "/dev/zero"\n')
    _refused(_run(repo, tmp_path, "--config", config), "/dev/zero is a device")
    (tmp_path / "outside.toml").write_text('[advisory]\ndefault = "low"\n')
    config.write_text(f'[policy]\nseverity = "{tmp_path / "outside.toml"}"\n')
    assert _run(repo, tmp_path, "--config", config, "--fail-on", "none").returncode == 0


def test_the_repository_config_itself_must_be_a_regular_file(repo: Path, tmp_path: Path) -> None:
    os.mkfifo(repo / "secscan.toml")
    _refused(_run(repo, tmp_path), "secscan.toml is a FIFO")


@pytest.mark.parametrize(
    ("table", "fragments"),
    [
        ("[scanners.bandit]\ntimeout = inf", ("'scanners.bandit.timeout'", "finite")),
        ("[scanners.bandit]\ntimeout = nan", ("'scanners.bandit.timeout'", "finite")),
        ("[scanners.bandit]\ntimeout = 0", ("'scanners.bandit.timeout'",)),
        ("[scanners.bandit]\ntimeout = 1e12", ("'scanners.bandit.timeout'", "less than or equal")),
        ("[scanners.bandit]\nshards = 100000", ("'scanners.bandit.shards'", f"at most {MAX_PROCESSES}")),
        ("[scanners.detect-secrets]\nprocesses = 100000", ("'scanners.detect-secrets.processes'",)),
        ("[scan]\nmax_file_size = -1", ("'scan.max_file_size'",)),
        ("[cache]\nonline_ttl_hours = inf", ("'cache.online_ttl_hours'", "finite")),
        ("[daemon]\nsla_sweep_every = nan", ("'daemon.sla_sweep_every'", "finite")),
    ],
)
def test_values_that_cannot_be_meant_are_refused(
    repo: Path, tmp_path: Path, table: str, fragments: tuple[str, ...]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(table + "\n")
    _refused(_run(repo, tmp_path, "--config", config), *fragments)


def _within_guard(call: object) -> object:
    """``call()`` in a thread, joined for a bounded time (a FIFO read never returns)."""
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(_capture(call)), daemon=True)
    thread.start()
    thread.join(GUARD_S)
    assert outcome, "the read hung"
    return outcome[0]


def _capture(call: object) -> object:
    try:
        return call()  # type: ignore[operator]
    except Exception as exc:  # the result under test
        return exc


def test_suppressions_that_are_a_fifo_or_behind_a_link_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".secscan").mkdir(parents=True)
    os.mkfifo(root / ".secscan" / "suppressions.toml")
    refused = _within_guard(lambda: read_suppressions(root))
    assert isinstance(refused, InputError) and "is a FIFO" in str(refused)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "suppressions.toml").write_text('[[suppression]]\nrule = "B101"\nreason = "x"\n')
    other = tmp_path / "other"
    other.mkdir()
    (other / ".secscan").symlink_to(elsewhere)
    refused = _within_guard(lambda: read_suppressions(other))
    assert isinstance(refused, InputError) and "symbolic link" in str(refused)


def test_a_requirement_file_swapped_for_a_fifo_is_not_audited_and_never_hangs(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "requirements.txt")
    result = _within_guard(lambda: collect_requirements(tmp_path, ["requirements.txt"]))
    [file] = result.files  # type: ignore[attr-defined]
    assert file.error is not None and "is a FIFO" in file.error
