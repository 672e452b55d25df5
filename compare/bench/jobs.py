"""The two whole-job measurements of `nncompare bench`: the float64 parity suite and the
overhead of TensorBoard logging on the main job.

The parity suite is every model (logistic, shallow, deep) with every hidden activation
and every init, for both outputs, through `compare.proof.harness.check_model`: all four checks
(forward and gradient parity at two parameter points, finite differences, lockstep
training with the trajectory check), in float64 on the CPU, on the flower set.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from compare.proof.harness import check_model
from compare.run import memory
from compare.run.config import MODELS, RunConfig, build_scratch
from scratch import datasets
from scratch.spec import HIDDEN_ACTIVATIONS, INITS, OUTPUTS

PARITY_ITERATIONS = 200      # lockstep steps of each case of the parity suite
PARITY_SEED = 1


def parity_cases() -> list[dict]:
    """Every (model, output, init, activation) of the suite; logistic regression has no
    hidden activation."""
    cases = []
    for output in OUTPUTS:
        for init in INITS:
            cases.append({"model": "logistic", "output": output, "init": init, "activation": None})
            for activation in HIDDEN_ACTIVATIONS:
                for model in MODELS[1:]:
                    cases.append({"model": model, "output": output, "init": init,
                                  "activation": activation})
    return cases


def parity_sample_size(every: int = 1) -> tuple[int, int]:
    """(cases run, cases in the suite) when every `every`-th case is run."""
    cases = parity_cases()
    return len(cases[::every]), len(cases)


def parity_suite(iterations: int = PARITY_ITERATIONS, every: int = 1) -> dict:
    """Run the suite (every `every`-th case, for a quick run) and time it as a whole.

    The timed part is what a test of the suite would run: building each model and
    `check_model` (the dataset is loaded once, before the clock starts).
    """
    data = datasets.load("flower", seed=PARITY_SEED)
    cases = parity_cases()[::every]
    failed = []
    t0 = time.perf_counter()
    for case in cases:
        cfg = RunConfig(models=(case["model"],), activation=case["activation"],
                        output=case["output"], init=case["init"], iterations=iterations,
                        seed=PARITY_SEED).validate()
        model = build_scratch(case["model"], cfg, data)
        found = check_model(model, data, lr=cfg.lr_for(case["model"]), iterations=iterations,
                            seed=PARITY_SEED, activation=cfg.activation,
                            output=cfg.output_for(data), name=case["model"])
        if not found.passed:
            failed.append({**case, "diagnosis": found.diagnosis})
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "cases": len(cases), "of_cases": len(parity_cases()),
            "iterations": iterations, "dataset": "flower", "dtype": "float64",
            "passed": len(cases) - len(failed), "failed": failed}


def children_cpu_seconds() -> float:
    """User + system CPU time of the finished child processes, all their threads
    (TensorBoard writes events from a thread of its own)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_main_job(argv: list[str]) -> tuple[float, float, int]:
    """Wall and CPU seconds and exit code of `python -m compare <argv>`: a fresh process,
    as a user runs it, so one-time costs (imports, the first writers and events) count."""
    t0, c0 = time.perf_counter(), children_cpu_seconds()
    rc = subprocess.run([sys.executable, "-m", "compare", "--no-progress", *argv],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, children_cpu_seconds() - c0, rc


def tensorboard_overhead(iterations: int | None = None, repeats: int = 5) -> dict:
    """Wall and CPU time of the main job (`nncompare`, default settings, each run a fresh
    process) with and without its TensorBoard logs, in `repeats` back-to-back pairs (the
    order alternating); logs go to a temporary folder. The ratio is the fastest logged run's
    over the fastest unlogged one's: other users of a shared machine only ever add time
    (15% from one run to the next was seen on a quiet 2-core VM, more than the logs' cost),
    so each kind's minimum is its cost with the least interference, as `timeit` advises;
    the median of the pairs' ratios and the CPU time ratio are cross-checks.

    `iterations` None is the main job's own default (5000 steps a model).
    """
    steps = [] if iterations is None else ["--iterations", str(iterations)]
    times: dict[str, list[float]] = {"logged": [], "unlogged": []}
    cpu: dict[str, list[float]] = {"logged": [], "unlogged": []}
    hooks: list[float] = []                   # seconds inside the logging hooks, each logged run
    with tempfile.TemporaryDirectory(prefix="nncompare-bench-") as logdir:
        for r in range(repeats):
            order = ("logged", "unlogged") if r % 2 == 0 else ("unlogged", "logged")
            for kind in order:
                report = Path(logdir) / f"report-{r}-{kind}.json"
                extra = (["--logdir", logdir, "--experiment", f"bench-{r}"]
                         if kind == "logged" else ["--no-log"])
                wall, used, rc = run_main_job([*steps, *extra, "--json", str(report)])
                if rc != 0:
                    return {"available": False, "reason": f"the main job exited with {rc} ({kind})"}
                times[kind].append(wall)
                cpu[kind].append(used)
                if kind == "logged":
                    hooks.append(float(json.loads(report.read_text()).get("logging_seconds", 0.0)))

    def ratio(found: dict[str, list[float]]) -> float:
        return min(found["logged"]) / min(found["unlogged"])

    pairs = [a / b for a, b in zip(times["logged"], times["unlogged"], strict=True)]

    return {"available": True, "iterations": iterations or RunConfig().iterations,
            "repeats": repeats, "logged_s": times["logged"], "unlogged_s": times["unlogged"],
            "logged_cpu_s": cpu["logged"], "unlogged_cpu_s": cpu["unlogged"],
            "ratio": ratio(times), "pair_ratio": float(np.median(pairs)), "cpu_ratio": ratio(cpu),
            "hook_s": hooks}


GLIBC_DEFAULTS = {memory.OFF: "0"}      # a process with glibc's own allocator settings


def allocator_check(rounds: int = 5, quick: bool = False) -> dict:
    """The large config in float64 on one thread, timed again in a fresh process with glibc's
    default allocator (`GLIBC_DEFAULTS`), as a plain NumPy process has it, rather than the one
    `nncompare` sets (`compare.run.memory`): every block of 32 MiB or more returned to the
    kernel when freed and faulted in again, zero-filled, at the next step. How much of a
    step is the operating system's, not the code's."""
    with tempfile.TemporaryDirectory(prefix="nncompare-bench-") as folder:
        out = Path(folder) / "bench.json"
        run = subprocess.run([sys.executable, "-m", "compare", "bench", "--only", "large",
                              "--dtypes", "float64", "--threads", "1", "--no-jobs",
                              "--rounds", str(rounds), "--json", str(out),
                              "--markdown", str(Path(folder) / "bench.md"),
                              *(["--quick"] if quick else [])],
                             env={**os.environ, **GLIBC_DEFAULTS}, capture_output=True, text=True)
        if run.returncode != 0:
            return {"available": False, "reason": run.stderr.strip().splitlines()[-1:]}
        d = json.loads(out.read_text())["configs"][0]["dtypes"]["float64"]
    return {"available": True, "env": GLIBC_DEFAULTS, "threads": 1, "dtype": "float64",
            "ratios": {k: v["median"] for k, v in d["ratios"].items()},
            "page_faults_per_call": {k: v["page_faults_per_call"] for k, v in d["times"].items()},
            "fraction_of_peak": d["fraction_of_peak"]["scratch"]}
