"""Package URLs (purl) of the ecosystems secscan audits: ``pkg:pypi/...`` and ``pkg:npm/...``.

An npm scope is the purl's namespace, percent-encoded: ``@scope/name`` 1.2.3 is
``pkg:npm/%40scope/name@1.2.3``. :func:`to_purl` and :func:`from_purl` round-trip every valid
npm name (lower case, as npm has required since 2013; the purl specification lowercases npm
names) and every PEP 503-canonical PyPI name. ``packageurl-python`` does the encoding.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from secscan.core.model import Package

PYPI = "PyPI"
NPM = "npm"
_ECOSYSTEMS: Mapping[str, str] = {"pypi": PYPI, "npm": NPM}
_TYPES: Mapping[str, str] = {ecosystem: kind for kind, ecosystem in _ECOSYSTEMS.items()}


@dataclass(frozen=True)
class PurlPackage:
    """What a purl names. ``ecosystem`` None: a package type secscan knows nothing of."""

    ecosystem: str | None
    name: str
    version: str | None


@functools.lru_cache(maxsize=4096)
def to_purl(ecosystem: str, name: str, version: str | None = None) -> str | None:
    """The purl of a package (None for an ecosystem without a purl type here); memoised, as a
    run writes each finding's purl twice (JSON and SARIF) and a lockfile repeats packages."""
    from packageurl import PackageURL  # loaded on first use: a cached run never builds one

    kind = _TYPES.get(ecosystem)
    if kind is None:
        return None
    namespace = None
    if ecosystem == NPM and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    return str(PackageURL(type=kind, namespace=namespace, name=name, version=version).to_string())


def from_purl(purl: str) -> PurlPackage:
    """The package a purl names. Raises ValueError when it is not a valid purl."""
    from packageurl import PackageURL

    parsed = PackageURL.from_string(purl)
    ecosystem = _ECOSYSTEMS.get(str(parsed.type))
    name = str(parsed.name)
    if ecosystem == NPM and parsed.namespace:
        name = f"{parsed.namespace}/{name}"
    version = str(parsed.version) if parsed.version else None
    return PurlPackage(ecosystem, name, version)


def package_json(package: Package) -> dict[str, Any]:
    """A finding's package as JSON (``--format json`` and the SARIF result's properties)."""
    return {
        "ecosystem": package.ecosystem,
        "name": package.name,
        "version": package.version,
        "fixed": list(package.fixed),
        "purl": to_purl(package.ecosystem, package.name, package.version),
    }
