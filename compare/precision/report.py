"""The audit's verdicts, its table and its JSON report.

Judged (the run fails, exit 1, when either is over its bound): the float64 and float32
rows' error one step from the common start, parameters at state 1 and the cost at state 0,
against the harness's trajectory bounds (`compare.proof.tolerances`): one correct step
in that precision. Everything else is measured, not judged: the drift of later states
(gradient descent may amplify rounding, see `compare.proof.lockstep`) and the TF32,
bfloat16 and float16 rows, whose rounding is the point of the audit.
"""

from __future__ import annotations

import math

import torch

from compare import table
from compare.precision.audit import Audit, Curves, Scores, TorchRun
from compare.precision.regimes import REGIMES
from compare.proof.tolerances import tolerance

REPORTED = (1, 10, 100)          # states reported, with the final one
JUDGED = ("float64", "float32")


def states(iterations: int) -> list[int]:
    return [s for s in REPORTED if s < iterations] + [iterations]


def first_difference(curves: Curves) -> int | None:
    """The first state whose test predictions differ from the truth's, or None."""
    return next((s for s, p in enumerate(curves.predictions) if p > 0), None)


def verdicts(a: Audit, device: torch.device) -> dict[str, dict]:
    """{'float64': {'error': e, 'bound': b, 'passed': bool}, ...} for the judged rows that ran."""
    found = {}
    for name in JUDGED:
        run = a.runs.get(name)
        if run is None or a.iterations < 1:
            continue
        bound = tolerance(name, device.type).trajectory
        error = max(math.inf if math.isnan(e) else e for e in (run.curves.params[1],
                                                              run.curves.cost[0]))
        found[name] = {"error": error, "bound": bound, "passed": bool(error <= bound)}
    return found


def err(x: float) -> str:
    if math.isnan(x):
        return "-"
    return "0" if x == 0 else f"{x:.1e}"


def scores_cells(s: Scores | None) -> list[str]:
    return ["-", "-", "-"] if s is None else [f"{s.cost:.4f}", f"{s.train:.3f}", f"{s.test:.3f}"]


def row(name: str, run: TorchRun, iterations: int) -> list[str]:
    c = run.curves
    first = first_difference(c)
    return [name, REGIMES[name].what, *(err(c.params[s]) for s in states(iterations)),
            err(c.cost[iterations]), err(c.predictions[iterations]),
            "never" if first is None else str(first), *scores_cells(run.final)]


def header(iterations: int) -> list[str]:
    steps = [f"step {s}" for s in states(iterations)[:-1]] + [f"final ({iterations})"]
    return ["precision", "runs as", *(f"params err {s}" for s in steps), "cost err final",
            "test preds differ final", "first step preds differ", "final cost", "train acc",
            "test acc"]


def rows(a: Audit) -> list[list[str]]:
    truth = ["float64 (truth)", "scratch (NumPy) float64", *(["-"] * (len(states(a.iterations)) + 3)),
             *scores_cells(a.truth)]
    return [truth, *(row(name, run, a.iterations) for name, run in a.runs.items())]


def notes(a: Audit, judged: dict[str, dict]) -> list[str]:
    lines = [f"{name}: skipped ({why})" for name, why in a.skipped.items()]
    lines += [f"{name}: diverged {run.diverged}" for name, run in a.runs.items() if run.diverged]
    lines += [f"{name}: one step from the common start within {v['error']:.1e} of the truth "
              f"(bound {v['bound']:.0e}): {'ok' if v['passed'] else 'FAILED'}"
              for name, v in judged.items()]
    return lines


def text(a: Audit, judged: dict[str, dict]) -> str:
    """The table and its notes, for a terminal."""
    return "\n".join([table.aligned(header(a.iterations), rows(a)), *notes(a, judged)])


def markdown(a: Audit, judged: dict[str, dict]) -> str:
    """The same, in Markdown (TensorBoard's text tab, docs/GPU.md)."""
    return "\n".join([table.markdown(header(a.iterations), rows(a)), "",
                      *(f"- {line}" for line in notes(a, judged))])


def num(x: float | None) -> float | None:
    """A JSON number: None for NaN and inf."""
    return None if x is None or not math.isfinite(x) else float(x)


def scores_json(s: Scores | None) -> dict | None:
    return None if s is None else {"cost": num(s.cost), "accuracy": {"train": s.train, "test": s.test}}


def row_json(name: str, a: Audit) -> dict:
    regime = REGIMES[name]
    out: dict = {"precision": name, "what": regime.what, "dtype": regime.dtype, "tf32": regime.tf32,
                 "autocast": regime.autocast_name, "unit_roundoff": regime.unit_roundoff,
                 "skipped": a.skipped.get(name)}
    run = a.runs.get(name)
    if run is not None:
        c = run.curves
        out.update({
            "error_at": {str(s): {m: num(v) for m, v in c.at(s).items()} for s in [0, *states(a.iterations)]},
            "first_prediction_difference": first_difference(c), "diverged": run.diverged,
            "final": scores_json(run.final)})
    return out


def as_json(a: Audit, judged: dict[str, dict], extra: dict) -> dict:
    """The report: `extra` (config, environment, dataset, logdir) and what was measured."""
    names = [n for n in REGIMES if n in a.runs or n in a.skipped]
    return {"schema": 1, "passed": all(v["passed"] for v in judged.values()), **extra,
            "iterations": a.iterations, "lr": a.lr,
            "truth": {"implementation": "scratch (NumPy), float64", "final": scores_json(a.truth)},
            "judged": {n: {**v, "error": num(v["error"])} for n, v in judged.items()},
            "rows": [row_json(n, a) for n in names]}
