"""Fixtures of the paging tests: a store, fake PagerDuty and Slack servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_helpers import FakeServer, serve

from secscan.store import Store, open_store


@pytest.fixture
def db(tmp_path: Path) -> str:
    """The store of a paging test: an SQLite file (``test_notify_e2e`` runs on every backend)."""
    return str(tmp_path / "state" / "secscan.db")


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    with open_store(db) as s:
        yield s


@pytest.fixture
def pagerduty() -> Iterator[FakeServer]:
    with serve(FakeServer("pagerduty", default=202)) as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeServer]:
    with serve(FakeServer("slack", default=200)) as fake:
        yield fake
