"""File names a scanner cannot be given on its command line: names that are not valid UTF-8.

secscan holds such a name losslessly (:mod:`secscan.fs.names`), and bandit and detect-secrets
take it, but zizmor (its argument parser wants UTF-8) exits with code 2 for the whole run, not
one workflow scanned, and semgrep copies the raw bytes into its JSON report, which then cannot
be read. Such files are left out of the tool's arguments, each gets a warning naming it
(escaped, as :func:`secscan.core.printable.printable` writes it) and stays out of the scanner's
scope, so the coverage map counts it as not analysed; every other file is scanned as usual.
"""

from __future__ import annotations

from collections.abc import Sequence

from secscan.core.model import Notification, NotificationLevel
from secscan.core.printable import printable
from secscan.fs.names import has_surrogates
from secscan.scanners.interface import FileOutput


def representable(files: Sequence[str]) -> tuple[str, ...]:
    """The files whose names can be given to a tool as arguments."""
    return tuple(f for f in files if not has_surrogates(f))


def unrepresentable(path: str) -> bool:
    """Whether ``path`` is left out of a tool's arguments (see the module)."""
    return has_surrogates(path)


def left_out(tool: str, path: str) -> FileOutput:
    """The result of a file ``tool`` was not given: no finding, not covered, and why."""
    note = Notification(
        NotificationLevel.WARNING,
        f"{tool} cannot be given {printable(path)}: its name is not valid UTF-8; "
        "the file is not covered by this run (rename it to scan it)",
        path,
    )
    return FileOutput(findings=(), rules=(), notifications=(note,), covered=False)
