"""Atomic output files: a writer killed mid-write leaves its temporary file, which a later write
of the same output removes once it is an hour old (a daemon's folders must not fill with them)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from secscan.report.sinks.file import STALE_AFTER_S, write_text_atomic


def _aged(path: Path, seconds: float) -> Path:
    path.write_text("half a log")
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_a_killed_writers_old_temporary_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    out = tmp_path / "secscan.sarif"
    stale = _aged(tmp_path / ".secscan.sarif.k2j_9x0a.tmp", STALE_AFTER_S + 60)
    live = _aged(tmp_path / ".secscan.sarif.ab12cd34.tmp", 5)  # a writer still at work
    other = _aged(tmp_path / ".other.sarif.k2j_9x0b.tmp", STALE_AFTER_S + 60)  # another output's
    unlike = _aged(tmp_path / ".secscan.sarif.not-made-by-us.tmp", STALE_AFTER_S + 60)
    write_text_atomic(out, "{}\n")
    assert out.read_text() == "{}\n"
    assert not stale.exists()
    assert live.exists() and other.exists() and unlike.exists()


def test_a_link_named_like_a_temporary_file_is_left_alone(tmp_path: Path) -> None:
    target = _aged(tmp_path / "keep.txt", STALE_AFTER_S + 60)
    link = tmp_path / ".report.html.zz99zz99.tmp"
    link.symlink_to(target)
    os.utime(link, (time.time() - 2 * STALE_AFTER_S,) * 2, follow_symlinks=False)
    write_text_atomic(tmp_path / "report.html", "<html></html>")
    assert link.is_symlink() and target.exists()
