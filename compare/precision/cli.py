"""`nncompare precision`: train one model from one copied start by scratch in float64 (the
truth) and by torch in float64, float32, TF32, autocast bfloat16 and autocast float16, and
print how far each torch run drifts from the truth.

    nncompare precision                                  the deep net on the flower set, CPU
    nncompare precision --dataset mnist_binary --layers 784,20,7,5,1 --iterations 500
    nncompare precision --device cuda --json gpu.json    every row, TF32 and float16 included

Exit codes: 0 the judged rows (float64 and float32, one step from the common start) are
within the harness's bounds; 1 one is not, or the float64 truth diverged; 2 bad usage
(one line on stderr: "nncompare: error: ..."); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import torch
from tqdm.auto import tqdm

from compare.precision import report
from compare.precision.audit import TRUTH, Audit, run_audit
from compare.precision.environment import numerics_environment
from compare.precision.regimes import PRECISIONS
from compare.precision.tblog import Writers
from compare.run import files, rundir
from compare.run.config import MODELS, RunConfig, build_scratch
from scratch import datasets
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument, TrainingDiverged
from scratch.model import Model
from scratch.spec import check_choice, check_int, check_training
from torch_ref.device import resolve_device

DEFAULT_ITERATIONS = 2000


class Parser(argparse.ArgumentParser):
    """argparse whose errors are one InvalidArgument line ('precision: ...'), not usage and exit."""

    def error(self, message: str) -> NoReturn:
        raise InvalidArgument(f"precision: {message}")


def parser() -> Parser:
    p = Parser(prog="nncompare precision", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="flower", help=f"one of {', '.join(datasets.NAMES)}")
    p.add_argument("--model", default="deep", help="logistic, shallow or deep (default deep)")
    p.add_argument("--layers", default=None, help="deep net sizes n0,...,nL (default n_x,10,5,n_y)")
    p.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                   help=f"steps of full-batch gradient descent (default {DEFAULT_ITERATIONS})")
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's)")
    p.add_argument("--seed", type=int, default=1, help="seed of data and init (default 1)")
    p.add_argument("--device", default="cpu", help="torch's device: cpu, cuda, cuda:N or auto")
    p.add_argument("--precisions", default=",".join(PRECISIONS),
                   help=f"comma-separated, of {', '.join(PRECISIONS)} (default all)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="write the report as JSON; '-' prints it (the table goes to stderr)")
    p.add_argument("--logdir", default="runs",
                   help="TensorBoard root: LOGDIR/precision-<time>/<precision>/ (default runs)")
    p.add_argument("--no-log", action="store_true", help="write no TensorBoard logs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


@dataclass
class Setup:
    """Everything the audit needs, every argument checked, nothing created yet."""

    cfg: RunConfig
    data: Dataset
    model: Model
    lr: float
    device: torch.device
    precisions: tuple[str, ...]
    plan: rundir.Plan | None
    json_path: str | None


def int_list(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise InvalidArgument(f"layers: got {text!r}, expected comma-separated integers such as "
                              "2,10,5,1") from None
    return tuple(check_int(f"layers[{i}]", n, 1) for i, n in enumerate(sizes))


def chosen(text: str) -> tuple[str, ...]:
    names = [check_choice("precisions", n, PRECISIONS) for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidArgument(f"precisions: got {text!r}, expected some of {', '.join(PRECISIONS)}")
    return tuple(n for n in PRECISIONS if n in names)


def config_of(args: argparse.Namespace) -> RunConfig:
    kind = check_choice("model", args.model, MODELS)
    if args.layers is not None and kind != "deep":
        raise InvalidArgument(f"layers: --layers sizes the deep net, got --model {kind}; "
                              "use --model deep or leave --layers out")
    return RunConfig(models=(kind,), dataset=args.dataset, iterations=args.iterations, lr=args.lr,
                     layers=None if args.layers is None else int_list(args.layers),
                     seed=args.seed).validate()


def log_plan(args: argparse.Namespace) -> rundir.Plan | None:
    if args.no_log:
        return None
    if not args.logdir.strip():
        raise InvalidArgument(f"logdir: got {args.logdir!r}, expected a folder such as runs")
    return rundir.plan(args.logdir, None, "precision", False)


def prepare(args: argparse.Namespace) -> Setup:
    """Check every argument (InvalidArgument naming the first bad one) and build the model."""
    cfg = config_of(args)
    precisions = chosen(args.precisions)
    device = resolve_device(args.device)
    if args.json is not None:
        files.check_output_file("json", args.json, stdout=True)
    plan = log_plan(args)
    data = datasets.load(cfg.dataset, seed=cfg.seed)
    kind = cfg.models[0]
    lr, iterations, _ = check_training(cfg.lr_for(kind), cfg.iterations, None, data.X_train.shape[1])
    cfg.iterations = iterations
    return Setup(cfg, data, build_scratch(kind, cfg, data), lr, device, precisions, plan, args.json)


def describe(s: Setup) -> str:
    spec = s.model.spec
    return (f"precision audit: {s.cfg.models[0]} {list(spec.layer_dims)} "
            f"{'/'.join(dict.fromkeys(spec.activations)) or 'no hidden layer'}, {spec.output} "
            f"output, {spec.init} init, on {s.data.name} (m_train = {s.data.X_train.shape[1]}, "
            f"m_test = {s.data.X_test.shape[1]}), lr {s.lr:g}, {s.cfg.iterations} steps, seed "
            f"{s.cfg.seed}; torch on {s.device}")


def settings_line(env: dict) -> str:
    return (f"numerics on {env['device']} ({env['device_name']}): TF32 matmul "
            f"{env['matmul_allow_tf32']}, cudnn {env['cudnn_allow_tf32']} as set (each row sets "
            f"its own), float32 matmul precision {env['float32_matmul_precision']}, cudnn "
            f"deterministic {env['cudnn_deterministic']}, deterministic algorithms "
            f"{env['deterministic_algorithms']}, CUBLAS_WORKSPACE_CONFIG "
            f"{env['CUBLAS_WORKSPACE_CONFIG'] or 'unset'}, autocast dtype {env['autocast_dtype']}")


def train(s: Setup, progress: bool) -> tuple[Audit, str | None]:
    """The audit, logged when asked (the writers closed whatever happens); the log folder."""
    folder = None if s.plan is None else rundir.create(s.plan)
    writers = None if folder is None else Writers(folder, s.cfg.iterations)
    bar = tqdm(total=s.cfg.iterations, desc="precision", unit="step", file=sys.stderr,
               disable=None if progress else True, leave=False)
    try:
        found = run_audit(s.model, s.data, s.lr, s.cfg.iterations, s.device, s.precisions,
                      log=writers, progress=lambda t: bar.update(1))
        if writers is not None:
            writers.text(TRUTH, "precision/report",
                         report.markdown(found, report.verdicts(found, s.device)))
    finally:
        bar.close()
        if writers is not None:
            writers.close()
    return found, None if folder is None else str(folder)


def run(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    s = prepare(args)
    env = numerics_environment(s.device)
    found, logs = train(s, not args.no_progress)
    judged = report.verdicts(found, s.device)
    out = sys.stderr if s.json_path == "-" else sys.stdout
    lines = [describe(s), settings_line(env), report.text(found, judged)]
    if logs is not None:
        lines.append(f"TensorBoard logs in {logs} (tensorboard --logdir {logs})")
    print("\n".join(lines), file=out, flush=True)
    if s.json_path is not None:
        extra = {"config": s.cfg.as_dict() | {"precisions": list(s.precisions), "device": str(s.device)},
                 "environment": env, "logdir": logs,
                 "dataset": {"name": s.data.name, "n_x": s.data.n_x, "n_classes": s.data.n_classes,
                             "m_train": s.data.X_train.shape[1], "m_test": s.data.X_test.shape[1]}}
        write_json(s.json_path, report.as_json(found, judged, extra))
    return 0 if all(v["passed"] for v in judged.values()) else 1


def write_json(path: str, document: dict) -> None:
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        files.write_text(path, text)
    except OSError as exc:          # checked up front; a disk may still fill
        raise InvalidArgument(f"json: cannot write {path} ({exc.strerror or exc})") from None


def cli_main(argv: Sequence[str] | None = None) -> int:
    """`nncompare precision ARGS`: 0 ok, 1 a judged row failed or the truth diverged, 2 bad
    usage (one line on stderr), 130 interrupted."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except InvalidArgument as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"nncompare precision: the float64 truth diverged: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nncompare: interrupted", file=sys.stderr)
        return 130
