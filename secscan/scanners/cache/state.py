"""A stateful scanner's value over the result cache, for one run (see ``_scanner_state``).

Keyed by the scanner's key (name, version, adapter code, configuration, excludes) and the
target's root: a change of configuration or of secscan starts from scratch, and two checkouts
keep their own state. Written only when the run completed (``CacheSession.commit``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from secscan.scanners.cache.db import ResultCache
from secscan.scanners.cache.keys import state_key

log = logging.getLogger(__name__)


class StateEntry:
    """The state of one scanner for one target (thread-safe)."""

    def __init__(self, cache: ResultCache, scanner: bytes, root: Path, now: int) -> None:
        self._cache = cache
        self._key = state_key(scanner, str(root))
        self._now = now
        self._lock = threading.Lock()
        self._staged: bytes | None = None
        self.hits = 0
        self.misses = 0

    def get(self) -> bytes | None:
        return self._cache.get_many([self._key], self._now).get(self._key)

    def put(self, value: bytes | None, hits: int, misses: int) -> None:
        with self._lock:
            self._staged, self.hits, self.misses = value, hits, misses

    def entries(self) -> list[tuple[bytes, bytes]]:
        with self._lock:
            return [] if self._staged is None else [(self._key, self._staged)]
