"""Fixtures of the report tests: a database with a known history, built once per module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # report_history, report_browser

from report_history import History, build_history, make_checkout

from secscan.store import Store, open_store
from tests.postgres import BACKENDS, backend_url


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkout(tmp_path_factory.mktemp("checkout") / "alpha")


@pytest.fixture(scope="module", params=BACKENDS)
def report_backend(request: pytest.FixtureRequest) -> str:
    """The store backend of a module's report databases (one parameter shared by all three, so a
    test that takes several gets them of one backend)."""
    return str(request.param)


@pytest.fixture(scope="module")
def history_db(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    checkout: Path,
    report_backend: str,
) -> Iterator[tuple[Store, History]]:
    with backend_url(request, report_backend, tmp_path_factory.mktemp("db")) as url, open_store(url) as store:
        history = build_history(store, {"alpha": str(checkout), "beta": "/nonexistent/beta"})
        yield store, history


@pytest.fixture
def empty_store(request: pytest.FixtureRequest, tmp_path: Path, report_backend: str) -> Iterator[Store]:
    with backend_url(request, report_backend, tmp_path, "empty.db") as url, open_store(url) as store:
        yield store


@pytest.fixture(scope="module")
def mixed_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, report_backend: str
) -> Iterator[tuple[Store, Path]]:
    """The database of ``report_mixed``: every kind of finding the morning report names."""
    import report_mixed

    shop = report_mixed.checkout(tmp_path_factory.mktemp("checkout") / "shop")
    folder = tmp_path_factory.mktemp("db")
    with backend_url(request, report_backend, folder) as url, open_store(url) as store:
        report_mixed.build(store, str(shop))
        yield store, shop
