"""secscan: run security scanners unattended and keep one trustworthy record of their findings."""

from __future__ import annotations

__version__ = "0.1.0"

from secscan.fs import codecache  # hooks `dataclasses` when it is first imported, before any class

codecache.install()
