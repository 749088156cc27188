"""What kind of file a path is, for the coverage map: one table, decided by name alone.

A *kind* is a language or ecosystem the inventory can hold (``Python``, ``npm lockfile``,
``GitHub Actions workflow``) together with the built-in scanners meant to analyse it. Kind names
are API: they appear in ``--format json`` (``coverage[].kind``), the database and the report.

The table does not restate what the scanners already know; each row asks the scanner's own
name-based rule: zizmor's :func:`~secscan.scanners.zizmor.kind`, the lockfile parsers'
:func:`~secscan.scanners.lockfiles.recognise`, pip-audit's requirement globs, bandit's ``.py``
and the semgrep packs' :meth:`~secscan.scanners._semgrep_rules.RulePack.kind` (``JavaScript``,
``TypeScript``, and the ``file-kind`` of each generic rule: ``Pine Script``, ``configuration
and shell``). A test checks every built-in scanner's ``scannable()`` against :func:`classify`,
so the two cannot drift apart. A path has at most one kind (the first row that claims it).

Besides file kinds the map has pseudo-kinds: :data:`SECRETS` (every file, detect-secrets),
:data:`OTHER` (files of no kind: scanned for secrets only) and ``git history`` (commits,
reported by git-history itself).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan.config.settings import PipAuditConfig, Settings
from secscan.core.errors import ScannerError
from secscan.scanners import zizmor
from secscan.scanners._semgrep_rules import RulePack
from secscan.scanners.interface import Scanner
from secscan.scanners.lockfiles import recognise
from secscan.scanners.requirement_files import DEFAULT_REQUIREMENT_GLOBS, requirement_file_matcher
from secscan.scanners.semgrep import SemgrepScanner

SECRETS = "secrets"
"""Pseudo-kind: every file of the inventory, scanned for secrets by detect-secrets."""
OTHER = "other"
"""Pseudo-kind: the files of no kind below (documentation, data, languages no scanner reads)."""

PYTHON = "Python"
REQUIREMENTS = "PyPI requirements"
NPM_LOCKFILE = "npm lockfile"
PYPI_LOCKFILE = "PyPI lockfile"
ZIZMOR_KINDS = ("GitHub Actions workflow", "GitHub Actions action", "Dependabot configuration")
"""What :func:`secscan.scanners.zizmor.kind` answers (a test keeps the two equal)."""

_ROWS: tuple[tuple[tuple[str, ...], str], ...] = (
    (ZIZMOR_KINDS, "zizmor"),
    ((NPM_LOCKFILE, PYPI_LOCKFILE), "lockfile-audit"),
    ((REQUIREMENTS,), "pip-audit"),
    ((PYTHON,), "bandit"),
)
"""The kinds each built-in scanner analyses, in the order a path is classified (semgrep's come
last, from its packs); the scanners that take every file (detect-secrets, posture) are in none."""


@dataclass(frozen=True)
class Kinds:
    """The classification of one run: the table above plus the semgrep packs' kinds and the
    configured requirement globs. Pure once built."""

    pack: RulePack | None = None
    requirement_globs: tuple[str, ...] = DEFAULT_REQUIREMENT_GLOBS

    def names(self) -> tuple[str, ...]:
        """Every file kind, in the map's order."""
        semgrep = tuple(self.pack.kind_labels()) if self.pack is not None else ()
        return (*(k for kinds, _ in _ROWS for k in kinds), *semgrep)

    def analysers(self, kind: str) -> tuple[str, ...]:
        """The built-in scanners meant to analyse ``kind`` (``detect-secrets`` for :data:`SECRETS`)."""
        if kind == SECRETS:
            return ("detect-secrets",)
        for kinds, scanner in _ROWS:
            if kind in kinds:
                return (scanner,)
        if self.pack is not None and kind in self.pack.kind_labels():
            return ("semgrep",)
        return ()

    def classifier(self) -> Callable[[str], str | None]:
        """``path -> kind`` (or None) for repo-relative POSIX paths."""
        try:
            requirements = requirement_file_matcher(self.requirement_globs)
        except ValueError:  # an empty glob: pip-audit itself fails and says so
            requirements = requirement_file_matcher()
        pack = self.pack

        def classify(path: str) -> str | None:
            found = zizmor.kind(path)
            if found is not None:
                return found
            lockfile = recognise(posixpath.basename(path))
            if lockfile is not None:
                return NPM_LOCKFILE if lockfile.ecosystem == "npm" else PYPI_LOCKFILE
            if requirements(path):
                return REQUIREMENTS
            if path.endswith(".py"):
                return PYTHON
            return pack.kind(path) if pack is not None else None

        return classify


def run_kinds(settings: Settings, scanners: Sequence[Scanner], pack_memo: Path | None = None) -> Kinds:
    """The kinds of a run: the semgrep packs (the selected semgrep scanner's, loaded already, else
    the bundled ones, from their memo in ``pack_memo``) and pip-audit's configured requirement globs."""
    semgrep = next((s for s in scanners if isinstance(s, SemgrepScanner)), None)
    if semgrep is None:
        semgrep = SemgrepScanner()
        semgrep.pack_memo = pack_memo
    try:
        pack: RulePack | None = semgrep.pack
    except ScannerError:  # broken packs: semgrep fails and says why; its kinds go unnamed here
        pack = None
    config = settings.scanners.get("pip-audit")
    globs = config.requirements if isinstance(config, PipAuditConfig) else None
    return Kinds(pack, tuple(globs) if globs is not None else DEFAULT_REQUIREMENT_GLOBS)


def classify(path: str, kinds: Kinds) -> str | None:
    """The kind of ``path`` (see :class:`Kinds`), or None."""
    return kinds.classifier()(path)
