"""The shop's back end."""
