"""``python -m secscan.scanners._bandit_main``: bandit's own CLI with one equivalent speed-up.

bandit looks up ``# nosec`` comments for every test on every AST node by walking the line range of
the enclosing statement (``bandit.core.utils.get_nosec``). Inside a huge multi-line literal
(vendored data tables such as ``idna/uts46data.py`` or ``rich/_emoji_codes.py``) that range spans
thousands of lines, so the lookup is quadratic: one 140 KB file took 3.8 s of pip's 12.4 s.

A file without any ``# nosec`` comment has an empty ``nosec_lines`` mapping, and the lookup can
then only return ``None``; the wrapper returns that at once. Files that do carry ``# nosec``
comments take bandit's own path unchanged, so results are identical (tested against plain
``python -m bandit``). The wrapper applies itself only to the ``get_nosec`` it was written for and
otherwise runs bandit untouched. Everything else, arguments and exit codes included, is bandit's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

_EXPECTED_PARAMETERS = ("nosec_lines", "context")


def install() -> bool:
    """Install the short-cut into bandit; False (bandit left untouched) if bandit changed."""
    from bandit.core import utils

    original: Callable[[Mapping[int, Any], Mapping[str, Any]], Any] = utils.get_nosec
    if getattr(original, "__secscan_fast__", False):
        return True
    if tuple(inspect.signature(original).parameters) != _EXPECTED_PARAMETERS:
        return False

    def get_nosec(nosec_lines: Mapping[int, Any], context: Mapping[str, Any]) -> Any:
        if not nosec_lines:
            return None
        return original(nosec_lines, context)

    get_nosec.__secscan_fast__ = True  # type: ignore[attr-defined]
    utils.get_nosec = get_nosec
    return True


def main() -> None:
    install()
    from bandit.cli.main import main as bandit_main

    bandit_main()


if __name__ == "__main__":
    main()
