"""The HTML dashboard in headless Chromium with the network cut off, at 1400 and 390 px wide:
no console errors, no requests beyond the file, no horizontal overflow, the open critical named in
the first screenful, every chart drawn with legible, unclipped text. Full-page screenshots at
both widths are kept as artifacts, and the first screenful is checked pixel by pixel."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from report_browser import Session, browser, ensure_chromium, png_pixels
from report_history import History
from report_mixed import AREAS, AWS_NAME, NOW, POLICY

from secscan.config.report import ReportConfig
from secscan.core.model import Severity
from secscan.report import api
from secscan.report.palette import OKABE_ITO
from secscan.store import Store

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # ignored by git through its own .gitignore
WIDTHS = {1400: 900, 390: 844}  # a desktop and a phone: width -> first screenful's height


@pytest.fixture(scope="module")
def report_backend() -> str:
    """The page is drawn from the store's read models, which the other report tests check on
    every backend: the browser runs once, over SQLite."""
    return "sqlite-file"

_CHARTS = """Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const visible = e => { const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
  const texts = Array.from(svg.querySelectorAll('text')).filter(t => getComputedStyle(t).display !== 'none');
  const clipped = texts.filter(t => { const b = t.getBoundingClientRect();
    return b.width > 0 && (b.left < box.left - 0.5 || b.right > box.right + 0.5 || b.top < box.top - 0.5
      || b.bottom > box.bottom + 0.5); }).map(t => t.textContent);
  const label = (svg.getAttribute('aria-labelledby') || '').split(' ')
    .map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
  return {key: svg.closest('figure').id, width: box.width, height: box.height,
          marks: Array.from(svg.querySelectorAll('.mark')).filter(visible).length,
          texts: texts.filter(visible).length, clipped: clipped, label: label,
          smallest: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize)))};
})"""
_CLIPPED_TEXT = """Array.from(document.querySelectorAll('body *')).filter(e => {
  const s = getComputedStyle(e);
  return ['hidden', 'clip'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1;
}).map(e => e.tagName + '#' + e.id + ': ' + e.textContent.slice(0, 60))"""
_CRITICAL = """(() => {
  const row = document.querySelector('#urgent tbody tr');
  const name = row.querySelector('.name'), chip = row.querySelector('.sev');
  const b = name.getBoundingClientRect(), c = chip.getBoundingClientRect();
  return {name: name.textContent, severity: chip.textContent, top: b.top, bottom: b.bottom,
          left: b.left, right: b.right, chip: [c.left, c.top, c.width, c.height]};
})()"""


@pytest.fixture(scope="module")
def chromium() -> str:
    return ensure_chromium()


def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")


def _at_width(session: Session, url: str, width: int) -> dict[str, Any]:
    height = WIDTHS[width]
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    session.call("Emulation.setDeviceMetricsOverride", metrics)
    session.call("Page.navigate", {"url": url})
    session.wait_for("Page.loadEventFired")
    found = {
        "overflow": session.evaluate("[document.scrollingElement.scrollWidth, innerWidth]"),
        "critical": session.evaluate(_CRITICAL),
        "charts": session.evaluate(_CHARTS),
        "clipped": session.evaluate(_CLIPPED_TEXT),
        "text": session.evaluate("document.body.innerText"),
    }
    x, y, w, h = found["critical"]["chip"]  # the first screenful, where the critical's chip is
    chip = session.call(
        "Page.captureScreenshot",
        {"format": "png", "clip": {"x": x, "y": y, "width": w, "height": h, "scale": 1}},
    )
    found["chip"] = png_pixels(base64.b64decode(chip["data"]))
    full = int(session.evaluate("document.documentElement.scrollHeight"))
    session.call("Emulation.setDeviceMetricsOverride", {**metrics, "height": min(full, 12000)})
    shot = session.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path = ARTIFACTS / f"dashboard-{width}-{os.getpid()}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    found["shot"] = path
    return found


def test_dashboard_in_chromium_at_1400_and_390_px(
    chromium: str, mixed_db: tuple[Store, Path], tmp_path: Path
) -> None:
    store, _ = mixed_db
    config = ReportConfig(areas=AREAS)
    page = api.write_report(store, tmp_path / "dashboard.html", "html", NOW, policy=POLICY, config=config)
    _artifacts()
    with browser(chromium, tmp_path / "profile") as session:
        seen = {width: _at_width(session, page.as_uri(), width) for width in WIDTHS}
        session.drain(0.5)
        errors, requests = session.errors + session.failed, session.requests
    assert errors == []
    assert set(requests) == {page.as_uri()}  # the document itself and nothing else
    vermillion = tuple(int(OKABE_ITO[Severity.CRITICAL][i : i + 2], 16) for i in (1, 3, 5))
    for width, found in seen.items():
        print(f"screenshot at {width} px: {found['shot']}")  # the test artifacts
        scroll, inner = found["overflow"]
        assert inner == width and scroll <= inner, f"horizontal overflow at {width} px"
        critical = found["critical"]
        assert critical["name"] == AWS_NAME and critical["severity"] == "critical"
        assert critical["top"] >= 0 and critical["bottom"] <= WIDTHS[width], "not in the first screenful"
        assert critical["left"] >= 0 and critical["right"] <= width
        w, h, pixels = found["chip"]  # the screenshot shows the critical chip in its colour
        assert (w, h) == (round(critical["chip"][2]), round(critical["chip"][3]))
        assert sum(p == vermillion for p in pixels) > 0.5 * len(pixels)
        assert found["clipped"] == [], found["clipped"]
        assert len(found["charts"]) == 5
        for chart in found["charts"]:
            assert chart["width"] >= min(width - 40, 1100) and chart["height"] > 60, chart
            assert chart["marks"] >= 1 and chart["texts"] >= 3, chart
            assert chart["clipped"] == [], chart
            assert chart["smallest"] >= 11, chart  # legible: text is not scaled down with the chart
            assert len(str(chart["label"])) > 30
        age = next(c for c in found["charts"] if c["key"] == "fig-age")
        assert age["marks"] >= 5  # critical, high, two mediums, low: every non-empty cell drawn
        assert "Act on today: 5 open critical and high findings" in found["text"]
        shot = found["shot"].read_bytes()
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(shot[16:20], "big") == width


def test_empty_dashboard_in_chromium(
    chromium: str, empty_store: Store, history_db: tuple[Store, History], tmp_path: Path
) -> None:
    _, h = history_db
    page = api.write_report(empty_store, tmp_path / "empty.html", "html", h.now)
    with browser(chromium, tmp_path / "profile") as session:
        session.call("Page.navigate", {"url": page.as_uri()})
        session.wait_for("Page.loadEventFired")
        charts = session.evaluate("document.querySelectorAll('svg.chart').length")
        text = session.evaluate("document.body.innerText")
        session.drain(0.3)
        assert session.errors + session.failed == [] and session.requests == [page.as_uri()]
    assert charts == 0 and "No scans recorded yet" in text
