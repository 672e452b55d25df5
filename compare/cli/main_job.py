"""`nncompare`: check every model against the torch reference, train both, print the table.

    nncompare                         the main job: all models, flower set, float64, CPU
    nncompare --model deep --layers 2,8,4,1 --activation tanh --json report.json
    nncompare --scratch-impl mymodule:MyNet --layers 2,4,1
    nncompare experiment --list       the experiments of the notes' claims
    nncompare bench [--quick]         speed and memory of both implementations
    nncompare --tensorboard           then serve the run's TensorBoard logs (runs/<experiment>/)

With `--json -` the JSON report goes to standard output and everything else
(the table, where the logs are) to standard error.

Exit codes: 0 every check agrees; 1 a check failed or training diverged;
2 bad usage (one line on stderr, nothing written); 3 a bug of nncompare; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from compare.output import report
from compare.output.tensorboard import server as tb_server
from compare.output.tensorboard.logger import Cadence
from compare.proof.tolerances import tolerance
from compare.run import files, plugin, rundir
from compare.run import job as runner
from compare.run.config import MODELS, RunConfig, build_scratch
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
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the report as JSON; '-' prints it on standard output "
                        "(the table then goes to standard error)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    log = p.add_argument_group("TensorBoard logs (runs/<experiment>/<model>/{scratch,torch,diff})")
    log.add_argument("--logdir", default="runs", help="folder of the experiments (default runs)")
    log.add_argument("--experiment", default=None, metavar="NAME",
                     help="this run's folder name (default <dataset>-<YYYYmmdd-HHMMSS>, made "
                          "unique); an existing one is an error unless --overwrite")
    log.add_argument("--overwrite", action="store_true",
                     help="clear the --experiment folder first if it exists (only an "
                          "nncompare run, or an empty folder: any other is refused)")
    log.add_argument("--log-every", type=int, default=None, metavar="N",
                     help="scalars every N steps (default iterations/100, at least 1)")
    log.add_argument("--hist-every", type=int, default=None, metavar="N",
                     help="weight and gradient histograms every N steps, 0 for none "
                          "(default iterations/10)")
    log.add_argument("--image-every", type=int, default=None, metavar="N",
                     help="decision boundaries of 2-D sets every N steps, 0 for none "
                          "(default iterations/4)")
    log.add_argument("--no-log", action="store_true", help="write no TensorBoard logs")
    log.add_argument("--tensorboard", action="store_true",
                     help="after the run, serve its logs with TensorBoard on 127.0.0.1 and "
                          "print the URL (Ctrl-C stops it)")
    log.add_argument("--resume", default=None, metavar="FOLDER",
                     help="go on from the checkpoints of the run logged in FOLDER "
                          "(runs/<experiment>) for --iterations more steps; model and data "
                          "options come from the checkpoints")
    return p


# what --resume takes from the checkpoints, so the command line may not set it
RESUMED = ("model", "dataset", "layers", "hidden_units", "activation", "alpha", "output", "init", "lr",
           "batch_size", "seed", "dtype", "device", "fd_max_entries", "scratch_impl", "experiment",
           "overwrite", "no_log", "logdir")
# ... of which these choose the run's folder: a resumed run logs into the one it resumes
FOLDER_FLAGS = ("experiment", "overwrite", "no_log", "logdir")

# text options that an empty value would otherwise silently turn into their default
NOT_EMPTY = {"layers": "sizes such as 2,4,1", "activation": "one of sigmoid, tanh, relu, leaky_relu",
             "init": "one of zeros, small, xavier, he",
             "scratch_impl": "'package.module:ClassName'",
             "resume": "the folder of a run, such as runs/flower-20250101-120000",
             "logdir": "a folder such as runs"}


def check_not_empty(args: argparse.Namespace) -> None:
    """InvalidArgument for a text option given as '' (or blanks)."""
    for name, expected in NOT_EMPTY.items():
        value = getattr(args, name)
        if value is not None and not value.strip():
            raise InvalidArgument(f"{name}: got {value!r}, expected {expected}")


APPLIES_TO = {"layers": ("deep",), "hidden_units": ("shallow",), "activation": ("shallow", "deep")}


def config_from(args: argparse.Namespace) -> RunConfig:
    models = MODELS if args.model.strip().lower() == "all" else (args.model,)
    check_options_apply(args, models)
    return RunConfig(
        models=tuple(models), dataset=args.dataset,
        layers=int_list(args.layers) if args.layers is not None else None,
        hidden_units=args.hidden_units, activation=args.activation, output=args.output,
        init=args.init, alpha=args.alpha, lr=args.lr, iterations=args.iterations,
        batch_size=args.batch_size, seed=args.seed, dtype=args.dtype, device=args.device,
        fd_max_entries=args.fd_max_entries,
    ).validate()


def check_options_apply(args: argparse.Namespace, models: Sequence[str]) -> None:
    """A model option given for a run without that model is an error, not silently unused."""
    defaults = build_parser().parse_args([])
    runs = ("deep",) if args.scratch_impl else tuple(m.strip().lower() for m in models)
    for option, kinds in APPLIES_TO.items():
        if getattr(args, option) != getattr(defaults, option) and not set(kinds) & set(runs):
            which = "--scratch-impl" if args.scratch_impl else f"--model {args.model}"
            raise InvalidArgument(
                f"{option.replace('_', '-')}: applies to the {' and '.join(kinds)} model"
                f"{'s' if len(kinds) > 1 else ''}, and {which} runs none of them")


def environment(cfg: RunConfig) -> dict:
    device = resolve_device(cfg.device)
    tol = tolerance(cfg.dtype, device.type)
    return {"numpy": np.__version__, "torch": torch.__version__, "device": str(device),
            "dtype": cfg.dtype, "threads": torch.get_num_threads(),
            "tolerances": {"forward": tol.forward, "gradients": tol.gradients,
                           "trajectory": tol.trajectory}}


def log_plan(args: argparse.Namespace, cfg: RunConfig) -> tuple[rundir.Plan | None, Cadence]:
    """The checked logging options (nothing is created yet): the folder plan, the cadence."""
    cadence = Cadence.auto(cfg.iterations, args.log_every, args.hist_every, args.image_every)
    if args.no_log:
        for flag, given in (("--experiment", args.experiment is not None),
                            ("--overwrite", args.overwrite), ("--tensorboard", args.tensorboard)):
            if given:
                raise InvalidArgument(f"no-log: {flag} needs the logs that --no-log turns off")
        return None, cadence
    return rundir.plan(args.logdir, args.experiment, cfg.dataset, args.overwrite), cadence


def log_config(cfg: RunConfig, data: datasets.Dataset) -> dict:
    """What each model's TensorBoard runs record as config text and hparams."""
    m = data.X_train.shape[1]
    return {"dataset": data.name, "m_train": m, "m_test": data.X_test.shape[1],
            "batch_size": cfg.batch_size or m, "seed": cfg.seed, "dtype": cfg.dtype,
            "device": str(resolve_device(cfg.device)), "requested": cfg.as_dict()}


def resume_plan(args: argparse.Namespace) -> tuple[RunConfig, list[runner.Job], Path]:
    """The run to go on with: its config from the checkpoints, with this command's iterations."""
    defaults = build_parser().parse_args([])
    given = [name for name in RESUMED if getattr(args, name) != getattr(defaults, name)]
    folder = next((name for name in given if name in FOLDER_FLAGS), None)
    if folder is not None:
        raise InvalidArgument(f"resume: --{folder.replace('_', '-')} does not go with --resume: "
                              f"a resumed run always logs into the run it resumes ({args.resume})")
    if given:
        raise InvalidArgument(f"resume: --{given[0].replace('_', '-')} comes from the checkpoints; "
                              "only --iterations, the cadence flags, --json, --no-progress and "
                              "--tensorboard go with --resume")
    experiment = Path(args.resume)
    cfg, jobs = runner.resumed_jobs(experiment, MODELS)
    cfg.iterations = args.iterations
    return cfg.validate(), jobs, experiment


def fresh_plan(args: argparse.Namespace, cfg: RunConfig, data: datasets.Dataset) -> list[runner.Job]:
    """The models of a new run, every argument checked before any work starts."""
    if args.scratch_impl:
        template = build_scratch("deep", cfg, data)                 # validates the architecture
        spec: ModelSpec = template.spec
        name = args.scratch_impl.partition(":")[2] or "plugin"
        defaults = build_parser().parse_args([])
        given = [k for k in ("init", "dtype") if getattr(args, k) != getattr(defaults, k)]
        model = plugin.build(args.scratch_impl, spec, cfg.seed, cfg.dtype, given)
        return [runner.Job(name, model, cfg.lr_for("deep"))]
    return [runner.Job(kind, build_scratch(kind, cfg, data), cfg.lr_for(kind)) for kind in cfg.models]


def run_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    check_not_empty(args)
    if args.json is not None:
        files.check_output_file("json", args.json, stdout=True)   # before any work
    if args.json != "-":
        return run_checked(args, sys.stdout)
    out = sys.stdout                    # the JSON alone; everything else goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        return run_checked(args, out)


def run_checked(args: argparse.Namespace, json_out) -> int:
    """The run of checked arguments; with `--json -`, the JSON goes to `json_out`."""
    if args.resume is not None:
        cfg, jobs, resumed = resume_plan(args)
        plan: rundir.Plan | None = None
        cadence = Cadence.auto(cfg.iterations, args.log_every, args.hist_every, args.image_every)
        data = datasets.load(cfg.dataset, seed=cfg.seed)
    else:
        cfg = config_from(args)
        plan, cadence = log_plan(args, cfg)
        data = datasets.load(cfg.dataset, seed=cfg.seed)
        jobs = fresh_plan(args, cfg, data)
    check_training(1.0, cfg.iterations, cfg.batch_size, data.X_train.shape[1])  # before any work
    experiment = resumed if args.resume is not None else (
        rundir.create(plan) if plan is not None else None)
    bar = tqdm(total=cfg.iterations * len(jobs), desc="training", unit="step",
               disable=True if args.no_progress else None, file=sys.stderr)
    try:
        reports, log_seconds = runner.run(jobs, cfg, data, experiment, cadence, log_config(cfg, data),
                                          progress=lambda t: bar.update(1))
    except InvalidArgument:             # bad usage found late (e.g. by the harness): no folder left
        if experiment is not None and args.resume is None:
            rundir.remove(experiment)
        raise
    except KeyboardInterrupt:
        bar.close()
        if experiment is not None:
            print(f"nncompare: interrupted; logs and checkpoints so far in {experiment} "
                  f"(go on with: nncompare --resume {experiment} --iterations N)", file=sys.stderr)
        raise
    finally:
        bar.close()
    print(report.table(reports))
    if experiment is not None:
        print(f"TensorBoard logs in {experiment} ({log_seconds:.1f} s of logging); "
              f"view them with: tensorboard --logdir {experiment}")
    if args.json is not None:
        meta = {"config": cfg.as_dict(), "environment": environment(cfg),
                "dataset": {"name": data.name, "n_x": data.n_x, "n_classes": data.n_classes,
                            "m_train": data.X_train.shape[1], "m_test": data.X_test.shape[1]},
                "logdir": str(experiment) if experiment is not None else None,
                "logging_seconds": round(log_seconds, 3)}
        document = report.to_json(reports, meta)
        if args.json == "-":
            json_out.write(report.json_text(document))
            json_out.flush()
        else:
            try:
                files.write_text(args.json, report.json_text(document))
            except OSError as exc:      # checked up front; the disk may still fill or change
                kept = f"; the logs are kept in {experiment}" if experiment is not None else ""
                raise InvalidArgument(f"json: cannot write {args.json} ({exc.strerror or exc}); "
                                      f"the table above is the report{kept}") from None
            print(f"report written to {args.json}")
    if args.tensorboard and experiment is not None:
        tb_server.serve(Path(experiment))
    return 0 if all(r.passed for r in reports) else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            if argv[0] == "experiment":
                from compare.cli.experiment import main as experiment_main
                return experiment_main(argv[1:])
            from compare.bench.steps import main as bench_main
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
    except Exception as exc:  # a bug of nncompare itself: one line here, the traceback in a file
        if os.environ.get("NNCOMPARE_TRACEBACK"):
            raise
        path = internal_error_file()
        print(f"nncompare: internal error: {type(exc).__name__}: {exc}\n"
              f"nncompare: this is a bug in nncompare, not in your input; the traceback is in "
              f"{path} (set NNCOMPARE_TRACEBACK=1 to print it)", file=sys.stderr)
        return 3


def internal_error_file() -> Path:
    """Write the traceback being handled to a new file in the temp folder; return its path."""
    fd, name = tempfile.mkstemp(prefix="nncompare-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as out:
        traceback.print_exc(file=out)
    return Path(name)


if __name__ == "__main__":
    sys.exit(main())
