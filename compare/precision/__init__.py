"""The precision audit: how far torch drifts from a float64 truth in each precision.

One model, one copied start: scratch trains it in float64 (the truth) and torch_ref in
float64, float32, float32 with TF32 matrix products (CUDA), autocast bfloat16 (CPU and
CUDA) and autocast float16 (CUDA), all in lockstep; after every step each torch run's
distance from the truth is measured (parameters, cost, test predictions) and logged to
TensorBoard, one run per precision with the same tags.

    environment.py   numerics_environment(device): every setting that decides the numbers
    regimes.py       the precisions and what each runs under
    audit.py         the lockstep runs and the measures
    report.py        verdicts, the table, the JSON report
    tblog.py         the TensorBoard runs
    cli.py           `nncompare precision` (cli_main)
"""

from compare.precision.audit import Audit, run_audit
from compare.precision.cli import cli_main
from compare.precision.environment import numerics_environment

__all__ = ["Audit", "cli_main", "numerics_environment", "run_audit"]
