"""CODEOWNERS owner hints and GitHub links, read from a checkout without following symlinks."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.fs.owners import file_link, github_url, load_codeowners, parse_codeowners

RULES = """# comment
*            @acme/everyone
/src/        @acme/backend
docs/*.md    @docs-team writer@example.com
*.py         @py-team   # trailing comment
/build/logs/ not-an-owner
!negated     @nobody
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ("@acme/everyone",)),
        ("src/app/models.txt", ("@acme/backend",)),
        ("src/app/models.py", ("@py-team",)),  # the last matching line wins
        ("docs/guide.md", ("@docs-team", "writer@example.com")),
        ("docs/deep/guide.md", ("@acme/everyone",)),  # docs/*.md does not match deeper files
        ("lib/src/x.txt", ("@acme/everyone",)),  # /src/ is anchored at the root
        ("build/logs/a.log", ()),  # a pattern without valid owners: nobody
    ],
)
def test_last_matching_rule_wins(path: str, owners: tuple[str, ...]) -> None:
    assert parse_codeowners(RULES).owners(path) == owners


def test_first_codeowners_location_is_used(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CODEOWNERS").write_text("* @from-docs\n")
    (tmp_path / "CODEOWNERS").write_text("* @from-root\n")
    rules = load_codeowners(tmp_path)
    assert rules is not None and rules.owners("x") == ("@from-root",)
    assert load_codeowners(tmp_path / "absent") is None


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text('* @leaked-secret-token\n[remote "origin"]\nurl = git@github.com:evil/leak.git\n')
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "CODEOWNERS").symlink_to(secret)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").symlink_to(secret)
    assert load_codeowners(repo) is None
    assert github_url(repo) is None
    linked = tmp_path / "linked-repo"
    linked.symlink_to(repo)
    assert load_codeowners(linked) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:acme/svc.git", "https://github.com/acme/svc"),
        ("https://github.com/acme/svc", "https://github.com/acme/svc"),
        ("ssh://git@github.com/acme/svc.git", "https://github.com/acme/svc"),
        ("https://gitlab.com/acme/svc.git", None),
        ("https://github.com.evil.example/acme/svc", None),
    ],
)
def test_github_url_from_origin(tmp_path: Path, url: str, expected: str | None) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n')
    assert github_url(tmp_path) == expected


def test_file_link() -> None:
    assert (
        file_link("https://github.com/a/b", "src/a b.py", 7)
        == "https://github.com/a/b/blob/HEAD/src/a%20b.py#L7"
    )
    assert file_link(None, "src/a.py", 7) is None
    assert file_link("https://github.com/a/b", "../etc/passwd", 1) is None
