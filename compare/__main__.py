"""python -m compare: the same as the nncompare command."""

import sys

from compare.cli import main

sys.exit(main())
