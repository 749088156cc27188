"""secscan.app.run: see docs/design.md."""
