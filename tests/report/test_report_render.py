"""HTML, Markdown and JSON carry the same figures; untrusted text stays inert; files are atomic."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_history import HOSTILE_NAME, HOSTILE_RULE, POLICY, History

from secscan.core.errors import SinkError
from secscan.report import api, markdown
from secscan.store import Store

DB = tuple[Store, History]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


@pytest.fixture(scope="module")
def outputs(history_db: DB, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    store, h = history_db
    folder = tmp_path_factory.mktemp("out")
    return {
        fmt: api.write_report(store, folder / f"report.{fmt}", fmt, h.now, policy=POLICY).read_text(
            encoding="utf-8"
        )
        for fmt in ("html", "md", "json")
    }


def test_html_is_self_contained_and_inert(outputs: dict[str, str]) -> None:
    page = outputs["html"]
    tags = _tags(page)
    names = {t for t, _ in tags}
    assert "script" not in names and "iframe" not in names and "link" not in names and "img" not in names
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0] or "")
    for _, attrs in tags:
        for key, value in attrs.items():
            assert not key.startswith("on"), key  # no event handlers
            if key in ("src", "href") and value and not value.startswith("#"):
                assert key == "href" and value.startswith("https://github.com/acme/alpha-service/blob/HEAD/")
    assert "@import" not in page and not re.search(r"url\((?!#)", page)  # CSS fetches nothing
    urls = set(re.findall(r"(?:https?:)?//[^\s\"'<>)]+", page)) - {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    urls = {u for u in urls if not u.startswith("http://evil")}  # hostile rule ids and names, as text
    assert all(u.startswith("https://github.com/acme/alpha-service/") for u in urls), urls
    assert HOSTILE_RULE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE_NAME not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert len(page) < 2_000_000


def test_every_chart_has_a_text_alternative(outputs: dict[str, str]) -> None:
    page = outputs["html"]
    figures = re.findall(r"<figure\b.*?</figure>", page, flags=re.S)
    svgs = [f[f.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :] for f in figures]
    assert len(svgs) == 5
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # charts' ids do not collide inside one document
    for svg in svgs:
        head = svg[: svg.index(">")]
        assert 'role="img"' in head and "aria-labelledby" in head
        title = re.search(r"<title[^>]*>([^<]+)</title>", svg)
        desc = re.search(r"<desc[^>]*>([^<]+)</desc>", svg)
        assert title and desc and len(desc.group(1)) > 20
        assert not desc.group(1).startswith(title.group(1))  # the description does not repeat the title
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert len(captions) == 5 and page.count("<summary>Data table</summary>") == 5
    for caption, svg in zip(captions, svgs, strict=True):
        title = re.search(r"<title[^>]*>([^<]+)</title>", svg)
        desc = re.search(r"<desc[^>]*>([^<]+)</desc>", svg)
        assert title and desc
        assert caption.count(title.group(1)) == 1  # said once: no "Title. Title: ..." any more
        assert desc.group(1) not in caption


def test_the_three_formats_carry_the_same_figures(history_db: DB, outputs: dict[str, str]) -> None:
    store, h = history_db
    report = api.build_dashboard(store, h.now, policy=POLICY)
    doc = json.loads(outputs["json"])
    m = report.metrics
    assert doc["metrics"]["score"] == m.score and doc["metrics"]["open"] == report.open
    assert doc["metrics"]["sla_compliance_pct"] == round(m.sla_compliance or 0, 1)
    assert doc["summary"]["open_by_severity"] == {s.value: n for s, n in report.open_by_severity.items()}
    assert doc["summary"]["sla_breached"] == report.breached == len(doc["breached"])
    assert [b["fingerprint"] for b in doc["breached"]] == [
        r.finding.fingerprint for r in report.breached_rows
    ]
    assert doc["trend"][-1]["open"] == doc["summary"]["open_by_severity"]
    md, page = outputs["md"], outputs["html"]
    assert f"Security score: **{m.score:g}**" in md and f"SLA compliance: **{m.sla_compliance:.1f}%**" in md
    assert f"SLA breached (open): **{report.breached}**" in md
    assert f"{m.sla_compliance:.1f}%" in page and f"<td>{m.score:g}</td>" in page
    for row in report.breached_rows[:3]:
        short = row.finding.fingerprint[:16]
        assert short in md and short in page and short in outputs["json"]


def test_markdown_cells_are_inert() -> None:
    text = markdown.cell("a|b <img src=x> [x](http://e.x) @team\nnext `code`")
    assert "|" not in text.replace("\\|", "") and "<" not in text and "](" not in text
    assert "@team" not in text and "\n" not in text and "`" not in text.replace("\\`", "")


def test_empty_database_gives_a_friendly_page(empty_store: Store, tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    page = api.write_report(empty_store, tmp_path / "r.html", "html", now).read_text()
    assert "No scans recorded yet" in page and "secscan run PATH" in page and "<svg" not in page
    md = api.write_report(empty_store, tmp_path / "r.md", "md", now).read_text()
    assert "No scans recorded yet" in md
    doc = json.loads(api.write_report(empty_store, tmp_path / "r.json", "json", now).read_text())
    assert doc["empty"] is True and doc["metrics"]["findings"] == 0 and doc["metrics"]["score"] == 100.0


def test_write_is_atomic(empty_store: Store, tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    target = tmp_path / "r.md"
    target.write_text("previous")
    with pytest.raises(SinkError, match="does not exist"):
        api.write_report(empty_store, tmp_path / "missing" / "r.md", "md", now)
    api.write_report(empty_store, target, "md", now)
    assert target.read_text().startswith("# Security dashboard")
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"] or sorted(p.name for p in tmp_path.iterdir()) == [
        "empty.db",
        "empty.db-shm",
        "empty.db-wal",
        "r.md",
    ]
