"""`python -m compare.bench`: the same as `nncompare bench`."""

import sys

from compare.bench.steps import main

sys.exit(main())
