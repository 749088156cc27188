"""A file-local scanner's whole merged output, remembered for a re-run where every file is a hit.

When all of a scanner's files are answered by their per-file entries, its output is
:func:`~secscan.scanners.per_file.merge` of those entries (the exit code aside, which the adapter
derives from the findings' count and its job). That is a function of what the files' entry keys
are made of: the scanner's key and each file's path, content hash and path profile. So it is kept
once under a digest of exactly those (:func:`whole_digest`). The next unchanged re-run reads one
value instead of computing, looking up and decoding the entries of every file and merging them
(issue 18: 988 entries for pip's sdist). Any change to the scanner's configuration, to a file's
content or path, or to the set of files gives another digest, so a remembered output is never
stale; on a mismatch the per-file lookups run as before.

There is one value per scanner configuration and target (:func:`slot_key`), replaced when its
digest changes, so edits do not pile up outputs. It is an ordinary cache entry: counted in
``max_bytes`` and evicted like the others. Reading it refreshes the per-file entries it stands
for whenever it refreshes its own last use, so they are not evicted ahead of it. Its texts are
those of the per-file entries it was merged from, redacted when they were stored.

A tree-local scanner's output (:mod:`secscan.scanners.cache.tree`) is remembered in the same
form, under a digest of every file it looks at; its fresh texts are redacted as it is encoded,
and its findings keep the line hashes the adapter gave them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secscan.core.model import Notification, NotificationLevel, ToolName
from secscan.scanners.cache.codec import (
    Redact,
    finding_of,
    finding_row,
    opt_int,
    pack,
    rule_of,
    rule_row,
    str_of,
    unpack,
)
from secscan.scanners.interface import ScanOutput

_DIGEST = 32


def slot_key(scanner: bytes, root: Path) -> bytes:
    """Where the remembered output of the scanner with key ``scanner`` on the target ``root`` is kept."""
    return hashlib.sha256(scanner + b"\0whole\0" + os.fsencode(root)).digest()


def whole_digest(scanner: bytes, hashes: Mapping[str, bytes], profiles: Mapping[str, str | None]) -> bytes:
    """A digest of the scanner's key and of each file's path, content hash and path profile: all
    its per-file entry keys are made of (:mod:`secscan.scanners.cache.keys`)."""
    digest = hashlib.sha256(scanner + b"\0files\0")
    for path in sorted(hashes):
        name = path.encode("utf-8", "surrogatepass")
        profile = profiles[path]
        shared = b"\0" if profile is None else b"\1" + _sized(profile.encode("utf-8", "surrogatepass"))
        digest.update(b"".join((_sized(name), hashes[path], shared)))
    return digest.digest()


def _sized(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _same(text: str) -> str:
    return text


def encode_whole(digest: bytes, output: ScanOutput, text: Redact = _same, rule_text: Redact = _same) -> bytes:
    """``output`` under ``digest``: a merge of per-file entries (texts already redacted), or a
    tree-local scanner's fresh output with its free texts passed through ``text`` (findings and
    notes) and ``rule_text`` (the tool's rule texts)."""
    paths = sorted({f.location.path for f in output.findings} | output.scope
                   | {n.path for n in output.notifications if n.path is not None})
    index = {path: i for i, path in enumerate(paths)}
    document = {
        "p": paths,
        "f": [[index[f.location.path], *finding_row(f, text)] for f in output.findings],
        "r": [rule_row(r, rule_text) for r in output.rules],
        "s": sorted(index[path] for path in output.scope),
        "n": [[n.level.value, text(n.message), None if n.path is None else index[n.path], n.line]
              for n in output.notifications],
    }
    if any(f.line_hash is not None for f in output.findings):
        document["h"] = [f.line_hash for f in output.findings]
    return digest + pack(document)


def decode_whole(value: bytes, digest: bytes, tool: ToolName) -> ScanOutput | None:
    """The output remembered in ``value`` if it was stored under ``digest``, else None.
    Raises ValueError when the value is malformed."""
    if value[:_DIGEST] != digest:
        return None
    doc: Any = unpack(value[_DIGEST:])
    try:
        paths = [str_of(p) for p in doc["p"]]
        findings = tuple(finding_of(row[1:], tool, paths[row[0]]) for row in doc["f"])
        if "h" in doc:
            hashes = [None if h is None else str_of(h) for h in doc["h"]]
            if len(hashes) != len(findings):
                raise ValueError("malformed remembered output: line hashes do not match the findings")
            findings = tuple(dataclasses.replace(f, line_hash=h)
                             for f, h in zip(findings, hashes, strict=True))
        return ScanOutput(
            findings=findings,
            rules=tuple(rule_of(row) for row in doc["r"]),
            scope=frozenset(paths[i] for i in doc["s"]),
            notifications=tuple(
                Notification(NotificationLevel(level), str_of(message), None if at is None else paths[at],
                             opt_int(line))
                for level, message, at, line in doc["n"]
            ),
        )
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"malformed remembered output: {exc!r}") from None
