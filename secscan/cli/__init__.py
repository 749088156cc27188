"""The command line: argparse entry (`main`), one module per command group, exit codes in one place."""
