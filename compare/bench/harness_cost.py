"""The harness's own cost, per dataset: the lockstep training of each built-in dataset's
default deep model (the main job's settings) against the ideal in the same run.

    wall     the lockstep training as `check_model` runs it (threads by the policy)
    ideal    iterations x (one scratch step + the two torch steps a lockstep step takes:
             the free-running side and the probe), each timed alone on one thread, as a
             mean over runs of its own calls (the wall is a mean over its steps too)
    in turn  iterations x the same three steps taken one after the other, with nothing else

wall / ideal is the harness's overhead; in turn / ideal is what alternating the sides costs
(each one's code and data evicted from the caches by the other's), wall / in turn the
lockstep's own work (the probe's reset, both torch models read back and compared). The
training runs in rounds, each followed by a run of every timer, so that a change in the
machine's load falls on all three alike. Each dataset is measured twice: as the machine is,
and with one busy-loop process per core started here (stopped by PID, each ending by
itself after a time limit), since users run this on busy laptops.
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


class Timer:
    """The mean time of one call of `step`, from runs of its own calls that may be split into
    rounds between other measurements (one warm-up call first)."""

    def __init__(self, step: Callable[[], object]) -> None:
        self.step, self.calls, self.seconds = step, 0, 0.0
        step()

    def run(self, seconds: float, least: int = 20) -> None:
        """At least `least` calls and `seconds` more."""
        n, t0 = 0, time.perf_counter()
        while n < least or time.perf_counter() - t0 < seconds:
            self.step()
            n += 1
        self.seconds += time.perf_counter() - t0
        self.calls += n

    @property
    def mean(self) -> float:
        return self.seconds / self.calls


def setup_for(name: str, cfg: RunConfig) -> harness.Setup:
    data = datasets.load(name, seed=cfg.seed)
    model = build_scratch("deep", cfg, data)
    setup = harness.prepare(model, data, cfg.lr_for("deep"), cfg.iterations, cfg.batch_size,
                            cfg.seed, "cpu", None, cfg.output_for(data), cfg.alpha, cfg.fd_max_entries)
    adapter.copy_params_to_torch(setup.model.params, setup.reference)
    return setup


def step_timers(setup: harness.Setup) -> dict[str, Timer]:
    """{'scratch', 'torch', 'in turn'}: one scratch step and one torch step on the whole batch,
    each alone, and the three a lockstep step takes (the probe's, the reference's, scratch's)
    one after the other with nothing else, on copies of the models; at a tiny learning rate,
    so the state hardly moves."""
    model, reference = copy.deepcopy(setup.model), copy.deepcopy(setup.reference)
    Xt = adapter.batch_to_torch(setup.X, reference.device, reference.dtype)
    yt = adapter.targets_to_torch(setup.Y, reference.spec.output, reference.device, reference.dtype)
    lr = setup.lr * 1e-9
    trainers = [Trainer(net, lr) for net in (copy.deepcopy(reference), reference)]

    def scratch_step() -> None:
        scratch_train.step(model, setup.X, setup.Y, lr)

    def torch_step() -> None:
        trainers[1].step(Xt, yt).item()

    def in_turn() -> None:
        for trainer in trainers:
            trainer.step(Xt, yt).item()
        scratch_step()

    with torch_threads(1), blas_threads(1):
        return {"scratch": Timer(scratch_step), "torch": Timer(torch_step), "in turn": Timer(in_turn)}


def lockstep_chunk(setup: harness.Setup, steps: int, start: int) -> float:
    """Seconds of `steps` lockstep steps from step `start`, as check_model runs them (the run
    goes on where the last chunk left it: same batches, same step numbers)."""
    with harness.numerics(setup):
        t0 = time.perf_counter()
        trajectory = lockstep.train(setup.model, setup.reference, setup.X, setup.Y, setup.lr,
                                    steps, setup.batch_size, setup.seed, setup.tol.trajectory,
                                    start_step=start, forward_tol=setup.tol.forward)
        wall = time.perf_counter() - t0
    if not trajectory.result.passed:
        raise RuntimeError(f"harness cost: the lockstep run failed: {trajectory.result.detail}")
    return wall


def measure(setup: harness.Setup, rounds: int = 5, piece_s: float = 0.5) -> dict[str, float]:
    """{'wall_s', 'ideal_s', 'in_turn_s'} of the whole run: the lockstep training in `rounds`
    chunks, each followed by a run of every timer (scratch `piece_s`, torch and in turn 2 and
    3 times as long), so that a change in the machine's load falls on all of them alike."""
    timers = step_timers(setup)
    wall, done = 0.0, 0
    for r in range(rounds):
        steps = (setup.iterations - done) // (rounds - r)
        wall += lockstep_chunk(setup, steps, done)
        done += steps
        with torch_threads(1), blas_threads(1):
            for timer, seconds in zip(timers.values(), (piece_s, 2 * piece_s, 3 * piece_s), strict=True):
                timer.run(seconds)
    n = setup.iterations
    return {"wall_s": wall, "ideal_s": n * (timers["scratch"].mean + 2 * timers["torch"].mean),
            "in_turn_s": n * timers["in turn"].mean}


def per_dataset(iterations: int | None = None, names: tuple[str, ...] = datasets.NAMES,
                log: Callable[[str], None] = print) -> dict:
    """{"iterations", "rows": [{dataset, layers, m, busy, wall_s, ideal_s, in_turn_s, ratio}, ...]}."""
    cfg = RunConfig(models=("deep",)) if iterations is None else RunConfig(models=("deep",),
                                                                           iterations=iterations)
    rows = []
    for busy in (False, True):
        for name in names:
            log(f"bench: harness cost, {name}{', busy cores' if busy else ''} ...")
            setup = setup_for(name, cfg)
            with busy_cores(limit_s=1200) if busy else nullcontext():
                found = measure(setup)                          # all in the same condition
            rows.append({"dataset": name, "layers": list(setup.spec.layer_dims), "m": setup.X.shape[1],
                         "busy": busy, **found, "ratio": found["wall_s"] / found["ideal_s"]})
    return {"iterations": cfg.iterations, "cores": os.cpu_count(), "rows": rows}
