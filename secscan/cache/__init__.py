"""The content-addressed result cache behind incremental scans."""
