"""The scanners' installed versions (the result cache's keys) equal importlib.metadata's answers."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secscan.scanners import _versions
from secscan.scanners._versions import NotInstalledError, installed_version


def _every_installed() -> list[str]:
    return sorted({d.metadata["Name"] for d in importlib.metadata.distributions() if d.metadata["Name"]})


def test_every_installed_distribution_has_the_reference_version() -> None:
    names = _every_installed()
    assert len(names) > 20  # the test environment, secscan's scanners among them
    for name in names:
        assert installed_version(name) == importlib.metadata.version(name), name
    for scanner in ("bandit", "detect-secrets", "pip-audit", "zizmor", "detect_secrets", "Bandit"):
        assert installed_version(scanner) == importlib.metadata.version(scanner)


def test_a_missing_distribution_is_not_installed() -> None:
    with pytest.raises(NotInstalledError):
        installed_version("no-such-distribution-secscan-test")


def _dist(folder: Path, name: str, version: str, *, kind: str = "dist-info") -> Path:
    meta = folder / f"{name}-{version}.{kind}"
    meta.mkdir(parents=True)
    header = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nVersion: 9.9.9 (the body)\n"
    (meta / ("METADATA" if kind == "dist-info" else "PKG-INFO")).write_text(header)
    return meta


def _bump_mtime(folder: Path) -> None:
    later = time.time_ns() + 5_000_000_000
    os.utime(folder, ns=(later, later))


def test_an_upgrade_is_seen_by_the_same_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    old = _dist(tmp_path, "secscan_probe_tool", "1.0")
    assert installed_version("secscan-probe-tool") == "1.0"
    old.rename(tmp_path / "secscan_probe_tool-2.0.dist-info")
    (tmp_path / "secscan_probe_tool-2.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: secscan_probe_tool\nVersion: 2.0\n"
    )
    _bump_mtime(tmp_path)  # the rename changed the folder; make sure the clock shows it
    assert installed_version("secscan-probe-tool") == "2.0" == importlib.metadata.version("secscan-probe-tool")


def test_the_first_folder_on_the_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "secscan_probe_order", "3.0")
    _dist(second, "secscan_probe_order", "1.0")
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.syspath_prepend(str(first))
    assert installed_version("secscan-probe-order") == "3.0" == importlib.metadata.version("secscan-probe-order")


@pytest.mark.parametrize("layout", ["egg-info", "two dist-infos"])
def test_unusual_installs_get_the_reference_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    if layout == "egg-info":
        _dist(tmp_path, "secscan_probe_odd", "4.0", kind="egg-info")
    else:
        _dist(tmp_path, "secscan_probe_odd", "4.0")
        _dist(tmp_path, "secscan_probe_odd", "5.0")
    assert _versions._fast("secscan-probe-odd") is None  # deferred, not guessed
    assert installed_version("secscan-probe-odd") == importlib.metadata.version("secscan-probe-odd")


def test_the_fast_path_does_not_load_importlib_metadata() -> None:
    code = (
        "import sys; from secscan.scanners._versions import installed_version\n"
        "print(installed_version('bandit'), 'importlib.metadata' in sys.modules, 'email' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [importlib.metadata.version("bandit"), "False", "False"]
