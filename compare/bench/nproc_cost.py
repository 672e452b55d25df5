"""What `--nproc 2` costs against one process, on the medium and large configurations.

The torch side of one lockstep step, as `check_model` takes it: the probe's step and the
reference's. On one process, two `Trainer` steps on the whole batch; on 2 gloo ranks of this
machine, two DDP steps (`compare.distributed.ddp`): the go flag with the probe's parameters
broadcast from rank 0, each rank's forward and backward on its shard, the gradients
all-reduced, the cost all-reduced, and every rank's parameters gathered to rank 0 and compared.
Both are timed on rank 0 in the same rounds of one launch (`measure.interleaved`): the other
rank does its half of each DDP step and waits, blocked in the next broadcast, through the
one-process ones. Both use the threads the harness gives a model of that size
(`torch_ref.device.threads_for`), every rank alike.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch

from compare import adapter
from compare.bench import measure
from compare.distributed import ddp, group, launch
from torch_ref.device import threads_for, torch_threads
from torch_ref.models import Net
from torch_ref.train import Trainer

CONFIGS = ("medium", "large")
WORLD = 2
LR = 0.01               # as the step benchmark's: hundreds of repeated steps stay finite


def cost(configs: Sequence[Any], dtype: str, settings: Any, make_data: Callable,
         make_scratch: Callable, log: Callable[[str], None] = print) -> dict | None:
    """{'world_size', 'backend', 'dtype', 'rows': [{config, layers, m, threads, times, ratio}]}
    for the configurations of CONFIGS among `configs` (None if none is); `make_data` and
    `make_scratch` build each one's batch and model (`compare.bench.steps`)."""
    chosen = [c for c in configs if c.name in CONFIGS]
    if not chosen:
        return None
    log(f"bench: --nproc {WORLD} against one process, {', '.join(c.name for c in chosen)} {dtype} ...")
    rows = launch.local(WORLD, "gloo", on_ranks, chosen, dtype, settings, make_data, make_scratch)[0]
    return {"world_size": WORLD, "backend": "gloo", "dtype": dtype, "rows": rows}


def on_ranks(configs: Sequence[Any], dtype: str, settings: Any, make_data: Callable,
             make_scratch: Callable) -> list[dict]:
    """Every configuration timed, as this rank (rank 0's rows; module level: the launcher
    pickles it by name)."""
    rows = []
    for cfg in configs:
        X, Y = make_data(cfg, dtype)
        model = make_scratch(cfg, dtype)
        with torch_threads(threads_for(cfg.layer_dims, cfg.m, torch.device("cpu"))):
            rows.append(timed(cfg, model, X, Y, settings))
    return rows


def timed(cfg: Any, model: Any, X: Any, Y: Any, settings: Any) -> dict:
    """One configuration: rank 0 times both contenders, the other ranks follow the DDP steps."""
    net = Net(model.spec, dtype=model.dtype.name)
    adapter.copy_params_to_torch(model.params, net)
    Xt = adapter.batch_to_torch(X, net.device, net.dtype)                  # [m, n0]
    yt = adapter.targets_to_torch(Y, model.spec.output, net.device, net.dtype)
    parallel = ddp.DataParallel(net.device)
    reference, probe = parallel(net, copy.deepcopy(net), LR)
    if group.rank() > 0:
        try:
            while probe.advance(Xt, yt) is not None and reference.advance(Xt, yt) is not None:
                pass
        finally:
            parallel.finish()
        return {}
    alone = [Trainer(copy.deepcopy(net), LR) for _ in range(2)]
    contenders: dict[str, Callable[[], object]] = {
        "one process": lambda: [t.step(Xt, yt) for t in alone],
        f"{WORLD} ranks": lambda: (probe.step(Xt, yt), reference.step(Xt, yt))}
    try:
        timings = measure.interleaved(contenders, settings.rounds, settings.budget_s,
                                      settings.warmup, min_rounds=settings.min_rounds,
                                      limit_s=settings.limit_s)
    finally:
        parallel.finish()
    return {"config": cfg.name, "layers": list(cfg.layer_dims), "m": cfg.m,
            "threads": torch.get_num_threads(),
            "times": {name: t.as_dict() for name, t in timings.items()},
            "ratio": measure.ratio(timings[f"{WORLD} ranks"], timings["one process"])}
