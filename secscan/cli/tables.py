"""Tables that fit the console: the columns that matter (severity, tool) keep their width at 80
columns, and the others are narrowed, then left out, instead of everything being squeezed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.table import Table


@dataclass(frozen=True)
class Col:
    """A table column that fits the console: left out (lowest ``rank`` first) unless it gets
    ``least`` while the more important ones get their ``want``; then grown to ``want`` and ``most``
    while room is left, most important first."""

    name: str
    rank: int  # 1: the last to go
    least: int
    want: int
    most: int
    overflow: Literal["ellipsis", "crop"] = "ellipsis"


def fitted(title: str, width: int, columns: Sequence[Col]) -> tuple[Table, list[str]]:
    """A table of the ``columns`` that fit in ``width`` (their order kept), and their names.

    A rich table takes three characters per column beyond its cells plus one; columns that do
    not fit are left out instead of being squeezed to nothing (severity had zero width below
    about 140 columns)."""
    chosen: list[Col] = []
    for col in sorted(columns, key=lambda c: c.rank):  # a column comes in only when the more
        if sum(c.want + 3 for c in chosen) + col.least + 3 + 1 > width:  # important ones get their want
            break
        chosen.append(col)
    size = {c.name: c.least for c in chosen}
    room = width - 1 - sum(c.least + 3 for c in chosen)
    for limit in ("want", "most"):
        for col in chosen:
            grow = min(room, max(0, getattr(col, limit) - size[col.name]))
            size[col.name] += grow
            room -= grow
    table = Table(title=title, title_justify="left")
    names = [c.name for c in columns if c.name in size]
    for col in (c for c in columns if c.name in size):
        width = size[col.name]  # sized to the content up to it: the widths add up to the console's
        table.add_column(col.name, min_width=min(col.least, width), max_width=width, no_wrap=True,
                         overflow=col.overflow)  # fmt: skip
    return table, names
