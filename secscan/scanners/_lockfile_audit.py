"""The audit of one parsed lockfile against an advisory index: pure, JSON-ready results.

Each distinct (package, version) of the lockfile is asked once; a version installed at several
places in the tree is one result at its first line, two versions of a package are two. Records
that describe the same vulnerability (one lists the other's id as an alias, or they share an
alias: osv.dev exports both ``PYSEC-`` and ``GHSA-`` records of most PyPI advisories) are one
advisory, named by a ``PYSEC-`` id, else a ``GHSA-`` id, else the smallest id.

The result shapes are the contract between ``_lockfile_audit_main`` (which writes them) and the
adapter (which reads them): see :data:`FORMAT`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from secscan.scanners._audit_cache import record_excerpt
from secscan.scanners.lockfiles import LockedPackage, Lockfile
from secscan.scanners.osv.matching import Match, package_key
from secscan.scanners.osv.versions import Schemes

FORMAT = "secscan-lockfile-audit/1"
"""``{"format", "files": {path: FileResult}, "records": {id: excerpt}, "database"?: note}``
(the note says where the records came from, for a debug log); a FileResult is
``{"kind", "ecosystem", "error", "unsupported", "audited", "skipped": {reason: n},
"vulnerable": [{"name", "version", "line", "alias", "dev", "places", "advisories": [{"id",
"aliases", "fixed", "records"}]}]}``."""


class AdvisoryIndex(Protocol):
    """What the audit needs of an OSV database (:class:`~secscan.scanners.osv.database.OsvDatabase`)."""

    def matches(self, ecosystem: str, name: str, version: str) -> list[Match]: ...

    def advisories(self, ecosystem: str) -> int: ...


@dataclass(frozen=True)
class _Occurrences:
    """Every place one (name, version) is locked in a file; the first one gives the line."""

    first: LockedPackage
    count: int
    dev: bool


def _distinct(packages: Iterable[LockedPackage]) -> dict[tuple[str, str], _Occurrences]:
    found: dict[tuple[str, str], _Occurrences] = {}
    for package in packages:
        key = (package_key(package.ecosystem, package.name)[1], package.version)
        seen = found.get(key)
        if seen is None:
            found[key] = _Occurrences(package, 1, package.dev)
        else:  # a development dependency only if every place is one
            found[key] = _Occurrences(seen.first, seen.count + 1, seen.dev and package.dev)
    return found


def _rank(record_id: str) -> tuple[int, str]:
    prefix = 0 if record_id.startswith("PYSEC-") else 1 if record_id.startswith("GHSA-") else 2
    return prefix, record_id


def group_aliases(matches: Sequence[Match]) -> list[list[Match]]:
    """The matches grouped by vulnerability: records linked by their ids and aliases."""
    parent = list(range(len(matches)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, match in enumerate(matches):
        for name in (match.record["id"], *(match.record.get("aliases") or ())):
            if name in owner:
                parent[root(index)] = root(owner[name])
            else:
                owner[name] = index
    groups: dict[int, list[Match]] = {}
    for index, match in enumerate(matches):
        groups.setdefault(root(index), []).append(match)
    return sorted(groups.values(), key=lambda g: min(_rank(m.record["id"]) for m in g))


def _sorted_versions(texts: Iterable[str], ecosystem: str, schemes: Schemes) -> list[str]:
    unique = sorted(set(texts))
    scheme = schemes.for_listing(ecosystem)
    parsed: dict[str, Any] = {text: scheme.parse(text) for text in unique} if scheme is not None else {}
    if scheme is None or any(value is None for value in parsed.values()):
        return unique
    return sorted(unique, key=parsed.__getitem__)


def _advisory(group: Sequence[Match], ecosystem: str, schemes: Schemes) -> dict[str, Any]:
    ids = sorted((m.record["id"] for m in group), key=_rank)
    names = {name for m in group for name in (m.record["id"], *(m.record.get("aliases") or ()))}
    return {
        "id": ids[0],
        "aliases": sorted(names - {ids[0]}),
        "fixed": _sorted_versions((v for m in group for v in m.fixed), ecosystem, schemes),
        "records": ids,
    }


def audit_file(lockfile: Lockfile, index: AdvisoryIndex, records: dict[str, Any]) -> dict[str, Any]:
    """One lockfile's result; the excerpts of the matched records are added to ``records``."""
    result: dict[str, Any] = {
        "kind": lockfile.kind,
        "ecosystem": lockfile.ecosystem,
        "error": None,
        "unsupported": None,
        "audited": 0,
        "skipped": {reason.value: count for reason, count in lockfile.skipped.items()},
        "vulnerable": [],
    }
    distinct = _distinct(lockfile.packages)
    if distinct and index.advisories(lockfile.ecosystem) == 0:
        result["unsupported"] = f"the OSV database holds no {lockfile.ecosystem} advisories"
        return result
    result["audited"] = len(distinct)
    schemes = Schemes()
    for (_, version), seen in distinct.items():
        matches = index.matches(lockfile.ecosystem, seen.first.name, version)
        if not matches:
            continue
        for match in matches:
            records.setdefault(match.record["id"], record_excerpt(match.record))
        result["vulnerable"].append(
            {
                "name": seen.first.name,
                "version": version,
                "line": seen.first.line,
                "alias": seen.first.alias,
                "dev": seen.dev,
                "places": seen.count,
                "advisories": [_advisory(g, lockfile.ecosystem, schemes) for g in group_aliases(matches)],
            }
        )
    return result


def error_result(kind: str, ecosystem: str, message: str) -> dict[str, Any]:
    """The result of a lockfile that could not be read or parsed."""
    return {
        "kind": kind,
        "ecosystem": ecosystem,
        "error": message,
        "unsupported": None,
        "audited": 0,
        "skipped": {},
        "vulnerable": [],
    }


def document(
    files: Mapping[str, Any], records: Mapping[str, Any], database: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"format": FORMAT, "files": dict(files), "records": dict(records)}
    return doc if database is None else {**doc, "database": database}
