"""The main job of `nncompare` (compare.cli.command): its arguments checked, once, before any
work; then every model checked and trained by `compare.run.job`, the table, the JSON report
(`compare.cli.json_report`).

torch, the harness and the TensorBoard logger are imported inside the functions that need
them, so that the checks that come first (and `nncompare --help`) answer without them.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from compare.cli import json_report, parallel
from compare.cli.parsers import given
from compare.output import report
from compare.run import files, lock, plugin, rundir
from compare.run.config import MODELS, RunConfig, build_scratch
from compare.run.faults import EnvironmentFailure, environment_failure, is_environmental
from scratch import datasets
from scratch.errors import InvalidArgument
from scratch.spec import ModelSpec, check_int
from scratch.validate import check_training

if TYPE_CHECKING:
    from compare.output.tensorboard.logger import Cadence
    from compare.proof.result import ModelReport
    from compare.run.job import Job


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


# what --resume takes from the checkpoints, so the command line may not set it
RESUMED = ("model", "dataset", "layers", "hidden_units", "activation", "alpha", "output", "init", "lr",
           "batch_size", "seed", "dtype", "device", "fd_max_entries", "fd_mode", "scratch_impl", "experiment",
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
        fd_max_entries=args.fd_max_entries, fd_mode=args.fd_mode,
    ).validate()


def check_options_apply(args: argparse.Namespace, models: tuple[str, ...]) -> None:
    """A model option given for a run without that model is an error, not silently unused."""
    runs = ("deep",) if args.scratch_impl else tuple(m.strip().lower() for m in models)
    for option in given(args, tuple(APPLIES_TO)):
        kinds = APPLIES_TO[option]
        if not set(kinds) & set(runs):
            which = "--scratch-impl" if args.scratch_impl else f"--model {args.model}"
            raise InvalidArgument(
                f"{option.replace('_', '-')}: applies to the {' and '.join(kinds)} model"
                f"{'s' if len(kinds) > 1 else ''}, and {which} runs none of them")


@dataclass
class RunPlan:
    """A run whose every argument is checked, nothing created yet."""

    cfg: RunConfig
    data: datasets.Dataset
    jobs: list[Job]
    cadence: Cadence
    folder: rundir.Plan | None = None      # where a new run will log (None: no logs)
    resumed: Path | None = None            # the folder of the run it goes on with


def plan_run(args: argparse.Namespace) -> RunPlan:
    """The run `args` ask for (InvalidArgument naming the first bad argument)."""
    resumed = Path(args.resume) if args.resume is not None else None
    cfg, jobs = resume_plan(args, resumed) if resumed is not None else (config_from(args), None)
    data = datasets.load(cfg.dataset, seed=cfg.seed)
    for job in jobs or ():              # a model of the resumed run that never started
        if job.model is None:
            job.model = build_scratch(job.kind, cfg, data)
    kinds = ("deep",) if args.scratch_impl else cfg.models
    lrs = [job.lr for job in jobs] if jobs is not None else [cfg.lr_for(kind) for kind in kinds]
    for lr in lrs:                      # the training arguments, with each model's own lr
        check_training(lr, cfg.iterations, cfg.batch_size, data.X_train.shape[1])
    from compare.output.tensorboard.logger import Cadence  # torch, once the config is checked
    from compare.run import job as runner

    cadence = Cadence.auto(cfg.iterations, args.log_every, args.hist_every, args.image_every)
    check_int("checkpoint_every", args.checkpoint_every if args.checkpoint_every is not None else 0, 0)
    folder = None if resumed is not None else runner.log_plan(
        None if args.no_log else args.logdir, args.experiment, cfg.dataset, args.overwrite,
        needs_logs={"--experiment": args.experiment is not None, "--overwrite": args.overwrite,
                    "--tensorboard": args.tensorboard})
    if jobs is None:
        jobs = fresh_jobs(args, cfg, data)
    return RunPlan(cfg, data, jobs, cadence, folder, resumed)


def resume_plan(args: argparse.Namespace, experiment: Path) -> tuple[RunConfig, list[Job]]:
    """The run to go on with: its config from the checkpoints, with this command's iterations."""
    flags = given(args, RESUMED)
    folder = next((name for name in flags if name in FOLDER_FLAGS), None)
    if folder is not None:
        raise InvalidArgument(f"resume: --{folder.replace('_', '-')} does not go with --resume: "
                              f"a resumed run always logs into the run it resumes ({args.resume})")
    if flags:
        raise InvalidArgument(f"resume: --{flags[0].replace('_', '-')} comes from the checkpoints; "
                              "only --iterations, the cadence flags, --json, --no-progress and "
                              "--tensorboard go with --resume")
    from compare.run import resume

    if not parallel.is_follower():      # (the ranks that follow read what rank 0 holds)
        lock.check_free(experiment)     # a run that holds it may be replacing its checkpoints
    cfg, jobs = resume.resumed_jobs(experiment)
    cfg.iterations = args.iterations
    return cfg.validate(), jobs


def fresh_jobs(args: argparse.Namespace, cfg: RunConfig, data: datasets.Dataset) -> list[Job]:
    """The models of a new run."""
    from compare.run.job import Job

    if args.scratch_impl:
        template = build_scratch("deep", cfg, data)                 # validates the architecture
        spec: ModelSpec = template.spec
        name = args.scratch_impl.partition(":")[2] or "plugin"
        model = plugin.build(args.scratch_impl, spec, cfg.seed, cfg.dtype, given(args, ("init", "dtype")))
        return [Job(name, model, cfg.lr_for("deep"), plugin=True)]
    return [Job(kind, build_scratch(kind, cfg, data), cfg.lr_for(kind)) for kind in cfg.models]


def run(args: argparse.Namespace) -> int:
    """The main job of parsed `args`: 0 every check agrees, 1 one failed."""
    check_not_empty(args)
    if args.json is not None:
        files.check_output_file("json", args.json, stdout=True)   # before any work
    if args.json != "-":
        return run_checked(args, sys.stdout)
    out = sys.stdout                    # the JSON alone; everything else goes to stderr
    with contextlib.redirect_stdout(sys.stderr):
        return run_checked(args, out)


def run_checked(args: argparse.Namespace, json_out: TextIO) -> int:
    """The run of checked arguments; with `--json -`, the JSON goes to `json_out`."""
    if parallel.is_follower():          # rank 1..N-1 of --nproc or torchrun: torch, silently
        return follow(plan_run(parallel.quiet(args)))
    plan = plan_run(args)
    if parallel.starts_ranks(args, plan.data.X_train.shape[1], plan.cfg.batch_size, plan.cfg.device):
        return parallel.run_ranks(args, run, plan.cfg.device)
    experiment = claimed(plan)
    try:
        return report_run(args, plan, experiment, json_out)
    finally:
        if experiment is not None:
            rundir.release(experiment)


def claimed(plan: RunPlan) -> Path | None:
    """The run's folder, held by this run (`compare.run.lock`): a new one created, or the
    resumed one claimed and its stale temporary files deleted; None without logs."""
    if plan.resumed is None:
        return rundir.create(plan.folder) if plan.folder is not None else None
    rundir.claim(plan.resumed)
    files.clean_stale(plan.resumed)
    return plan.resumed


def report_run(args: argparse.Namespace, plan: RunPlan, experiment: Path | None,
               json_out: TextIO) -> int:
    """Train, print the table, write the JSON report; the exit code."""
    problems: list[str] = []
    reports, log_seconds = train(args, plan, experiment, problems)
    print(report.table(reports))
    if plan.resumed is not None:
        print("resumed: " + "; ".join(f"{job.kind} from step {job.start_step} to "
                                      f"{job.start_step + plan.cfg.iterations}" for job in plan.jobs))
    if experiment is not None:
        print(f"TensorBoard logs in {experiment} ({log_seconds:.1f} s of logging); "
              f"view them with: tensorboard --logdir {experiment}")
    if args.json is not None:
        json_report.write(args, plan, reports, experiment, log_seconds, json_out)
    if args.tensorboard and experiment is not None:
        from compare.output.tensorboard import server
        server.serve(Path(experiment))
    if problems:
        for problem in problems:
            print(f"nncompare: error: could not write {problem}", file=sys.stderr)
        print(f"nncompare: the table above is of what finished; everything written is kept in "
              f"{experiment}", file=sys.stderr)
        return 2
    return 0 if all(r.passed for r in reports) else 1


def follow(plan: RunPlan) -> int:
    """A follower rank's run: every job's torch side, no logs; rank 0's exit code."""
    from compare.run import job as runner

    reports, _ = runner.run(plan.jobs, plan.cfg, plan.data, None, plan.cadence, {}, lambda t: None)
    return 0 if all(r.passed for r in reports) else 1


def train(args: argparse.Namespace, plan: RunPlan, experiment: Path | None,
          problems: list[str] | None = None) -> tuple[list[ModelReport], float]:
    """Every job checked and trained, with a progress bar; the reports and the seconds logging.
    What could not be written goes to `problems`; a folder is removed only for a run whose
    training never started (a late bad argument)."""
    from tqdm.auto import tqdm

    from compare.run import job as runner

    cfg, data = plan.cfg, plan.data
    bar = tqdm(total=cfg.iterations * len(plan.jobs), desc="training", unit="step",
               disable=True if args.no_progress else None, file=sys.stderr)
    try:
        return runner.run(plan.jobs, cfg, data, experiment, plan.cadence, log_config(cfg, data),
                          progress=lambda t: bar.update(1), problems=problems,
                          run_id=rundir.run_id(experiment) if experiment is not None else None,
                          checkpoint_every=checkpoint_every(args, cfg))
    except InvalidArgument as exc:      # bad usage found late (e.g. by the harness)
        if experiment is not None and plan.resumed is None and not getattr(exc, "started", True):
            rundir.remove(experiment)   # ... before any training: no folder left
        raise
    except OSError as exc:              # the environment: a full disk, a read-only folder
        if not is_environmental(exc):
            raise
        kept = f"what was written is kept in {experiment}" if experiment is not None else ""
        raise EnvironmentFailure(environment_failure(exc, experiment, kept)) from None
    finally:
        bar.close()


def checkpoint_every(args: argparse.Namespace, cfg: RunConfig) -> int:
    """--checkpoint-every, by default a tenth of the run."""
    every = args.checkpoint_every
    return max(1, cfg.iterations // 10) if every is None else every


def log_config(cfg: RunConfig, data: datasets.Dataset) -> dict:
    """What each model's TensorBoard runs record as config text and hparams."""
    from torch_ref.device import resolve_device

    m = data.X_train.shape[1]
    return {"dataset": data.name, "m_train": m, "m_test": data.X_test.shape[1],
            "batch_size": cfg.batch_size or m, "seed": cfg.seed, "dtype": cfg.dtype,
            "device": str(resolve_device(cfg.device)), "requested": cfg.as_dict()}
