"""Check a learner's own functions of the course's exercises, one by one, against the torch
reference (`nncompare check`).

    from compare.functions import check_functions
    report = check_functions("my_assignment.py")     # a .py path, a module, or globals()
    print(report)                                    # report.passed, report.to_dict()

The catalogue (`catalogue`) holds the course's functions by the names and arguments learners
use, for its three programming exercises (logistic regression; one hidden layer; the deep
network step by step). Each is called on fresh random inputs of several shapes (m = 1,
non-square layers, saturated logits, Z exactly 0), in float64 and float32, and compared with
the same computation in torch (every gradient by autograd); what differs is given a likely
cause, and a function that differs only through a function it calls is said to follow from
it. The models whose functions all agree are then assembled and checked end to end with
`compare.check_model`.

    calls        a call on copies, under a time limit, checked for mutation
    namespace    a module, a .py file (imported without running its __main__ block), globals()
    problems     the random inputs: shapes, variants, dtypes
    reference    the torch reference of every function
    judge        structure, the error measure, tolerances, likely causes
    mistakes     the usual mistakes recomputed in NumPy, to name a cause
    contract     what a function promises and the cases it is checked on
    activations, logistic, planar, initializers, deep, backprop   the contracts
    catalogue    all of them, in checking order
    patching     the reference in place of a callee: root cause or consequence
    model        the whole model from the learner's functions, through check_model
    check        check_functions
    report       the table, HTML and JSON
    cli          `nncompare check PATH_OR_MODULE` (cli_main)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compare.functions.check import check_functions
    from compare.functions.cli import cli_main, main
    from compare.functions.report import FunctionsReport

__all__ = ["FunctionsReport", "check_functions", "cli_main", "main"]

# imported on first use: `nncompare check --help` needs no torch
_HOMES = {"check_functions": "compare.functions.check", "FunctionsReport": "compare.functions.report",
          "cli_main": "compare.functions.cli", "main": "compare.functions.cli"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'compare.functions' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
