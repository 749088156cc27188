"""Upload to GitHub code scanning and two-way triage sync with its alerts."""
