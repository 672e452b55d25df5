"""`nncompare`: check every model against the torch reference, train both, print the table.

    nncompare                         the main job: all models, flower set, float64, CPU
    nncompare --model deep --layers 2,8,4,1 --activation tanh --json report.json
    nncompare --scratch-impl mymodule:MyNet --layers 2,4,1
    nncompare experiment --list       the experiments of the notes' claims
    nncompare bench [--quick]         speed and memory of both implementations
    nncompare precision               torch's float32/bfloat16/TF32/float16 drift from float64 truth
    nncompare check my_assignment.py  your own course functions, one by one, against torch
    nncompare --tensorboard           then serve the run's TensorBoard logs (runs/<experiment>/)

With `--json -` the JSON report goes to standard output and everything else
(the table, where the logs are) to standard error.

Exit codes: 0 every check agrees; 1 a check failed or training diverged;
2 bad usage (one line on stderr, nothing written) or a failure of the environment (a full
disk, a folder that cannot be written: one line naming the path, what was complete kept);
3 a bug of nncompare; 128 + the signal when stopped by Ctrl-C (130), SIGTERM (143) or
SIGHUP (129). The signals are handled from the first line of this module on (during the
imports: one line and that exit code); one the parent set to be ignored stays ignored.

`main` sends a first word `experiment`, `bench`, `precision` or `check` to that subcommand
(compare.cli.experiment, compare.cli.bench, compare.precision, compare.functions.cli),
anything else to the main job (compare.cli.main_job); each is imported only when it runs,
and turns its exceptions into the exit codes above.
"""

from __future__ import annotations

from compare.run import memory, signals

signals.install_early()    # first of all: a Ctrl-C during the imports is one line, exit 130

import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

from compare.cli.parsers import main_parser  # noqa: E402
from compare.run.faults import (  # noqa: E402
    EnvironmentFailure,
    environment_failure,
    is_environmental,
    named_stdout,
    quiet_writer_threads,
)
from scratch.errors import InvalidArgument  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    memory.keep_freed_blocks()        # glibc: no page faults of large temporaries at every step
    on_main = threading.current_thread() is threading.main_thread()
    previous = signals.install(signals._raise) if on_main else {}
    try:
        return finished(dispatch(argv))
    except KeyboardInterrupt as exc:
        return interrupted(exc)
    finally:
        signals.restore(previous)


def finished(code: int) -> int:
    """`code`, once standard output is flushed (a full disk there is an environment failure)."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        print(f"nncompare: error: {environment_failure(exc, 'standard output')}", file=sys.stderr)
        return 2
    return code


def interrupted(exc: KeyboardInterrupt) -> int:
    """One line, and 128 + the signal (130 for Ctrl-C)."""
    where = getattr(exc, "where", "")
    code = getattr(exc, "code", 130)
    with_signal = "" if code == 130 else f" by {signals.name(code - 128)}"
    print(f"nncompare: interrupted{with_signal}" + (f"; {where}" if where else ""), file=sys.stderr)
    return code


def dispatch(argv: list[str]) -> int:
    """The subcommand or main job of `argv`, its exceptions turned into exit codes."""
    try:
        with quiet_writer_threads(), named_stdout():
            return subcommand(argv)
    except InvalidArgument as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except EnvironmentFailure as exc:
        print(f"nncompare: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:   # e.g. `nncompare | head`: the reader left, nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return 0
    except Exception as exc:  # a bug of nncompare itself: one line here, the traceback in a file
        if isinstance(exc, OSError) and is_environmental(exc):   # the disk: full, read-only
            if exc.filename == "standard output":
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
            print(f"nncompare: error: {environment_failure(exc, None)}", file=sys.stderr)
            return 2
        if os.environ.get("NNCOMPARE_TRACEBACK"):
            raise
        path = internal_error_file()
        print(f"nncompare: internal error: {type(exc).__name__}: {exc}\n"
              f"nncompare: this is a bug in nncompare, not in your input; the traceback is in "
              f"{path} (set NNCOMPARE_TRACEBACK=1 to print it)", file=sys.stderr)
        return 3


def subcommand(argv: list[str]) -> int:
    """Run the subcommand `argv` names, or the main job."""
    if argv and argv[0] == "experiment":
        from compare.cli import experiment
        return experiment.main(argv[1:])
    if argv and argv[0] == "bench":
        from compare.cli import bench
        return bench.main(argv[1:])
    if argv and argv[0] == "precision":
        from compare.precision import cli_main
        return cli_main(argv[1:])
    if argv and argv[0] == "check":
        from compare.functions import cli
        return cli.main(argv[1:])
    args = main_parser().parse_args(argv)
    from compare.cli import main_job
    return main_job.run(args)


def internal_error_file() -> Path:
    """Write the traceback being handled to a new file in the temp folder; return its path."""
    fd, name = tempfile.mkstemp(prefix="nncompare-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as out:
        traceback.print_exc(file=out)
    return Path(name)


if __name__ == "__main__":
    sys.exit(main())
