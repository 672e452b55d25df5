"""Search for false alarms: correct models (scratch's own) that the harness would call wrong.

    python scripts/false_alarm_search.py [--problems 10000] [--seed 0]

Draws random problems (narrow and deep nets, every hidden activation and init, both
outputs, float32 and float64, m from 1, inputs scaled up to saturate units), runs the
four checks on each (3 lockstep steps), and prints, per dtype and check, the worst error
against its bound. Exits 1 if any correct model failed a check (printing how to rebuild it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scratch  # noqa: E402
from compare import check_model  # noqa: E402
from compare.proof.tolerances import tolerance  # noqa: E402
from scratch.spec import HIDDEN_ACTIVATIONS, INITS  # noqa: E402


def problem(rng: np.random.Generator, dtype: str) -> tuple[dict, tuple]:
    """One random model's arguments and its data (X [n, m], class labels [1, m])."""
    n_x = int(rng.integers(1, 6))
    deep = rng.random() < 0.3
    hidden = [int(rng.integers(1, 3 if deep else 7)) for _ in range(int(rng.integers(0, 7 if deep else 4)))]
    output = "sigmoid" if rng.random() < 0.6 else "softmax"
    K = int(rng.integers(2, 5)) if output == "softmax" else 2
    m = int(rng.integers(1, 41))
    scale = float(rng.choice([1.0, 1.0, 3.0, 10.0, 30.0]))       # large inputs saturate units
    X = rng.standard_normal((n_x, m)) * scale
    y = rng.integers(0, K, size=(1, m))
    kwargs = dict(layer_dims=[n_x, *hidden, 1 if output == "sigmoid" else K],
                  activation=[str(rng.choice(HIDDEN_ACTIVATIONS)) for _ in hidden], output=output,
                  init=str(rng.choice(INITS)), seed=int(rng.integers(0, 2**16)),
                  alpha=float(rng.choice([0.01, 0.2])), dtype=dtype)
    return kwargs, (X, y)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problems", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    worst: dict[tuple[str, str], float] = {}
    alarms, t0 = [], time.perf_counter()
    for i in range(args.problems):
        dtype = "float32" if i % 2 else "float64"
        kwargs, data = problem(rng, dtype)
        lr = float(rng.choice([0.05, 0.1, 1.0]))
        report = check_model(scratch.DeepNet(**kwargs), data, lr=lr, iterations=3, seed=kwargs["seed"])
        tol = tolerance(dtype, "cpu")
        bounds = {"forward": tol.forward, "gradients": tol.gradients, "trajectory": tol.trajectory}
        for name, bound in bounds.items():
            if name in report.checks:
                key = (dtype, name)
                worst[key] = max(worst.get(key, 0.0), report.checks[name].max_rel_err / bound)
        if not report.passed:
            alarms.append((kwargs, lr, data, report.diagnosis))
            print(f"FALSE ALARM {kwargs} lr={lr} X={data[0].tolist()} y={data[1].tolist()}: "
                  f"{report.diagnosis}", flush=True)
        if (i + 1) % 1000 == 0:
            print(f"{i + 1} problems, {len(alarms)} false alarms, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    print(f"{args.problems} problems (seed {args.seed}), {len(alarms)} false alarms")
    for (dtype, name), ratio in sorted(worst.items()):
        print(f"  {dtype} {name}: worst error {ratio:.2f} of its bound")
    return 1 if alarms else 0


if __name__ == "__main__":
    sys.exit(main())
