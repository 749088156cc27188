"""The area of each finding row as an SQL expression (see :mod:`secscan.core.areas`).

Tools are interned in ``texts``, so the expression compares ``f.tool_ref`` with the ids of the
tools whose area is known by name (built-in, or ``[report] areas``), and, for any other tool,
``f.tool_ref`` and ``f.rule_ref`` packed into one integer with the pairs whose rule tags name an
area (from the ``rules`` table). Only integers read from the database are formatted into it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from secscan.core.areas import BUILTIN, Area, area_of_tags
from secscan.fs.names import from_db
from secscan.store.dialect import dialect_of
from secscan.store.sqlite.texts import text_hash

AREA_ORDER = tuple(Area)
_DEFAULT = AREA_ORDER.index(Area.CODE)
_PAIR = 2**32  # a (tool, rule) pair as one integer: tool id * 2^32 + rule id


def text_ids(cur: Any, values: set[str]) -> dict[int, str]:
    """The ``texts`` ids of those ``values`` that are interned (no write)."""
    among, hashes = dialect_of(cur).in_list(sorted({text_hash(v) for v in values}))
    rows = cur.execute(f"SELECT id, value FROM texts WHERE hash {among}", (hashes,))
    return {int(pk): v for pk, raw in rows.fetchall() if (v := from_db(raw)) in values}


def _tags(raw: str) -> list[str]:
    try:
        found = json.loads(raw)
    except ValueError:
        return []
    return [t for t in found if isinstance(t, str)] if isinstance(found, list) else []


def area_expr(cur: Any, configured: Mapping[str, Area] | None = None) -> str:
    """An SQL expression over ``f`` giving the index in :data:`AREA_ORDER` of the row's area."""
    named = {**BUILTIN, **(configured or {})}
    by_area: dict[int, list[int]] = {}
    for pk, tool in text_ids(cur, set(named)).items():
        by_area.setdefault(AREA_ORDER.index(named[tool]), []).append(pk)
    known = {pk for ids in by_area.values() for pk in ids}
    pairs: dict[int, list[int]] = {}
    for tool_ref, rule_ref, tags in cur.execute("SELECT tool_ref, rule_ref, tags FROM rules").fetchall():
        area = area_of_tags(_tags(tags))
        if tool_ref not in known and area is not None and area is not Area.CODE:
            pairs.setdefault(AREA_ORDER.index(area), []).append(int(tool_ref) * _PAIR + int(rule_ref))
    whens = [
        f"WHEN f.tool_ref IN ({', '.join(f'{pk:d}' for pk in sorted(ids))}) THEN {i:d}"
        for i, ids in sorted(by_area.items())
    ]
    for i, keys in sorted(pairs.items()):
        listed = ", ".join(f"{k:d}" for k in sorted(keys))
        whens.append(f"WHEN f.tool_ref * {_PAIR:d} + f.rule_ref IN ({listed}) THEN {i:d}")
    return f"(CASE {' '.join(whens)} ELSE {_DEFAULT:d} END)" if whens else f"{_DEFAULT:d}"
