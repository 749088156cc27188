"""The offline OSV vulnerability database that secscan serves to ``pip-audit -s osv``.

Load a PyPA advisory database folder or an osv.dev export (folder or zip, YAML or JSON) with
:meth:`OsvDatabase.load`, then serve it on loopback with :class:`OsvServer` and pass
:attr:`OsvServer.query_url` to pip-audit's ``--osv-url``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secscan.osv.database import OsvDatabase
    from secscan.osv.matching import is_affected, package_key
    from secscan.osv.reader import LoadLimits
    from secscan.osv.records import OsvRecord
    from secscan.osv.server import OsvServer
    from secscan.osv.severity import advisory_severity, record_severity

_HOMES = {
    "LoadLimits": "reader",
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
    "OsvDatabase",
    "OsvRecord",
    "OsvServer",
    "advisory_severity",
    "is_affected",
    "package_key",
    "record_severity",
]
