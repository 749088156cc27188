"""The gate must give exactly what detect-secrets' own line loop gives, on files and on diffs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.scanners import _detect_secrets_gate as gate_module
from secscan.scanners._detect_secrets_prefilter import Prefilter

# Lines that plugins match, built from parts so this file is no finding of its own.
SECRET_LINES = (
    "aws = '" + "AKIA" + "ZQ3M7V2LXK4P9T1R'",
    "password = 'Zx9-q8w7e6r5t4y3'",
    "password = get_secret_key('Zx9-q8w7e6r5t4y3')",
    "db_password = 'q1w2e3r4t5y6u7i8'  # pragma: allowlist secret",
    "# pragma: allowlist nextline secret",
    "hex = '6f1ed002ab5595859014ebf0951522d9'",
    "url: https://u:" + "pa55w0rd@example.com/",
    "jwt = " + "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "key: -----BEGIN RSA " + "PRIVATE KEY-----",
    "API_KEY: 'Zx9q8w7e6r5t4y3'",
)
PLAIN_LINES = ("def add(a, b): return a + b", "", "    x = [1, 2, 3]", "// comment", "name: build")
FILENAMES = ("app.py", "config.yaml", "app.js", "settings.ini", "notes.txt")


def _results(function: Any, lines: list[tuple[int, str]], filename: str) -> list[tuple[int, str, str]]:
    return [(s.line_number, s.type, s.secret_hash) for s in function(lines, filename)]


@pytest.fixture(scope="module")
def loops() -> Iterator[tuple[Any, Any]]:
    from detect_secrets.core import scan
    from detect_secrets.settings import default_settings

    original = scan._process_line_based_plugins
    original = getattr(original, "__wrapped_original__", original)
    with default_settings():
        yield original, gate_module.gated(original)


_LINE = st.sampled_from(SECRET_LINES + PLAIN_LINES) | st.text(
    alphabet=st.sampled_from(list("=:'\" #-_/abcP0")), max_size=30
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3), _LINE), max_size=25),
    st.sampled_from(FILENAMES),
)
def test_the_gate_gives_what_detect_secrets_gives(
    loops: tuple[Any, Any], numbered: list[tuple[int, str]], filename: str
) -> None:
    """Line numbers with gaps, as a diff scan passes them (its snippets are then built from the
    added lines only): the gated loop must give the same secrets on the same lines."""
    original, gated = loops
    lines, number = [], 0
    for step, text in numbered:
        number += step
        lines.append((number, text + "\n"))
    assert _results(gated, lines, filename) == _results(original, lines, filename)


def test_the_corpus_finds_secrets_and_the_nextline_pragma_works(loops: tuple[Any, Any]) -> None:
    original, gated = loops
    lines = list(enumerate((*SECRET_LINES, SECRET_LINES[1], *PLAIN_LINES), start=1))
    found = _results(gated, lines, "app.py")
    assert found == _results(original, lines, "app.py")
    assert len(found) >= 5
    assert 6 not in {line for line, _, _ in found}  # the line after the nextline pragma


def test_lines_no_plugin_can_match_are_not_filtered_or_scanned(
    loops: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from detect_secrets.core import scan

    _, gated = loops
    seen: list[str] = []
    filtered = scan._is_filtered_out

    def _is_filtered_out(required_filter_parameters: Any, **kwargs: Any) -> bool:
        if list(required_filter_parameters) == ["line"]:
            seen.append(kwargs["line"])
        return filtered(required_filter_parameters=required_filter_parameters, **kwargs)

    monkeypatch.setattr(scan, "_is_filtered_out", _is_filtered_out)
    lines = [(1, "def add(a, b): return a + b\n"), (2, SECRET_LINES[1] + "\n"), (3, "x = [1, 2]\n")]
    assert len(_results(gated, lines, "app.py")) == 1
    assert seen == [SECRET_LINES[1]]


def test_the_gate_is_off_with_a_filter_from_elsewhere_or_an_unknown_plugin() -> None:
    from detect_secrets.core import scan
    from detect_secrets.settings import default_settings

    class Custom:
        def analyze_line(self, **kwargs: Any) -> list[Any]:
            return []

    def own() -> None: ...

    def foreign() -> None: ...

    own.path = "detect_secrets.filters.heuristic.is_lock_file"  # type: ignore[attr-defined]
    foreign.path = "file://filters.py::mine"  # type: ignore[attr-defined]
    prefilter = Prefilter()
    with default_settings():
        plugins = scan.get_plugins()
        assert gate_module.gate(prefilter, plugins, [own]) is not None
        assert gate_module.gate(prefilter, plugins, [own, foreign]) is None
        assert gate_module.gate(prefilter, [*plugins, Custom()], [own]) is None


def test_a_changed_loop_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from detect_secrets.core import scan

    def _process_line_based_plugins(lines: Any, filename: str) -> Any:
        return iter(())

    monkeypatch.setattr(scan, "_process_line_based_plugins", _process_line_based_plugins)
    assert gate_module.install() is False
    assert scan._process_line_based_plugins is _process_line_based_plugins
