"""Alembic migrations of the secscan store (run programmatically by ``secscan.store``)."""
