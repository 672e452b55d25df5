"""What `nncompare bench` measures: step times, matrix-multiply FLOPs and peak, step memory.

Timing is interleaved: every round runs each contender in turn (the order rotating
from round to round) for about the same wall time, so a burst of load on a shared
machine hits all of them alike, and ratios are taken between medians of one run.

FLOPs count the matrix products of one training step exactly, 2 p q r for a
[p, q] @ [q, r] product (one multiply and one add per term):

    forward    Z[l] = W[l] A[l-1]         2 n[l] n[l-1] m   for l = 1..L
    backward   dW[l] = dZ[l] A[l-1]^T     2 n[l] n[l-1] m   for l = 1..L
               dA[l-1] = W[l]^T dZ[l]     2 n[l] n[l-1] m   for l = 2..L (no dA[0] = dX)

Both implementations compute exactly these products (autograd computes no gradient
for the input X, which needs none).
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch import train as scratch_train
from scratch.model import Model


@dataclass
class Timing:
    """Seconds per call of one contender: every sample, the median of each round, and the
    minor page faults of all the calls (each a page the kernel mapped and zero-filled)."""

    samples: list[float] = field(default_factory=list)
    round_medians: list[float] = field(default_factory=list)
    faults: int = 0

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": min(self.samples), "max_s": max(self.samples),
                "n": len(self.samples), "rounds": len(self.round_medians),
                "page_faults_per_call": self.faults / len(self.samples)}


def ratio(a: Timing, b: Timing) -> dict:
    """a / b: the median of the per-round ratios (each round's two medians were taken
    seconds apart, so a burst of load on the machine cancels out), their range, and the
    ratio of the whole run's medians."""
    per_round = [x / y for x, y in zip(a.round_medians, b.round_medians, strict=True)]
    return {"median": float(np.median(per_round)), "rounds_min": min(per_round),
            "rounds_max": max(per_round), "of_medians": a.median / b.median}


def minor_faults() -> int:
    """Minor page faults of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    """Wall time of each of n calls of fn (fn itself synchronizes an asynchronous device)."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int, budget_s: float,
                warmup: int = 1, max_calls: int = 10_000, min_rounds: int = 3,
                limit_s: float = float("inf")) -> dict[str, Timing]:
    """Time each contender over `rounds` rounds of about `budget_s` seconds each.

    Every contender is first called `warmup` times (first-touch allocations, caches,
    lazy initialization); the calls per round are then set from the slowest warm-up
    call (at least 1), so that each round gives a contender about `budget_s`. After
    `min_rounds`, no new round starts once `limit_s` seconds have passed.
    """
    start = time.perf_counter()
    calls = {}
    for name, fn in contenders.items():
        warm = time_calls(fn, max(warmup, 1))
        calls[name] = int(min(max_calls, max(1, budget_s // max(max(warm), 1e-7))))
    timings = {name: Timing() for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        if r >= min_rounds and time.perf_counter() - start > limit_s:
            break
        for name in names[r % len(names):] + names[:r % len(names)]:
            faults = minor_faults()
            found = time_calls(contenders[name], calls[name])
            timings[name].faults += minor_faults() - faults
            timings[name].samples += found
            timings[name].round_medians.append(float(np.median(found)))
    return timings


def matmul_flops(layer_dims: Sequence[int], m: int) -> dict[str, int]:
    """Exact FLOPs of the matrix products of one training step (see the module docstring)."""
    n = list(layer_dims)
    products = [2 * n[l] * n[l - 1] * m for l in range(1, len(n))]   # one per layer
    forward = sum(products)
    dW = sum(products)
    dA = sum(products[1:])
    return {"forward": forward, "backward_dW": dW, "backward_dA": dA,
            "total": forward + dW + dA}


def step_products(layer_dims: Sequence[int], m: int, dtype: np.dtype,
                  seed: int = 1) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(left, right, out) of every matrix product of one step, with its shapes and memory
    layouts (A^T and W^T are transposed views, as in the scratch code)."""
    rng = np.random.default_rng(seed)
    n = list(layer_dims)
    L = len(n) - 1
    W = [rng.standard_normal((n[l], n[l - 1])).astype(dtype) for l in range(1, L + 1)]
    A = [rng.standard_normal((n[l], m)).astype(dtype) for l in range(L)]            # A[0..L-1]
    dZ = [rng.standard_normal((n[l], m)).astype(dtype) for l in range(1, L + 1)]    # dZ[1..L]
    products = []
    for l in range(1, L + 1):
        products.append((W[l - 1], A[l - 1], np.empty((n[l], m), dtype)))             # Z = W A_prev
    for l in range(L, 0, -1):
        products.append((dZ[l - 1], A[l - 1].T, np.empty((n[l], n[l - 1]), dtype)))   # dW
        if l > 1:
            products.append((W[l - 1].T, dZ[l - 1], np.empty((n[l - 1], m), dtype)))  # dA_prev
    return products


def matmul_only_step(products: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Callable[[], None]:
    """A callable doing just the step's matrix products into preallocated outputs: the
    time NumPy's BLAS needs for the step's FLOPs, the floor of any NumPy step."""
    def run() -> None:
        for left, right, out in products:
            np.matmul(left, right, out=out)
    return run


def scratch_memory(model: Model, X: np.ndarray, Y: np.ndarray, lr: float) -> dict:
    """Peak memory of one scratch training step against the least it must hold.

    Measured with tracemalloc (NumPy reports its array buffers to it): the peak of the
    memory allocated during `scratch.train.step`, plus the parameters, which exist
    before the step. X and Y are the caller's data and counted on neither side.

    The minimum is what the notes' algorithm must hold at once at the end of the
    forward pass and the end of the backward pass: the parameters W[l], b[l], their
    gradients dW[l], db[l] (the same sizes), and the caches Z[l] and A[l] [n[l], m] of
    every layer (the backward needs A[l-1] for dW[l] and Z[l] or A[l] for g'; the
    harness compares Z[l] and A[l] of every layer, so both are kept). `floor_A_only`
    is the smaller cache of a ReLU-only design that keeps A[l] alone, for reference.
    """
    params = sum(p.nbytes for p in model.params.values())
    itemsize = model.dtype.itemsize
    m = X.shape[1]
    activations = sum(n * m * itemsize for n in model.spec.layer_dims[1:])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        scratch_train.step(model, X, Y, lr)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    peak = params + traced_peak
    minimum = 2 * params + 2 * activations
    return {"dtype": model.dtype.name, "peak_bytes": peak, "minimum_bytes": minimum,
            "ratio": peak / minimum, "params_bytes": params, "grads_bytes": params,
            "caches_bytes": 2 * activations, "floor_A_only_bytes": 2 * params + activations}
