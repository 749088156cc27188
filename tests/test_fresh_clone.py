"""The suite runs on a fresh clone: vendored schemas, one way to reach ``../shared``, no
conftest name clashes between test folders."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import REPO, SCHEMAS, shared_path

VENDORED = ["sarif-schema-2.1.0.json", "osv-schema.json", "github-code-scanning-upload.json"]


@pytest.mark.parametrize("name", VENDORED)
def test_vendored_schema_equals_the_published_copy(name: str, shared: Callable[..., Path]) -> None:
    assert (SCHEMAS / name).read_bytes() == shared("specs", name).read_bytes()


def test_vendored_schemas_name_their_source_and_licence() -> None:
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    for name in VENDORED:
        assert f"`{name}`" in readme
    assert "Apache-2.0" in readme and "MIT" in readme and "OASIS" in readme


def test_missing_shared_data_skips_with_the_reason_or_fails_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conftest, "SHARED", tmp_path / "shared")
    monkeypatch.delenv(conftest.REQUIRE_SHARED, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"shared/data/osv-pypi is missing"):
        shared_path("data", "osv-pypi")
    monkeypatch.setenv(conftest.REQUIRE_SHARED, "1")
    with pytest.raises(pytest.fail.Exception, match=r"SECSCAN_REQUIRE_SHARED=1 requires it"):
        shared_path("data", "osv-pypi")
    (tmp_path / "shared" / "data" / "osv-pypi").mkdir(parents=True)
    assert shared_path("data", "osv-pypi") == tmp_path / "shared" / "data" / "osv-pypi"


def test_the_ci_script_requires_shared_data_when_it_is_there() -> None:
    """With ../shared beside the clone the suite may not skip its checks; without it (a fresh
    clone) .ci/run must still pass, so the requirement is conditional on the folder."""
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    guard = script.index("if [ -d ../shared ]; then")
    export = script.index("export SECSCAN_REQUIRE_SHARED=1")
    assert guard < export < script.index("else", export) < script.index('bash -euo pipefail -c "$second"')


def test_test_folders_can_be_collected_together() -> None:
    """Each folder's conftest is imported as ``conftest``: a test importing names from it gets
    whichever folder's was imported first (``cannot import name 'T0' from 'conftest'``)."""
    folders = ["tests/github", "tests/notify", "tests/lifecycle", "tests/report", "tests/osv", "tests/store"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "-p", "no:xdist",
         "-p", "no:cacheprovider", *folders],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "error" not in proc.stdout.lower().splitlines()[-1]
