"""Masking the credentials a requirement's URL may carry, in every text kept about it.

``https://user:token@host/x?key=v`` becomes ``https://***@host/x?***``: the user info up to the
last ``@`` before the path, and the query (a ``?token=`` or a signed URL's signature). Both
patterns run over every line of a hostile file, so neither may backtrack (see
:mod:`secscan.scanners.requirements`).
"""

from __future__ import annotations

import re

CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,63}://)[^/?#\s]+@")
"""The user info of a URL: everything up to the *last* ``@`` before its path, query or fragment
(a password may hold an ``@`` that was not percent-encoded: cut at the first one, its rest was
shown)."""

_TOKEN = re.compile(r"\S+")


def _query_masked(token: re.Match[str]) -> str:
    """A URL's query (``?token=...``, a signed URL's signature) may be a credential: ``?***``."""
    text = token.group()
    scheme = text.find("://")
    query = text.find("?", scheme) if scheme >= 0 else -1
    if query < 0 or query + 1 == len(text) or text[query + 1] == "#":
        return text
    fragment = text.find("#", query)
    return text[: query + 1] + "***" + (text[fragment:] if fragment >= 0 else "")


def mask_credentials(text: str) -> str:
    """``https://user:token@host/x?key=v`` -> ``https://***@host/x?***``."""
    return _TOKEN.sub(_query_masked, CREDENTIALS.sub(r"\g<scheme>***@", text))
