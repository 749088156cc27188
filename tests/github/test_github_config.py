"""[github] settings, the token sources and the git checkout detection."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from github_fakes import CANARY

from secscan.config.github import GithubConfig
from secscan.config.settings import build_settings, load_settings
from secscan.core.errors import ConfigError, MissingSecretError
from secscan.delivery.github import gitref
from secscan.delivery.github.token import resolve_token, scrub


@pytest.mark.parametrize(
    "url",
    ["https://api.github.com", "https://ghe.example.com/api/v3/", "http://127.0.0.1:8080", "http://[::1]:9"],
)
def test_https_or_loopback_api_urls_are_accepted(url: str) -> None:
    config = build_settings({"github": {"repository": "octo/hello", "api_url": url}}).github
    assert config is not None and config.api_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://ghe.example.com", "https"),
        ("http://10.0.0.5", "https"),
        ("ftp://api.github.com", "https"),
        ("https://user:pw@api.github.com", "credentials"),
    ],
)
def test_other_api_urls_are_refused_with_the_key_named(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=rf"github\.api_url.*{why}"):
        build_settings({"github": {"repository": "octo/hello", "api_url": url}})


def test_the_repository_must_be_owner_slash_name() -> None:
    with pytest.raises(ConfigError, match=r"github\.repository"):
        build_settings({"github": {"repository": "https://github.com/octo/hello"}})


def test_a_scanned_repository_may_not_configure_uploads(tmp_path: Path) -> None:
    (tmp_path / "secscan.toml").write_text('[github]\nrepository = "evil/exfil"\n')
    with pytest.raises(ConfigError, match=r"\[github\].*untrusted"):
        load_settings(None, tmp_path)


def test_the_token_comes_from_the_environment_and_never_shows(tmp_path: Path) -> None:
    token = resolve_token(GithubConfig(repository="o/r"), {"GITHUB_TOKEN": f" {CANARY}\n"})
    assert token.get_secret_value() == CANARY
    assert CANARY not in repr(token) and CANARY not in str(token)
    assert scrub(f"echo {CANARY}!", token) == "echo [REDACTED]!"


def test_a_token_file_wins_and_may_be_a_systemd_credential(tmp_path: Path) -> None:
    (tmp_path / "github-token").write_text(CANARY + "\n")
    env = {"GITHUB_TOKEN": "other", "CREDENTIALS_DIRECTORY": str(tmp_path)}
    relative = GithubConfig(repository="o/r", token_file=Path("github-token"))
    absolute = GithubConfig(repository="o/r", token_file=tmp_path / "github-token")
    assert resolve_token(relative, env).get_secret_value() == CANARY
    assert resolve_token(absolute, {}).get_secret_value() == CANARY


def test_a_missing_token_says_where_to_put_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GITHUB_TOKEN or \\[github\\] token_file"):
        resolve_token(GithubConfig(repository="o/r"), {})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        resolve_token(GithubConfig(repository="o/r", token_file=tmp_path / "empty"), {})
    with pytest.raises(ConfigError, match=r"cannot read \[github\] token_file .*missing: No such file"):
        resolve_token(GithubConfig(repository="o/r", token_file=tmp_path / "missing"), {})


def test_a_token_file_that_can_never_hold_a_token_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"t" * (64 * 1024 + 1))
    (tmp_path / "latin1").write_bytes(b"caf\xe9-token\n")
    (tmp_path / "exact").write_bytes(b" " * (64 * 1024 - len(CANARY)) + CANARY.encode())
    cases = [
        ("/dev/null", "/dev/null is a device; it must be a regular file"),  # read, it was "empty"
        (str(tmp_path), "is a directory; it must be a regular file"),
        (str(tmp_path / "big"), "big is larger than 65536 bytes"),
        (str(tmp_path / "latin1"), "latin1 is not UTF-8 text"),
    ]
    for name, message in cases:
        with pytest.raises(ConfigError, match=re.escape(message)) as info:
            resolve_token(GithubConfig(repository="o/r", token_file=Path(name)), {"GITHUB_TOKEN": "x"})
        assert not isinstance(info.value, MissingSecretError) and "\n" not in str(info.value)
    exact = GithubConfig(repository="o/r", token_file=tmp_path / "exact")  # 64 KiB is still allowed
    assert resolve_token(exact, {}).get_secret_value() == CANARY


def test_a_token_file_that_is_not_there_yet_may_still_appear(tmp_path: Path) -> None:
    for name in ("missing", "empty"):
        (tmp_path / "empty").write_text(" \n")
        with pytest.raises(MissingSecretError) as info:
            resolve_token(GithubConfig(repository="o/r", token_file=tmp_path / name), {})
        assert info.value.may_appear


def test_commit_and_branch_come_from_the_checkout(git_repo: tuple[Path, str]) -> None:
    root, sha = git_repo
    checkout = gitref.detect(root, GithubConfig(repository="o/r"))
    assert (checkout.commit_sha, checkout.ref, checkout.root, checkout.subdir) == (
        sha, "refs/heads/main", root.resolve(), "",
    )  # fmt: skip
    below = gitref.detect(root / "src", GithubConfig(repository="o/r"))
    assert below.subdir == "src" and below.root == root.resolve()
    pinned = GithubConfig(repository="o/r", commit_sha="A" * 40, ref="refs/pull/7/merge")
    found = gitref.detect(root, pinned)
    assert (found.commit_sha, found.ref) == ("a" * 40, "refs/pull/7/merge")


def test_a_detached_head_or_no_git_needs_configuration(git_repo: tuple[Path, str], tmp_path: Path) -> None:
    root, sha = git_repo
    subprocess.run(["git", "checkout", "-q", "--detach", sha], cwd=root, check=True, capture_output=True)
    with pytest.raises(ConfigError, match=r"set \[github\] ref"):
        gitref.detect(root, GithubConfig(repository="o/r"))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ConfigError, match=r"set \[github\] commit_sha"):
        gitref.detect(plain, GithubConfig(repository="o/r"))


def test_the_repository_git_config_runs_nothing(git_repo: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = git_repo
    marker = tmp_path / "pwned"
    hook = f"!touch {marker}"
    with (root / ".git" / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = {hook}\n\tpager = touch {marker}\n")
        config.write(f"[alias]\n\trev-parse = {hook}\n")
    gitref.detect(root, GithubConfig(repository="o/r"))
    assert not marker.exists()
