"""Log formats: ``text`` lines and ``--log-format json`` objects (for log shippers), on stderr.

Both neutralise the message: file names, scanner messages and reasons come from scanned
repositories and could hold terminal escapes or a line break that forges another record, so the
message's control characters are escaped (:func:`secscan.core.printable.printable`). A traceback
(``exc_info``) is secscan's own and is kept as it is.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from secscan.core.printable import printable
from secscan.fs.names import json_dumps

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "thread"[, "exception"]}``; one line per record.

    Formats the message through ``record.getMessage()`` after the handler's filters ran, so the
    redaction of :class:`secscan.core.redact.SecretFilter` applies exactly as for text logs.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": printable(record.getMessage()),
            "thread": record.threadName,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json_dumps(entry)


class TextFormatter(logging.Formatter):
    """:data:`TEXT_FORMAT` with the message neutralised (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = printable(record.message)
        return super().formatMessage(record)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``--log-format`` (``text`` or ``json``)."""
    return JsonFormatter() if log_format == "json" else TextFormatter()
