"""Geometry of the dashboard's SVG charts. Pure: numbers in, frozen shapes out; the markup is in
``templates/charts/`` (Jinja2, autoescaped).

The charts are responsive without scaling their text: the outer ``<svg>`` is as wide as the page
(``width="100%"``) and has a fixed height in CSS pixels, so text keeps its size at any width.
Horizontal positions are percentages of that width; marks that need a path (areas, lines) are
drawn in a nested ``<svg>`` with ``viewBox="0 0 1000 H"`` and ``preserveAspectRatio="none"``,
stretched to the plot, with ``vector-effect="non-scaling-stroke"`` on strokes.

Small multiples, not stacks: each severity gets its own row on its own scale (its numbers are
written out), so a lone critical beside hundreds of lows is as visible as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 1000.0  # the nested viewBox's width: x in 0..1000 is 0..100% of the plot


@dataclass(frozen=True)
class Tick:
    x_pct: float  # 0..100
    label: str
    anchor: str  # start | middle | end


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above ``value`` (1 for 0 or less)."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        top = step * math.pow(10.0, exp)
        if top >= value - 1e-9:
            return top
    return math.pow(10.0, exp + 1)  # pragma: no cover - the loop ends at 10


def x_of(at: datetime, start: datetime, end: datetime) -> float:
    """``at`` on 0..1000 between ``start`` and ``end`` (the middle when they are equal)."""
    span = (end - start).total_seconds()
    if span <= 0:
        return WIDTH / 2
    return WIDTH * (at - start).total_seconds() / span


def _label(at: datetime, span: timedelta) -> str:
    if span <= timedelta(days=2):
        return at.strftime("%d %b %H:%M")
    if span <= timedelta(days=400):
        return at.strftime("%d %b")
    return at.strftime("%b %Y")


def time_ticks(times: Sequence[datetime], most: int = 4) -> tuple[Tick, ...]:
    """At most ``most`` evenly chosen labels of ``times`` (the first and the last included)."""
    if not times:
        return ()
    start, end = times[0], times[-1]
    if len(times) == 1 or start == end:
        return (Tick(50.0, _label(start, timedelta(0)), "middle"),)
    count = min(most, len(times))
    picks = sorted({round(i * (len(times) - 1) / (count - 1)) for i in range(count)})
    ticks = []
    for i in picks:
        pct = x_of(times[i], start, end) / 10
        anchor = "start" if i == 0 else "end" if i == len(times) - 1 else "middle"
        ticks.append(Tick(round(pct, 2), _label(times[i], end - start), anchor))
    return tuple(ticks)


def area_path(xs: Sequence[float], ys: Sequence[float], height: float) -> str:
    """A closed area under the polyline (x in 0..1000, y in data units 0..1 of ``height``)."""
    if not xs:
        return ""
    points = " ".join(f"L{x:.1f},{height - y * height:.1f}" for x, y in zip(xs, ys, strict=True))
    return f"M{xs[0]:.1f},{height:.1f} {points} L{xs[-1]:.1f},{height:.1f} Z"


def line_path(xs: Sequence[float], ys: Sequence[float | None], height: float) -> str:
    """A polyline with gaps where ``ys`` is None (y in 0..1 of ``height``)."""
    parts, pen = [], False
    for x, y in zip(xs, ys, strict=True):
        if y is None:
            pen = False
            continue
        parts.append(f"{'L' if pen else 'M'}{x:.1f},{height - y * height:.1f}")
        pen = True
    return " ".join(parts)


@dataclass(frozen=True)
class Band:
    """One row of a small-multiples time chart."""

    label: str
    colour: str
    current: int
    peak: int
    path: str  # the area, in the nested viewBox (0..1000 x 0..height)
    line: str  # its top edge
    dot_pct: float  # where the last value is
    dot_y: float  # its height, from the row's top, in px


def band(label: str, colour: str, times: Sequence[datetime], values: Sequence[int], height: float) -> Band:
    """A severity's open findings over time on its own scale (0 to its peak, with a fifth of
    headroom so a steady count reads as a line, not a block)."""
    peak = max(values, default=0)
    top = float(peak or 1) * 1.25
    xs = [x_of(t, times[0], times[-1]) for t in times]
    ys = [v / top for v in values]
    if len(xs) == 1:  # one point: a short flat band, so there is something to see
        xs, ys = [WIDTH / 2 - 10, WIDTH / 2 + 10], ys * 2
    last = values[-1] if values else 0
    path, line = area_path(xs, ys, height), line_path(xs, list(ys), height)
    return Band(label, colour, last, peak, path, line, xs[-1] / 10, height - last / top * height)


@dataclass(frozen=True)
class Bar:
    """A bar of a small-multiples column chart: position in %, height in px, its count."""

    x_pct: float
    width_pct: float
    height: float
    count: int
    label: str


def column_row(labels: Sequence[str], counts: Sequence[int], height: float) -> tuple[Bar, ...]:
    """Bars on the row's own scale: the largest count is ``height`` px tall; a count above zero
    is never shorter than 3 px."""
    top = max(counts, default=0) or 1
    width = 100.0 / max(len(labels), 1)
    return tuple(
        Bar(
            round(i * width + width * 0.15, 2),
            round(width * 0.7, 2),
            0.0 if c == 0 else max(3.0, height * c / top),
            c,
            label,
        )
        for i, (label, c) in enumerate(zip(labels, counts, strict=True))
    )


@dataclass(frozen=True)
class Segment:
    x_pct: float
    width_pct: float
    colour: str
    count: int
    label: str


@dataclass(frozen=True)
class RankedBar:
    """One row of a ranked list: its label (and a shorter one for narrow screens), the stacked
    segments, the total and where it ends."""

    label: str
    detail: str
    segments: tuple[Segment, ...]
    total: int
    end_pct: float
    narrow_label: str = ""
    narrow_detail: str = ""


NARROW_CHARS = 42  # a label and its detail on one line of a 360 px wide chart
WIDE_CHARS = 120


def fit(label: str, detail: str, chars: int) -> tuple[str, str]:
    """``label`` and ``detail`` cut to ``chars`` characters together (the detail goes first)."""
    if len(label) > chars:
        return label[: chars - 1] + "\u2026", ""
    room = chars - len(label) - 1
    if len(detail) > room:
        detail = detail[: max(room - 1, 0)] + "\u2026" if room > 8 else ""
    return label, detail


def ranked_bars(
    rows: Sequence[tuple[str, str, Sequence[tuple[str, str, int]]]], span_pct: float = 85.0
) -> tuple[RankedBar, ...]:
    """``(label, detail, [(severity, colour, count), ...])`` rows as stacked horizontal bars
    on one scale (the largest total spans ``span_pct`` of the width, leaving room for its count).
    Labels are cut to :data:`WIDE_CHARS`, and to :data:`NARROW_CHARS` for narrow screens."""
    top = max((sum(c for _, _, c in parts) for _, _, parts in rows), default=0) or 1
    bars = []
    for label, detail, parts in rows:
        x, segments = 0.0, []
        for name, colour, count in parts:
            if count:
                w = span_pct * count / top
                segments.append(Segment(round(x, 3), round(w, 3), colour, count, name))
                x += w
        total = sum(c for _, _, c in parts)
        wide, narrow = fit(label, detail, WIDE_CHARS), fit(label, detail, NARROW_CHARS)
        bars.append(RankedBar(*wide, tuple(segments), total, round(x, 3), *narrow))
    return tuple(bars)
