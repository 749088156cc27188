"""Which backend a ``--db`` value selects: a path or ``sqlite:///FILE`` is SQLite, a
``postgresql://`` or ``postgresql+psycopg://`` URL is PostgreSQL.

A PostgreSQL URL is a libpq connection URI (``postgresql://user:password@host:port/dbname?...``,
also ``postgresql://user@/dbname?host=/run/postgresql`` for a unix socket); the ``+psycopg``
driver suffix of SQLAlchemy URLs is accepted and dropped. Its password never appears in a
message (:attr:`PostgresUrl.display`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from secscan.core.errors import StoreError

_POSTGRES = re.compile(r"(?:postgresql|postgres)(?:\+psycopg)?://", re.IGNORECASE)


@dataclass(frozen=True)
class PostgresUrl:
    """A PostgreSQL database: ``conninfo`` for libpq, ``display`` for messages (no password)."""

    conninfo: str
    display: str


def is_postgres(url_or_path: object) -> bool:
    """Whether ``url_or_path`` is a PostgreSQL URL (not a path or an SQLite URL)."""
    return isinstance(url_or_path, str) and _POSTGRES.match(url_or_path) is not None


def postgres_url(url: str) -> PostgresUrl:
    """Parse a PostgreSQL URL. Raises StoreError (exit 2) for a malformed one or one without a
    database name; the message never repeats the URL (it may hold a password)."""
    match = _POSTGRES.match(url)
    if match is None:
        raise StoreError(f"not a PostgreSQL URL: {url.split('://', 1)[0]}://...")
    conninfo = "postgresql://" + url[match.end() :]
    try:
        parts = urlsplit(conninfo)
    except ValueError as exc:  # an unclosed "[" of an IPv6 host, a bad port
        raise StoreError(
            f"the PostgreSQL URL is malformed ({exc}); use postgresql://USER@HOST:PORT/DBNAME"
        ) from None
    if not parts.path.strip("/"):
        raise StoreError(
            "the PostgreSQL URL names no database; use postgresql://USER@HOST:PORT/DBNAME"
        )
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else netloc
    display = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return PostgresUrl(conninfo, display)
