"""Fixtures of the OSV tests: the handmade record folders, zips of them, a loaded database."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from secscan.scanners.osv import OsvDatabase
from tests.conftest import npm_tool

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NPM_RECORDS = Path(__file__).resolve().parent / "npm_records"
TOOLS = Path(__file__).resolve().parents[1] / "tools"

FIXTURE_IDS = ["GHSA-aaaa-bbbb-cccc", "PYSEC-2019-217", "PYSEC-2024-999", "x_NPM-0001"]


def zip_tree(source: Path, archive: Path, prefix: str = "") -> Path:
    """Zip every file under ``source`` (paths relative to it, under ``prefix``)."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(source).as_posix())
    return archive


@pytest.fixture(scope="session")
def fixture_db() -> OsvDatabase:
    return OsvDatabase.load(FIXTURES)


@pytest.fixture(scope="session")
def osv_validator(schemas: Path) -> Any:
    """A draft 2020-12 validator for the official OSV schema."""
    from jsonschema import Draft202012Validator

    schema = json.loads((schemas / "osv-schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


@pytest.fixture(scope="session")
def node_semver() -> Path:
    """npm's own ``semver`` package (node-semver), installed from the npm registry into tests/tools."""
    if shutil.which("node") is None:
        pytest.fail("node is needed to run npm's semver, the independent SemVer implementation")
    return npm_tool(Path("semver") / "package.json").parent
