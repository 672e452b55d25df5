"""The command line: `nncompare` and its subcommands `experiment` and `bench`.

`compare.cli.parsers` builds their parsers, `compare.cli.command.main` dispatches (the
`nncompare` script); `main_job`, `experiment` and `bench` run each.
"""

from compare.cli.command import main

__all__ = ["main"]
