"""``python -m secscan.scanners._detect_secrets_main``: detect-secrets' CLI with three equivalent speed-ups.

detect-secrets 1.5 spends most of its CPU time in two places that do not depend on the input's
meaning (measured in-process on pip 24.2's sdist, 575 files: 22.2 s of CPU, 14.9 s with both):

1. **Dispatch.** Every plugin and every filter is called, for every line, through
   ``detect_secrets.util.inject.call_function_with_arguments``. It calls ``inspect.ismethod``
   twice and builds two sets per call to find the keyword arguments the callee accepts, which it
   already recorded on the callee as ``injectable_variables`` (4.4 million calls on pip's tree).
   :func:`_dispatch` reads that attribute and passes the same arguments; a callee without it
   (its first call) still goes through the original, which records it.
2. **A quadratic filter.** ``filters.heuristic.is_indirect_reference`` runs, on every line,
   ``bool(re.search(r'([^\\v=!:]*)\\s*(:=?|[!=]{1,3})\\s*(REF)'))``. The leading
   ``([^\\v=!:]*)\\s*`` can match the empty string, so a match exists exactly when
   ``(:=?|[!=]{1,3})\\s*(REF)`` matches somewhere (start the reduced match where the operator
   starts; conversely any reduced match is a full match with an empty prefix). The original
   tries the greedy prefix from every position of a line without an operator, which is
   quadratic in the line's length; the reduced pattern gives the same truth value in linear time.

3. **Plugins that cannot match.** 23 of detect-secrets' 27 plugins are plain regular-expression
   detectors: ``RegexBasedDetector.analyze_string`` yields the ``findall`` matches of each pattern
   of its ``denylist``, and ``BasePlugin.analyze_line`` turns them into secrets. Every line still
   pays, per plugin, for the dispatch, two generator frames and one ``findall`` per pattern, and
   on a typical line none of them matches (93,000 lines of a mixed repository: 39 matched any).
   :func:`_prefiltered` wraps ``detect_secrets.core.scan._scan_line``: for a plugin whose class
   uses both methods unchanged, a line on which no pattern of its ``denylist`` has a ``search``
   match yields nothing without calling the plugin (``findall`` finds something exactly when
   ``search`` does); every other call goes to the original. A third of the CPU time of a scan
   (detect-secrets, and git-history's scan of added lines, which installs the same patches).

Each patch is installed only if the code it replaces is byte-for-byte the code it was written
for (source digests below); otherwise that part of detect-secrets runs untouched. Results are
identical to plain ``python -m detect_secrets`` (tested), and the worker processes inherit the
patches (detect-secrets' pool forks).
"""

from __future__ import annotations

import hashlib
import inspect
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

DISPATCH_SOURCE = "7f3ba1c74a023289e74591a926c29ede83bb1d3b09a3137640a820abca35c707"
"""sha256 of ``inspect.getsource(call_function_with_arguments)`` in detect-secrets 1.5.0."""

INDIRECT_SOURCE = "bbe78ebf07529d1fce9d67f7440d339eca3d61f0450fc95e22b6e70ec0bc8ccc"
"""sha256 of ``inspect.getsource(is_indirect_reference)`` in detect-secrets 1.5.0 (it only uses
``bool(regex.search(line))``, which is what makes the reduced pattern equivalent)."""

INDIRECT_PATTERN = r"([^\v=!:]*)\s*(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])"
REDUCED_PATTERN = r"(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])"
"""The indirect-reference pattern, and the same pattern without its optional leading prefix."""

SCAN_LINE_SOURCE = "a5314b8f3d91522ea58368a79173a2e399cf0bce5134a40e613e3c3ca52fccfa"
ANALYZE_STRING_SOURCE = "55fffd504a566b558bbdef0a655c6d2c24c113b3a11e0585f4bb6e085e1a5705"
ANALYZE_LINE_SOURCE = "697232dc06eea4373a88ee88d2002edff997195862636414a57703714c984e6b"
"""sha256 of ``_scan_line``, ``RegexBasedDetector.analyze_string`` and ``BasePlugin.analyze_line``
in detect-secrets 1.5.0: the short-cut relies on what these three do."""

_CALLERS = ("detect_secrets.core.scan", "detect_secrets.plugins.base", "detect_secrets.filters.common")
"""Modules that imported ``call_function_with_arguments`` by name (the scan loop is the hot one)."""


def _digest(obj: Any) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()
    except (OSError, TypeError):  # no source shipped: leave it alone
        return None


def _dispatcher(original: Callable[..., Any]) -> Callable[..., Any]:
    def _dispatch(func: Any, **kwargs: Any) -> Any:
        names = getattr(func, "injectable_variables", None)
        if names is None:
            return original(func, **kwargs)
        return func(**{key: value for key, value in kwargs.items() if key in names})

    _dispatch.__secscan_fast__ = True  # type: ignore[attr-defined]
    return _dispatch


def install_dispatch() -> bool:
    """Install the dispatch short-cut; False (detect-secrets left untouched) if it changed."""
    from detect_secrets.util import inject

    original = inject.call_function_with_arguments
    if getattr(original, "__secscan_fast__", False):
        return True
    if _digest(original) != DISPATCH_SOURCE:
        return False
    fast = _dispatcher(original)
    inject.call_function_with_arguments = fast
    for name in _CALLERS:
        __import__(name)
        module: ModuleType = sys.modules[name]
        if getattr(module, "call_function_with_arguments", None) is original:
            module.call_function_with_arguments = fast  # type: ignore[attr-defined]
    return True


def install_indirect_reference() -> bool:
    """Install the linear indirect-reference pattern; False if detect-secrets changed."""
    from detect_secrets.filters import heuristic

    getter = heuristic._get_indirect_reference_regex
    if getattr(getter, "__secscan_fast__", False):
        return True
    current = getter()
    if (
        _digest(heuristic.is_indirect_reference) != INDIRECT_SOURCE
        or current.pattern != INDIRECT_PATTERN
        or current.flags != re.compile(INDIRECT_PATTERN).flags
    ):
        return False
    reduced = re.compile(REDUCED_PATTERN)

    def _get_indirect_reference_regex() -> re.Pattern[str]:
        return reduced

    _get_indirect_reference_regex.__secscan_fast__ = True  # type: ignore[attr-defined]
    heuristic._get_indirect_reference_regex = _get_indirect_reference_regex  # type: ignore[assignment]
    return True


def _prefiltered(original: Callable[..., Any], analyze_string: Any, analyze_line: Any) -> Callable[..., Any]:
    """``_scan_line`` that skips a plain regex plugin on a line none of its patterns can match."""
    patterns: dict[int, tuple[Any, tuple[re.Pattern[str], ...] | None]] = {}  # id -> (plugin, patterns)

    def plain(plugin: Any) -> tuple[re.Pattern[str], ...] | None:
        known = patterns.get(id(plugin))
        if known is not None and known[0] is plugin:
            return known[1]
        cls = type(plugin)
        denylist = getattr(plugin, "denylist", None)
        usable = (
            getattr(cls, "analyze_string", None) is analyze_string
            and getattr(cls, "analyze_line", None) is analyze_line
            and isinstance(denylist, tuple | list)
            and all(isinstance(p, re.Pattern) and isinstance(p.pattern, str) for p in denylist)
        )
        found = tuple(denylist) if usable and denylist is not None else None
        patterns[id(plugin)] = (plugin, found)  # the plugin is kept: its id cannot be reused
        return found

    def _scan_line(
        plugin: Any, filename: str, line: str, line_number: int, context: Any, **kwargs: Any
    ) -> Any:
        denylist = None if kwargs else plain(plugin)
        if denylist is not None and not any(p.search(line) for p in denylist):
            return ()
        return original(
            plugin=plugin, filename=filename, line=line, line_number=line_number, context=context, **kwargs
        )

    _scan_line.__secscan_fast__ = True  # type: ignore[attr-defined]
    return _scan_line


def install_prefilter() -> bool:
    """Install the plain-regex-plugin short-cut; False (left untouched) if detect-secrets changed."""
    from detect_secrets.core import scan
    from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector

    original = scan._scan_line
    if getattr(original, "__secscan_fast__", False):
        return True
    if (
        _digest(original) != SCAN_LINE_SOURCE
        or _digest(RegexBasedDetector.analyze_string) != ANALYZE_STRING_SOURCE
        or _digest(BasePlugin.analyze_line) != ANALYZE_LINE_SOURCE
    ):
        return False
    scan._scan_line = _prefiltered(original, RegexBasedDetector.analyze_string, BasePlugin.analyze_line)
    return True


def install() -> tuple[bool, bool, bool]:
    """Install the three short-cuts; each is skipped on its own if its code changed."""
    return install_dispatch(), install_indirect_reference(), install_prefilter()


def main() -> None:
    install()
    from detect_secrets.main import main as detect_secrets_main

    sys.exit(detect_secrets_main())


if __name__ == "__main__":
    main()
