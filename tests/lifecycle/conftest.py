"""Fixtures of the lifecycle command tests: a real store in a temporary file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from secscan.config.policy import load_policy
from secscan.core.policy import SeverityPolicy
from secscan.store import Store, open_store


@pytest.fixture(scope="session")
def policy() -> SeverityPolicy:
    return load_policy()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "secscan.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as s:
        yield s
