"""SQLModel rows of the alerts feature. Private to the store, like :mod:`secscan.store.tables`."""

from __future__ import annotations
