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


def secscan(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "SECSCAN_DEBUG"}, **(env or {})}
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


# Credential files ([notify.*] *_file, [github] token_file, systemd credentials) and the SARIF
# file of ``upload --sarif`` are named by a trusted config or command line, but a FIFO there hung
# the command forever and ``/dev/zero`` read until memory ran out (exit 70).

CHANNELS = {
    "slack": ('type = "slack"\nwebhook_url_file = "{f}"', "[notify.c] webhook URL file"),
    "pagerduty": ('type = "pagerduty"\nrouting_key_file = "{f}"', "[notify.c] routing key file"),
    "sentry": ('type = "sentry"\ndsn_file = "{f}"', "[notify.c] DSN file"),
    "webhook-url": ('type = "webhook"\nurl_file = "{f}"', "[notify.c] URL file"),
    "webhook-secret": (
        'type = "webhook"\nurl_file = "url"\nsecret_file = "{f}"', "[notify.c] HMAC secret file"
    ),
    "email": (
        'type = "email"\nsmtp_host = "127.0.0.1"\nfrom = "a@b.c"\nto = ["a@b.c"]\nusername = "u"\n'
        'password_file = "{f}"',
        "[notify.c] password file",
    ),
}


def _special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_text("x" * (64 * 1024 + 1))
    (tmp_path / "url").write_text("https://hooks.example.org/x\n")


@pytest.mark.parametrize("channel", sorted(CHANNELS))
@pytest.mark.parametrize(
    ("file", "fragment"),
    [
        ("fifo", "is a FIFO; it must be a regular file"),
        ("/dev/zero", "is a device"),
        ("big", "larger than 65536"),
    ],
)
def test_a_channel_secret_file_that_is_no_regular_file_stops_run_before_any_scanner(
    repo: Path, tmp_path: Path, channel: str, file: str, fragment: str
) -> None:
    _special_files(tmp_path)
    table, what = CHANNELS[channel]
    config = tmp_path / "c.toml"
    config.write_text("[notify.c]\n" + table.format(f=file) + "\n")
    # --no-notify only queues: a secret that is not there yet is fine, one that never can be is not
    _refused(_run(repo, tmp_path, "--config", config, "--no-notify"), what, fragment)


@pytest.mark.parametrize("command", [("notify", "test", "c"), ("alerts", "deliver")])
def test_delivering_commands_refuse_a_fifo_secret_file(tmp_path: Path, command: tuple[str, ...]) -> None:
    _special_files(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text('[notify.c]\ntype = "slack"\nwebhook_url_file = "fifo"\n')
    db = tmp_path / "db.sqlite"
    assert secscan("db", "migrate", "--db", db, cwd=tmp_path).returncode == 0  # alerts refuses a missing one
    done = secscan(*command, "--config", config, "--db", db, cwd=tmp_path)
    _refused(done, f"[notify.c] webhook URL file {tmp_path / 'fifo'} is a FIFO")


@pytest.mark.parametrize(
    "command", [("upload",), ("github", "sync"), ("run", "REPO", "--upload", "--scanner", "bandit")]
)
def test_a_github_token_file_that_is_a_fifo_is_refused(
    repo: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    _special_files(tmp_path)
    config = tmp_path / "gh.toml"
    config.write_text(f'[github]\nrepository = "o/r"\ntoken_file = "{tmp_path / "fifo"}"\n')
    argv = [str(repo) if a == "REPO" else a for a in command]
    done = secscan(*argv, "--config", config, "--db", tmp_path / "db.sqlite", cwd=tmp_path)
    _refused(done, f"[github] token_file {tmp_path / 'fifo'} is a FIFO; it must be a regular file")


def test_a_systemd_credential_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    os.mkfifo(credentials / "github-token")
    config = tmp_path / "gh.toml"
    config.write_text('[github]\nrepository = "o/r"\ntoken_file = "github-token"\n')
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    done = secscan("upload", "--config", config, "--db", tmp_path / "db.sqlite", cwd=tmp_path, env=env)
    _refused(done, f"[github] token_file {credentials / 'github-token'} is a FIFO")


@pytest.mark.parametrize(("sarif", "fragment"), [("fifo", "is a FIFO"), ("/dev/zero", "is a device")])
def test_upload_sarif_that_is_no_regular_file_is_refused(tmp_path: Path, sarif: str, fragment: str) -> None:
    _special_files(tmp_path)
    config = tmp_path / "gh.toml"
    config.write_text('[github]\nrepository = "o/r"\n')
    done = secscan("upload", "--config", config, "--sarif", sarif, "--db", tmp_path / "db.sqlite",
                   cwd=tmp_path, env={"GITHUB_TOKEN": "x"})  # fmt: skip
    _refused(done, f"SARIF file {sarif} {fragment}; it must be a regular file")
