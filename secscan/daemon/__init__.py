"""``secscan daemon``: the nightly unattended service (scheduler, run ledger, health, metrics)."""
