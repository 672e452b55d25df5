"""The harness: prove that scratch and torch_ref agree, and say where they don't.

`check_model(model, data, lr=..., iterations=...)` runs the four checks (forward,
gradients, finite differences, trajectory) on a scratch-protocol model against
the torch reference and returns a `ModelReport`; `nncompare` does it from the
command line.
"""

from compare.proof.harness import check_model
from compare.proof.protocol import ScratchSide
from compare.proof.result import ModelReport

__all__ = ["ModelReport", "ScratchSide", "check_model"]
