"""detect-secrets' own diff scanning, over lines read from ``git log -p`` (inside the history wrapper).

:class:`SecretLines` configures detect-secrets exactly as ``detect-secrets scan -n ARGS`` does
(the tree scan's command line: same plugins, same filters, same arguments from
``[scanners.detect-secrets] args``) and scans lines the way ``detect_secrets.core.scan.scan_diff``
does after parsing a patch: the file-name filters, then ``_process_line_based_plugins`` over the
added ``(line number, text)`` pairs. One filter is dropped: ``is_invalid_file`` (the path must
exist in the working directory), because a file of the history need not exist any more.

It returns the secret's type, line and SHA-1 only: a value never leaves this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from secscan.scanners._detect_secrets_main import install

Hit = tuple[int, str, str]
"""A line number, a secret type and the secret's SHA-1 (detect-secrets' ``hashed_secret``)."""

INVALID_FILE_FILTER = "detect_secrets.filters.common.is_invalid_file"


class SecretLines:
    """detect-secrets, configured once per process (its settings are a global singleton)."""

    def __init__(self, args: Sequence[str] = ()) -> None:
        install()  # the wrapper's equivalent speed-ups (see _detect_secrets_main)
        from detect_secrets.core import scan
        from detect_secrets.core.usage import ParserBuilder
        from detect_secrets.settings import get_settings

        ParserBuilder().add_console_use_arguments().parse_args(["scan", "-n", *args])
        get_settings().disable_filters(INVALID_FILE_FILTER)
        # Its messages go to the scanner's stderr, whose last line can become a failure reason:
        # none of them may ever carry a line of the history.
        logging.getLogger("detect-secrets").disabled = True
        self._process: Callable[..., Iterable[Any]] = scan._process_line_based_plugins
        self._filtered: Callable[..., bool] = scan._is_filtered_out
        self._wanted: dict[str, bool] = {}

    def wants(self, path: str) -> bool:
        """Whether detect-secrets scans a file of this name at all (its file-name filters)."""
        known = self._wanted.get(path)
        if known is None:
            skip = self._filtered(required_filter_parameters=["filename"], filename=path)
            known = self._wanted[path] = not skip
        return known

    def scan(self, path: str, lines: list[tuple[int, str]]) -> list[Hit]:
        """The secrets in ``lines`` of the file ``path`` (numbered as in their file)."""
        if not lines or not self.wants(path):
            return []
        return [(s.line_number, s.type, s.secret_hash) for s in self._process(lines, filename=path)]
