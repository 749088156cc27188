"""Split a scanner's files into balanced work units (shards, argv-sized chunks).

A shard's cost is approximated by its bytes. Greedy largest-first bin packing keeps the shards
within one large file of each other, which is what keeps both cores busy to the end.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Sequence

ARGV_BYTES = 100_000
"""Keep each command line well under the kernel's limits (ARG_MAX and per-argument caps)."""


def shard(sizes: Sequence[tuple[str, int]], shards: int) -> list[list[str]]:
    """Greedy largest-first bin packing of ``(path, bytes)`` into at most ``shards`` bins.

    Ties (empty files, unknown sizes) go to the bin with fewer files. Each bin is sorted by
    path; empty bins are dropped.
    """
    bins: list[tuple[int, int, int, list[str]]] = [(0, 0, index, []) for index in range(max(1, shards))]
    heapq.heapify(bins)
    for path, size in sorted(sizes, key=lambda item: (-item[1], item[0])):
        total, count, index, paths = heapq.heappop(bins)
        paths.append(path)
        heapq.heappush(bins, (total + size, count + 1, index, paths))
    return [sorted(paths) for *_, paths in sorted(bins, key=lambda item: item[2]) if paths]


def split_arguments(paths: Sequence[str], limit: int = ARGV_BYTES) -> list[list[str]]:
    """``paths`` cut, in order, into runs of at most ``limit`` argv bytes (one path at least)."""
    chunks: list[list[str]] = [[]]
    used = 0
    for path in paths:
        cost = len(os.fsencode(path)) + 1
        if chunks[-1] and used + cost > limit:
            chunks.append([])
            used = 0
        chunks[-1].append(path)
        used += cost
    return chunks


def _argv_bytes(paths: Sequence[str]) -> int:
    return sum(len(os.fsencode(p)) + 1 for p in paths)


def balanced_chunks(sizes: Sequence[tuple[str, int]], limit: int = ARGV_BYTES) -> list[list[str]]:
    """As few chunks as fit ``limit`` argv bytes each, balanced by file size.

    Within a chunk the files are ordered largest first, so a worker pool fed from it ends on
    small files.
    """
    if not sizes:
        return []
    size_of = dict(sizes)
    count = max(1, -(-_argv_bytes([p for p, _ in sizes]) // limit))
    while True:
        chunks = shard(sizes, count)
        if all(_argv_bytes(c) <= limit for c in chunks) or count >= len(sizes):
            return [sorted(c, key=lambda p: (-size_of[p], p)) for c in chunks]
        count += 1
