"""The detect-secrets wrapper's short-cuts must never change detect-secrets' results."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.scanners import _detect_secrets_main as wrapper
from secscan.scanners import _detect_secrets_prefilter as prefilter
from secscan.scanners.detect_secrets import DETECT_SECRETS_MAIN

AWS = "AKIA" + "ZQ3M7V2LXK4P9T1R"  # split so this file is no finding of its own
CORPUS = {
    "app.py": (
        f"aws_key = '{AWS}'\n"
        "password = 'Zx9-q8w7e6r5t4y3'\n"
        "password = get_secret_key('Zx9-q8w7e6r5t4y3')\n"  # indirect reference: filtered
        "secret = request.headers['Zx9-q8w7e6r5t4y3']\n"  # indirect reference: filtered
        "if token == 'Zx9-q8w7e6r5t4y3': pass\n"
        "api_key := lookup['k'](\"Zx9-q8w7e6r5t4y3\")\n"
        "db_password = 'q1w2e3r4t5y6u7i8'  # pragma: allowlist secret\n"
        + "x" * 1200
        + " password = get('Zx9-q8w7e6r5t4y3')\n"  # over 1000 characters: not filtered
        + "hex = '6f1ed002ab5595859014ebf0951522d9'\n"
        "b64 = 'c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZy1lbm91Z2g='\n"
    ),
    "config.yaml": "db:\n  password: hunter2hunter2\n  token: !!str abc(def)ghi]\nurl: https://u:pa55w0rd@example.com/\n",
    "settings.ini": "[auth]\npassword = get_secret()\nsecret_key = 'Zx9-q8w7e6r5t4y3'\n",
    "app.js": "const secret = process.env['X'] !== 'Zx9-q8w7e6r5t4y3';\n"
    'let password = "Zx9-q8w7e6r5t4y3";\n',
    # High-entropy literals inside indirect references: reported only without the filter
    "refs.py": "key = get_key('6f1ed002ab5595859014ebf0951522d9')\n"
    "x = lookup['c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZy1lbm91Z2g=']\n",
    "refs.yaml": "a: f('6f1ed002ab5595859014ebf0951522d9')\npassword: request.headers['Zx9q8w7e6r5t4y3']\n",
    "notes.md": "The password is `Zx9-q8w7e6r5t4y3`.\n" + "no operator here " * 200 + "\n",
    # read as INI first: a whitespace run without "=" (quadratic in configparser's own pattern)
    "spaced.txt": "[auth]\npassword = 'Zx9-q8w7e6r5t4y3'\nzz" + " " * 3000 + "x\nsecret   :   'q1w2e3r4t5y6u7i8'\n",
}


def _scan(module: str, root: Path, *extra: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-P", "-m", module, "-c", "1", "scan", "-n", *extra, "--", *sorted(CORPUS)],
        cwd=root, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    baseline: dict[str, Any] = json.loads(proc.stdout)
    baseline.pop("generated_at")
    return baseline


def _found(baseline: dict[str, Any]) -> set[tuple[str, int, str]]:
    return {(path, s["line_number"], s["type"]) for path, items in baseline["results"].items() for s in items}


def test_wrapper_gives_exactly_detect_secrets_results(tmp_path: Path) -> None:
    for name, text in CORPUS.items():
        (tmp_path / name).write_text(text)
    ours = _scan(DETECT_SECRETS_MAIN, tmp_path)
    theirs = _scan("detect_secrets", tmp_path)
    assert ours == theirs
    assert len(_found(ours)) >= 5, "the corpus must produce findings"
    # The corpus exercises the filter the wrapper rewrites: without it, more is reported.
    unfiltered = _scan("detect_secrets", tmp_path, "--disable-filter",
                       "detect_secrets.filters.heuristic.is_indirect_reference")  # fmt: skip
    assert _found(ours) < _found(unfiltered)


@pytest.fixture
def pristine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the wrapper installs in this process is undone after the test."""
    import importlib

    for name in (*wrapper._CALLERS, "detect_secrets.util.inject"):
        monkeypatch.setattr(importlib.import_module(name), "call_function_with_arguments",
                            importlib.import_module(name).call_function_with_arguments)  # fmt: skip
    from detect_secrets.filters import heuristic

    monkeypatch.setattr(heuristic, "_get_indirect_reference_regex", heuristic._get_indirect_reference_regex)
    from detect_secrets.core import scan

    monkeypatch.setattr(scan, "_scan_line", scan._scan_line)
    monkeypatch.setattr(scan, "_process_line_based_plugins", scan._process_line_based_plugins)
    import configparser

    monkeypatch.setattr(configparser.RawConfigParser, "OPTCRE", configparser.RawConfigParser.OPTCRE)


@pytest.mark.usefixtures("pristine")
def test_every_short_cut_applies_to_the_installed_detect_secrets() -> None:
    """An upgrade of detect-secrets that silently disables them should be noticed here."""
    assert wrapper.install() == (True, True, True, True, True)
    assert wrapper.install() == (True, True, True, True, True)  # idempotent


@pytest.mark.usefixtures("pristine")
def test_a_changed_detect_secrets_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from detect_secrets.core import scan
    from detect_secrets.filters import heuristic
    from detect_secrets.util import inject

    def call_function_with_arguments(func: Any, **kwargs: Any) -> Any:
        return func(**kwargs)

    def _get_indirect_reference_regex() -> re.Pattern[str]:
        return re.compile(r"([^\v=!:]*)\s*(:=?|[!=]{1,3})\s*([\w.-]+\[[^\v]*\])")

    monkeypatch.setattr(inject, "call_function_with_arguments", call_function_with_arguments)
    monkeypatch.setattr(scan, "call_function_with_arguments", call_function_with_arguments)
    monkeypatch.setattr(heuristic, "_get_indirect_reference_regex", _get_indirect_reference_regex)

    def _scan_line(plugin: Any, **kwargs: Any) -> Any:
        return plugin.analyze_line(**kwargs)

    def _process_line_based_plugins(lines: Any, filename: str) -> Any:
        return iter(())

    monkeypatch.setattr(scan, "_scan_line", _scan_line)
    monkeypatch.setattr(scan, "_process_line_based_plugins", _process_line_based_plugins)
    import configparser

    changed = re.compile(r"(?P<option>.*?)\s*(?P<vi>=)\s*(?P<value>.*)$")
    monkeypatch.setattr(configparser.RawConfigParser, "OPTCRE", changed)
    assert wrapper.install() == (False, False, False, False, False)
    assert configparser.RawConfigParser.OPTCRE is changed
    assert scan._scan_line is _scan_line
    assert scan._process_line_based_plugins is _process_line_based_plugins
    assert inject.call_function_with_arguments is call_function_with_arguments
    assert scan.call_function_with_arguments is call_function_with_arguments
    assert heuristic._get_indirect_reference_regex is _get_indirect_reference_regex


class _Plugin:
    def analyze_line(self, filename: str, line: str, context: object = None) -> tuple[str, str, object]:
        return filename, line, context


def _filter(secret: str, line: str) -> str:
    return f"{secret}|{line}"


def test_dispatch_passes_what_the_original_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    from detect_secrets.util import inject

    original = inject.call_function_with_arguments
    fast = wrapper._dispatcher(original)
    _filter.injectable_variables = {"secret", "line"}  # type: ignore[attr-defined]
    kwargs = {"filename": "f.py", "line": "x = 1", "secret": "s", "line_number": 3, "context": None}
    plugin = _Plugin()
    for _ in range(2):  # the first call records the plugin's variables, the second uses them
        assert fast(plugin.analyze_line, **kwargs) == original(plugin.analyze_line, **kwargs)
        assert fast(_filter, **kwargs) == original(_filter, **kwargs) == "s|x = 1"
    with pytest.raises(TypeError):
        original(_filter, line="only")
    with pytest.raises(TypeError):
        fast(_filter, line="only")


_ALPHABET = st.sampled_from(list("=!:-_.()[]{}'\"\\ \t\v\nab1$")) | st.characters()


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_reduced_pattern_matches_exactly_when_the_original_does(line: str) -> None:
    original = re.compile(wrapper.INDIRECT_PATTERN)
    reduced = re.compile(wrapper.REDUCED_PATTERN)
    assert bool(original.search(line)) == bool(reduced.search(line))


@pytest.mark.parametrize(
    "line",
    [
        "password = get_secret_key()",
        "secret = request.headers['apikey']",
        "x := f(y)",
        "a !== b[c]",
        "if k == 'v': pass",
        "no operator (here)",
        "a = b",
        "a=\vb(c)",
        "== x(",
    ],
)
def test_reduced_pattern_on_the_documented_examples(line: str) -> None:
    original = re.compile(wrapper.INDIRECT_PATTERN)
    assert bool(original.search(line)) == bool(re.compile(wrapper.REDUCED_PATTERN).search(line))


# Lines that each plain regex plugin matches (built from parts, so this file is no finding).
TOKENS = (
    "AKIA" + "ZQ3M7V2LXK4P9T1R",
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "-----BEGIN RSA " + "PRIVATE KEY-----",
    "https://hooks.slack.com/services/" + "T0000/B0000/XXXXXXXXXXXXXXXX",
    "xox" + "b-1234-5678-abcdefghij",
    "sk" + "_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2",
    "https://user:" + "pa55w0rd@example.com/",
    "//registry.npmjs.org/:_authToken=" + "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "SG." + "a" * 22 + "." + "b" * 43,
    "AC" + "0123456789abcdef0123456789abcdef",
    "glpat-" + "abcdefghijklmnopqrst",
    'password = "' + 'Zx9-q8w7e6r5t4y3"',
    "'" + "6f1ed002ab5595859014ebf0951522d9" + "'",
    '"' + "c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZy1lbm91Z2g=" + '"',
    "API_KEY: " + "'Zx9q8w7e6r5t4y3'",
)


def _both(
    line: str, filename: str = "app.py"
) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    """Every plugin's secrets on ``line`` through the original ``_scan_line`` and the short-cut."""
    from detect_secrets.core import scan
    from detect_secrets.settings import default_settings
    from detect_secrets.util.code_snippet import CodeSnippet

    original = scan._scan_line
    fast = prefilter.prefiltered(original)
    context = CodeSnippet([line], 0, 0)
    found: tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]] = ([], [])
    with default_settings():
        for plugin in scan.get_plugins():
            for out, function in zip(found, (original, fast), strict=True):
                secrets = function(
                    plugin=plugin, filename=filename, line=line, line_number=1, context=context
                )
                out.extend(sorted((s.type, s.secret_value) for s in secrets))
    return found


@pytest.mark.parametrize("token", TOKENS)
def test_the_prefilter_keeps_what_each_plain_plugin_finds(token: str) -> None:
    original, fast = _both(f"value = {token}  # and more")
    assert fast == original and original  # every token is found, by the same plugins


_TEXT = st.sampled_from(list("=!:-_./@()[]{}'\"\\ \tab1$")) | st.characters(exclude_categories=("Cs",))
"""Line text as a file gives it to detect-secrets: decoded, so without surrogates (which detect-secrets
itself cannot hash)."""


FILENAMES = ("app.py", "config.yaml", "main.go", "app.js", "Main.java", "settings.ini", "notes.txt", "x.c")


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=_TEXT, max_size=80),
    st.sampled_from(("", *TOKENS)),
    st.sampled_from(FILENAMES),
    st.sampled_from(("", "password", "Secret", "API_KEY", "contraseña")),
)
def test_the_prefilter_gives_what_the_original_gives_on_any_line(
    text: str, token: str, filename: str, word: str
) -> None:
    line = word + text[: len(text) // 2] + token + text[len(text) // 2 :]
    original, fast = _both(line, filename)
    assert fast == original


def test_every_keyword_pattern_requires_a_keyword() -> None:
    """The keyword condition holds because each pattern KeywordDetector tries has the keyword
    group at its top level (a mandatory part of every match); the pinned digest covers these."""
    import hashlib
    import re._parser as parser  # the test may read the private parser; the code pins a digest

    from detect_secrets.plugins import keyword

    group = parser.parse(keyword.DENYLIST_REGEX).data[0]
    patterns = prefilter.keyword_patterns()
    assert hashlib.sha256(repr(patterns).encode()).hexdigest() == prefilter.KEYWORD_PATTERNS
    for pattern, flags in patterns:
        top = parser.parse(pattern, flags).data
        assert any(op is parser.SUBPATTERN and str(av[3]) == str(group[1][3]) for op, av in top), pattern


def test_the_conditions_apply_to_the_installed_detect_secrets() -> None:
    from detect_secrets.core import scan
    from detect_secrets.settings import default_settings

    checker = prefilter.Prefilter()
    with default_settings():
        plugins = scan.get_plugins()
        conditions = {type(p).__name__: checker.condition(p) for p in plugins}
        patterns = {type(p).__name__: checker.patterns(p) for p in plugins}
    assert len(conditions) == 27
    assert [name for name, condition in conditions.items() if condition is None] == []
    assert [name for name, found in patterns.items() if not found] == []


def test_the_prefilter_calls_no_plugin_on_an_ordinary_line() -> None:
    from detect_secrets.core import scan
    from detect_secrets.settings import default_settings
    from detect_secrets.util.code_snippet import CodeSnippet

    called: list[str] = []

    def original(plugin: Any, **kwargs: Any) -> Any:
        called.append(type(plugin).__name__)
        return ()

    fast = prefilter.prefiltered(original)
    lines = ("def add(a, b): return a + b", "token = make(" + "eyJ" + "hbGciOiJIUzI1NiJ9.e30.x)")
    with default_settings():
        for line in lines:
            for plugin in scan.get_plugins():
                list(fast(plugin=plugin, filename="a.py", line=line, line_number=1,
                          context=CodeSnippet([line], 0, 0)))  # fmt: skip
    assert called == ["JwtTokenDetector"]  # only the second line, only the plugin it may match


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=" \t=:ab#;[]'\"", max_size=40))
def test_the_linear_ini_option_pattern_matches_as_configparsers_own(line: str) -> None:
    """The same match or none, the same delimiter and value, and the same option once configparser
    strips it (``optname.rstrip()`` in its ``_read``)."""
    import configparser

    theirs = re.compile(configparser.RawConfigParser._OPT_TMPL.format(delim="=|:"), re.VERBOSE).match(line)
    ours = re.compile(wrapper.INI_OPTION_PATTERN).match(line)
    assert (theirs is None) == (ours is None)
    if theirs is not None and ours is not None:
        assert theirs.group("option").rstrip() == ours.group("option").rstrip()
        assert theirs.group("vi", "value") == ours.group("vi", "value")


def test_a_long_whitespace_run_is_read_in_linear_time(tmp_path: Path) -> None:
    """300,000 spaces without "=": hours in configparser's pattern (the scanner timed out, failing
    the secrets scan of the whole repository). The timeout is a hang guard, not a benchmark."""
    # (no keyword on that line: detect-secrets' own keyword patterns are slow on it too, see the note)
    (tmp_path / "a.txt").write_text("[s]\npassword = 'Zx9-q8w7e6r5t4y3'\nzz" + " " * 300_000 + "x\n")
    proc = subprocess.run([sys.executable, "-P", "-m", DETECT_SECRETS_MAIN, "scan", "-n", "--", "a.txt"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [s["type"] for s in json.loads(proc.stdout)["results"]["a.txt"]] == ["Secret Keyword"]
