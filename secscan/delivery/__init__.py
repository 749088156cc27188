"""Delivery: the outbox loop, HTTP policy, and the GitHub and notification channels."""
