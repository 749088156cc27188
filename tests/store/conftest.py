"""Store fixtures: one contract suite, parametrised over every backend (SQLite file for now)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from secscan.store import Store, open_store


@pytest.fixture(params=["sqlite-file"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite-file":
        return str(tmp_path / "state" / "secscan.db")
    raise AssertionError(request.param)  # pragma: no cover


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as s:
        yield s
