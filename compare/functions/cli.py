"""`nncompare check PATH_OR_MODULE`: a learner's own course functions against the torch reference.

    nncompare check my_assignment.py                      every function it defines, then its models
    nncompare check my_assignment.py --exercise deep      only the deep exercise's functions
    nncompare check mypackage.mymodule --json report.json
    nncompare check my_assignment.py --no-log             no TensorBoard logs of the models

The models assembled from the functions log to TensorBoard in a new folder
LOGDIR/check-<time>/<model>/{scratch,torch,diff} (LOGDIR: --logdir, default runs), as every
run does; each call of a learner's function may take --time-limit seconds (default 10).

With `--json -` the JSON report goes to standard output and everything else (the table, what
the learner's code prints) to standard error.

Exit codes: 0 every function provided agrees (and every model assembled from them passes);
1 one differs; 2 bad usage (one line on standard error, nothing written).

`main(argv)` raises InvalidArgument on bad usage (for `nncompare`'s dispatcher, which prints
it as 'nncompare: error: check: ...' and exits 2); `cli_main(argv)` does that itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from scratch.errors import InvalidArgument

USAGE = ("`nncompare check`: your own functions of the course's exercises, one by one, against the "
         "torch reference.")


class Parser(argparse.ArgumentParser):
    """argparse that raises a one-line InvalidArgument ('check: ...') instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise InvalidArgument(f"check: {message}")


def parser() -> Parser:
    p = Parser(prog="nncompare check", description=USAGE)
    p.add_argument("target", metavar="PATH_OR_MODULE",
                   help="a .py file (its `if __name__ == '__main__':` block is not run) or a module name")
    p.add_argument("--exercise", action="append", default=None, metavar="NAME",
                   help="logistic, shallow or deep (repeatable; default: read off the names defined)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="also write the report as JSON; '-' prints it on standard output "
                        "(the table then goes to standard error)")
    p.add_argument("--no-model", action="store_true",
                   help="skip the end-to-end check of the models assembled from the functions")
    p.add_argument("--iterations", type=int, default=100,
                   help="lockstep training steps of that model check (default 100)")
    p.add_argument("--logdir", default="runs",
                   help="TensorBoard root: that model check logs to a new folder LOGDIR/check-<time> "
                        "(default runs)")
    p.add_argument("--no-log", action="store_true", help="write no TensorBoard logs")
    p.add_argument("--time-limit", type=float, default=10.0, metavar="SECONDS",
                   help="the longest one call of your function may take (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nncompare check`; bad usage raises InvalidArgument ('check: ...')."""
    from compare.run import files

    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.json is not None:
        with prefixed():
            files.check_output_file("json", args.json, stdout=True)       # before any work
    if args.json != "-":
        return run(args, sys.stdout)
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        return run(args, out)


@contextlib.contextmanager
def prefixed():
    """InvalidArgument raised inside, given the 'check: ' prefix of this subcommand."""
    try:
        yield
    except InvalidArgument as exc:
        message = str(exc)
        raise InvalidArgument(message if message.startswith("check: ") else f"check: {message}") from None


def run(args: argparse.Namespace, json_out: TextIO) -> int:
    from compare.functions.check import check_functions
    from compare.run import files

    with prefixed():
        report = check_functions(args.target, exercise=args.exercise, seed=args.seed,
                                 time_limit=args.time_limit, model=not args.no_model,
                                 iterations=args.iterations, logdir=None if args.no_log else args.logdir)
    print(report)
    if args.json is not None:
        text = json.dumps(report.to_dict(), indent=2) + "\n"
        if args.json == "-":
            json_out.write(text)
            json_out.flush()
        else:
            try:
                files.write_text(args.json, text)
            except OSError as exc:
                raise InvalidArgument(f"check: json: cannot write {args.json} ({exc.strerror or exc}); "
                                      "the table above is the report") from None
            print(f"report written to {args.json}")
    return 0 if report.passed else 1


def cli_main(argv: Sequence[str] | None = None) -> int:
    """`nncompare check` as a whole command: exit code 0, 1, or 2 with one line on stderr."""
    try:
        return main(argv)
    except InvalidArgument as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:          # --help
        return exc.code if isinstance(exc.code, int) else 0


if __name__ == "__main__":
    sys.exit(cli_main())
