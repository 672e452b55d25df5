"""`nncompare`: check every model against the torch reference, train both, print the table.

    nncompare                         the main job: all models, flower set, float64, CPU
    nncompare --model deep --layers 2,8,4,1 --activation tanh --json report.json
    nncompare --scratch-impl mymodule:MyNet --layers 2,4,1
    nncompare experiment --list       the experiments of the notes' claims
    nncompare bench [--quick]         speed and memory of both implementations
    nncompare precision               torch's float32/bfloat16/TF32/float16 drift from float64 truth
    nncompare --tensorboard           then serve the run's TensorBoard logs (runs/<experiment>/)

With `--json -` the JSON report goes to standard output and everything else
(the table, where the logs are) to standard error.

Exit codes: 0 every check agrees; 1 a check failed or training diverged;
2 bad usage (one line on stderr, nothing written); 3 a bug of nncompare; 130 interrupted.

`main` sends a first word `experiment` or `bench` to that subcommand (compare.cli.experiment,
compare.cli.bench), anything else to the main job (compare.cli.main_job); each is imported
only when it runs, and turns its exceptions into the exit codes above.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from compare.cli.parsers import main_parser
from scratch.errors import InvalidArgument


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(argv)
    except InvalidArgument as exc:
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


def dispatch(argv: list[str]) -> int:
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
