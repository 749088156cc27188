"""secscan.store.sqlite.store: see docs/design.md."""
