"""Required literals must be in every match; AnySearch must answer exactly like searching them all."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan.scanners._regex_literals import AnySearch, required


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("abc", {("abc", False)}),
        ("(?i)Pass(word)?", {("pass", True)}),
        ("a|bc", {("a", False), ("bc", False)}),
        ("x*", None),
        ("(?:ab)+-?cdef", {("cdef", False)}),
        ("['\"]\\w", {("'", False), ('"', False)}),
        ("(?i)['\"]", None),  # a class under IGNORECASE gives nothing
        ("(?i)\u212a", None),  # a non-ASCII literal under IGNORECASE gives nothing
        ("(?<=key)=\\d+", {("=", False)}),  # look-arounds give nothing
        ("(?i:AB)c", {("ab", True)}),
        ("(?i)a(?-i:BC)", {("BC", False)}),
        ("a|x*", None),  # one branch without a requirement
    ],
)
def test_required_strings(pattern: str, expected: set[tuple[str, bool]] | None) -> None:
    found = required(re.compile(pattern))
    assert (set(found) if found is not None else None) == expected


_PIECE = st.sampled_from(
    ["a", "b", "ab", "K", "k", "s", ".", "'", "[ab]", "['\"]", "\\d", "\\w+", "x?", "(?:ab)+", "(?=a)", "^",
     "$", "(a|bc)", "(?i:kS)", "(?i:a|b)", "[^a]", "\u212a", "\u017f", "(.)\\1", "b{2,3}", "(?:c|d)*"]
)  # fmt: skip


@st.composite
def _patterns(draw: st.DrawFn) -> re.Pattern[str]:
    body = "".join(draw(st.lists(_PIECE, min_size=1, max_size=5)))
    return re.compile(body, re.IGNORECASE if draw(st.booleans()) else 0)


_TEXT = st.text(alphabet=st.sampled_from(list("abkKsScdS.'\"1 \u212a\u017f")), max_size=12)


@settings(max_examples=2000, deadline=None)
@given(_patterns(), _TEXT)
def test_every_match_contains_a_required_string(pattern: re.Pattern[str], text: str) -> None:
    need = required(pattern)
    if need is None or pattern.search(text) is None:
        return
    if not text.isascii() and any(folded for _, folded in need):
        return  # case-insensitive strings decide for ASCII lines only
    assert any(s in (text.lower() if folded else text) for s, folded in need)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_patterns(), min_size=1, max_size=6), _TEXT)
def test_any_search_answers_like_searching_every_pattern(patterns: list[re.Pattern[str]], text: str) -> None:
    assert AnySearch(patterns)(text) == any(p.search(text) for p in patterns)


def _detect_secrets_patterns() -> list[re.Pattern[str]]:
    from detect_secrets.settings import default_settings

    from secscan.scanners._detect_secrets_prefilter import Prefilter

    prefilter = Prefilter()
    with default_settings():
        from detect_secrets.core import scan

        return [p for plugin in scan.get_plugins() for p in prefilter.patterns(plugin) or ()]


DETECT_SECRETS_FRAGMENTS = [
    "AKIA", "ZQ3M7V2LXK4P9T1R", "password", "PASSWORD", "Pa\u017fsword", "api_key", "\u212aEY", "aws",
    "secret", "AccountKey=", "://", "u:p@h", "cloudant", ".cloudant.com", "gh", "p_", "glpat-", "eyJ",
    "xoxb-", "-us1",
    "sk_live_", "BEGIN RSA PRIVATE KEY", "SG.", "AC", "SK", "T3BlbkFJ", "1.2.3.4", "8.8.8.8", "12345678:",
    "'", '"', " ", "=", "a" * 24, "0123456789abcdef", ".", ":", "-", "_", "x",
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(DETECT_SECRETS_FRAGMENTS), max_size=8))
def test_any_search_on_detect_secrets_patterns(parts: list[str]) -> None:
    patterns = _detect_secrets_patterns()
    line = "".join(parts)
    assert AnySearch(patterns)(line) == any(p.search(line) for p in patterns)


def test_most_detect_secrets_patterns_need_a_string_of_two_characters_or_more() -> None:
    """Otherwise the short-cut saves nothing: every line would search every pattern."""
    patterns = _detect_secrets_patterns()
    selective = [p for p in patterns if (need := required(p)) and min(len(s) for s, _ in need) >= 2]
    assert len(patterns) >= 45 and len(selective) >= len(patterns) - 6


def test_a_found_string_stands_for_the_required_strings_it_starts_with() -> None:
    """At each position the look-ahead reports only the longest string ("abc"); the pattern that
    requires its prefix ("ab") must still be searched."""
    first, second = re.compile(r"abc\d"), re.compile(r"ab[cd]x")
    assert required(first) == {("abc", False)} and required(second) == {("ab", False)}
    assert AnySearch([first, second])("abcx")
    assert not AnySearch([first, second])("abcy")
