"""The result cache as the memo of findings' identities (issue 18).

Working out fingerprints and GitHub's line hashes reads and hashes every file that has findings,
on every run; with everything else answered by the cache it was the largest part of a re-run.
:func:`secscan.core.identity.assign_identities` keys each path's answer by the path, the file's
text and the findings' fields that the answer depends on (:func:`~secscan.core.identity.memo_key`),
so an answer is only ever given back for the same question. Answers live in the result cache's
``memo`` table, one per target, tool and path (a newer answer replaces the older one, so the
table grows with the files that have findings, not with the runs; ``secscan cache clear``
empties it). The memo never fails a scan: a cache that cannot be opened or read is a memo that
knows nothing, and one that cannot be written a warning. The run's :class:`CacheSession
<secscan.scanners.cache.session.CacheSession>` hands the entries out (``identities``) over its own
open cache and the stamps it has already read.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from secscan.scanners.cache.db import ResultCache
from secscan.scanners.cache.stamps import FileHashes

log = logging.getLogger(__name__)


class IdentityEntries:
    """:class:`~secscan.core.identity.IdentityMemo` over an open result cache, for one target
    (``scope``: the cache beside a database serves every target scanned into it)."""

    def __init__(self, cache: ResultCache, scope: str, files: FileHashes) -> None:
        self._cache = cache
        self._scope = scope
        self._files = files  # the run's stamps, already read by the cache session

    def _name(self, slot: str) -> str:
        return f"identity\0{json.dumps(self._scope)}\0{slot}"  # ASCII: the target may not be UTF-8

    def recall(self, questions: Sequence[tuple[str, bytes]]) -> Mapping[str, str]:
        names = {self._name(slot): slot for slot, _ in questions}
        try:
            found = self._cache.memo_get_many([(self._name(slot), key) for slot, key in questions])
        except sqlite3.Error as exc:
            log.info("result cache %s: identities not looked up (%s)", self._cache.path, exc)
            return {}
        return {names[name]: value for name, value in found.items()}

    def remember(self, answers: Sequence[tuple[str, bytes, str]]) -> None:
        # best effort: a write that fails is a warning
        self._cache.memo_put_many([(self._name(slot), key, value) for slot, key, value in answers])

    def text_digests(
        self, root: Path, in_place: Callable[[str], bool]
    ) -> Callable[[Sequence[str]], dict[str, str]]:
        """:data:`~secscan.core.identity.TextDigests` of the files under ``root`` from their stamps
        (:mod:`secscan.scanners.cache.stamps`): a file whose stamp is unchanged is not read. Only
        for paths ``in_place`` accepts (read where they stand, not through a link)."""
        files = self._files

        def digests(paths: Sequence[str]) -> dict[str, str]:
            found = files.text_hashes(root, [p for p in paths if in_place(p)])
            files.save(prune=False)
            return {path: digest.hex() for path, digest in found.items()}

        return digests
