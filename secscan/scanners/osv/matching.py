"""Is version V of package P affected by an OSV record? Pure; follows the OSV spec's pseudocode.

``affected[].versions`` is matched exactly: string equality, or equality of the ecosystem's
canonical forms when both sides parse (PEP 440 for PyPI, so ``2.10.0`` hits a listed ``2.10``;
SemVer for npm, so build metadata does not count). Ranges are evaluated with the ordering
:mod:`secscan.scanners.osv.versions` gives their (ecosystem, type): PEP 440 for PyPI, SemVer 2.0.0 for
npm and for ``SEMVER`` ranges of other ecosystems; ``GIT`` ranges and ``ECOSYSTEM`` ranges of
ecosystems secscan does not know are ignored (those records match through ``versions`` alone).

Events are sorted before evaluation (``introduced: "0"`` first, ``limit: "*"`` last; equal
versions keep the record's order), ``last_affected`` is inclusive and ``limit`` caps a range.
Unparsable versions never raise: a query version that does not parse matches through
``versions`` only, and a range with an event that does not parse is ignored (logged at DEBUG).

Records are compiled once (:func:`compile_record`) into frozen matchers, so a database answers
queries without re-parsing version strings; :func:`match_records` answers a lockfile audit's
question from a package's compiled records, the same way for every kind of database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from secscan.scanners.osv.versions import NPM, PYPI, Scheme, Schemes
from secscan.scanners.requirements import canonicalize_name

logger = logging.getLogger(__name__)

__all__ = [
    "NPM",
    "PYPI",
    "AffectedPackage",
    "CompiledRecord",
    "Match",
    "compile_record",
    "is_affected",
    "match_records",
    "package_key",
    "package_keys",
]


def package_key(ecosystem: str, name: str) -> tuple[str, str]:
    """Index key of a package: PyPI names are PEP 503-canonical; npm's and others' are kept as
    given (npm names are case-sensitive, and ``@scope/name`` is one name)."""
    return (ecosystem, str(canonicalize_name(name)) if ecosystem == PYPI else name)


class EventKind(StrEnum):
    """The four OSV range event kinds."""

    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


@dataclass(frozen=True)
class Event:
    """One range event. ``version`` None means ``introduced: "0"`` or ``limit: "*"``."""

    kind: EventKind
    version: Any
    text: str

    def closes(self, version: Any) -> bool:
        """Whether this ``fixed`` or ``last_affected`` event ends the vulnerability at ``version``."""
        if self.version is None:
            return False
        if self.kind is EventKind.FIXED:
            return bool(version >= self.version)
        if self.kind is EventKind.LAST_AFFECTED:
            return bool(version > self.version)
        return False

    def sort_key(self) -> tuple[int, Any]:
        if self.version is None:
            return (0, None) if self.kind is EventKind.INTRODUCED else (2, None)
        return (1, self.version)


@dataclass(frozen=True)
class VersionRange:
    """An ordered range with its events sorted by version, and the scheme that orders it."""

    scheme: Scheme[Any]
    events: tuple[Event, ...]

    def _before_limits(self, version: Any) -> bool:
        limits = [event.version for event in self.events if event.kind is EventKind.LIMIT]
        return not limits or any(limit is None or version < limit for limit in limits)

    def includes(self, version: Any) -> bool:
        """The spec's ``IncludedInRanges`` for this one range (``version`` parsed by :attr:`scheme`)."""
        if not self._before_limits(version):
            return False
        vulnerable = False
        for event in self.events:
            if event.kind is EventKind.INTRODUCED:
                if event.version is None or version >= event.version:
                    vulnerable = True
            elif event.closes(version):
                vulnerable = False
        return vulnerable

    def fixed(self) -> tuple[Event, ...]:
        return tuple(event for event in self.events if event.kind is EventKind.FIXED)


@dataclass(frozen=True)
class AffectedPackage:
    """One compiled ``affected[]`` entry."""

    ecosystem: str
    name: str  # as in package_key()
    versions: frozenset[str]  # listed strings and their canonical forms
    listing: Scheme[Any] | None
    ranges: tuple[VersionRange, ...]

    def listed(self, version: str) -> bool:
        """Whether ``version`` is in ``affected.versions`` (exactly, or in canonical form)."""
        if version in self.versions:
            return True
        return self.listing is not None and self.listing.canonical(version) in self.versions

    def affects(self, version: str) -> bool:
        """The spec's ``v in affected.versions or IncludedInRanges(v, affected.ranges)``."""
        return self.listed(version) or any(self._in_range(r, version) for r in self.ranges)

    @staticmethod
    def _in_range(found: VersionRange, version: str) -> bool:
        parsed = found.scheme.parse(version)
        return parsed is not None and found.includes(parsed)

    def fixes(self, version: str) -> list[tuple[Any, str]]:
        """The ``fixed`` versions that end what affects ``version``: those of the ranges that
        include it, else (a listed version) every ``fixed`` above it. Parsed, with their text."""
        including = [r for r in self.ranges if self._in_range(r, version)]
        if including:
            return [(e.version, e.text) for r in including for e in r.fixed()]
        found = []
        for r in self.ranges:
            parsed = r.scheme.parse(version)
            found += [(e.version, e.text) for e in r.fixed() if parsed is None or e.version > parsed]
        return found


def _compile_event(raw: object, scheme: Scheme[Any]) -> Event | None:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        return None
    ((key, value),) = raw.items()
    try:
        kind = EventKind(key)
    except ValueError:
        return None
    if not isinstance(value, str):
        return None
    if (kind is EventKind.INTRODUCED and value == "0") or (kind is EventKind.LIMIT and value == "*"):
        return Event(kind, None, value)
    parsed = scheme.parse(value)
    return None if parsed is None else Event(kind, parsed, value)


def compile_range(raw: object, ecosystem: str, schemes: Schemes) -> VersionRange | None:
    """A matcher for one ``ranges[]`` entry, or None when it does not apply or is unusable."""
    if not isinstance(raw, Mapping):
        return None
    scheme = schemes.for_range(ecosystem, raw.get("type"))
    raw_events = raw.get("events")
    if scheme is None or not isinstance(raw_events, list) or not raw_events:
        return None
    events = [_compile_event(item, scheme) for item in raw_events]
    if any(event is None for event in events):
        logger.debug("ignoring an OSV range with an unusable event: %r", raw_events)
        return None
    present = [event for event in events if event is not None]
    return VersionRange(scheme, tuple(sorted(present, key=Event.sort_key)))


def compile_affected(raw: Mapping[str, Any], schemes: Schemes) -> AffectedPackage | None:
    """A matcher for one ``affected[]`` entry, or None when it names no package."""
    package = raw.get("package")
    if not isinstance(package, Mapping):
        return None
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str):
        return None
    listed = raw.get("versions")
    texts = [v for v in listed if isinstance(v, str)] if isinstance(listed, list) else []
    listing = schemes.for_listing(ecosystem)
    raw_ranges = raw.get("ranges")
    raw_ranges = raw_ranges if isinstance(raw_ranges, list) else []
    ranges = [compile_range(item, ecosystem, schemes) for item in raw_ranges]
    _, key_name = package_key(ecosystem, name)
    canonical = frozenset(map(listing.canonical, texts)) if listing is not None else frozenset()
    return AffectedPackage(
        ecosystem=ecosystem,
        name=key_name,
        versions=frozenset(texts) | canonical,
        listing=listing,
        ranges=tuple(r for r in ranges if r is not None),
    )


def package_keys(record: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The :func:`package_key` of every package named in ``record['affected']``, once each."""
    affected = record.get("affected")
    keys: dict[tuple[str, str], None] = {}
    for entry in affected if isinstance(affected, list) else ():
        package = entry.get("package") if isinstance(entry, Mapping) else None
        if isinstance(package, Mapping):
            ecosystem, name = package.get("ecosystem"), package.get("name")
            if isinstance(ecosystem, str) and isinstance(name, str):
                keys[package_key(ecosystem, name)] = None
    return tuple(keys)


def compile_record(record: Mapping[str, Any], schemes: Schemes) -> tuple[AffectedPackage, ...]:
    """Matchers for every usable ``affected[]`` entry of ``record``."""
    affected = record.get("affected")
    entries: Iterable[object] = affected if isinstance(affected, list) else ()
    compiled = (compile_affected(e, schemes) for e in entries if isinstance(e, Mapping))
    return tuple(entry for entry in compiled if entry is not None)


def is_affected(record: Mapping[str, Any], name: str, version: str, ecosystem: str = PYPI) -> bool:
    """Whether ``version`` of package ``name`` in ``ecosystem`` is affected by ``record``."""
    key = package_key(ecosystem, name)
    return any(
        (entry.ecosystem, entry.name) == key and entry.affects(version)
        for entry in compile_record(record, Schemes())
    )


@dataclass(frozen=True)
class Match:
    """A record that affects a queried version, with the versions that fix it (ascending, as
    the record writes them; empty when no fix is known)."""

    record: Mapping[str, Any]
    fixed: tuple[str, ...]


@dataclass(frozen=True)
class CompiledRecord:
    """A record with its compiled ``affected[]`` matchers."""

    record: Mapping[str, Any]
    affected: tuple[AffectedPackage, ...]


def match_records(records: Iterable[CompiledRecord], key: tuple[str, str], version: str) -> list[Match]:
    """The records among ``records`` (a package's, in id order) that affect ``version`` of the
    package ``key`` (a :func:`package_key`), each with its fixes."""
    found = []
    for entry in records:
        hits = [a for a in entry.affected if (a.ecosystem, a.name) == key and a.affects(version)]
        if hits:
            found.append(Match(entry.record, _fixed_versions(hits, version)))
    return found


def _fixed_versions(hits: Iterable[AffectedPackage], version: str) -> tuple[str, ...]:
    """The fixed versions of the matched entries, in ascending order, each once."""
    fixes: dict[str, Any] = {}
    for affected in hits:
        for parsed, text in affected.fixes(version):
            fixes.setdefault(text, parsed)
    try:
        return tuple(sorted(fixes, key=fixes.__getitem__))
    except TypeError:  # entries of two schemes in one record: keep the record's order
        return tuple(fixes)
