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

from compare.cli.parsers import experiment_parser
from compare.experiments import docs
from compare.experiments.base import ExperimentFailed, Result, Settings
from compare.experiments.registry import EXPERIMENTS, get
from compare.experiments.session import folder_plan
from compare.run import files
from compare.run.job import refuse_without_logs
from scratch.errors import InvalidArgument


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
    args = experiment_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.list:
        if args.names:
            raise InvalidArgument(f"experiment: --list takes no names, got {' '.join(args.names)!r}; "
                                  "expected 'nncompare experiment --list' alone, or names "
                                  "without --list")
        print(listing())
        return 0
    names = selected(args.names)
    settings = settings_from(args)
    for name in names:               # bad log folders are reported before anything runs
        folder_plan(name, settings)
    return run_all(names, settings, args)


def settings_from(args: argparse.Namespace) -> Settings:
    """The experiments' settings, every option checked (the log folders apart)."""
    if args.no_log:
        refuse_without_logs({"--overwrite": args.overwrite})
    if args.write_docs is not None:
        files.check_output_file("write-docs", args.write_docs)
    if not args.no_log and not args.logdir.strip():
        raise InvalidArgument(f"logdir: got {args.logdir!r}, expected a folder such as runs")
    return Settings(quick=args.quick, seed=args.seed, logdir=None if args.no_log else args.logdir,
                    overwrite=args.overwrite, progress=not args.no_progress)


def run_all(names: list[str], settings: Settings, args: argparse.Namespace) -> int:
    """Run each experiment, print its table, write the docs if asked and all ran: 0, else 1."""
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
        write_docs(args.write_docs, docs.render(results, settings, command_line(names, args),
                                                time.perf_counter() - start))
    elif args.write_docs:
        print(f"nncompare experiment: {args.write_docs} not written: {', '.join(failed)} failed",
              file=sys.stderr)
    return 1 if failed else 0


def write_docs(path: str, text: str) -> None:
    try:
        files.write_text(path, text)     # atomic, mode as open() would give
    except OSError as exc:            # checked up front; the disk may still fill or change
        raise InvalidArgument(f"write-docs: cannot write {path} "
                              f"({exc.strerror or exc}); the tables above are the "
                              "results") from None
    print(f"results written to {path}")
