"""Experiment 6, §3.2: the per-sample loop against the vectorized equations.

The notes write the forward pass of the shallow net twice:

    for i = 1 to m:                            Z1 = W1 X + b1
        z1(i) = W1 x(i) + b1                    A1 = g1(Z1)
        a1(i) = g1(z1(i))                       Z2 = W2 A1 + b2
        z2(i) = W2 a1(i) + b2                   A2 = sigma(Z2)
        a2(i) = sigma(z2(i))

Both compute the same A2 [n_y, m] (asserted, to the forward tolerance of float64,
and against torch's batched forward too); the vectorized one hands the loop over
the m columns to one matrix product. The speed ratio is measured and reported,
never asserted: it depends on the machine and its load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from compare import adapter
from compare.experiments.base import Experiment, ExperimentFailed, Result, Settings, Table
from compare.experiments.session import Session
from compare.proof.metric import relative_error
from compare.proof.tolerances import tolerance
from scratch.shallow import ShallowNet
from torch_ref.models import Net

NAME = "loop-vs-vectorized"


@dataclass(frozen=True)
class Config:
    n_x: int = 2
    n_h: int = 4
    sizes: tuple[int, ...] = (100, 1000, 10000)
    repeats: int = 5            # the best of this many timings is reported


FULL = Config()
QUICK = Config(sizes=(10, 200), repeats=2)


def forward_loop(params: dict[str, np.ndarray], g1: Callable[[np.ndarray], np.ndarray],
                 g2: Callable[[np.ndarray], np.ndarray], X: np.ndarray) -> np.ndarray:
    """A2 [n_y, m] computed one sample x(i) = X[:, i] at a time, as §3.2's loop does."""
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    A2 = np.empty((W2.shape[0], m), dtype=X.dtype)             # [n_y, m]
    for i in range(m):
        x = X[:, i:i + 1]                                      # [n_x, 1]
        z1 = W1 @ x + b1                                       # [n_h, 1]
        a1 = g1(z1)                                            # [n_h, 1]
        z2 = W2 @ a1 + b2                                      # [n_y, 1]
        A2[:, i:i + 1] = g2(z2)                                # [n_y, 1]
    return A2


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The shortest of `repeats` wall-clock timings of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def build(cfg: Config, seed: int) -> tuple[ShallowNet, Net]:
    """A shallow net with Xavier weights and nonzero biases (so + b is exercised), and its copy in torch."""
    net = ShallowNet(cfg.n_x, cfg.n_h, init="xavier", seed=seed)
    rng = np.random.default_rng([seed, 6])
    for name in ("b1", "b2"):
        net.params[name][...] = rng.standard_normal(net.params[name].shape) * 0.5   # [n_l, 1]
    reference = Net(net.spec, seed=seed)
    adapter.copy_params_to_torch(net.params, reference)
    return net, reference


def run(settings: Settings) -> Result:
    cfg = QUICK if settings.quick else FULL
    tol = tolerance("float64", "cpu").forward
    net, reference = build(cfg, settings.seed)
    g1, g2 = net.g[0].forward, net.g_out.forward
    table = Table(["m", "loop (ms)", "vectorized (ms)", "torch (ms)", "loop / vectorized",
                   "max rel diff loop vs vectorized", "max rel diff vs torch"])
    facts: dict[int, dict] = {}
    rng = np.random.default_rng([settings.seed, 7])
    with Session(NAME, settings, 0):
        for m in cfg.sizes:
            X = rng.standard_normal((cfg.n_x, m))                               # [n_x, m]
            Xt = adapter.batch_to_torch(X, reference.device, reference.dtype)   # [m, n_x]
            A2_loop = forward_loop(net.params, g1, g2, X)                       # [n_y, m]
            A2_vec, _ = net.forward(X)                                          # [n_y, m]
            A2_torch = adapter.batch_to_scratch(reference.predict_proba(Xt))    # [n_y, m]
            diff = relative_error(A2_loop, A2_vec)[0]
            diff_torch = relative_error(A2_vec, A2_torch)[0]
            if not (diff <= tol and diff_torch <= tol):
                raise ExperimentFailed(
                    f"{NAME}: at m = {m} the loop and the vectorized forward differ by "
                    f"{diff:.1e} (torch: {diff_torch:.1e}), more than {tol:.0e}")
            t_loop = best_time(partial(forward_loop, net.params, g1, g2, X), cfg.repeats)
            t_vec = best_time(partial(net.forward, X), cfg.repeats)
            t_torch = best_time(partial(reference.predict_proba, Xt), cfg.repeats)
            facts[m] = {"loop": t_loop, "vectorized": t_vec, "torch": t_torch,
                        "diff": diff, "diff_torch": diff_torch,
                        "identical": bool(np.array_equal(A2_loop, A2_vec))}
            table.add(m, f"{t_loop * 1e3:.3f}", f"{t_vec * 1e3:.3f}", f"{t_torch * 1e3:.3f}",
                      f"{t_loop / t_vec:.0f}x", f"{diff:.1e}", f"{diff_torch:.1e}")
    setup = (f"ShallowNet [{cfg.n_x}, {cfg.n_h}, 1], tanh hidden, sigmoid output, Xavier weights "
             f"and N(0, 0.5^2) biases, on m standard-normal samples, float64, one thread; "
             f"times are the best of {cfg.repeats} on this machine, seed {settings.seed}")
    return Result(NAME, setup, [table], conclusion(facts, tol), facts)


def conclusion(facts: dict[int, dict], tol: float) -> str:
    largest = max(facts)
    f = facts[largest]
    same = all(x["identical"] for x in facts.values())
    agree = ("bit for bit" if same else
             f"to {max(x['diff'] for x in facts.values()):.0e} (bound {tol:.0e})")
    times = (f"At m = {largest} the loop takes {f['loop'] * 1e3:.1f} ms against "
             f"{f['vectorized'] * 1e3:.3f} ms vectorized")
    slower = f["loop"] / f["vectorized"]
    speed = (f"{times}: {slower:.0f} times slower, one Python iteration per sample against one "
             "matrix product" if slower >= 2 else
             f"{times} ({slower:.1f}x): at this size the loop is not clearly slower")
    return (f"The loop and the vectorized forward give the same A2 {agree} at every m, and torch's "
            f"batched forward agrees to {max(x['diff_torch'] for x in facts.values()):.0e}. "
            f"{speed} (measured, not asserted; it varies with the machine and its load).")


EXPERIMENT = Experiment(
    name=NAME, section="§3.2", title="The per-sample loop against the vectorized forward pass",
    question="Do §3.2's per-sample loop and its vectorized equations compute the same outputs, "
             "and how much faster is the vectorized form?",
    run=run)
