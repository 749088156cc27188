"""secscan's offline OSV engine: the database, its matching, and a loopback OSV service.

Load a PyPA advisory database folder or an osv.dev export (folder or zip, YAML or JSON, any
number of ecosystems) with :meth:`OsvDatabase.load`. ``lockfile-audit`` asks it directly
(:meth:`OsvDatabase.matches`); for ``pip-audit -s osv`` it is served on loopback with
:class:`OsvServer`, whose :attr:`OsvServer.query_url` goes to pip-audit's ``--osv-url``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secscan.scanners.osv.database import OsvDatabase
    from secscan.scanners.osv.matching import Match, is_affected, package_key
    from secscan.scanners.osv.reader import LoadLimits
    from secscan.scanners.osv.records import OsvRecord
    from secscan.scanners.osv.server import OsvServer
    from secscan.scanners.osv.severity import advisory_severity, record_severity

_HOMES = {
    "LoadLimits": "reader",
    "Match": "matching",
    "OsvDatabase": "database",
    "OsvRecord": "records",
    "OsvServer": "server",
    "advisory_severity": "severity",
    "is_affected": "matching",
    "package_key": "matching",
    "record_severity": "severity",
}
"""Where each public name lives: loaded on first use (PyYAML and the HTTP server are not needed
by a run whose dependency audits all come from the result cache)."""


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "LoadLimits",
    "Match",
    "OsvDatabase",
    "OsvRecord",
    "OsvServer",
    "advisory_severity",
    "is_affected",
    "package_key",
    "record_severity",
]
