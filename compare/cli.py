"""`nncompare`: check every model against the torch reference, train both, print the table.

    nncompare                         the main job: all models, flower set, float64, CPU
    nncompare --model deep --layers 2,8,4,1 --activation tanh --json report.json
    nncompare --scratch-impl mymodule:MyNet --layers 2,4,1
    nncompare experiment --list       the experiments of the notes' claims
    nncompare bench [--quick]         speed and memory of both implementations

Exit codes: 0 every check agrees; 1 a check failed or training diverged;
2 bad usage (one line on stderr, nothing written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from compare import plugin, report
from compare.config import MODELS, RunConfig, build_scratch
from compare.harness import ModelReport, check_model
from compare.tolerances import tolerance
from scratch import datasets
from scratch.errors import InvalidArgument
from scratch.spec import ModelSpec, check_int
from scratch.validate import check_training
from torch_ref.device import resolve_device

SUBCOMMANDS = ("experiment", "bench")


class UsageError(Exception):
    """Bad command-line usage, already phrased for the user."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of usage text + exit."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def int_list(text: str) -> tuple[int, ...]:
    """'2,4,1' -> (2, 4, 1)."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InvalidArgument(
            f"layers: got {text!r}, expected comma-separated integers such as 2,4,1") from None
    for i, n in enumerate(sizes):
        check_int(f"layers[{i}]", n, 1)
    return sizes


def build_parser() -> Parser:
    p = Parser(prog="nncompare", description=__doc__.split("\n")[0],
               formatter_class=argparse.RawDescriptionHelpFormatter,
               epilog="Subcommands: 'nncompare experiment --list', 'nncompare bench --help'.")
    p.add_argument("--model", default="all", help="logistic, shallow, deep or all (default all)")
    p.add_argument("--dataset", default="flower",
                   help=f"one of {', '.join(datasets.NAMES)} (default flower)")
    p.add_argument("--layers", type=str, default=None,
                   help="deep net sizes n0,n1,...,nL (default n_x,10,5,n_y)")
    p.add_argument("--hidden-units", type=int, default=4, help="shallow net n_h (default 4)")
    p.add_argument("--activation", default=None,
                   help="hidden activation: sigmoid, tanh, relu, leaky_relu "
                        "(default tanh for shallow, relu for deep)")
    p.add_argument("--alpha", type=float, default=0.01, help="Leaky ReLU slope (default 0.01)")
    p.add_argument("--output", default=None,
                   help="sigmoid or softmax (default: sigmoid for 2 classes, softmax for more)")
    p.add_argument("--init", default=None,
                   help="zeros, small, xavier or he (default zeros / small / he per model)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default 1.2 logistic and shallow, 0.3 deep)")
    p.add_argument("--iterations", type=int, default=5000, help="training steps (default 5000)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="mini-batch size (default: the whole training set)")
    p.add_argument("--seed", type=int, default=1, help="seed of data, init and batches (default 1)")
    p.add_argument("--dtype", default="float64", help="float64 or float32 (default float64)")
    p.add_argument("--device", default="cpu",
                   help="torch device: cpu, auto, cuda, cuda:N, mps (default cpu)")
    p.add_argument("--fd-max-entries", type=int, default=2000,
                   help="finite differences check a seeded sample above this many parameters")
    p.add_argument("--scratch-impl", default=None, metavar="MODULE:CLASS",
                   help="check your own from-scratch model instead of ours (deep architecture)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def config_from(args: argparse.Namespace) -> RunConfig:
    models = MODELS if args.model.strip().lower() == "all" else (args.model,)
    return RunConfig(
        models=tuple(models), dataset=args.dataset,
        layers=int_list(args.layers) if args.layers else None,
        hidden_units=args.hidden_units, activation=args.activation, output=args.output,
        init=args.init, alpha=args.alpha, lr=args.lr, iterations=args.iterations,
        batch_size=args.batch_size, seed=args.seed, dtype=args.dtype, device=args.device,
        fd_max_entries=args.fd_max_entries,
    ).validate()


def environment(cfg: RunConfig) -> dict:
    device = resolve_device(cfg.device)
    tol = tolerance(cfg.dtype, device.type)
    return {"numpy": np.__version__, "torch": torch.__version__, "device": str(device),
            "dtype": cfg.dtype, "threads": torch.get_num_threads(),
            "tolerances": {"forward": tol.forward, "gradients": tol.gradients,
                           "trajectory": tol.trajectory}}


def run_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    cfg = config_from(args)
    data = datasets.load(cfg.dataset, seed=cfg.seed)
    jobs: list[tuple[str, object]] = []
    if args.scratch_impl:
        template = build_scratch("deep", cfg, data)                 # validates the architecture
        spec: ModelSpec = template.spec
        jobs.append((args.scratch_impl.partition(":")[2] or "plugin",
                     plugin.build(args.scratch_impl, spec, cfg.seed)))
    else:
        jobs = [(kind, build_scratch(kind, cfg, data)) for kind in cfg.models]
    check_training(1.0, cfg.iterations, cfg.batch_size, data.X_train.shape[1])  # before any work
    bar = tqdm(total=cfg.iterations * len(jobs), desc="training", unit="step",
               disable=True if args.no_progress else None, file=sys.stderr)
    reports: list[ModelReport] = []
    try:
        for kind, model in jobs:
            bar.set_postfix_str(kind)
            reports.append(check_model(
                model, data, lr=cfg.lr_for(kind if kind in MODELS else "deep"),
                iterations=cfg.iterations, batch_size=cfg.batch_size, seed=cfg.seed,
                device=cfg.device, activation=cfg.activation, output=cfg.output_for(data),
                alpha=cfg.alpha, fd_max_entries=cfg.fd_max_entries, name=kind,
                progress=lambda t: bar.update(1)))
    finally:
        bar.close()
    print(report.table(reports))
    if args.json:
        meta = {"config": cfg.as_dict(), "environment": environment(cfg),
                "dataset": {"name": data.name, "n_x": data.n_x, "n_classes": data.n_classes,
                            "m_train": data.X_train.shape[1], "m_test": data.X_test.shape[1]}}
        report.write_json(args.json, report.to_json(reports, meta))
        print(f"report written to {args.json}")
    return 0 if all(r.passed for r in reports) else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            if argv[0] == "experiment":
                from compare.experiments.cli import main as experiment_main
                return experiment_main(argv[1:])
            from compare.bench import main as bench_main
            return bench_main(argv[1:])
        return run_main(argv)
    except (InvalidArgument, UsageError) as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nncompare: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # e.g. `nncompare | head`: the reader left, nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
