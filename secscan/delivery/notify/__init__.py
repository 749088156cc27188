"""Paging and alerting: routing policy, channels and delivery through the alerts outbox."""
