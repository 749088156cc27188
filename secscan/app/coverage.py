"""The coverage map of a run: for each kind of file the inventory holds, how many files there
are, which scanners covered them and why the rest were not. Pure: no I/O.

A scanner covers a file when it finished ``ok`` and the file is in its ``scope`` (what it
actually analysed: bandit's unparsable files, zizmor's invalid workflows, semgrep's oversized
files are not). A kind counts as covered by its *analysers*, the scanners meant for it
(:class:`secscan.app.kinds.Kinds`): detect-secrets reads every file, but secrets-scanning a
JavaScript file is not analysing its code, so it has a line of its own (``secrets``) instead of
hiding a missing semgrep behind full marks. Files of no kind are one ``other`` line (never a
gap: no scanner is meant for them), with their most common extensions. ``git history`` counts
commits, from git-history's :class:`~secscan.core.model.Extent`. Excluded and git-ignored files are
not part of the inventory and not listed; files over ``[scan] max_file_size`` are, as a gap.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from secscan.app.kinds import OTHER, SECRETS, Kinds
from secscan.core.clip import clip
from secscan.core.model import CoverageEntry, ScannerResult, ScannerStatus

HISTORY = "git history"
HISTORY_SCANNER = "git-history"
_REASON_CHARS = 300
_EXTENSIONS_SHOWN = 5


@dataclass(frozen=True)
class ScannerCoverage:
    """One built-in scanner as the map sees it: its result (None when it did not run, and
    ``not_run`` says why) and the files it was given (the inventory minus its own excludes)."""

    result: ScannerResult | None = None
    given: frozenset[str] = frozenset()
    not_run: str | None = None


def scanner_views(
    builtin: Iterable[str],
    selected: Sequence[str],
    results: Sequence[ScannerResult],
    given: Sequence[Sequence[str]],
    *,
    chosen: bool,
) -> dict[str, ScannerCoverage]:
    """The map's view of every built-in scanner: the ``selected`` ones with their ``results`` and
    ``given`` files (in the same order), the others as not run (``chosen``: a ``--scanner`` list
    left them out; else they are disabled in the configuration)."""
    views = {
        str(name): ScannerCoverage(result=result, given=frozenset(files))
        for name, result, files in zip(selected, results, given, strict=True)
    }
    why = "was not chosen (--scanner)" if chosen else "is disabled in secscan.toml"
    return views | {name: ScannerCoverage(not_run=why) for name in builtin if name not in views}


def _count(n: int, unit: str = "files") -> str:
    return f"{n} {unit if n != 1 else unit.removesuffix('s')}"


def _short(text: str) -> str:
    return clip(" ".join(text.split()), _REASON_CHARS, "…")  # redacted later: no part of a secret


def _why(name: str, files: Sequence[str], seen: ScannerCoverage | None) -> tuple[frozenset[str], list[str]]:
    """What scanner ``name`` covered of ``files`` (the kind's files in the inventory) and why it
    did not cover the rest."""
    if seen is None or seen.result is None:
        why = seen.not_run if seen is not None and seen.not_run else "did not run"
        return frozenset(), [f"{name} {why}"]
    result = seen.result
    if result.status is not ScannerStatus.OK:
        return frozenset(), [_short(f"{name} {result.status.value}: {result.reason or 'no reason given'}")]
    covered = frozenset(f for f in files if f in result.scope)
    missing = [f for f in files if f not in covered]
    excluded = sum(1 for f in missing if f not in seen.given)
    parts = [f"{_count(excluded)} excluded by [scanners.{name}] exclude"] if excluded else []
    failed = len(missing) - excluded
    if failed:
        parts.append(f"{_count(failed)} {name} could not analyse (see its warnings)")
    return covered, parts


def _entry(
    kind: str, files: Sequence[str], too_large: int, analysers: Sequence[str],
    scanners: Mapping[str, ScannerCoverage], unreadable: int = 0,
) -> CoverageEntry:  # fmt: skip
    covered: set[str] = set()
    by: list[str] = []
    reasons = [f"{_count(too_large)} over [scan] max_file_size"] if too_large else []
    reasons += [f"{_count(unreadable)} could not be read (see the warnings)"] if unreadable else []
    for name in analysers:
        mine, why = _why(name, files, scanners.get(name))
        covered |= mine
        by += [name] if mine else []
        if len(mine) < len(files):
            reasons += why
    total = len(files) + too_large + unreadable
    reason = "; ".join(reasons) if len(covered) < total else None
    return CoverageEntry(kind, total, len(covered), tuple(by), reason, "files", tuple(analysers))


def _other(files: Sequence[str], too_large: Sequence[str]) -> CoverageEntry:
    names = (posixpath.basename(f) for f in (*files, *too_large))
    extensions = Counter(posixpath.splitext(name)[1] or "(none)" for name in names)
    common = ", ".join(f"{n} {ext}" for ext, n in extensions.most_common(_EXTENSIONS_SHOWN))
    more = " and more" if len(extensions) > _EXTENSIONS_SHOWN else ""
    reason = f"no scanner analyses these files beyond secrets ({common}{more})"
    return CoverageEntry(OTHER, len(files) + len(too_large), 0, (), reason)


def _history(seen: ScannerCoverage | None) -> CoverageEntry:
    analysers = (HISTORY_SCANNER,)
    result = seen.result if seen is not None else None
    if result is not None and result.status is ScannerStatus.OK and result.extent is not None:
        extent = result.extent
        by = analysers if extent.covered else ()
        gap = extent.gap or (None if extent.covered >= extent.total else "not every commit was read")
        return CoverageEntry(HISTORY, extent.total, extent.covered, by, gap, extent.unit, analysers)
    _, why = _why(HISTORY_SCANNER, (), seen)
    reason = why[0] if why else f"{HISTORY_SCANNER} reported no commits"
    return CoverageEntry(HISTORY, None, 0, (), reason, "commits", analysers)


def coverage_map(
    files: Sequence[str],
    too_large: Sequence[str],
    kinds: Kinds,
    scanners: Mapping[str, ScannerCoverage],
    *,
    history: bool,
    classify: Callable[[str], str | None] | None = None,
    unreadable: Sequence[str] = (),
) -> tuple[CoverageEntry, ...]:
    """The map of one run: a line per file kind present (in :meth:`Kinds.names` order), then
    ``other``, ``secrets`` and, in a git work tree (``history``), ``git history``.

    ``files`` are the inventory's files, ``too_large`` the ones it left out for their size,
    ``unreadable`` the entries (files or folders) it could not read (a path too long, say);
    ``scanners`` maps each built-in scanner's name to what it did (see :class:`ScannerCoverage`).
    """
    classify = classify or kinds.classifier()
    by_kind: dict[str | None, list[str]] = {}
    large: Counter[str | None] = Counter()
    for path in files:
        by_kind.setdefault(classify(path), []).append(path)
    unread: Counter[str | None] = Counter(classify(path) for path in unreadable)
    for path in too_large:
        large[classify(path)] += 1
    entries = [
        _entry(kind, by_kind.get(kind, []), large[kind], kinds.analysers(kind), scanners, unread[kind])
        for kind in kinds.names()
        if by_kind.get(kind) or large[kind] or unread[kind]
    ]
    if by_kind.get(None) or large[None] or unread[None]:
        left = [p for p in (*too_large, *unreadable) if classify(p) is None]
        entries.append(_other(by_kind.get(None, []), left))
    if files or too_large or unreadable:
        secrets = _entry(SECRETS, files, len(too_large), kinds.analysers(SECRETS), scanners, len(unreadable))
        entries.append(secrets)
    if history:
        entries.append(_history(scanners.get(HISTORY_SCANNER)))
    return tuple(entries)
