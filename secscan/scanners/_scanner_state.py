"""The value a stateful scanner keeps between runs (``job.options["scanner_state"]``).

The result cache (``secscan.scanners.cache``) provides it to a scanner whose ``stateful`` is True:
``get`` returns the value the scanner stored after its last run that completed (``None`` on a
cold run or with ``--no-cache``), ``put`` offers the new one (``None``: the stored one stands),
which the cache keeps only if this run completes. ``hits`` and ``misses`` count the units of
work the state saved and did not save (commits, for git-history), for ``secscan run``'s cache
figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable


@runtime_checkable
class ScannerState(Protocol):
    def get(self) -> bytes | None: ...

    def put(self, value: bytes | None, hits: int, misses: int) -> None: ...


def scanner_state(options: Mapping[str, object]) -> ScannerState | None:
    state = options.get("scanner_state")
    return state if isinstance(state, ScannerState) else None
