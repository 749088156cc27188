"""The PostgreSQL backend of the store: the same ``Store`` and ``Outbox`` over a database many
processes and hosts share (issue 16). Needs the ``postgres`` extra (psycopg 3 and psycopg-pool).
"""

from __future__ import annotations

from secscan.store.postgres.store import PostgresStore, open_store

__all__ = ["PostgresStore", "open_store"]
