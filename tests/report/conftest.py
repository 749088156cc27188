"""Fixtures of the report tests: a database with a known history, built once per module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # report_history, report_browser

from report_history import History, build_history, make_checkout

from secscan.store import Store, open_store


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkout(tmp_path_factory.mktemp("checkout") / "alpha")


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory, checkout: Path) -> Iterator[tuple[Store, History]]:
    path = tmp_path_factory.mktemp("db") / "secscan.db"
    with open_store(path) as store:
        history = build_history(store, {"alpha": str(checkout), "beta": "/nonexistent/beta"})
        yield store, history


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "empty.db") as store:
        yield store


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    """The database of ``report_mixed``: every kind of finding the morning report names."""
    import report_mixed

    shop = report_mixed.checkout(tmp_path_factory.mktemp("checkout") / "shop")
    with open_store(tmp_path_factory.mktemp("db") / "mixed.db") as store:
        report_mixed.build(store, str(shop))
        yield store, shop
