"""`nncompare bench`: speed and memory of both implementations against the machine's limit.

    nncompare bench                    the full run (a few minutes), writes
                                       docs/benchmarks.json and docs/BENCHMARKS.md
    nncompare bench --quick            seconds: tiny repetitions, the large config at
                                       m = 64, writes runs/bench-quick.{json,md}
    python -m compare.bench --only toy,medium --dtypes float64 --no-jobs

For each configuration and dtype, in one interleaved run (`compare.bench.measure`):
the time of one full training step (forward, cost, backward, update) of scratch
(`scratch.train.step`), of torch_ref (`Trainer.step`), of a bare torch loop on the same
model (zero_grad, forward, loss, backward, step: the floor for our torch code), of
torch_ref on CUDA where there is a GPU, and of the step's matrix products alone in
NumPy (its peak at these sizes). Then the peak memory of a scratch step on the large
configuration, the cost of `--nproc 2` against one process on the medium and large ones
(`compare.bench.nproc_cost`), the wall time of the float64 parity suite and the overhead of
TensorBoard logging on the main job (`compare.bench.jobs`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import scratch
from compare import adapter
from compare.bench import harness_cost, measure, nproc_cost, startup
from compare.bench import jobs as bench_jobs
from compare.bench import report as bench_report
from compare.bench import targets as bench_targets
from compare.run import files
from scratch import train as scratch_train
from scratch.datasets import flower
from scratch.errors import InvalidArgument
from scratch.losses import one_hot
from scratch.spec import DTYPES, suggest
from torch_ref.models import Net
from torch_ref.train import Trainer

LR = 0.01          # small enough that hundreds of repeated steps stay finite
SEED = 0


@dataclass(frozen=True)
class BenchConfig:
    """One benchmarked network: `model` is the scratch class ('shallow' or 'deep')."""

    name: str
    layer_dims: tuple[int, ...]
    activation: str
    output: str
    m: int
    model: str = "deep"


CONFIGS = (
    BenchConfig("toy", (2, 4, 1), "tanh", "sigmoid", 400, "shallow"),   # the flower set
    BenchConfig("medium", (784, 128, 64, 10), "relu", "softmax", 256),
    BenchConfig("large", (1024, 1024, 1024, 1), "relu", "sigmoid", 4096),
    BenchConfig("deep-narrow", (20, 7, 5, 5, 5, 5, 5, 1), "relu", "sigmoid", 1000),
)
QUICK_M = {"large": 64}    # --quick shrinks the batch of the large config


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure."""

    rounds: int = 15           # interleaved rounds per configuration and dtype, at most
    min_rounds: int = 5        # ... and at least, even past limit_s
    limit_s: float = 40.0      # no new round after this many seconds on one config and dtype
    budget_s: float = 0.1      # seconds each contender gets per round (at least one call)
    warmup: int = 1            # untimed calls of each contender first
    single_thread: bool = True  # time every step again with one thread (torch and BLAS)
    allocator_check: bool = True  # large float64 again with glibc keeping freed blocks
    parity_every: int = 1      # run every n-th case of the parity suite
    parity_iterations: int = bench_jobs.PARITY_ITERATIONS
    tb_iterations: int | None = None   # main job's steps for the TensorBoard overhead (None: default)
    tb_repeats: int = 5
    nproc_cost: bool = True    # the torch side's step on 2 gloo ranks against one process


QUICK = Settings(rounds=2, min_rounds=2, budget_s=0.005, single_thread=False, parity_every=12,
                 parity_iterations=20, tb_iterations=20, tb_repeats=1)


def make_data(cfg: BenchConfig, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """X [n0, m] and Y ([1, m] of 0/1 or one-hot [K, m]) in `dtype`: the flower set for
    the toy config, seeded standard normal samples with random labels otherwise."""
    if cfg.name == "toy":
        X, y = flower(cfg.m, seed=SEED)                                   # [2, m], [m]
        return X.astype(dtype), y[None, :].astype(dtype)                  # [2, m], [1, m]
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((cfg.layer_dims[0], cfg.m)).astype(dtype)     # [n0, m]
    labels = rng.integers(0, max(cfg.layer_dims[-1], 2), cfg.m)          # [m]
    if cfg.output == "sigmoid":
        return X, labels[None, :].astype(dtype)                           # [1, m]
    return X, one_hot(labels, cfg.layer_dims[-1], np.dtype(dtype))        # [K, m]


def make_scratch(cfg: BenchConfig, dtype: str) -> scratch.Model:
    if cfg.model == "shallow":
        n_x, n_h, n_y = cfg.layer_dims
        return scratch.ShallowNet(n_x, n_h, n_y, activation=cfg.activation, output=cfg.output,
                                  init="xavier", seed=SEED, dtype=dtype)
    return scratch.DeepNet(cfg.layer_dims, activation=cfg.activation, output=cfg.output,
                           init="he", seed=SEED, dtype=dtype)


def torch_side(model: scratch.Model, X: np.ndarray, Y: np.ndarray, device: str):
    """A torch Net with scratch's parameters (copied) and the batch, through the adapter."""
    net = Net(model.spec, seed=SEED, device=device, dtype=model.dtype.name)
    adapter.copy_params_to_torch(model.params, net)
    Xt = adapter.batch_to_torch(X, net.device, net.dtype)                 # [m, n0]
    yt = adapter.targets_to_torch(Y, model.spec.output, net.device, net.dtype)
    return net, Xt, yt


def contenders(cfg: BenchConfig, dtype: str, cuda: bool) -> dict:
    """name -> a callable doing one training step (or the step's matrix products)."""
    X, Y = make_data(cfg, dtype)
    model = make_scratch(cfg, dtype)
    ref, Xt, yt = torch_side(model, X, Y, "cpu")
    trainer = Trainer(ref, LR)
    bare, Xb, yb = torch_side(model, X, Y, "cpu")
    optimizer = torch.optim.SGD(bare.parameters(), lr=LR)

    def bare_step() -> None:                     # the floor: nothing but the five calls
        optimizer.zero_grad()
        loss = bare.loss_fn(bare(Xb), yb)
        loss.backward()
        optimizer.step()

    products = measure.step_products(cfg.layer_dims, cfg.m, np.dtype(dtype))
    found = {"scratch": lambda: scratch_train.step(model, X, Y, LR),
             "torch_ref": lambda: trainer.step(Xt, yt),
             "bare": bare_step,
             "matmul": measure.matmul_only_step(products)}
    if cuda:
        gpu, Xg, yg = torch_side(model, X, Y, "cuda")
        gpu_trainer = Trainer(gpu, LR)

        def cuda_step() -> None:
            gpu_trainer.step(Xg, yg)
            torch.cuda.synchronize()

        found["torch_ref_cuda"] = cuda_step
    return found


def bench_config(cfg: BenchConfig, dtype: str, settings: Settings, cuda: bool) -> dict:
    """Times, GFLOP/s, fraction of the matmul peak and ratios of one config in one dtype."""
    timings = measure.interleaved(contenders(cfg, dtype, cuda), settings.rounds,
                                  settings.budget_s, settings.warmup,
                                  min_rounds=settings.min_rounds, limit_s=settings.limit_s)
    flops = measure.matmul_flops(cfg.layer_dims, cfg.m)["total"]
    peak = flops / timings["matmul"].median / 1e9
    gflops = {name: flops / t.median / 1e9 for name, t in timings.items()}
    return {
        "times": {name: t.as_dict() for name, t in timings.items()},
        "peak_gflops": peak,
        "gflops": gflops,
        "fraction_of_peak": {name: 1 / measure.ratio(t, timings["matmul"])["median"]
                             for name, t in timings.items() if name != "matmul"},
        "ratios": {"scratch/torch_ref": measure.ratio(timings["scratch"], timings["torch_ref"]),
                   "torch_ref/bare": measure.ratio(timings["torch_ref"], timings["bare"]),
                   "scratch/matmul": measure.ratio(timings["scratch"], timings["matmul"]),
                   "matmul/torch_ref": measure.ratio(timings["matmul"], timings["torch_ref"])},
    }


def memory(cfg: BenchConfig) -> dict:
    """Peak memory of one scratch step on `cfg`, in each dtype."""
    found = {}
    for dtype in DTYPES:
        X, Y = make_data(cfg, dtype)
        model = make_scratch(cfg, dtype)
        scratch_train.step(model, X, Y, LR)                   # warm: the same work as measured
        found[dtype] = measure.scratch_memory(model, X, Y, LR)
    return {"config": cfg.name, "m": cfg.m, **found}


@contextlib.contextmanager
def threads(n: int | None):
    """torch's intra-op threads and NumPy's BLAS threads set to `n` (None: as they are)."""
    before = torch.get_num_threads()
    with threadpool_limits(limits=n, user_api="blas"):
        if n is not None:
            torch.set_num_threads(n)
        try:
            yield {"torch": torch.get_num_threads(),
                   "blas": bench_report.numpy_blas().get("num_threads")}
        finally:
            torch.set_num_threads(before)


def steps(configs: Sequence[BenchConfig], dtypes: Sequence[str], settings: Settings,
          cuda: bool, log=print, label: str = "") -> list[dict]:
    """Every config in every dtype, as `result['configs']`."""
    found = []
    for cfg in configs:
        entry = {**asdict(cfg), "flops": measure.matmul_flops(cfg.layer_dims, cfg.m), "dtypes": {}}
        for dtype in dtypes:
            log(f"bench: {cfg.name} {dtype}{label} ...")
            entry["dtypes"][dtype] = bench_config(cfg, dtype, settings, cuda)
        found.append(entry)
    return found


def run(configs: Sequence[BenchConfig], dtypes: Sequence[str], settings: Settings,
        jobs: bool, quick: bool, log=print) -> dict:
    """The whole benchmark, as the JSON document."""
    started = time.time()
    cuda = torch.cuda.is_available()
    out: dict[str, Any] = {
        "schema": 1, "quick": quick, "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": bench_report.machine(), "settings": asdict(settings), "lr": LR,
        "cuda": {"available": cuda,
                 "device": torch.cuda.get_device_name(0) if cuda else None,
                 "note": "synchronized after every step" if cuda else
                         "no CUDA device: torch_ref_cuda skipped"},
        "threads": {"torch": torch.get_num_threads(),
                    "blas": bench_report.numpy_blas().get("num_threads")}}
    out["configs"] = steps(configs, dtypes, settings, cuda, log)
    if settings.single_thread:
        with threads(1) as used:
            out["single_thread"] = {"threads": used, "configs": steps(
                configs, dtypes, settings, False, log, " (one thread)")}
    large = next((c for c in configs if c.name == "large"), None)
    if large is not None:
        log("bench: memory of a scratch step on large ...")
        out["memory"] = memory(large)
        if settings.allocator_check and "float64" in dtypes:
            log("bench: large, float64, one thread, glibc keeping freed blocks ...")
            out["allocator_check"] = bench_jobs.allocator_check(settings.min_rounds, quick)
    if settings.nproc_cost:
        dtype = "float64" if "float64" in dtypes else dtypes[0]
        found = nproc_cost.cost(configs, dtype, settings, make_data, make_scratch, log)
        if found is not None:
            out["nproc"] = found
    if jobs:
        out.update(whole_jobs(settings, quick, log))
    out["machine"]["loadavg_end"] = bench_report.loadavg()
    out["seconds"] = time.time() - started
    out["targets"] = bench_targets.targets(out)
    return out


def whole_jobs(settings: Settings, quick: bool, log=print) -> dict:
    """The parity suite (a sample of it, announced as such, where `parity_every` > 1) and
    the TensorBoard overhead, as `result['parity_suite']` and `result['tensorboard']`."""
    cases, of_cases = bench_jobs.parity_sample_size(settings.parity_every)
    log("bench: float64 parity suite ..." if cases == of_cases else
        f"bench: float64 parity suite, {bench_targets.sample_note(cases, of_cases)} ...")
    suite = bench_jobs.parity_suite(settings.parity_iterations, settings.parity_every)
    if not quick:                # the part that does not grow with the lockstep steps
        suite["fixed_s"] = bench_jobs.parity_suite(1, settings.parity_every)["wall_s"]
    log("bench: TensorBoard logging on the main job ...")
    tb = bench_jobs.tensorboard_overhead(settings.tb_iterations, settings.tb_repeats)
    cost = harness_cost.per_dataset(20, ("flower",), log) if quick else harness_cost.per_dataset(log=log)
    return {"parity_suite": suite, "tensorboard": tb, "harness_cost": cost,
            "startup": startup.measure(quick, log)}


def pick_configs(text: str | None, quick: bool) -> list[BenchConfig]:
    names = [c.name for c in CONFIGS]
    wanted = names if text is None else text.replace(" ", "").lower().split(",")
    for name in wanted:
        if name not in names:
            raise InvalidArgument(f"only: unknown config {name!r}{suggest(name, names)}; "
                                  f"expected some of {', '.join(names)}")
    chosen = [c for c in CONFIGS if c.name in wanted]
    if quick:
        chosen = [BenchConfig(**{**asdict(c), "m": QUICK_M.get(c.name, c.m)}) for c in chosen]
    return chosen


# what a results file must hold for the report to be rendered from it
RESULT_KEYS = ("quick", "started", "seconds", "machine", "settings", "lr", "cuda", "threads",
               "configs")


def load_results(json_path: Path) -> dict:
    """Saved results of `nncompare bench` (InvalidArgument naming the file if they are not)."""
    try:
        result = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"render: cannot read results from {json_path} ({exc})") from None
    expected = "expected the results that 'nncompare bench --json' writes"
    if not isinstance(result, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", int: "a number",
                float: "a number", type(None): "null"}.get(type(result), "a value")
        raise InvalidArgument(f"render: {json_path} holds {kind}, not a JSON object; {expected}")
    missing = [key for key in RESULT_KEYS if key not in result]
    if missing:
        raise InvalidArgument(f"render: {json_path} has no {', '.join(map(repr, missing))}; "
                              f"{expected}")
    if not isinstance(result["configs"], list):
        raise InvalidArgument(f"render: {json_path}: 'configs' is not a JSON array; {expected}")
    return result


def render(json_path: Path, md_path: Path) -> int:
    """The report of saved results, their targets judged again by the current code."""
    result = load_results(json_path)
    try:
        result["targets"] = bench_targets.targets(result)
        text = bench_report.markdown(result, json_path)
        lines = bench_report.summary(result)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidArgument(f"render: {json_path} does not hold the results that 'nncompare "
                              f"bench --json' writes ({type(exc).__name__}: {exc})") from None
    write(md_path, text, "markdown")
    print(lines)
    print(f"report written to {md_path}")
    return 0


def write(path: Path, text: str, flag: str) -> None:
    """Write atomically; an error (checked up front, but a disk may fill) is one line."""
    try:
        files.write_text(path, text)
    except OSError as exc:
        raise InvalidArgument(f"{flag}: cannot write {path} ({exc.strerror or exc})") from None
