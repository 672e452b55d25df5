"""Experiment 10, GPU readiness: how far torch in each precision drifts from the float64 truth.

The precision audit (`compare.precision`, the command `nncompare precision`) on this
machine's CPU: one model, one copied start, scratch in float64 as the exact mathematics and
torch in float64, float32 and autocast bfloat16 (TF32 and float16 need CUDA: their rows are
skipped here and come from `scripts/gpu_check.py` on a GPU, in docs/GPU.md). Two workloads:
the main job's deep net on the flower set, and the MNIST L-layer net over 10 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from compare.experiments.base import Experiment, Result, Settings, Table
from compare.experiments.session import folder_plan
from compare.precision import report
from compare.precision.audit import Audit, run_audit
from compare.precision.tblog import Writers
from compare.run import rundir
from scratch import datasets
from scratch.deep import DeepNet

NAME = "precision"
PRECISIONS = ("float64", "float32", "bfloat16")      # what runs on a CPU


@dataclass(frozen=True)
class Workload:
    key: str
    dataset: str
    hidden: tuple[int, ...]
    lr: float
    iterations: int


FULL = (Workload("flower [2, 10, 5, 1]", "flower", (10, 5), 0.5, 2000),
        Workload("mnist [784, 20, 7, 5, 10]", "mnist", (20, 7, 5), 0.1, 500))
QUICK = (Workload("flower [2, 10, 5, 1]", "flower", (10, 5), 0.5, 30),)


def audit(w: Workload, seed: int, folder: Path | None) -> Audit:
    """The audit of one workload on the CPU, logged under `folder` when given."""
    data = datasets.load(w.dataset, seed=seed)
    output = "sigmoid" if data.n_classes == 2 else "softmax"
    dims = [data.n_x, *w.hidden, 1 if output == "sigmoid" else data.n_classes]
    model = DeepNet(dims, activation="relu", output=output, init="xavier", seed=seed)
    writers = None if folder is None else Writers(folder / w.dataset, w.iterations)
    try:
        return run_audit(model, data, w.lr, w.iterations, torch.device("cpu"), PRECISIONS,
                         log=writers)
    finally:
        if writers is not None:
            writers.close()


def run(settings: Settings) -> Result:
    plan = folder_plan(NAME, settings)
    folder = None if plan is None else rundir.create(plan)
    tables: list[Table] = []
    facts: dict[str, dict] = {}
    for w in QUICK if settings.quick else FULL:
        found = audit(w, settings.seed, folder)
        judged = report.verdicts(found, torch.device("cpu"))
        tables.append(Table(report.header(found.iterations), report.rows(found),
                            title=f"{w.key} on {w.dataset}, lr {w.lr}, {w.iterations} steps"))
        facts[w.dataset] = {**{name: run.curves for name, run in found.runs.items()},
                            "judged": judged}
    setup = ("DeepNet, ReLU hidden units, xavier init, full-batch gradient descent; scratch "
             "in float64 is the truth; torch on the CPU in " + ", ".join(PRECISIONS)
             + f" (autocast for bfloat16), seed {settings.seed}")
    return Result(NAME, setup, tables, conclusion(facts), facts,
                  logs=None if folder is None else str(folder))


def summary(dataset: str, runs: dict) -> str:
    """One workload's measured ordering, bounds and first differing predictions, in words."""
    errs = {name: runs[name].params[-1] for name in PRECISIONS if name in runs}
    firsts = {name: report.first_difference(runs[name]) for name in errs}
    judged = runs["judged"]
    bounds = "; ".join(f"{n} {v['error']:.1e} (bound {v['bound']:.0e}, "
                       f"{'within' if v['passed'] else 'OVER'})" for n, v in judged.items())
    differ = ", ".join(f"{n} {'never' if s is None else f'at state {s}'}"
                       for n, s in firsts.items())
    return (f"On {dataset} the final parameter error against the float64 truth is "
            + ", ".join(f"{n} {e:.1e}" for n, e in errs.items())
            + f" (smallest first: {', '.join(sorted(errs, key=lambda n: errs[n]))}); after one "
            f"step from the common start: {bounds}; test predictions first differ: {differ}.")


def conclusion(facts: dict) -> str:
    return " ".join(summary(dataset, runs) for dataset, runs in facts.items()) + (
        " The unit roundoffs (float64 2^-53, float32 2^-24, bfloat16's products 2^-8) set the "
        "one-step errors; training amplifies them, and the bound the trajectory check uses for "
        "each dtype is the one printed beside it.")


EXPERIMENT = Experiment(
    name=NAME, section="GPU", title="Precision: torch's drift from the float64 truth",
    question="Trained from one copied start, how far do torch's float32 and bfloat16 runs "
             "drift from scratch's float64 gradient descent, and when do their predictions "
             "first differ?",
    run=run)
