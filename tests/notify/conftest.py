"""Fixtures of the paging tests: a store of each backend, fake PagerDuty and Slack servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notify_helpers import FakeServer, serve

from secscan.store import Store, open_store


@pytest.fixture
def db(store_url: str) -> str:
    """The store of a paging test, on each backend (an SQLite file or a PostgreSQL URL)."""
    return store_url


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
