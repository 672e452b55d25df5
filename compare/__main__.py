"""python -m compare: the same as the nncompare command."""

import sys

from compare.cli import main

if __name__ == "__main__":      # not again in the ranks `--nproc` spawns (they import it)
    sys.exit(main())
