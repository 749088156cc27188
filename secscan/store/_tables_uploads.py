"""SQLModel rows of the uploads feature. Private to the store, like :mod:`secscan.store.tables`."""

from __future__ import annotations
