"""Owner hints (CODEOWNERS) and links to a finding's file and line on GitHub.

Both come from the target's checkout (the ``root`` recorded with its runs) and are read without
running git: ``CODEOWNERS`` in GitHub's order (``.github/``, the root, ``docs/``; the first one
found is used) and the ``origin`` URL in ``.git/config``. Symbolic links are never followed (a
hostile repository could point them at any file on the host) and only tokens that look like
owners (``@user``, ``@org/team``, an e-mail address) are kept, so no other file content can
reach a report. Patterns are gitignore-style; the last matching line wins, as on GitHub.
"""

from __future__ import annotations

import configparser
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pathspec.patterns.gitignore import GitIgnorePatternError
from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

from secscan.core.errors import InputError
from secscan.fs.safe_read import read_inside

logger = logging.getLogger(__name__)

CODEOWNERS_PLACES = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
MAX_BYTES = 3_000_000  # GitHub ignores a CODEOWNERS file larger than 3 MB
_OWNER = re.compile(
    r"^(@[A-Za-z0-9][A-Za-z0-9-]{0,38}(/[A-Za-z0-9_.-]{1,100})?|[^@\s]{1,64}@[A-Za-z0-9.-]{1,253})$"
)
_REMOTE = re.compile(
    r"^(?:https://|ssh://git@|git@)github\.com[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class OwnerRule:
    pattern: GitIgnoreBasicPattern
    owners: tuple[str, ...]


@dataclass(frozen=True)
class Codeowners:
    """The parsed rules of one ``CODEOWNERS`` file, in file order."""

    rules: tuple[OwnerRule, ...]

    def owners(self, path: str) -> tuple[str, ...]:
        """The owners of repo-relative ``path`` (the last matching rule; none without one)."""
        for rule in reversed(self.rules):
            if rule.pattern.match_file(path) is not None:
                return rule.owners
        return ()


def parse_codeowners(text: str) -> Codeowners:
    """Rules of a ``CODEOWNERS`` text; malformed patterns and non-owner tokens are skipped."""
    rules: list[OwnerRule] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        if pattern.startswith("!"):
            continue  # negation is not supported by GitHub's CODEOWNERS
        try:
            compiled = GitIgnoreBasicPattern(pattern)
        except GitIgnorePatternError:
            continue
        if compiled.include is None:
            continue
        rules.append(OwnerRule(compiled, tuple(o for o in owners if _OWNER.match(o))))
    return Codeowners(tuple(rules))


def _regular_file(root: Path, relative: str) -> Path | None:
    """``root/relative`` when every component is a real directory / regular file (no symlink)."""
    current = root
    for part in Path(relative).parts:
        current = current / part
        if current.is_symlink():
            return None
    return current if current.is_file() else None


def load_codeowners(root: str | Path) -> Codeowners | None:
    """The first ``CODEOWNERS`` of the checkout at ``root``; ``None`` when there is none."""
    base = Path(root)
    if not base.is_dir() or base.is_symlink():
        return None
    for place in CODEOWNERS_PLACES:
        if _regular_file(base, place) is None:
            continue
        try:  # non-blocking, fstat'ed, bounded, no link followed (it may have changed since)
            data = read_inside(base, place, MAX_BYTES, "CODEOWNERS")
        except InputError as exc:
            logger.info("owners not shown: %s", exc)
            return None
        return None if data is None else parse_codeowners(data.decode("utf-8", errors="replace"))
    return None


def github_url(root: str | Path) -> str | None:
    """``https://github.com/OWNER/REPO`` from the checkout's ``origin`` remote, if it is on GitHub."""
    if _regular_file(Path(root), ".git/config") is None:
        return None
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        data = read_inside(Path(root), ".git/config", MAX_BYTES, "git config")
        parser.read_string((data or b"").decode("utf-8", errors="replace"))
    except (InputError, configparser.Error):
        return None
    url = parser.get('remote "origin"', "url", fallback="").strip()
    match = _REMOTE.match(url)
    return None if match is None else f"https://github.com/{match.group(1)}/{match.group(2)}"


def file_link(repository: str | None, path: str, line: int) -> str | None:
    """A link to ``path`` at ``line`` on the default branch of ``repository``."""
    if repository is None or not path or path.startswith(("/", "..")):
        return None
    anchor = f"#L{line}" if line > 0 else ""
    return f"{repository}/blob/HEAD/{quote(path)}{anchor}"


def owners_of(rules: Codeowners | None, paths: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Owners per path (empty tuples without rules)."""
    return {p: (() if rules is None else rules.owners(p)) for p in paths}
