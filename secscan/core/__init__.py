"""secscan.core: see docs/design.md."""
