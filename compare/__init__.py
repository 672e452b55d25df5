"""The harness: prove that scratch and torch_ref agree, and say where they don't.

`check_model(model, data, lr=..., iterations=...)` runs the four checks (forward,
gradients, finite differences, trajectory) on a scratch-protocol model against
the torch reference and returns a `ModelReport`; `nncompare` does it from the
command line. `check_functions(namespace)` checks a learner's own functions of the
course's exercises one by one (`nncompare check`).

The parts, each importing only parts below it (pyproject.toml's import-linter
contracts, run by tests/test_layers.py):

    cli/          the command line: one parser per subcommand, dispatch, exit codes
    experiments/  bench/  functions/  precision/
                  the notes' claims, speed and memory, a learner's own functions, the
                  drift of lower precisions: each uses the run and the proof below
    run/          one run: config, plug-in loading, the job runner (harness + logger +
                  progress + Ctrl-C), checkpoints, run folders, files written whole
    output/       what people read: the report (table, JSON), TensorBoard
    proof/        the four checks: protocol, metric, magnitude, tolerances, parity,
                  finite_diff, lockstep, result (what was found), harness (check_model)
    adapter.py    every layout change between the two sides;  table.py  aligned tables

`scratch` imports neither `torch_ref` nor `compare`; `torch_ref` imports nothing of
`compare` and, of `scratch`, only its vocabulary (`spec`, `errors`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compare.functions.check import check_functions
    from compare.proof.harness import check_model
    from compare.proof.protocol import ScratchSide
    from compare.proof.result import ModelReport

__all__ = ["ModelReport", "ScratchSide", "check_functions", "check_model"]

# imported on first use, so that `nncompare --help` (which imports this package) needs no torch
_HOMES = {"check_model": "compare.proof.harness", "ScratchSide": "compare.proof.protocol",
          "ModelReport": "compare.proof.result", "check_functions": "compare.functions.check"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'compare' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
