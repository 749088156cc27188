"""The offline OSV vulnerability database that secscan serves to ``pip-audit -s osv``.

Load a PyPA advisory database folder or an osv.dev export (folder or zip, YAML or JSON) with
:meth:`OsvDatabase.load`, then serve it on loopback with :class:`OsvServer` and pass
:attr:`OsvServer.query_url` to pip-audit's ``--osv-url``.
"""

from __future__ import annotations

from secscan.osv.database import OsvDatabase
from secscan.osv.matching import is_affected, package_key
from secscan.osv.reader import LoadLimits
from secscan.osv.records import OsvRecord
from secscan.osv.server import OsvServer
from secscan.osv.severity import advisory_severity, record_severity

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
