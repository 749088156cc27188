"""Sinks: where a finished scan's SARIF log goes (a file, GitHub code scanning)."""
