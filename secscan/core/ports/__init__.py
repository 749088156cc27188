"""secscan.core.ports: the seams the app needs (Store, Outbox and what crosses them)."""
