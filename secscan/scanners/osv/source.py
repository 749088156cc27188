"""Where a scanner's OSV answers come from: the dataset's compiled index when one can be used,
else the dataset itself, loaded into memory (:meth:`OsvDatabase.load`).

Both answer :meth:`get`, :meth:`query`, :meth:`matches` and :meth:`advisories` identically. The
index is a derived form of the input dataset (its freshness is proven by the dataset's
signature), not a cache of results: a cold run (``--no-cache``) uses it too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from secscan.scanners.osv.index import CompiledIndex
from secscan.scanners.osv.index_store import DatasetUnlistedError, IndexUnavailableError, open_index

if TYPE_CHECKING:  # the loaders (PyYAML) are imported only to read a dataset
    from secscan.scanners.osv.database import OsvDatabase
    from secscan.scanners.osv.reader import LoadLimits

logger = logging.getLogger(__name__)

Advisories: TypeAlias = "CompiledIndex | OsvDatabase"


def open_advisories(
    dataset: Path,
    index_folder: Path | None,
    *,
    packages: Collection[tuple[str, str]] | None = None,
    limits: LoadLimits | None = None,
) -> Advisories:
    """The advisories of ``dataset``: its compiled index in ``index_folder`` (compiled first when
    missing or stale), else (no folder, a folder that cannot be used, a dataset changed in the last
    seconds) a direct load, of only the records naming ``packages`` when given.

    Raises InputError when the dataset is malformed.
    """
    if index_folder is not None:
        try:
            opened = open_index(dataset, index_folder, limits=limits)
        except DatasetUnlistedError as exc:  # the load says what is wrong with it
            logger.debug("%s", exc)
        except IndexUnavailableError as exc:
            logger.warning("%s; reading the OSV database directly", exc)
        else:
            if opened is not None:
                return opened
            logger.debug("OSV database %s changed in the last seconds: read directly, not compiled", dataset)
    from secscan.scanners.osv.database import OsvDatabase

    return OsvDatabase.load(dataset, limits, packages=packages)


def database_note(database: Advisories) -> str:
    """How ``database`` was obtained, for a debug log: ``index <file> (compiled|found)`` or ``loaded``."""
    if isinstance(database, CompiledIndex):
        return f"index {database.path.name} ({'compiled' if database.built else 'found'})"
    return "loaded"
