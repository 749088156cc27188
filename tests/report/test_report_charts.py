"""The dashboard's SVG charts: drawn from templates, start when tracking began, a lone critical
shows, the SLA chart draws its line and dots inside the frame, captions say things once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from report_history import POLICY, History
from report_mixed import NOW
from report_mixed import POLICY as MIXED_POLICY

from secscan.app import tracking
from secscan.core.model import Severity
from secscan.report import api, charts, svg
from secscan.report.palette import OKABE_ITO
from secscan.store import Store

DB = tuple[Store, History]


def _figure(page: str, key: str) -> str:
    start = page.index(f'<figure id="fig-{key}">')
    return page[start : page.index("</figure>", start)]


def test_the_trend_starts_when_tracking_began(history_db: DB) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY, since=timedelta(days=30))
    first_run = min(r.started_at for t in h.targets for r in store.runs(t, limit=100))
    assert report.tracked_since == first_run
    assert len(report.dashboard.trend) == 31  # the query still covers the window ...
    points = charts.tracked_points(report)
    assert points[0].at >= first_run > points[0].at - timedelta(days=1)  # ... the chart starts at tracking
    assert len(points) == h.days + 1 and all(sum(p.open.values()) > 0 for p in points)
    page = api.render(report, "html")
    for key in ("open-trend", "sla-trend"):
        rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d [^<]+)</td>", _figure(page, key))
        assert len(rows) == len(points) and rows[0].startswith(points[0].at.strftime("%Y-%m-%d"))


def test_a_lone_critical_is_as_tall_as_hundreds_of_lows(mixed_db: tuple[Store, Path]) -> None:
    store, _ = mixed_db
    page = api.render(api.build(store, NOW, policy=MIXED_POLICY), "html")
    age = _figure(page, "age")
    heights = {
        colour: [float(h) for h in re.findall(rf'height="([0-9.]+)" fill="{colour}"', age)]
        for colour in (OKABE_ITO[Severity.CRITICAL], OKABE_ITO[Severity.LOW])
    }
    assert heights[OKABE_ITO[Severity.CRITICAL]] == [30.0]  # 1 critical: the row's full height
    assert max(heights[OKABE_ITO[Severity.LOW]]) == 30.0  # 150 lows: the same
    assert ">1</text>" in age  # and its number is written out


def test_the_sla_chart_draws_its_line_and_dots_inside_the_frame(history_db: DB) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY)
    chart = charts.sla_trend(report)
    text = str(chart.svg)
    height = float(re.search(r'class="chart"[^>]*height="([0-9.]+)"', text).group(1))  # type: ignore[union-attr]
    dots = [float(y) for y in re.findall(r'<circle class="mark" cx="[0-9.]+%" cy="([0-9.]+)" r="3"', text)]
    counted = [p for p in charts.tracked_points(report) if p.sla_counted]
    assert len(dots) == len(counted) > 1
    assert all(3 <= y <= height - 3 for y in dots)  # not clipped at the top (100%) or the bottom (0%)
    assert re.search(r'<path class="mark" d="M[0-9.]+,[0-9.]+ L', text)  # a line, not a lone dot


def test_one_point_of_data_is_a_visible_dot(empty_store: Store) -> None:
    from report_mixed import _run, plant

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    one = (plant("bandit", "B1", "x", Severity.HIGH, "a.py", 1),)
    tracking.record_run(empty_store, _run("t", "/x", one, now - timedelta(minutes=5)), now, MIXED_POLICY, ())
    report = api.build_dashboard(empty_store, now, policy=MIXED_POLICY)
    points = charts.tracked_points(report)
    assert len(points) == 1  # tracking began minutes ago: one point, not 30 days of zeros
    text = str(charts.sla_trend(report).svg)
    assert text.count('<circle class="mark"') == 1 and "100%</text>" in text
    trend = str(charts.open_trend(report).svg)
    assert 'fill="#E69F00" fill-opacity' in trend  # the high band is drawn even from one point


def test_captions_say_how_to_read_and_descriptions_say_what_is_shown(history_db: DB) -> None:
    store, h = history_db
    for chart in charts.build_charts(api.build_dashboard(store, h.now, policy=POLICY)):
        assert chart.title not in chart.note and chart.title not in chart.description
        assert chart.description not in chart.note and len(chart.description) > 20
        assert f'<title id="{chart.key}-title">{chart.title}</title>' in str(chart.svg)


def test_geometry() -> None:
    assert [svg.nice_max(v) for v in (0, 1, 3, 7, 11, 26, 446)] == [1, 1, 5, 10, 20, 50, 500]
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    times = [t0 + timedelta(days=i) for i in range(10)]
    ticks = svg.time_ticks(times)
    assert [t.anchor for t in ticks] == ["start", "middle", "middle", "end"]
    assert ticks[0].x_pct == 0 and ticks[-1].x_pct == 100 and ticks[0].label == "01 Nov"
    assert svg.time_ticks(times[:1])[0].anchor == "middle"
    bars = svg.column_row(["a", "b", "c"], [1, 0, 400], 30.0)
    assert [b.height for b in bars] == [3.0, 0.0, 30.0]  # a count above zero is never invisible
    ranked = svg.ranked_bars([("x", "a long detail " * 10, [("critical", "#f00", 1), ("low", "#00f", 3)])])
    assert ranked[0].total == 4 and ranked[0].end_pct == 85.0 and len(ranked[0].segments) == 2
    assert len(ranked[0].narrow_label + ranked[0].narrow_detail) <= svg.NARROW_CHARS
    assert svg.line_path([0, 500, 1000], [1.0, None, 0.5], 100) == "M0.0,0.0 M1000.0,50.0"
