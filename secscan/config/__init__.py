"""Settings: secscan.toml and SECSCAN_* validated once into frozen models, one module per section."""
