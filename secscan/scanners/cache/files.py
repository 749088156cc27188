"""A file-local scanner's use of the result cache in one run: its entry keys, and the entries its
fresh results make (see :mod:`secscan.scanners.cache.session`, which looks them up)."""

from __future__ import annotations

from dataclasses import dataclass

from secscan.core.redact import Redactor
from secscan.scanners.cache.codec import encode_file, mentions, portable
from secscan.scanners.cache.keys import content_hashes, file_key, path_key
from secscan.scanners.cache.whole import encode_whole
from secscan.scanners.cache.wrap import CachedScanner
from secscan.scanners.interface import ScanJob


@dataclass
class Files:
    """A wrapped file-local scanner's bookkeeping for one run."""

    wrapper: CachedScanner
    job: ScanJob
    key: bytes
    hashes: dict[str, bytes]
    hits: int
    misses: int
    whole: tuple[bytes, bytes] | None  # where its whole output is remembered, and under which digest

    def entries(self, redactor: Redactor) -> list[tuple[bytes, bytes]]:
        """The cache entries of this run's results: the merge, when every file was a hit; else
        each freshly scanned file's results, if the file did not change while it was scanned."""
        merged = self.wrapper.merged
        if self.whole is not None and self.misses == 0 and merged is not None:
            slot, digest = self.whole  # every file was a hit: remember their merge
            return [(slot, encode_whole(digest, merged))]
        fresh = self.wrapper.fresh
        if fresh is None or fresh.notifications:
            return []  # not parsed, or notes about no single file: the run cannot be split
        inner, job = self.wrapper.inner, self.job
        scanned = [p for p in fresh.files if p in self.hashes]
        now = content_hashes(job.root, scanned)  # a file edited while it was scanned is not stored
        entries = []
        for path in scanned:
            part, content = fresh.files[path], self.hashes[path]
            if now.get(path) != content or not portable(part, inner.name, path):
                continue
            profile = inner.path_profile(job, path)
            if profile is not None and part.covered and not mentions(part, path):
                key = file_key(self.key, content, profile)
            else:
                key = path_key(self.key, content, path)
            entries.append((key, encode_file(part, redactor.text, redactor.rule_text)))
        return entries


def entry_keys(
    key: bytes, hashes: dict[str, bytes], profiles: dict[str, str | None]
) -> dict[str, list[bytes]]:
    """Each file's entry keys, the one its path profile shares (if any) first."""
    wanted: dict[str, list[bytes]] = {}
    for path, content in hashes.items():
        profile = profiles[path]
        keys = [] if profile is None else [file_key(key, content, profile)]
        wanted[path] = [*keys, path_key(key, content, path)]
    return wanted
