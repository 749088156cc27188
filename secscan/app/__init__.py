"""Use cases: run, ingest, triage, upload, alerts, report; they compose the core with the adapters."""
