"""`nncompare bench` (and `python -m compare bench`): its options checked, every output path
before anything is measured; then `compare.bench.steps` measures, or renders saved results.

Exit codes: 0 the results (or the report) written; bad usage raises `InvalidArgument`
(`nncompare` prints it in one line and exits with 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from compare.bench import report as bench_report
from compare.bench import steps
from compare.cli.parsers import bench_parser
from compare.run import files
from scratch.errors import InvalidArgument
from scratch.spec import DTYPES, check_choice, check_int


def main(argv: Sequence[str] | None = None) -> int:
    args = bench_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    configs = steps.pick_configs(args.only, args.quick)
    dtypes = [check_choice("dtypes", d, DTYPES) for d in args.dtypes.split(",")]
    settings = settings_from(args)
    n_threads = None if args.threads is None else check_int("threads", args.threads, 1)
    json_arg, md_arg = output_paths(args)
    md_path = Path(md_arg)
    if args.render is not None:                 # the results are read, only the report written
        return render(args, md_arg)
    json_path = Path(json_arg)
    files.check_output_file("json", json_arg)          # before measuring, the defaults too
    files.check_output_file("markdown", md_arg)
    if json_path.resolve() == md_path.resolve():
        raise InvalidArgument(f"markdown: {md_arg} is also the --json file; expected another "
                              "path for the report")
    if n_threads is not None:
        settings = replace(settings, single_thread=False, allocator_check=False)
    with steps.threads(n_threads):
        result = steps.run(configs, dtypes, settings, jobs=not args.no_jobs, quick=args.quick,
                           log=lambda text: print(text, file=sys.stderr))
    steps.write(json_path, json.dumps(result, indent=1) + "\n", "json")
    steps.write(md_path, bench_report.markdown(result, json_path), "markdown")
    print(bench_report.summary(result))
    print(f"results written to {json_path} and {md_path}")
    return 0


def settings_from(args: argparse.Namespace) -> steps.Settings:
    """How long to measure: the full run's settings or --quick's, with --rounds if given."""
    settings = steps.QUICK if args.quick else steps.Settings()
    if args.rounds is not None:
        settings = replace(settings, rounds=check_int("rounds", args.rounds, 1))
    return settings


def output_paths(args: argparse.Namespace) -> tuple[str, str]:
    """--json and --markdown, or their defaults (docs/, or runs/ with --quick)."""
    default_dir = "runs" if args.quick else "docs"
    json_arg = args.json if args.json is not None else \
        f"{default_dir}/{'bench-quick.json' if args.quick else 'benchmarks.json'}"
    md_arg = args.markdown if args.markdown is not None else \
        f"{default_dir}/{'bench-quick.md' if args.quick else 'BENCHMARKS.md'}"
    return json_arg, md_arg


def render(args: argparse.Namespace, md_arg: str) -> int:
    """--render: the report of saved results, nothing measured."""
    if not args.render.strip():
        raise InvalidArgument(f"render: got {args.render!r}, expected the results file "
                              "of a run, such as docs/benchmarks.json")
    if args.json is not None:
        raise InvalidArgument("render: --json names where new results go, but --render "
                              "measures nothing; the report goes to --markdown PATH")
    files.check_output_file("markdown", md_arg)
    return steps.render(Path(args.render), Path(md_arg))
