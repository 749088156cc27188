"""The content-addressed result cache behind incremental scans.

The pipeline opens a :class:`~secscan.scanners.cache.session.CacheSession` per run (where the file lives:
:mod:`secscan.scanners.cache.paths`); ``secscan cache`` uses
:mod:`secscan.scanners.cache.api`. Nothing else calls
into this package. Its modules are imported by their full names: ``secscan.config.settings`` imports
``secscan.config.cache``, which must stay light.
"""
