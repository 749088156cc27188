"""The dashboard's charts: inline SVG drawn server-side with matplotlib.

matplotlib's SVG backend needs no browser, no JavaScript and no network, writes text as text
(``svg.fonttype = none``: small, searchable, readable by screen readers) and is the most widely
kept plotting library in Python. Figures are built with the object API (no pyplot, no global
state). Colours are the Okabe-Ito palette, safe for every common colour-vision deficiency;
each chart carries a ``<title>`` and a ``<desc>`` (and the page adds a caption and a data table).
Element ids are prefixed per chart, so several charts can live in one HTML document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, cast

from secscan.model import Severity

OKABE_ITO: Mapping[Severity, str] = {
    Severity.CRITICAL: "#D55E00",  # vermillion
    Severity.HIGH: "#E69F00",  # orange
    Severity.MEDIUM: "#F0E442",  # yellow
    Severity.LOW: "#56B4E9",  # sky blue
    Severity.INFO: "#999999",  # grey
}
LINE_COLOUR = "#0072B2"  # Okabe-Ito blue
WORST_FIRST = tuple(sorted(Severity, key=lambda s: -s.rank))
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "secscan-report",
    "text.parse_math": False,  # rule ids and paths may hold '$'
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_ID = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


@dataclass(frozen=True)
class Chart:
    """One rendered chart: its key, title, text description and the SVG markup."""

    key: str
    title: str
    description: str
    svg: str


def _finish(fig: object, key: str, title: str, description: str) -> Chart:
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)  # noqa: S101 - internal
    buffer = io.StringIO()
    fig.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )  # the constrained layout fits labels and legends: no second "tight" drawing pass
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline SVG in HTML
    text = _ID.sub(lambda m: f"{m.group(1)}{key}-{m.group(2)}", text)
    head, rest = text.split(">", 1)
    svg = (
        f'{head} role="img" aria-labelledby="{key}-title {key}-desc" class="chart">'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(description)}</desc>{rest}'
    )
    return Chart(key, title, description, svg)


def _figure(width: float, height: float) -> object:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def open_trend(
    key: str, times: Sequence[datetime], series: Mapping[Severity, Sequence[int]], description: str
) -> Chart:
    """Open findings over time, stacked by severity (worst on top)."""
    import matplotlib as mpl
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    with mpl.rc_context(cast(Any, _RC)):
        fig = _figure(7.2, 2.8)
        ax = fig.add_subplot()  # type: ignore[attr-defined]
        order = tuple(reversed(WORST_FIRST))
        ax.stackplot(
            list(times),
            [list(series[s]) for s in order],
            labels=[s.value for s in order],
            colors=[OKABE_ITO[s] for s in order],
            edgecolor="#333333",
            linewidth=0.3,
        )
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        ax.set_ylabel("open findings")
        ax.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _finish(fig, key, "Open findings over time, by severity", description)


def line_trend(
    key: str, times: Sequence[datetime], values: Sequence[float | None], description: str
) -> Chart:
    """SLA compliance (percent) over time."""
    import matplotlib as mpl
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    with mpl.rc_context(cast(Any, _RC)):
        fig = _figure(7.2, 2.4)
        ax = fig.add_subplot()  # type: ignore[attr-defined]
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(list(times), ys, color=LINE_COLOUR, marker="o", markersize=2.5, linewidth=1.5)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        ax.set_ylim(0, 102)
        ax.set_xlim(times[0], times[-1])  # the same span as the open-findings chart
        ax.set_ylabel("% within SLA")
        ax.grid(axis="y", color="#dddddd", linewidth=0.5)
        return _finish(fig, key, "SLA compliance over time", description)


def stacked_bars(
    key: str,
    title: str,
    labels: Sequence[str],
    counts: Sequence[Mapping[Severity, int]],
    description: str,
    *,
    horizontal: bool,
    axis_label: str,
) -> Chart:
    """Bars stacked by severity: vertical for the age histogram, horizontal for top lists."""
    import matplotlib as mpl

    with mpl.rc_context(cast(Any, _RC)):
        height = max(1.6, 0.28 * len(labels) + 0.9) if horizontal else 2.6
        fig = _figure(7.2, height)
        ax = fig.add_subplot()  # type: ignore[attr-defined]
        positions = list(range(len(labels)))
        base = [0] * len(labels)
        for severity in WORST_FIRST:
            values = [c.get(severity, 0) for c in counts]
            if not any(values):
                continue
            kwargs = {
                "color": OKABE_ITO[severity],
                "label": severity.value,
                "edgecolor": "#333333",
                "linewidth": 0.3,
            }
            if horizontal:
                ax.barh(positions, values, left=base, **kwargs)
            else:
                ax.bar(positions, values, bottom=base, **kwargs)
            base = [b + v for b, v in zip(base, values, strict=True)]
        short = [label if len(label) <= 48 else label[:45] + "..." for label in labels]
        if horizontal:
            ax.set_yticks(positions, short)
            ax.invert_yaxis()
            ax.set_xlabel(axis_label)
        else:
            ax.set_xticks(positions, short)
            ax.set_ylabel(axis_label)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _finish(fig, key, title, description)
