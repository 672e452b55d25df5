"""`python -m compare.precision ARGS`: the precision audit's command (`nncompare precision`)."""

import sys

from compare.precision.cli import cli_main

sys.exit(cli_main())
