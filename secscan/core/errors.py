"""The one error hierarchy of secscan.

Every error that can reach a user derives from :class:`SecscanError` and carries an exit code.
The CLI turns them into a one-line message and that exit code in exactly one place
(``secscan.cli.main.main``); nothing else exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit codes of the ``secscan`` command (documented in README)."""

    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # usage, configuration or target error
    SCANNER_FAILED = 3  # a scanner failed or timed out; the others' results were still written


class SecscanError(Exception):
    """Root of every error secscan raises on purpose.

    The message is one line that says what failed, where, and what to do next.
    """

    exit_code: ExitCode = ExitCode.USAGE


class ConfigError(SecscanError):
    """The configuration (file, environment or command line) is invalid."""


class TargetError(SecscanError):
    """The scan target is missing, unreadable or not a directory."""


class InputError(SecscanError):
    """An input file (SARIF, OSV database, requirements) is malformed or too large."""


class ScannerError(SecscanError):
    """A scanner could not be run or its output could not be understood.

    Raised inside scanner adapters; the runner records it on the scanner's result, it never
    aborts the other scanners.
    """

    exit_code = ExitCode.SCANNER_FAILED


class StoreError(SecscanError):
    """The lifecycle store cannot be opened, migrated or written."""


class SinkError(SecscanError):
    """An output (file, GitHub code scanning) could not be written or delivered."""


class NotifyError(SecscanError):
    """A notification channel could not deliver an alert."""


class MissingSecretError(ConfigError):
    """A credential (token, routing key, webhook URL, password) is not there.

    ``may_appear`` is True when it is read from a file, which may still be created (a
    credential being mounted or rotated), and False for an environment variable, which cannot
    appear in a running process. Delivery waits for the first kind for a while and dead-letters
    the second at once (:func:`secscan.delivery.verdicts.config_fault`).
    """

    def __init__(self, message: str, *, may_appear: bool) -> None:
        super().__init__(message)
        self.may_appear = may_appear
