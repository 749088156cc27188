"""The filesystem and git around a target: file names, safe reads, inventory, exclusions, locks."""
