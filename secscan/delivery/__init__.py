"""secscan.delivery.loop: see docs/design.md."""
