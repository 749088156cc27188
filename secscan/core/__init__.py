"""The pure domain: model, identity, reconciliation, SLAs, policy, suppressions, redaction. No I/O."""
