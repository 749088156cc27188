"""secscan.cli.main: see docs/design.md."""
