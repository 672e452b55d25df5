"""The names of what the logs hold, chosen for the order in which TensorBoard shows them.

TensorBoard's Time Series dashboard (the page it opens on) groups the tags of every run
by the prefix before the first '/', orders the groups by name (digits and '/' before
letters) and opens only the first two; its text dashboard orders tags the same way.
So, of the groups of the diff run:

    check/step_error, check/drift          what the trajectory check judges and reports:
                                           right after `accuracy`, so the two open groups
                                           are accuracy (scratch vs torch) and these
    diff_drift/, diff_grad/, diff_test/    the rest, one group per kind (each fits on one
                                           page of 12 cards), below `decision_boundary`

`loss/*`, `accuracy/*`, `grad_norm/*` and `decision_boundary` keep the names other parts
of the project read, so the `loss` group sorts after `accuracy`, `decision_boundary` and
`grad_norm`, folded: `PINNED` are the cards `nncompare --tensorboard` pins above every
group (loss first), and the Custom Scalars layout (`meta.layout`) opens on the same charts.
Texts: `parity` (the report) sorts before `settings` and `status`.
"""

from __future__ import annotations

LOSS_TRAIN, LOSS_TEST = "loss/train", "loss/test"
ACCURACY_TRAIN, ACCURACY_TEST = "accuracy/train", "accuracy/test"
METRICS = (LOSS_TRAIN, LOSS_TEST, ACCURACY_TRAIN, ACCURACY_TEST)   # the hparams' metrics

STEP_ERROR = "check/step_error"      # the largest error of one step from a common state
DRIFT = "check/drift"                # the largest free-running drift of J and parameters
TEST_LOSS = "diff_test/loss"
TEST_MISMATCH = "diff_test/pred_mismatch"

PINNED = (LOSS_TRAIN, LOSS_TEST, ACCURACY_TRAIN, ACCURACY_TEST, STEP_ERROR, DRIFT)

REPORT, SETTINGS, STATUS = "parity", "settings", "status"          # texts, in this order


def drift(name: str) -> str:
    """The free-running drift of 'cost' or of a parameter ('W1', ...)."""
    return f"diff_drift/{name}"


def grad_diff(param: str) -> str:
    """The gradient difference of a parameter, as the error it puts into one update."""
    return f"diff_grad/{param}"
