"""`nncompare experiment`: run the experiments of the notes' claims and print their tables.

    nncompare experiment --list
    nncompare experiment zero-init [--quick] [--seed 1] [--logdir runs]
    nncompare experiment all --write-docs docs/EXPERIMENTS.md

Exit codes: 0 every experiment ran and its assertions held; 1 one failed (the two
implementations disagree, or a stated fact did not hold); bad usage raises
`InvalidArgument` (`nncompare` prints it in one line and exits with 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from compare.experiments import docs
from compare.experiments.base import ExperimentFailed, Result, Settings
from compare.experiments.registry import EXPERIMENTS, get
from compare.experiments.session import log_plan
from compare.run import files
from scratch.errors import InvalidArgument


class Parser(argparse.ArgumentParser):
    """argparse that raises InvalidArgument (one line) instead of printing usage and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise InvalidArgument(f"experiment: {message}")


def build_parser() -> Parser:
    p = Parser(prog="nncompare experiment", description=__doc__.split("\n")[0],
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


def listing() -> str:
    """One line per experiment: name, section, title."""
    width = max(map(len, EXPERIMENTS))
    return "\n".join(f"{e.name.ljust(width)}  {e.section:<6}  {e.title}"
                     for e in EXPERIMENTS.values())


def selected(names: Sequence[str]) -> list[str]:
    """The experiments asked for, in registry order; 'all' means every one."""
    if not names:
        raise InvalidArgument("experiment: give a name or 'all' (see 'nncompare experiment --list')")
    if any(n.strip().lower() == "all" for n in names):
        return list(EXPERIMENTS)
    chosen = {get(n).name for n in names}
    return [n for n in EXPERIMENTS if n in chosen]


def command_line(names: list[str], args: argparse.Namespace) -> str:
    """The command that reproduces this run's results, for the docs."""
    words = ["nncompare", "experiment", "all" if len(names) == len(EXPERIMENTS) else " ".join(names)]
    words += (["--quick"] if args.quick else []) + ([f"--seed {args.seed}"] if args.seed != 1 else [])
    return " ".join([*words, f"--write-docs {args.write_docs}"])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.list:
        if args.names:
            raise InvalidArgument(f"experiment: --list takes no names, got {' '.join(args.names)!r}; "
                                  "expected 'nncompare experiment --list' alone, or names "
                                  "without --list")
        print(listing())
        return 0
    names = selected(args.names)
    if args.no_log and args.overwrite:
        raise InvalidArgument("no-log: --overwrite needs the logs that --no-log turns off")
    if args.write_docs is not None:
        files.check_output_file("write-docs", args.write_docs)
    if not args.no_log and not args.logdir.strip():
        raise InvalidArgument(f"logdir: got {args.logdir!r}, expected a folder such as runs")
    settings = Settings(quick=args.quick, seed=args.seed, logdir=None if args.no_log else args.logdir,
                        overwrite=args.overwrite, progress=not args.no_progress)
    for name in names:               # bad log folders are reported before anything runs
        log_plan(name, settings)
    results: list[Result] = []
    failed: list[str] = []
    start = time.perf_counter()
    for name in names:
        began = time.perf_counter()
        try:
            result = EXPERIMENTS[name].run(settings)
        except ExperimentFailed as exc:
            print(f"nncompare experiment: {name} FAILED: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        result.seconds = time.perf_counter() - began
        results.append(result)
        print(result.text(), end="\n\n", flush=True)
    if args.write_docs and not failed:
        text = docs.render(results, settings, command_line(names, args), time.perf_counter() - start)
        try:
            files.write_text(args.write_docs, text)     # atomic, mode as open() would give
        except OSError as exc:            # checked up front; the disk may still fill or change
            raise InvalidArgument(f"write-docs: cannot write {args.write_docs} "
                                  f"({exc.strerror or exc}); the tables above are the "
                                  "results") from None
        print(f"results written to {args.write_docs}")
    elif args.write_docs:
        print(f"nncompare experiment: {args.write_docs} not written: {', '.join(failed)} failed",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InvalidArgument as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        sys.exit(2)
