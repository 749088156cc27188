"""Store fixtures: one contract suite, parametrised over every backend (an SQLite file, and a
PostgreSQL database of the session's throwaway server, see ``tests/postgres.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from secscan.store import Store, open_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as s:
        yield s
