"""The detect-secrets wrapper's third short-cut: a plugin is not called on a line it cannot match.

detect-secrets calls every plugin on every line (``detect_secrets.core.scan._scan_line``), and
each call costs a dispatch, generator frames and the plugin's regular expressions. For most
plugins a cheap test on the line is *necessary* for any result, established from detect-secrets'
own code (pinned by source digests, like the other short-cuts):

- **plain regex detectors** (23 of 27: AWS, GitHub, Slack, private keys, ...): their class uses
  ``RegexBasedDetector.analyze_string`` (the ``findall`` matches of each pattern of ``denylist``)
  and ``BasePlugin.analyze_line`` unchanged, so nothing is reported unless some pattern of the
  denylist has a ``search`` match (``findall`` finds something exactly when ``search`` does);
- **high-entropy strings** (Base64, Hex): ``HighEntropyStringsPlugin.analyze_line`` reports
  only ``findall`` matches of the plugin's quoted-string ``regex`` (outside the ad hoc "eager"
  mode, which takes a keyword argument and is never short-cut);
- **keywords**: every pattern ``KeywordDetector`` tries (per file type) requires, at its top
  level, the group of ``DENYLIST`` keywords (``password``, ``api_key``, ...), so a line holding
  none of them, case-insensitively, cannot match (the pattern set is pinned by its digest, and a
  test checks the property on the parsed patterns);
- **JSON Web Tokens**: ``JwtTokenDetector.analyze_string`` keeps only the formally valid ones of
  ``RegexBasedDetector.analyze_string``'s matches, so it needs a ``search`` match of its denylist
  like a plain detector.

Any other plugin, or a call with extra keyword arguments, goes to the original ``_scan_line``.
On a mixed repository (425 files, 93,000 lines) 39 lines matched any plain detector.
Each condition is a ``search`` of one of a few regular expressions (:meth:`Prefilter.patterns`),
which also lets :mod:`secscan.scanners._detect_secrets_gate` skip a line no plugin can match.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable
from typing import Any

SCAN_LINE_SOURCE = "a5314b8f3d91522ea58368a79173a2e399cf0bce5134a40e613e3c3ca52fccfa"
REGEX_SOURCES = (
    "55fffd504a566b558bbdef0a655c6d2c24c113b3a11e0585f4bb6e085e1a5705",  # RegexBasedDetector.analyze_string
    "697232dc06eea4373a88ee88d2002edff997195862636414a57703714c984e6b",  # BasePlugin.analyze_line
)
ENTROPY_SOURCES = (  # HighEntropyStringsPlugin.analyze_string, .analyze_line
    "5a5743a453d67a0de5826d141b9a4d8512532a283b6e4f269df705ec75bcf338",
    "fab1eb4b1d221a8016589bc29406adeaa7928c9c37f57c82f242ecd582c849b5",
)
KEYWORD_SOURCES = (
    "76d25a0b261dec8c2d6d49fe6b3b84085d22c19f472d23edec425766200ca1c9",  # KeywordDetector.analyze_string
    "22a3971227f994a77c5b012efd29e46230d88c058935f69ebac5c66c43b6d305",  # KeywordDetector.analyze_line
)
JWT_SOURCE = "d621a178ca9bc9122397c8dfe29222610e8bdf6620d428ad7bbfffc9d41a40b0"
"""sha256 of ``JwtTokenDetector.analyze_string`` (its denylist's matches, filtered)."""
KEYWORD_PATTERNS = "dc4696d7b7c8c841990d6eef2ed2abffc84d3d3e8f3a384013e75585302833df"
"""sha256 of the sorted (pattern, flags) of every regular expression KeywordDetector tries."""

Condition = Callable[[str], object]
"""Truthy on every line on which the plugin may report a secret."""


def digest(obj: Any) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
    except (OSError, TypeError):  # no source shipped: leave it alone
        return None


def keyword_patterns() -> list[tuple[str, int]]:
    """The (pattern, flags) of every regular expression KeywordDetector tries, sorted."""
    from detect_secrets.plugins import keyword

    tables = (*keyword.REGEX_BY_FILETYPE.values(), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP)
    return sorted({(regex.pattern, regex.flags) for table in tables for regex in table})


def _methods(cls: type) -> tuple[Any, Any]:
    return getattr(cls, "analyze_string", None), getattr(cls, "analyze_line", None)


class Prefilter:
    """The condition of each plugin (see the module docstring), from the verified code only."""

    def __init__(self) -> None:
        from detect_secrets.plugins import high_entropy_strings, jwt, keyword
        from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector

        self._regex = (RegexBasedDetector.analyze_string, BasePlugin.analyze_line)
        token = (jwt.JwtTokenDetector.analyze_string, BasePlugin.analyze_line)
        self._jwt = token if digest(token[0]) == JWT_SOURCE else None
        entropy = _methods(high_entropy_strings.HighEntropyStringsPlugin)
        self._entropy = entropy if tuple(map(digest, entropy)) == ENTROPY_SOURCES else None
        words = _methods(keyword.KeywordDetector)
        pinned = hashlib.sha256(repr(keyword_patterns()).encode()).hexdigest() == KEYWORD_PATTERNS
        self._keyword = words if pinned and tuple(map(digest, words)) == KEYWORD_SOURCES else None
        self._words = re.compile("|".join(keyword.DENYLIST), re.IGNORECASE)
        self._known: dict[int, tuple[Any, Condition | None]] = {}  # id -> (plugin, condition)

    def condition(self, plugin: Any) -> Condition | None:
        known = self._known.get(id(plugin))
        if known is not None and known[0] is plugin:
            return known[1]
        found = self._condition(plugin)
        self._known[id(plugin)] = (plugin, found)  # the plugin is kept: its id cannot be reused
        return found

    def _condition(self, plugin: Any) -> Condition | None:
        methods = _methods(type(plugin))
        if self._entropy is not None and methods == self._entropy:
            return lambda line: plugin.regex.search(line)  # read at each call: eager mode swaps it
        patterns = self.patterns(plugin)
        if patterns is None:
            return None
        if len(patterns) == 1:
            return patterns[0].search
        return lambda line: any(p.search(line) for p in patterns)

    def patterns(self, plugin: Any) -> tuple[re.Pattern[str], ...] | None:
        """Regular expressions one of which has a ``search`` match on every line where ``plugin``
        may report a secret (None: no such set is known). For the high-entropy plugins this is
        the pattern they hold now, outside the ad hoc eager mode (a call with keyword arguments)."""
        methods = _methods(type(plugin))
        if methods == self._regex or (self._jwt is not None and methods == self._jwt):
            denylist = getattr(plugin, "denylist", None)
            if isinstance(denylist, tuple | list) and all(
                isinstance(p, re.Pattern) and isinstance(p.pattern, str) for p in denylist
            ):
                return tuple(denylist)
            return None
        if self._entropy is not None and methods == self._entropy:
            regex = getattr(plugin, "regex", None)
            return (regex,) if isinstance(regex, re.Pattern) and isinstance(regex.pattern, str) else None
        if self._keyword is not None and methods == self._keyword:
            return (self._words,)
        return None


def prefiltered(original: Callable[..., Any]) -> Callable[..., Any]:
    """``_scan_line`` that skips a plugin on a line its condition rules out."""
    prefilter = Prefilter()

    def _scan_line(
        plugin: Any, filename: str, line: str, line_number: int, context: Any, **kwargs: Any
    ) -> Any:
        condition = None if kwargs else prefilter.condition(plugin)
        if condition is not None and not condition(line):
            return ()
        return original(
            plugin=plugin, filename=filename, line=line, line_number=line_number, context=context, **kwargs
        )

    _scan_line.__secscan_fast__ = True  # type: ignore[attr-defined]
    return _scan_line


def install() -> bool:
    """Install the short-cut; False (detect-secrets left untouched) if its code changed."""
    from detect_secrets.core import scan

    original = scan._scan_line
    if getattr(original, "__secscan_fast__", False):
        return True
    prefilter = Prefilter()
    if digest(original) != SCAN_LINE_SOURCE or tuple(map(digest, prefilter._regex)) != REGEX_SOURCES:
        return False
    scan._scan_line = prefiltered(original)
    return True
