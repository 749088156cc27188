"""Version orderings of OSV ranges, one per ecosystem: PEP 440 for PyPI, SemVer 2.0.0 for npm.

OSV ranges of type ``ECOSYSTEM`` are ordered by the ecosystem's own rules and ranges of type
``SEMVER`` by SemVer 2.0.0 (osv.md, "ranges and events"). :func:`range_scheme` says which scheme
orders a range, or None when secscan does not know the ecosystem's ordering (the range is then
ignored and the record matches through its ``versions`` list alone). ``GIT`` ranges are never
evaluated: a lockfile pins versions, not commits.

- **PyPI**: PEP 440 (``packaging.version``) for ``ECOSYSTEM`` ranges, and for ``SEMVER`` ranges
  of PyPI packages too (what the pip-audit path has always done: PyPI versions such as ``2.0``
  or ``1.0rc1`` are not SemVer).
- **npm**: SemVer 2.0.0 with ``python-semver`` (npm's registry only holds SemVer versions; GitHub's
  npm advisories use ``ECOSYSTEM`` ranges with SemVer bounds). Precedence follows the spec:
  pre-releases sort before their release, identifiers compare numerically or in ASCII order,
  build metadata is ignored. Two lenient readings, both node-semver's or osv.dev's: a leading
  ``v`` or ``=`` and surrounding blanks are dropped (node-semver's loose prefix), and a core
  of one or two numbers is padded with ``.0`` (GitHub bounds such as ``"14.0"``; osv.dev pads
  them the same way). Anything else that is not SemVer does not parse.
- **any other ecosystem**: ``SEMVER`` ranges use SemVer as above; ``ECOSYSTEM`` ranges are ignored.

Parsing never raises: a string that does not parse gives None. Schemes memoise, so a database
parses each distinct string once; create one :class:`Schemes` per database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:  # loaded by the first npm version parsed: a PyPI-only run never needs it
    import semver

PYPI = "PyPI"
NPM = "npm"

Parsed = TypeVar("Parsed")

_PARTIAL_CORE = re.compile(r"(\d+)(?:\.(\d+))?(?=$|[-+])")
"""A core of one or two numbers, followed by the end or a pre-release/build suffix."""


def _pep440(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def parse_semver(text: str) -> semver.Version | None:
    """``text`` as a SemVer 2.0.0 version (see the module docstring for the lenient readings)."""
    import semver

    cleaned = text.strip().lstrip("=v").strip()
    try:
        return semver.Version.parse(cleaned)
    except (ValueError, TypeError):
        pass
    partial = _PARTIAL_CORE.match(cleaned)
    if partial is None:
        return None
    padded = f"{partial.group(1)}.{partial.group(2) or 0}.0{cleaned[partial.end() :]}"
    try:
        return semver.Version.parse(padded)
    except (ValueError, TypeError):
        return None


def _semver_canonical(parsed: semver.Version) -> str:
    """The form ``versions`` lists are matched in: no build metadata (it does not count in SemVer)."""
    return str(parsed.replace(build=None))


class Scheme(Generic[Parsed]):
    """One version ordering: memoised parsing, and the canonical form for exact matching."""

    def __init__(
        self, name: str, parse: Callable[[str], Parsed | None], canonical: Callable[[Parsed], str]
    ) -> None:
        self.name = name
        self._parse = parse
        self._canonical_of = canonical
        self._parsed: dict[str, Parsed | None] = {}
        self._canonical: dict[str, str] = {}

    def parse(self, text: str) -> Parsed | None:
        """The ordered version of ``text``, or None when it does not parse."""
        try:
            return self._parsed[text]
        except KeyError:
            parsed = self._parsed[text] = self._parse(text)
            return parsed

    def canonical(self, text: str) -> str:
        """``text`` in the form used for exact matching: canonical when it parses, else as given."""
        try:
            return self._canonical[text]
        except KeyError:
            parsed = self.parse(text)
            canonical = self._canonical[text] = text if parsed is None else self._canonical_of(parsed)
            return canonical

    def __repr__(self) -> str:
        return f"Scheme({self.name})"


class Schemes:
    """The schemes of one database (their memos are not shared between databases)."""

    def __init__(self) -> None:
        self.pep440: Scheme[Version] = Scheme("PEP 440", _pep440, canonicalize_version)
        self.semver: Scheme[semver.Version] = Scheme("SemVer", parse_semver, _semver_canonical)

    def for_range(self, ecosystem: str, range_type: object) -> Scheme[Any] | None:
        """The scheme that orders a ``ranges[]`` entry of ``ecosystem``, or None (range ignored)."""
        if range_type == "SEMVER":
            return self.pep440 if ecosystem == PYPI else self.semver
        if range_type == "ECOSYSTEM":
            return self.for_listing(ecosystem)
        return None

    def for_listing(self, ecosystem: str) -> Scheme[Any] | None:
        """The scheme whose canonical form matches an ecosystem's ``versions`` lists (None: exact text)."""
        if ecosystem == PYPI:
            return self.pep440
        if ecosystem == NPM:
            return self.semver
        return None
