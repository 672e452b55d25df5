"""torch_ref's training step on a GPU: `nncompare bench`'s configurations, a configuration that
keeps the GPU busy, and the MNIST workload, as step times, TFLOP/s and a fraction of the GPU's
peak from the vendor's datasheet.

    python -m compare.bench.gpu [--device cuda] [--json PATH] [--quick]

Each step is `torch_ref.train.Trainer.step` (zero_grad, forward, loss, backward, SGD update)
followed by `torch.cuda.synchronize()`, timed by `compare.bench.measure.interleaved` (the
dtypes of one configuration alternating), float32 with TF32 off (as the harness checks it).
FLOPs are the step's matrix products (`measure.matmul_flops`). The peak is the datasheet's
dense figure for the unit cuBLAS uses at that precision: FP32 (CUDA cores, TF32 off) for
float32 and FP64 Tensor Core (DGEMM runs on them since Ampere) for float64; an n x n GEMM
shows what cuBLAS attains on the same GPU. A GPU not in `PEAKS` says "unknown".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace

import torch

from compare import table
from compare.bench import measure, steps
from compare.bench.peaks import Peak, peak_for
from compare.bench.steps import BenchConfig
from compare.proof.harness import exact_float32
from scratch import datasets
from scratch.errors import InvalidArgument
from torch_ref.device import resolve_device
from torch_ref.train import Trainer

BUSY = BenchConfig("busy", (1024, 1024, 1024, 1), "relu", "sigmoid", 65536)
MNIST = (BenchConfig("mnist-binary", (784, 20, 7, 5, 1), "relu", "sigmoid", 4000),
         BenchConfig("mnist-10", (784, 20, 7, 5, 10), "relu", "softmax", 4000))
QUICK_M = {"large": 64, "busy": 256, "mnist-binary": 256, "mnist-10": 256}


def workloads(quick: bool) -> list[BenchConfig]:
    found = [*steps.CONFIGS, BUSY, *MNIST]
    return [replace(c, m=QUICK_M.get(c.name, c.m)) if quick else c for c in found]


def mnist_batch(cfg: BenchConfig, dtype: str):
    """X [784, m] and Y of the real MNIST training split (mnist_binary or mnist)."""
    data = datasets.load("mnist_binary" if cfg.output == "sigmoid" else "mnist", seed=steps.SEED)
    X, labels = data.X_train[:, :cfg.m].astype(dtype), data.Y_train[:, :cfg.m]
    if cfg.output == "sigmoid":
        return X, labels.astype(dtype)                                     # [1, m]
    return X, steps.one_hot(labels[0], cfg.layer_dims[-1], X.dtype)        # [K, m]


def step_of(cfg: BenchConfig, dtype: str, device: torch.device) -> Callable[[], None]:
    """One synchronized torch_ref training step of `cfg` in `dtype` on `device`."""
    X, Y = mnist_batch(cfg, dtype) if cfg.name.startswith("mnist") else steps.make_data(cfg, dtype)
    net, Xt, yt = steps.torch_side(steps.make_scratch(cfg, dtype), X, Y, str(device))
    trainer = Trainer(net, steps.LR)

    def step() -> None:
        trainer.step(Xt, yt)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return step


def gemm(n: int, dtype: str, device: torch.device, budget_s: float) -> dict:
    """TFLOP/s of an n x n @ n x n product (cuBLAS on CUDA), as measured."""
    A = torch.randn(n, n, dtype=getattr(torch, dtype), device=device)

    def product() -> None:
        A @ A
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    t = measure.interleaved({"gemm": product}, 3, budget_s, warmup=2, min_rounds=2)["gemm"]
    return {"n": n, "dtype": dtype, "median_s": t.median, "tflops": 2 * n**3 / t.median / 1e12}


def bench_workload(cfg: BenchConfig, device: torch.device, budget_s: float, peak: Peak | None) -> dict:
    dtypes = ("float32", "float64")
    timings = measure.interleaved({d: step_of(cfg, d, device) for d in dtypes}, 3, budget_s,
                                  warmup=2, min_rounds=2)
    flops = measure.matmul_flops(cfg.layer_dims, cfg.m)["total"]
    found = {}
    for d in dtypes:
        tflops = flops / timings[d].median / 1e12
        found[d] = {**timings[d].as_dict(), "tflops": tflops,
                    "fraction_of_peak": None if peak is None else tflops / getattr(peak, d)}
    return {**asdict(cfg), "flops": flops, "dtypes": found}


def run(device: torch.device, quick: bool = False, log: Callable[[str], None] = print) -> dict:
    """Every workload in float32 and float64 on `device`, and the GEMM reference."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = peak_for(name) if device.type == "cuda" else None
    budget = 0.01 if quick else 0.25
    found: dict = {"device": str(device), "device_name": name, "quick": quick, "torch": torch.__version__,
                   "peak": None if peak is None else asdict(peak), "workloads": [], "skipped": {}}
    with exact_float32():
        for cfg in workloads(quick):
            log(f"gpu bench: {cfg.name} m={cfg.m} ...")
            try:
                found["workloads"].append(bench_workload(cfg, device, budget, peak))
            except InvalidArgument as exc:          # MNIST without its package
                found["skipped"][cfg.name] = str(exc)
        n = 256 if quick else 8192
        found["gemm"] = [gemm(n, d, device, budget) for d in ("float32", "float64")]
    return found


def unknown(device_name: str) -> str:
    return ("none (a CPU rehearsal)" if device_name == "cpu" else
            f"unknown ({device_name} is not in compare/bench/peaks.py)")


def _frac(d: dict) -> str:
    return "unknown" if d["fraction_of_peak"] is None else f"{d['fraction_of_peak']:.1%}"


def markdown(result: dict) -> str:
    """The step table, the GEMM line and the peak's source."""
    rows = [[w["name"], f"{list(w['layer_dims'])} m={w['m']}", f"{w['flops'] / 1e9:.3g}",
             *(f"{w['dtypes'][d]['median_s'] * 1e3:.3g}" for d in ("float32", "float64")),
             *(f"{w['dtypes'][d]['tflops']:.3g}" for d in ("float32", "float64")),
             *(_frac(w["dtypes"][d]) for d in ("float32", "float64"))] for w in result["workloads"]]
    head = ["workload", "layers, batch", "GFLOP a step", "float32 ms", "float64 ms",
            "float32 TFLOP/s", "float64 TFLOP/s", "float32 % peak", "float64 % peak"]
    peak = result["peak"]
    lines = [table.markdown(head, rows), ""]
    lines += [f"GEMM {g['n']} x {g['n']} {g['dtype']}: {g['tflops']:.3g} TFLOP/s" for g in result["gemm"]]
    lines.append(f"Peak: {unknown(result['device_name'])}" if peak is None else
                 f"Peak ({peak['name']}): float32 {peak['float32']:g} TFLOP/s (FP32), float64 "
                 f"{peak['float64']:g} TFLOP/s (FP64 Tensor Core; {peak['float64_vector']:g} on "
                 f"CUDA cores); source: {peak['source']}")
    lines += [f"{name}: skipped ({why})" for name, why in result["skipped"].items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m compare.bench.gpu", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda, cuda:N (or cpu, for a rehearsal)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON")
    p.add_argument("--quick", action="store_true", help="tiny batches and budgets (seconds)")
    args = p.parse_args(argv)
    try:
        device = resolve_device(args.device)
    except InvalidArgument as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    result = run(device, args.quick, log=lambda text: print(text, file=sys.stderr))
    print(markdown(result))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
