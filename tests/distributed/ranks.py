"""What the ranks of the tests run (module level: the launcher pickles them by name)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import torch
import torch.distributed as dist

import scratch
from compare.distributed import ddp, group
from compare.proof.harness import check_model
from scratch import datasets
from torch_ref.models import Net

MODELS = {"logistic": lambda dt: scratch.LogisticRegression(n_x=2, dtype=dt),
          "shallow": lambda dt: scratch.ShallowNet(n_x=2, n_h=4, activation="tanh", seed=1, dtype=dt),
          "deep": lambda dt: scratch.DeepNet([2, 10, 5, 1], activation="relu", init="he", seed=1, dtype=dt)}
LR = {"logistic": 1.2, "shallow": 1.2, "deep": 0.3}


def summary(report) -> dict:
    """What a test needs of a report (the whole one pickles too, but this reads better)."""
    return {"passed": report.passed, "description": report.description,
            "errors": {c: r.max_rel_err for c, r in report.checks.items()},
            "detail": report.checks["trajectory"].detail if "trajectory" in report.checks else "",
            "final": report.final}


def parity_suite(configs: list[tuple[str, str, int | None, int]], device: str = "cpu") -> list[dict]:
    """check_model(nproc=world) for each (model, dtype, batch_size, iterations), as this rank."""
    data = datasets.load("flower", seed=1)
    out = []
    for kind, dtype, batch, iterations in configs:
        model = MODELS[kind](dtype)
        report = check_model(model, data, lr=LR[kind], iterations=iterations, batch_size=batch,
                             name=kind, nproc=group.world_size(), device=device)
        out.append(summary(report))
    return out


def fail(how: str) -> int:
    """Rank 1 raises or is killed after the group is up; the others wait in a collective."""
    if dist.get_rank() == 1:
        time.sleep(0.5)
        if how == "raise":
            raise RuntimeError("rank 1 broke on purpose")
        os.kill(os.getpid(), signal.SIGKILL)
    dist.barrier()                    # rank 0 waits here for a rank that never comes
    return 0


def fail_run(args) -> int:
    """A main job stand-in for parallel.run_ranks: rank 1 raises."""
    return fail("raise")


def cycles(n: int) -> int:
    """`n` times: the group made, a DDP step, the reducer dropped, the group torn down; inside
    this pair of processes (the launcher's own group first)."""
    group.teardown()
    for i in range(n):
        group.ensure("gloo", prefix=f"cycle-{i}")
        net = Net(scratch.spec.ModelSpec.build((2, 3, 1), activation="tanh", output="sigmoid",
                                               init="small"), dtype=torch.float64)
        parallel = ddp.DataParallel(torch.device("cpu"))
        trainer, probe = parallel(net, Net(net.spec, dtype=torch.float64), 0.1)
        X = torch.as_tensor(np.random.default_rng(i).standard_normal((7, 2)))
        y = (X[:, :1] > 0).double()
        probe.step(X, y)
        trainer.step(X, y)
        if group.rank() > 0:                   # rank 0's stop, which `finish` sends
            parallel.coordinator.go(ddp.GO, parallel.coordinator.next_probe)
        parallel.finish()
        del parallel, trainer, probe
        group.teardown()
    group.ensure("gloo", prefix="after")
    return n
