"""secscan.fs: see docs/design.md."""
