"""``python -m secscan.scanners._detect_secrets_main``: detect-secrets' CLI with five equivalent speed-ups.

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

3. **Plugins that cannot match a line** are not called on it: for most plugins a cheap test on
   the line is necessary for any result (a search of a plain detector's patterns, of the
   high-entropy plugins' quoted-string pattern, of the keyword list); see
   :mod:`secscan.scanners._detect_secrets_prefilter`. A third of the CPU time of a scan, and of
   git-history's scan of added lines, which installs the same patches.
4. **Lines no plugin can match** are not processed at all (no snippet, no filter, no plugin
   call): :mod:`secscan.scanners._detect_secrets_gate`. On the mixed benchmark's tree, 91% of
   the lines.
5. **A quadratic INI pattern.** detect-secrets reads every file as INI first (its config-file
   transformers), with :mod:`configparser`, whose option pattern ``(?P<option>.*?)\\s*(?P<vi>=|:)``
   retries ``\\s*`` over a whole whitespace run at every step of the lazy ``.*?``: a line with
   300,000 spaces and no ``=`` took hours, past the scanner's timeout, so one hostile file failed
   the secrets scan of a whole repository. The option of a match is the text before the line's
   first ``=`` or ``:`` either way (configparser strips its trailing whitespace itself), so
   ``(?P<option>[^=:]*)(?P<vi>=|:)`` gives the same matches in linear time. (detect-secrets'
   keyword patterns are super-linear on such a run after a keyword, ``key`` + spaces, too; they
   are its own, left as they are: the scanner's timeout and memory cap bound them.)

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

INI_OPTION_PATTERN = r"(?P<option>[^=:]*)(?P<vi>=|:)\s*(?P<value>.*)$"
"""configparser's option pattern for its default delimiters, without the backtracking (item 5)."""

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


def install_ini_option_pattern() -> bool:
    """Install the linear INI option pattern; False if configparser's pattern or its use changed."""
    import configparser

    parser = configparser.RawConfigParser
    current = parser.OPTCRE
    if current.pattern == INI_OPTION_PATTERN:
        return True
    expected = parser._OPT_TMPL.format(delim="=|:")
    reader = getattr(parser, "_read", None)  # it strips the option's trailing whitespace itself
    if current.pattern != expected or reader is None or "optname.rstrip()" not in inspect.getsource(reader):
        return False
    parser.OPTCRE = re.compile(INI_OPTION_PATTERN)
    return True


def install() -> tuple[bool, bool, bool, bool, bool]:
    """Install the five short-cuts; each is skipped on its own if its code changed."""
    from secscan.scanners import _detect_secrets_gate, _detect_secrets_prefilter

    return (
        install_dispatch(),
        install_indirect_reference(),
        _detect_secrets_prefilter.install(),
        _detect_secrets_gate.install(),
        install_ini_option_pattern(),
    )


def main() -> None:
    install()
    from detect_secrets.main import main as detect_secrets_main

    sys.exit(detect_secrets_main())


if __name__ == "__main__":
    main()
