"""Markdown cells and tables with every character that Markdown or HTML would interpret escaped;
shared by the compliance report (:mod:`secscan.report.markdown`) and the dashboard
(:mod:`secscan.report.markdown_dashboard`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def cell(value: object) -> str:
    """``value`` as inert text in a Markdown table cell."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u200b")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _ts(value: object) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[attr-defined]
