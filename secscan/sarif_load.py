"""Load an untrusted SARIF log: size, encoding, nesting depth and top-level shape, before parsing.

A SARIF log from a third-party tool or from ``secscan ingest`` is untrusted input. It is refused,
with one line saying why, when it is too large, not UTF-8, nested deeper than
:data:`MAX_DEPTH` (checked at C speed before ``json`` recurses), not SARIF 2.1.0, or has too many
runs. :mod:`secscan.sarif_input` then reads its runs into findings.
"""

from __future__ import annotations

import json
from itertools import accumulate
from typing import Any

from secscan.errors import InputError

MAX_SARIF_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 100
MAX_RUNS = 100

_NOT_SYNTAX = bytes(c for c in range(256) if c not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _max_depth(data: bytes) -> int:
    """How deeply the arrays and objects of a JSON text (UTF-8 bytes) nest, at C speed.

    Escaped backslashes and then escaped quotes are dropped (left to right, as JSON reads its
    escapes), everything but quotes and brackets is deleted, adjacent quote pairs (strings without
    brackets, most of them) go, and brackets still between quotes are inside strings. UTF-8 never
    uses ASCII bytes inside a multi-byte character, so the bytes can be scanned as they are.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    syntax = data.translate(None, _NOT_SYNTAX)
    syntax = syntax.replace(b'""', b"")
    if b'"' in syntax:  # strings holding brackets: keep what is outside them
        syntax = b"".join(syntax.split(b'"')[::2])
    return max(accumulate(map(_STEP.__getitem__, syntax)), default=0)


def load_sarif(data: bytes) -> dict[str, Any]:
    """Decode and structurally check a SARIF log. Raises InputError."""
    if len(data) > MAX_SARIF_BYTES:
        raise InputError(f"SARIF log is larger than {MAX_SARIF_BYTES} bytes; split it or filter its results")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"SARIF log is not UTF-8 (byte {exc.start}); SARIF must be UTF-8 encoded") from None
    if _max_depth(data) > MAX_DEPTH:
        raise InputError(f"SARIF log nests deeper than {MAX_DEPTH} levels; refusing to read it")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"SARIF log is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise InputError("SARIF log has no 'runs' list; is it a SARIF 2.1.0 file?")
    if doc.get("version") != "2.1.0":
        raise InputError(f"SARIF version {doc.get('version')!r} is not supported; produce SARIF 2.1.0")
    if len(doc["runs"]) > MAX_RUNS:
        raise InputError(f"SARIF log has more than {MAX_RUNS} runs; split it")
    return doc
