"""Lossless paths (secscan.fs.names) and text safe for terminals and logs (secscan.core.printable)."""

from __future__ import annotations

import json
import os
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from secscan.core.printable import printable, surrogates_escaped
from secscan.fs.names import (
    canonical,
    from_db,
    from_uri,
    has_surrogates,
    json_dumps,
    to_bytes,
    to_db,
    to_uri,
    valid_text,
)

# file names as the kernel has them: any bytes but NUL and "/", joined by "/" into a relative path
_names = st.binary(min_size=1, max_size=12).map(lambda b: b.replace(b"\0", b"x").replace(b"/", b"y"))
_paths = st.lists(_names, min_size=1, max_size=3).map(lambda parts: b"/".join(parts))
_any_text = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)


@given(_paths)
def test_a_path_round_trips_through_every_representation(raw: bytes) -> None:
    path = os.fsdecode(raw)
    assert to_bytes(path) == raw == os.fsencode(path)
    assert canonical(path) == path
    uri = to_uri(path)
    assert uri.isascii() and " " not in uri and "#" not in uri and "?" not in uri
    assert from_uri(uri) == path
    assert from_db(to_db(path)) == path
    assert json.loads(json_dumps({"path": path}).encode("utf-8"))["path"] == path


@given(_any_text)
def test_any_string_is_stored_and_written_as_json_losslessly(text: str) -> None:
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE t (v TEXT)")
        db.execute("INSERT INTO t VALUES (?)", (to_db(text),))
        [(stored,)] = db.execute("SELECT v FROM t").fetchall()
    assert from_db(stored) == text
    encoded = json_dumps([text]).encode("utf-8")  # never a UnicodeEncodeError
    assert json.loads(encoded) == [text]


@given(_any_text)
def test_canonical_form_is_the_filesystem_form(text: str) -> None:
    path = canonical(text)
    assert os.fsdecode(os.fsencode(path)) == path  # a name the kernel can be given and gives back
    assert canonical(path) == path
    assert not has_surrogates(valid_text(text))


def test_a_lone_surrogate_from_a_sarif_uri_maps_to_its_generalised_utf8_bytes() -> None:
    assert to_bytes("a\ud800b") == b"a\xed\xa0\x80b"
    assert canonical("a\ud800b") == os.fsdecode(b"a\xed\xa0\x80b")
    assert from_uri("src/bad%FFname.py") == os.fsdecode(b"src/bad\xffname.py")
    assert to_uri(os.fsdecode(b"bad\xffname.py")) == "bad%FFname.py"
    assert to_uri("a b#c?d:e.py") == "a%20b%23c%3Fd%3Ae.py"


@given(_any_text, _any_text)
def test_printable_escapes_without_merging_two_names(a: str, b: str) -> None:
    shown_a, shown_b = printable(a), printable(b)
    assert shown_a.isprintable() and shown_b.isprintable()
    assert (shown_a == shown_b) == (a == b)


def test_printable_neutralises_terminal_escapes_and_keeps_plain_text() -> None:
    name = os.fsdecode(b"evil\x1b[2J\x1b]0;title\x07\xff\xc2\x9b\n") + "\u202e.py"
    assert printable(name) == "evil\\x1b[2J\\x1b]0;title\\x07\\xff\\u009b\\x0a\\u202e.py"
    assert printable("src/app.py: ünïcode ok") == "src/app.py: ünïcode ok"
    assert printable("C:\\x1b") == "C:\\\\x1b"  # a name that spells an escape stays apart
    assert surrogates_escaped(os.fsdecode(b"a\xffb\nc")) == "a\\xffb\nc"  # documents keep lines
