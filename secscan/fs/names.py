"""File names that are not UTF-8: one form in memory, a lossless form in every output.

A POSIX file name is bytes. secscan holds a path as ``str`` the way Python's ``os`` functions
return it (``os.fsdecode``, PEP 383): UTF-8, with each byte that is not part of valid UTF-8 as a
lone surrogate U+DC80..U+DCFF. That form is lossless: :func:`to_bytes` gives the original bytes
back. A string from elsewhere (a URI in a SARIF log, a scanner's JSON) may hold other lone
surrogates; :func:`canonical` maps them onto the same form (through their generalised UTF-8
bytes), so equal bytes always mean equal paths.

Every output then has one lossless representation (``docs/data-model.md``, "Paths"):

* **SARIF** ``uri``: the bytes percent-encoded (:func:`to_uri`); read back by :func:`from_uri`.
* **JSON** (``--format json``, the SARIF file, outbox payloads, JSON logs): a lone surrogate is
  written as its ``\\uDCxx`` escape (:func:`json_dumps`). RFC 8259's grammar allows the escape;
  Python's and JavaScript's parsers give the same string back.
* **The store**: a valid UTF-8 string as TEXT, any other as a BLOB of its bytes
  (:func:`to_db` / :func:`from_db`), so a ``texts`` value round-trips exactly.
* **Fingerprints** hash ``json.dumps`` of the path (ASCII escapes), so a UTF-8 path's
  fingerprint is what it always was, and two different byte names never share one.
* **Terminals and logs**: :func:`secscan.core.printable.printable` (``bad\\xffname.py``), for people.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any
from urllib.parse import quote, unquote_to_bytes

_SURROGATE = re.compile("[\ud800-\udfff]")
_URI_SAFE = "/!$&'()*+,;=@"
"""Kept as they are in a URI path besides letters, digits and ``-._~``: RFC 3986 ``pchar`` less
``:`` (which would read as a scheme in a relative reference's first segment)."""


def _bytes_handler(exc: UnicodeError) -> tuple[bytes, int]:
    """Encode error handler: a surrogate escape (U+DC80..U+DCFF) is its byte, any other lone
    surrogate its generalised UTF-8 (``surrogatepass``)."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for char in exc.object[exc.start : exc.end]:
        code = ord(char)
        out += bytes((code - 0xDC00,)) if 0xDC80 <= code <= 0xDCFF else char.encode("utf-8", "surrogatepass")
    return bytes(out), exc.end


codecs.register_error("secscan.fsbytes", _bytes_handler)


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (so it cannot be encoded as UTF-8)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def to_bytes(path: str) -> bytes:
    """The bytes a path stands for (``os.fsencode`` for surrogate escapes; other lone
    surrogates as their generalised UTF-8)."""
    return path.encode("utf-8", "secscan.fsbytes")


def canonical(path: str) -> str:
    """``path`` in the in-memory form (``os.fsdecode`` of its bytes). Identity for UTF-8 text."""
    if not has_surrogates(path):
        return path
    return to_bytes(path).decode("utf-8", "surrogateescape")


def to_uri(path: str) -> str:
    """A repo-relative path as a percent-encoded relative URI reference (lossless)."""
    return quote(to_bytes(path), safe=_URI_SAFE)


def from_uri(uri: str) -> str:
    """The path a URI's percent-encoded path stands for, in the in-memory form."""
    return unquote_to_bytes(to_bytes(uri)).decode("utf-8", "surrogateescape")


def valid_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: for texts that are not paths (rule
    ids, messages), which need not round-trip to bytes."""
    return _SURROGATE.sub("\ufffd", text) if has_surrogates(text) else text


def to_db(value: str) -> str | bytes:
    """A string as the store keeps it: itself, or a BLOB of its bytes when it is not UTF-8."""
    return value.encode("utf-8", "surrogatepass") if has_surrogates(value) else value


def from_db(value: str | bytes) -> str:
    """The string :func:`to_db` stored."""
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


def escape_surrogates(json_text: str) -> str:
    """A JSON text with every raw lone surrogate written as its ``\\uXXXX`` escape.

    ``json.dumps(..., ensure_ascii=False)`` leaves lone surrogates raw inside string literals
    (the only place they can be), where they cannot be encoded as UTF-8.
    """
    if not has_surrogates(json_text):
        return json_text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", json_text)


def json_dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` that can always be encoded as UTF-8."""
    return escape_surrogates(json.dumps(value, ensure_ascii=False, **kwargs))


__all__ = [
    "canonical",
    "escape_surrogates",
    "from_db",
    "from_uri",
    "has_surrogates",
    "json_dumps",
    "to_bytes",
    "to_db",
    "to_uri",
    "valid_text",
]
