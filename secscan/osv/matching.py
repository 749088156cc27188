"""Is version V of package P affected by an OSV record? Pure; follows the OSV spec's pseudocode.

``affected[].versions`` is matched exactly (string equality, or PEP 440 equality when both sides
parse, so ``2.10.0`` hits a listed ``2.10``). ``ECOSYSTEM`` ranges, and ``SEMVER`` ranges of PyPI
packages, are evaluated with PEP 440 ordering (``packaging.version``); ``GIT`` ranges are ignored.
Ranges are evaluated for the ``PyPI`` ecosystem only: other ecosystems order versions by rules
this module does not know, so their records match through ``versions`` alone.

Unparsable versions never raise: a query version that is not PEP 440 matches through
``versions`` only, and a range with an event that is not PEP 440 is ignored (logged at DEBUG).

Records are compiled once (:func:`compile_affected`) into frozen matchers, so a database
answers queries without re-parsing version strings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

logger = logging.getLogger(__name__)

PYPI = "PyPI"
_ORDERED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})


def package_key(ecosystem: str, name: str) -> tuple[str, str]:
    """Index key of a package: PyPI names are PEP 503-canonical, other ecosystems' are kept."""
    return (ecosystem, str(canonicalize_name(name)) if ecosystem == PYPI else name)


def _parse_or_none(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


class _ParsedMemo(dict[str, Version | None]):
    def __missing__(self, text: str) -> Version | None:
        self[text] = parsed = _parse_or_none(text)
        return parsed


class _CanonicalMemo(dict[str, str]):
    def __init__(self, parsed: _ParsedMemo) -> None:
        super().__init__()
        self._parsed = parsed

    def __missing__(self, text: str) -> str:
        parsed = self._parsed[text]
        self[text] = canonical = text if parsed is None else canonicalize_version(parsed)
        return canonical


class VersionParser:
    """PEP 440 parsing with a memo, so a database load parses each distinct string once.

    Create one per load; it is not shared between databases.
    """

    def __init__(self) -> None:
        self._parsed = _ParsedMemo()
        self._canonical = _CanonicalMemo(self._parsed)

    def parse(self, text: str) -> Version | None:
        """The PEP 440 version of ``text``, or None when it does not parse."""
        return self._parsed[text]

    def canonical(self, text: str) -> str:
        """The form used for exact matching: PEP 440-canonical when it parses, else as given."""
        return self._canonical[text]

    def canonical_all(self, texts: Iterable[str]) -> frozenset[str]:
        """:meth:`canonical` of each of ``texts``."""
        return frozenset(map(self._canonical.__getitem__, texts))


@dataclass(frozen=True)
class QueryVersion:
    """A queried version, parsed once."""

    text: str
    parsed: Version | None
    canonical: str

    @classmethod
    def of(cls, text: str) -> QueryVersion:
        parser = VersionParser()
        return cls(text, parser.parse(text), parser.canonical(text))


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
    version: Version | None

    def closes(self, version: Version) -> bool:
        """Whether this ``fixed`` or ``last_affected`` event ends the vulnerability at ``version``."""
        if self.version is None:
            return False
        if self.kind is EventKind.FIXED:
            return version >= self.version
        if self.kind is EventKind.LAST_AFFECTED:
            return version > self.version
        return False

    def sort_key(self) -> tuple[int, Version | None]:
        if self.version is None:
            return (0, None) if self.kind is EventKind.INTRODUCED else (2, None)
        return (1, self.version)


@dataclass(frozen=True)
class VersionRange:
    """An ECOSYSTEM (or PyPI SEMVER) range with its events sorted by version."""

    events: tuple[Event, ...]

    def _before_limits(self, version: Version) -> bool:
        limits = [event.version for event in self.events if event.kind is EventKind.LIMIT]
        return not limits or any(limit is None or version < limit for limit in limits)

    def includes(self, version: Version) -> bool:
        """The spec's ``IncludedInRanges`` for this one range."""
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


@dataclass(frozen=True)
class AffectedPackage:
    """One compiled ``affected[]`` entry."""

    ecosystem: str
    name: str  # as in package_key()
    versions: frozenset[str]  # listed strings and their canonical forms
    ranges: tuple[VersionRange, ...]

    def affects(self, version: QueryVersion) -> bool:
        """The spec's ``v in affected.versions or IncludedInRanges(v, affected.ranges)``."""
        if version.text in self.versions or version.canonical in self.versions:
            return True
        parsed = version.parsed
        return parsed is not None and any(r.includes(parsed) for r in self.ranges)


def _compile_event(raw: object, parser: VersionParser) -> Event | None:
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
        return Event(kind, None)
    parsed = parser.parse(value)
    return None if parsed is None else Event(kind, parsed)


def compile_range(raw: object, ecosystem: str, parser: VersionParser) -> VersionRange | None:
    """A matcher for one ``ranges[]`` entry, or None when it does not apply or is unusable."""
    if ecosystem != PYPI or not isinstance(raw, Mapping) or raw.get("type") not in _ORDERED_RANGE_TYPES:
        return None
    raw_events = raw.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        return None
    events = [_compile_event(item, parser) for item in raw_events]
    if any(event is None for event in events):
        logger.debug("ignoring an OSV range with an unusable event: %r", raw_events)
        return None
    present = [event for event in events if event is not None]
    return VersionRange(tuple(sorted(present, key=Event.sort_key)))


def compile_affected(raw: Mapping[str, Any], parser: VersionParser) -> AffectedPackage | None:
    """A matcher for one ``affected[]`` entry, or None when it names no package."""
    package = raw.get("package")
    if not isinstance(package, Mapping):
        return None
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str):
        return None
    listed = raw.get("versions")
    texts = [v for v in listed if isinstance(v, str)] if isinstance(listed, list) else []
    raw_ranges = raw.get("ranges")
    ranges = (
        [compile_range(item, ecosystem, parser) for item in raw_ranges]
        if isinstance(raw_ranges, list)
        else []
    )
    _, key_name = package_key(ecosystem, name)
    return AffectedPackage(
        ecosystem=ecosystem,
        name=key_name,
        versions=frozenset(texts) | parser.canonical_all(texts),
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


def compile_record(record: Mapping[str, Any], parser: VersionParser) -> tuple[AffectedPackage, ...]:
    """Matchers for every usable ``affected[]`` entry of ``record``."""
    affected = record.get("affected")
    entries: Iterable[object] = affected if isinstance(affected, list) else ()
    compiled = (compile_affected(e, parser) for e in entries if isinstance(e, Mapping))
    return tuple(entry for entry in compiled if entry is not None)


def is_affected(record: Mapping[str, Any], name: str, version: str, ecosystem: str = PYPI) -> bool:
    """Whether ``version`` of package ``name`` in ``ecosystem`` is affected by ``record``."""
    key = package_key(ecosystem, name)
    query = QueryVersion.of(version)
    return any(
        (entry.ecosystem, entry.name) == key and entry.affects(query)
        for entry in compile_record(record, VersionParser())
    )
