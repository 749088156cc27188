"""Scanner adapters: one module per tool behind :class:`secscan.scanners.interface.Scanner`."""
