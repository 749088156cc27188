"""The content-addressed result cache behind incremental scans.

The pipeline opens a :class:`~secscan.cache.session.CacheSession` per run (where the file lives:
:mod:`secscan.cache.paths`); ``secscan cache`` uses :mod:`secscan.cache.api`. Nothing else calls
into this package. Its modules are imported by their full names: ``secscan.settings`` imports
``secscan.cache.config``, which must stay light.
"""
