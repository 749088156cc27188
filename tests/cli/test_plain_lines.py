"""secscan.cli.plain writes a line itself only where rich would write the very same bytes."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from secscan.cli import plain

LINES = [
    "pip-audit: ok in 0.1 s, 102 findings",
    "bandit: failed in 0.0 s, 0 findings: tool said: http://x:80/ [bold]no[/]",
    "x" * 400,
    "trailing   ",
    "  leading, ünï ✓ 漢字 e\u0301 a\u00a0b \x7f",
    '{\n  "a": "\\t\\r"\n}',
    "a\tb",
    "a:smile:b",
    "a:warning-emoji:b",
    "a\rb",
    "bell\a",
    "form\ffeed",
]


def _rich(text: str, *, out: bool) -> str:
    file = io.StringIO()
    console = Console(file=file, force_terminal=False, width=80)
    if out:
        console.out(text, highlight=False)
    else:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
    return file.getvalue()


@pytest.mark.parametrize("text", LINES)
@pytest.mark.parametrize("out", [False, True], ids=["print", "out"])
def test_a_line_judged_unchanged_is_what_rich_writes(text: str, out: bool) -> None:
    """Sound, and conservative: a line that only looks like an emoji code goes through rich too."""
    if plain.unchanged_by_rich(text, emoji=not out):
        assert _rich(text, out=out) == text + "\n"


def test_the_lines_rich_changes_are_recognised() -> None:
    changed = [t for t in LINES if _rich(t, out=False) != t + "\n"]
    assert changed and not any(plain.unchanged_by_rich(t, emoji=True) for t in changed)


@pytest.mark.parametrize("text", LINES)
def test_write_line_gives_the_consoles_bytes(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    plain.write_line(text, lambda: Console(stderr=True), stderr=True)
    assert stream.getvalue() == _rich(text, out=False)
    stream.seek(0)
    stream.truncate()
    plain.write_line(text, lambda: Console(stderr=True, quiet=True), stderr=True, quiet=True)
    assert stream.getvalue() == ""


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("variable", ["TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE"])
def test_only_a_stream_rich_surely_sees_as_no_terminal_is_plain(variable: str) -> None:
    assert plain.no_terminal(io.StringIO(), {})
    assert not plain.no_terminal(_Tty(), {})
    assert not plain.no_terminal(io.StringIO(), {variable: "1"})
