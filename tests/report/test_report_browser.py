"""The HTML dashboard in headless Chromium with the network cut off: no console errors, no
requests beyond the file itself, every chart rendered; a screenshot is kept as an artifact."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_browser import browser, ensure_chromium
from report_history import POLICY, History

from secscan.report import api
from secscan.store import Store

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # ignored by git through its own .gitignore
DB = tuple[Store, History]

_CHARTS = """Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const shapes = Array.from(svg.querySelectorAll('path, rect, text')).filter(e => {
    const b = e.getBoundingClientRect(); return b.width > 0 || b.height > 0; });
  const label = (svg.getAttribute('aria-labelledby') || '').split(' ')
    .map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
  return {width: box.width, height: box.height, shapes: shapes.length, label: label};
})"""


def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")


@pytest.fixture(scope="module")
def chromium() -> str:
    return ensure_chromium()


def _open(
    chromium: str, page: Path, profile: Path, shot: Path
) -> tuple[list[dict[str, object]], list[str], list[str], list[str]]:
    with browser(chromium, profile) as session:
        session.call("Page.navigate", {"url": page.as_uri()})
        session.wait_for("Page.loadEventFired")
        session.drain(1.0)
        charts = session.evaluate(_CHARTS)
        text = session.evaluate("document.body.innerText")
        session.screenshot(shot)
        return charts, session.errors + session.failed, session.requests, [text]


def test_dashboard_in_chromium(chromium: str, history_db: DB, tmp_path: Path) -> None:
    store, h = history_db
    page = api.write_report(store, tmp_path / "dashboard.html", "html", h.now, policy=POLICY)
    _artifacts()
    shot = ARTIFACTS / f"dashboard-{os.getpid()}.png"
    charts, errors, requests, (text,) = _open(chromium, page, tmp_path / "profile", shot)
    print(f"screenshot: {shot}")  # the test artifact
    assert errors == []
    assert requests == [page.as_uri()]  # the document itself and nothing else
    assert len(charts) == 5
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 100, chart  # type: ignore[operator]
        assert chart["shapes"] > 10, chart  # type: ignore[operator]
        assert len(str(chart["label"])) > 30
    assert "Security dashboard" in text and "Breached SLAs" in text
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_dashboard_in_chromium(
    chromium: str, empty_store: Store, history_db: DB, tmp_path: Path
) -> None:
    _, h = history_db
    page = api.write_report(empty_store, tmp_path / "empty.html", "html", h.now)
    _artifacts()
    shot = ARTIFACTS / f"empty-{os.getpid()}.png"
    charts, errors, requests, (text,) = _open(chromium, page, tmp_path / "profile", shot)
    print(f"screenshot: {shot}")
    assert errors == [] and requests == [page.as_uri()] and charts == []
    assert "No scans recorded yet" in text
