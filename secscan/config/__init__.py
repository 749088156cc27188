"""secscan.config: see docs/design.md."""
