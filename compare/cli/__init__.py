"""The command line."""

from compare.cli.main_job import build_parser, main

__all__ = ["build_parser", "main"]
