"""SQLModel rows of the daemon feature. Private to the store, like :mod:`secscan.store.tables`."""

from __future__ import annotations
