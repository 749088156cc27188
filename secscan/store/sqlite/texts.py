"""Interned strings and compact fingerprints: the two encodings that keep the findings table small.

A finding's tool, rule id, path and message repeat across findings (one path for ~20 findings,
a handful of message templates per rule), so each distinct string is stored once in ``texts``
and referenced by its integer id. ``texts`` is looked up by a 63-bit BLAKE2b hash of the value
(an index of 8-byte integers instead of a second copy of every string); a hash collision is
harmless because the values are compared before an id is reused.

Fingerprints are SHA-256 hex digests: they are stored as their 32 raw bytes (half the size, in
the table and in its unique index). Anything else is stored as text unchanged, so every value
round-trips.

A value that is not valid UTF-8 (a path holding surrogate escapes, see :mod:`secscan.fs.names`)
is stored as a BLOB of its bytes: SQLite's TEXT cannot hold it, and the type tells the two apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from secscan.fs.names import from_db, to_db
from secscan.store.dialect import dialect_of

if TYPE_CHECKING:
    from secscan.store.sqlite.db import Connection

_HEX = frozenset("0123456789abcdef")
_CHUNK = 20_000  # hashes per look-up statement


def text_hash(value: str) -> int:
    """The 63-bit hash ``texts`` is indexed by (non-negative, fits SQLite's INTEGER)."""
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def encode_fingerprint(fingerprint: str) -> bytes | str:
    """32 raw bytes for a lowercase 64-hex-digit fingerprint; any other value as it is."""
    if len(fingerprint) == 64 and _HEX.issuperset(fingerprint):
        return bytes.fromhex(fingerprint)
    return fingerprint


def decode_fingerprint(value: bytes | str) -> str:
    return value.hex() if isinstance(value, bytes) else value


def prefix_bounds(prefix: str) -> tuple[bytes, bytes] | None:
    """Inclusive byte bounds of the stored fingerprints starting with a hex ``prefix``.

    ``None`` when ``prefix`` cannot start a 64-hex-digit fingerprint.
    """
    if len(prefix) > 64 or not _HEX.issuperset(prefix):
        return None
    return bytes.fromhex(prefix.ljust(64, "0")), bytes.fromhex(prefix.ljust(64, "f"))


def intern(cursor: Connection, values: Iterable[str]) -> dict[str, int]:
    """The ``texts`` id of every value, inserting the new ones (on an open write transaction)."""
    dialect = dialect_of(cursor)
    wanted = {v: text_hash(v) for v in set(values)}
    ids: dict[str, int] = {}
    hashes = sorted(set(wanted.values()))
    for start in range(0, len(hashes), _CHUNK):
        among, chunk = dialect.in_list(hashes[start : start + _CHUNK])
        rows = cursor.execute(f"SELECT id, value FROM texts WHERE hash {among}", (chunk,)).fetchall()  # noqa: S608
        for pk, value in rows:
            value = from_db(value)
            if value in wanted:
                ids.setdefault(value, pk)
    missing = [v for v in wanted if v not in ids]
    if missing:
        new = dialect.new_ids(cursor, "texts", len(missing))
        rows = [(pk, wanted[v], to_db(v)) for pk, v in zip(new, missing, strict=True)]
        cursor.executemany("INSERT INTO texts (id, hash, value) VALUES (?, ?, ?)", rows)
        ids.update(zip(missing, new, strict=True))
    return ids
