"""The harness's own cost, per dataset: the lockstep training of each built-in dataset's
default deep model (the main job's settings) against the ideal in the same run.

    wall   the lockstep training as `check_model` runs it (threads by the policy)
    ideal  iterations x (one scratch step + the two torch steps a lockstep step takes:
           the free-running side and the probe), each timed alone on one thread, as a
           mean over a run of its own calls (the wall is a mean over its steps too)

wall / ideal is the harness's overhead: comparisons, copies and any thread hand-offs, and
the cost of alternating the sides, measured apart (`in_turn_step`: the three steps in turn).
Each dataset is measured twice, the ideal and the wall in the same condition: as the
machine is, and with one busy-loop process per core started here (stopped by PID, each
ending by itself after a time limit), since users run this on busy laptops.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from compare import adapter
from compare.proof import harness, lockstep
from compare.run.config import RunConfig, build_scratch
from scratch import datasets
from scratch import train as scratch_train
from scratch.threads import blas_threads
from torch_ref.device import torch_threads
from torch_ref.train import Trainer

BUSY = "import time\nend = time.time() + {limit}\nwhile time.time() < end: pass\n"


@contextmanager
def busy_cores(limit_s: float) -> Iterator[int]:
    """One busy-loop process per core for the block (each ends by itself after `limit_s`)."""
    n = os.cpu_count() or 1
    procs = [subprocess.Popen([sys.executable, "-c", BUSY.format(limit=limit_s)]) for _ in range(n)]
    try:
        yield n
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def mean_of(step: Callable[[], object], seconds: float, least: int = 50) -> float:
    """The mean time of `step` over a run of calls of its own (after one warm-up call): at
    least `least` calls and `seconds`, in seconds a call."""
    step()
    n, t0 = 0, time.perf_counter()
    while n < least or time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return (time.perf_counter() - t0) / n


def setup_for(name: str, cfg: RunConfig) -> harness.Setup:
    data = datasets.load(name, seed=cfg.seed)
    model = build_scratch("deep", cfg, data)
    setup = harness.prepare(model, data, cfg.lr_for("deep"), cfg.iterations, cfg.batch_size,
                            cfg.seed, "cpu", None, cfg.output_for(data), cfg.alpha, cfg.fd_max_entries)
    adapter.copy_params_to_torch(setup.model.params, setup.reference)
    return setup


def ideal_step(setup: harness.Setup, seconds: float = 2.0) -> float:
    """One scratch step and two torch steps on the whole batch, each on one thread and timed
    as the wall is, over a run of its own (`mean_of`): a best-of timing against the wall's
    mean would count the machine's noise, and on busy cores this process's share of them,
    as the harness's overhead."""
    model, reference = copy.deepcopy(setup.model), copy.deepcopy(setup.reference)
    Xt = adapter.batch_to_torch(setup.X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(setup.Y, reference.spec.output, reference.device, reference.dtype)
    trainer = Trainer(reference, setup.lr * 1e-9)      # a tiny step: the state hardly moves
    with torch_threads(1), blas_threads(1):
        scratch_s = mean_of(lambda: scratch_train.step(model, setup.X, setup.Y, setup.lr * 1e-9), seconds)
        torch_s = mean_of(lambda: trainer.step(Xt, yt), 2 * seconds)
    return scratch_s + 2 * torch_s


def in_turn_step(setup: harness.Setup, seconds: float = 2.0) -> float:
    """The same three steps taken in turn, as a lockstep step takes them (the probe's, the
    reference's, scratch's) and with nothing else, on one thread: over `ideal_step`, what
    alternating the sides costs (each one's code and data evicted from the caches by the
    other's); under the wall, the lockstep's own work."""
    model, reference = copy.deepcopy(setup.model), copy.deepcopy(setup.reference)
    probe = copy.deepcopy(reference)
    Xt = adapter.batch_to_torch(setup.X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(setup.Y, reference.spec.output, reference.device, reference.dtype)
    trainers = [Trainer(net, setup.lr * 1e-9) for net in (probe, reference)]

    def three() -> None:
        for trainer in trainers:
            trainer.step(Xt, yt).item()
        scratch_train.step(model, setup.X, setup.Y, setup.lr * 1e-9)

    with torch_threads(1), blas_threads(1):
        return mean_of(three, 3 * seconds)


def lockstep_wall(setup: harness.Setup) -> float:
    """Seconds of the lockstep training as check_model runs it."""
    with harness.numerics(setup):
        t0 = time.perf_counter()
        trajectory = lockstep.train(setup.model, setup.reference, setup.X, setup.Y, setup.lr,
                                    setup.iterations, setup.batch_size, setup.seed,
                                    setup.tol.trajectory, forward_tol=setup.tol.forward)
        wall = time.perf_counter() - t0
    if not trajectory.result.passed:
        raise RuntimeError(f"harness cost: the lockstep run failed: {trajectory.result.detail}")
    return wall


def per_dataset(iterations: int | None = None, names: tuple[str, ...] = datasets.NAMES,
                log: Callable[[str], None] = print) -> dict:
    """{'iterations', 'rows': [{dataset, layers, m, busy, wall_s, ideal_s, in_turn_s, ratio}, ...]}."""
    cfg = RunConfig(models=("deep",)) if iterations is None else RunConfig(models=("deep",),
                                                                           iterations=iterations)
    rows = []
    for busy in (False, True):
        for name in names:
            log(f"bench: harness cost, {name}{', busy cores' if busy else ''} ...")
            setup = setup_for(name, cfg)
            with busy_cores(limit_s=600) if busy else nullcontext():
                ideal = ideal_step(setup) * cfg.iterations      # in the same condition
                in_turn = in_turn_step(setup) * cfg.iterations
                wall = lockstep_wall(setup)
            rows.append({"dataset": name, "layers": list(setup.spec.layer_dims), "m": setup.X.shape[1],
                         "busy": busy, "wall_s": wall, "ideal_s": ideal, "in_turn_s": in_turn,
                         "ratio": wall / ideal})
    return {"iterations": cfg.iterations, "cores": os.cpu_count(), "rows": rows}
