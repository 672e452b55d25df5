"""`python -m compare.bench`: the same as `nncompare bench`."""

import sys

from compare.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
