"""The command line's three parsers, `nncompare`, `nncompare experiment` and `nncompare bench`,
each built once (on first use), and the one `Parser` class they share.

Building the main parser imports nothing heavy (no torch), so that `nncompare --help` and
its usage errors answer at once; the subcommands' parsers import the names they list.
"""

from __future__ import annotations

import argparse
import functools
from typing import NoReturn

from scratch import datasets
from scratch.errors import InvalidArgument
from scratch.spec import DTYPES

MAIN = """`nncompare`: check every model against the torch reference, train both, print the table.

subcommands:
  nncompare experiment ...   the experiments of the notes' claims (nncompare experiment --help)
  nncompare bench ...        speed and memory of both implementations (nncompare bench --help)"""
EXPERIMENT = "`nncompare experiment`: run the experiments of the notes' claims and print their tables."
BENCH = "`nncompare bench`: speed and memory of both implementations against the machine's limit."


class Parser(argparse.ArgumentParser):
    """argparse that raises a one-line InvalidArgument (`nncompare` exits 2) instead of printing
    usage and exiting; a subcommand's messages start with its name ('bench: ...')."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("nncompare").strip()
        raise InvalidArgument(f"{command}: {message}" if command else message)


@functools.cache
def main_parser() -> Parser:
    """`nncompare`'s parser (the main job); its defaults are read with `get_default`."""
    p = Parser(prog="nncompare", description=MAIN,
               formatter_class=argparse.RawDescriptionHelpFormatter,
               epilog="Subcommands: 'nncompare experiment --list', 'nncompare bench --help'.")
    model_options(p)
    log_options(p.add_argument_group("TensorBoard logs (runs/<experiment>/<model>/{scratch,torch,diff})"))
    return p


def model_options(p: argparse.ArgumentParser) -> None:
    """The main job's model, data, training and output options."""
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
    p.add_argument("--fd-mode", default="entries", metavar="entries|directional",
                   help="finite differences entry by entry (default), or along 4 random "
                        "directions: two forward passes each, for big models")
    p.add_argument("--scratch-impl", default=None, metavar="MODULE:CLASS",
                   help="check your own from-scratch model instead of ours (deep architecture)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the report as JSON; '-' prints it on standard output "
                        "(the table then goes to standard error)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="train the torch side by DistributedDataParallel on N ranks started here "
                        "(gloo on the CPU, NCCL on CUDA); under torchrun leave it out")


def log_options(log: argparse._ArgumentGroup) -> None:
    """The main job's TensorBoard, cadence and resume options."""
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
    log.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                     help="also checkpoint both sides every N steps, so that a run killed "
                          "outright resumes from there (default iterations/10; 0: at the end only)")


@functools.cache
def experiment_parser() -> Parser:
    """`nncompare experiment`'s parser."""
    from compare.experiments.registry import EXPERIMENTS

    p = Parser(prog="nncompare experiment", description=EXPERIMENT,
               formatter_class=argparse.RawDescriptionHelpFormatter,
               epilog="Experiments: " + ", ".join(EXPERIMENTS) + ".")
    p.add_argument("names", nargs="*", metavar="NAME", help="experiments to run, or 'all'")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--quick", action="store_true",
                   help="the small configuration (seconds; what the tests run)")
    p.add_argument("--seed", type=int, default=1, help="seed of data, init and batches (default 1)")
    p.add_argument("--logdir", default="runs",
                   help="TensorBoard root: each experiment logs to a new folder "
                        "LOGDIR/exp-NAME-<time>/<variant>/{scratch,torch,diff} (default runs)")
    p.add_argument("--overwrite", action="store_true",
                   help="log to LOGDIR/exp-NAME instead, clearing it first (only if it is an "
                        "nncompare run: other folders are refused, nothing deleted)")
    p.add_argument("--no-log", action="store_true", help="write no TensorBoard logs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--write-docs", default=None, metavar="PATH",
                   help="also write the results as Markdown (docs/EXPERIMENTS.md)")
    return p


@functools.cache
def bench_parser() -> Parser:
    """`nncompare bench`'s parser."""
    from compare.bench.steps import CONFIGS

    p = Parser(prog="nncompare bench", description=BENCH,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="seconds, not minutes: tiny repetitions, large at m = 64, a sample of "
                        "the parity suite, 20-step main jobs (a smoke test; its numbers mean little)")
    p.add_argument("--only", default=None, metavar="NAMES",
                   help=f"comma-separated configs (default all: {', '.join(c.name for c in CONFIGS)})")
    p.add_argument("--dtypes", default=",".join(DTYPES), help="float32,float64 (default both)")
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds, at most (default 15, fewer past 40 s a config)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch and NumPy BLAS threads for the whole run (default: as they are, "
                        "with every step timed again on one thread)")
    p.add_argument("--no-jobs", action="store_true",
                   help="skip the parity suite and the TensorBoard overhead")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="results (default docs/benchmarks.json; runs/bench-quick.json with --quick)")
    p.add_argument("--render", default=None, metavar="JSON",
                   help="measure nothing: write the report (--markdown) from saved results")
    p.add_argument("--markdown", default=None, metavar="PATH",
                   help="the report (default docs/BENCHMARKS.md; runs/bench-quick.md with --quick)")
    return p


def given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    """Those of the main job's options `names` that `args` sets to other than their default."""
    parser = main_parser()
    return [name for name in names if getattr(args, name) != parser.get_default(name)]
