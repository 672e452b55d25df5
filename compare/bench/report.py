"""The machine `nncompare bench` ran on, the generated report (docs/BENCHMARKS.md) and the
one-screen summary."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info

from compare import table
from compare.bench import startup
from compare.bench import targets as bench_targets
from compare.run import memory


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def numpy_blas() -> dict:
    """NumPy's BLAS library, version, kernel architecture and threads (threadpoolctl)."""
    for lib in threadpool_info():
        if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", ""):
            return {k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                            "num_threads", "threading_layer")}
    found = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return {k: found[0].get(k) for k in ("internal_api", "version", "num_threads")} if found else {}


def torch_blas() -> str:
    """'mkl, CPU capability AVX512' from torch's build configuration."""
    config = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    cap = re.search(r"CPU capability usage: (\w+)", config)
    return ", ".join(x for x in (blas and blas.group(1), cap and f"CPU capability {cap.group(1)}") if x)


def machine() -> dict:
    """CPU model, cores, memory, versions, BLAS libraries and thread counts."""
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo)
    flags = re.search(r"flags\s*:\s*(.*)", cpuinfo)
    mem = re.search(r"MemTotal:\s*(\d+) kB", _read("/proc/meminfo"))
    simd = [f for f in ("avx2", "fma", "avx512f") if flags and f in flags.group(1).split()]
    return {
        "cpu": model.group(1).strip() if model else platform.processor() or platform.machine(),
        "simd": simd,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "torch": torch.__version__,
        "torch_blas": torch_blas(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "loadavg_start": loadavg(),
        "glibc_keeps_freed": memory.KEPT[0],
    }


def _ms(t: dict | None) -> str:
    if t is None:
        return "-"
    return f"{t['median_s'] * 1e3:.3g} [{t['min_s'] * 1e3:.3g}-{t['max_s'] * 1e3:.3g}]"


def _ratio(r: dict) -> str:
    return f"{r['median']:.2f} ({r['rounds_min']:.2f}-{r['rounds_max']:.2f})"


def _value(t: dict) -> str:
    v = t["value"]
    if v is None:
        return t.get("note", "not measured")
    if "fraction" in t["target"]:
        return f"{v:.0%}"
    return f"{v:.1f} s" if "seconds" in t["target"] else f"{v:.2f}"


def _bound(t: dict) -> str:
    b = f"{t['bound']:.0%}" if "fraction" in t["target"] else f"{t['bound']:g}"
    return f"{t['op']} {b}"


QUICK_NOTE = "quick: timings not judged"
QUICK_WHY = ("(`--quick` is a smoke test: its repetitions and sizes cannot support a verdict; "
             "the values are shown, the targets are not checked)")


def target_lines(result: dict) -> list[str]:
    rows = [[t["target"], t["config"], t["dtype"], t["threads"] or "-", _value(t), _bound(t),
             {True: "yes", False: "**no**", None: "-"}[t["met"]]] for t in result["targets"]]
    lines = table.markdown(["target", "config", "dtype", "threads", "measured", "bound", "met"],
                           rows).split("\n")
    return [f"{QUICK_NOTE} {QUICK_WHY}.", "", *lines] if result["quick"] else lines


def _step_row(c: dict, d: dict, cuda: bool) -> list[str]:
    t, frac = d["times"], d["fraction_of_peak"]
    row = [f"{c['name']} {list(c['layer_dims'])} m={c['m']}", _ms(t["scratch"]),
           _ms(t["torch_ref"]), _ms(t["bare"]), _ms(t["matmul"])]
    row += [_ms(t.get("torch_ref_cuda"))] if cuda else []
    return row + [_ratio(d["ratios"]["scratch/torch_ref"]), _ratio(d["ratios"]["torch_ref/bare"]),
                  f"{c['flops']['total'] / 1e9:.3g}", f"{d['peak_gflops']:.3g}",
                  f"{frac['scratch']:.1%}", f"{frac['torch_ref']:.1%}"]


def step_lines(result: dict, configs: list[dict], dtype: str) -> list[str]:
    cuda = result["cuda"]["available"] and configs is result["configs"]
    head = ["config", "scratch ms", "torch_ref ms", "bare ms", "matmul only ms"]
    head += ["torch_ref cuda ms"] if cuda else []
    head += ["scratch/torch_ref", "torch_ref/bare", "GFLOP", "peak GFLOP/s", "scratch % peak",
             "torch_ref % peak"]
    rows = [_step_row(c, c["dtypes"][dtype], cuda) for c in configs if dtype in c["dtypes"]]
    return table.markdown(head, rows).split("\n")


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def memory_lines(result: dict) -> list[str]:
    mem = result.get("memory")
    if not mem:
        return ["Not measured (the large config was not run)."]
    rows = [[dtype, _mib(m["peak_bytes"]), _mib(m["minimum_bytes"]), f"{m['ratio']:.2f}",
             _mib(m["params_bytes"]), _mib(m["grads_bytes"]), _mib(m["caches_bytes"]),
             _mib(m["floor_A_only_bytes"])]
            for dtype in ("float32", "float64") if (m := mem.get(dtype))]
    head = ["dtype", "peak", "minimum", "peak / minimum", "params", "grads", "caches Z, A",
            "floor with A only"]
    return [f"One `scratch.train.step` on `large` (m = {mem['m']}), measured with tracemalloc.",
            "", *table.markdown(head, rows).split("\n")]


def jobs_lines(result: dict) -> list[str]:
    lines = []
    suite = result.get("parity_suite")
    if suite:
        failed = ", ".join(f"{f['model']}/{f['output']}/{f['init']}/{f['activation']}"
                           for f in suite["failed"]) or "none"
        sample = "" if suite["cases"] == suite["of_cases"] else \
            " A sample of the suite: its time is not judged against the target."
        lines += ["### float64 parity suite", "",
                  f"{suite['cases']} of {suite['of_cases']} cases (model x output x init x hidden "
                  f"activation) through `check_model`, {suite['iterations']} lockstep steps each, "
                  f"on {suite['dataset']}: **{suite['wall_s']:.1f} s** wall; "
                  f"{suite['passed']} passed; failed: {failed}." + sample, ""]
    tb = result.get("tensorboard")
    if tb:
        lines += ["### TensorBoard logging on the main job", ""]
        if tb["available"]:
            pairs = zip(tb["logged_s"], tb["unlogged_s"], strict=True)
            walls = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in pairs)
            lines += [f"`nncompare` ({tb['iterations']} steps a model, default log cadence) against "
                      f"`nncompare --no-log`, {tb['repeats']} pairs back to back (logged/unlogged "
                      f"wall s: {walls}): **ratio {tb['ratio']:.3f}** (fastest logged over fastest "
                      f"unlogged); median of the pairs' ratios {tb.get('pair_ratio', tb['ratio']):.3f}, "
                      f"CPU time ratio {tb['cpu_ratio']:.3f} (fastest over fastest).", ""]
        else:
            lines += [f"Not measured: {tb['reason']}.", ""]
    return lines or ["Not run (`--no-jobs`)."]


def _allocator_row(mc: dict) -> str:
    kept = mc.get("glibc_keeps_freed")
    if kept is None:
        return "not recorded"
    return ("glibc keeping freed blocks in the heap (`nncompare`'s setting, compare.run.memory)"
            if kept else "the C library's defaults")


def machine_lines(mc: dict, result: dict) -> list[str]:
    blas = mc["numpy_blas"]
    rows = [("CPU", f"{mc['cpu']} ({', '.join(mc['simd'])})"),
            ("cores", f"{mc['logical_cores']} logical, {mc['usable_cores']} usable"),
            ("memory", f"{mc['memory_gib']} GiB"), ("OS", mc["os"]), ("Python", mc["python"]),
            ("NumPy", f"{mc['numpy']}, BLAS {blas.get('internal_api')} {blas.get('version')} "
                      f"({blas.get('architecture')}), {blas.get('num_threads')} threads"),
            ("PyTorch", f"{mc['torch']}, BLAS {mc['torch_blas']}, {mc['torch_threads']} intra-op "
                        f"threads, {mc['torch_interop_threads']} inter-op"),
            ("CUDA", result["cuda"]["device"] or result["cuda"]["note"]),
            ("allocator", _allocator_row(mc)),
            ("load average", f"{mc['loadavg_start']} at the start, {mc.get('loadavg_end')} at the end")]
    return ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


METHOD = """\
- One step is forward, cost, backward and update on the whole batch: `scratch.train.step`,
  `torch_ref.train.Trainer.step`, and the bare loop `optimizer.zero_grad(); loss =
  loss_fn(model(X), y); loss.backward(); optimizer.step()` on another copy of the same model.
  All three start from the same parameters (copied through `compare.adapter`), lr = {lr}.
- Interleaved: up to {rounds} rounds; in each, every contender runs about {budget} s of steps
  (at least one), in an order that rotates from round to round, after {warmup} untimed
  warm-up step; a config stops starting rounds after {limit} s (at least {min_rounds} rounds).
  Times are per step: median [min-max] over all steps. A ratio is the median of the
  per-round ratios (each round's medians are taken seconds apart, so a burst of load
  from the machine's other users hits both), with their range in brackets.
- The targets are judged on the first tables (threads as the libraries set them). On a
  shared machine a second thread often waits for a busy core, so every step is timed
  again with one thread for torch and NumPy's BLAS alike.
- "matmul only" runs just the step's matrix products, with the same shapes and layouts
  (transposed views where the code uses them), into preallocated outputs: NumPy's peak
  at these sizes, measured in the same rounds. FLOPs are exact: 2 n[l] n[l-1] m for each
  Z[l] and dW[l], and for each dA[l-1] with l >= 2. "% peak" is (FLOPs / step time) /
  peak, i.e. matmul-only time / step time.
- Memory: the minimum is parameters + gradients + the caches Z[l] and A[l] of every layer
  (the harness compares both); "floor with A only" is what a ReLU-only design keeping
  A[l] alone would need.
"""


def _head_lines(result: dict, json_path: Path) -> list[str]:
    quick = " **(--quick: a smoke test, the numbers mean little)**" if result["quick"] else ""
    lines = ["# Benchmarks", "",
             f"Generated by `nncompare bench{' --quick' if result['quick'] else ''}` on "
             f"{result['started']} in {result['seconds']:.0f} s{quick}; every number below is "
             f"in `{json_path.as_posix()}`. Do not edit by hand: rerun the command.", "",
             "## Machine", "", *machine_lines(result["machine"], result), "",
             "## Targets", "", *target_lines(result), ""]
    slow = bench_targets.thread_notes(result)
    if slow:
        lines += ["torch_ref with the threads as set against one thread, where it was 3x slower "
                  "or more (on a shared machine, each parallel op waits for a core that other "
                  "work holds):", "",
                  *(f"- {line}" for line in slow), ""]
    return lines


def harness_lines(result: dict) -> list[str]:
    """The harness's cost per dataset: lockstep wall against the ideal, idle and busy."""
    cost = result.get("harness_cost")
    if not cost:
        return []
    rows = [[r["dataset"], str(r["layers"]), r["m"], "busy" if r["busy"] else "as is",
             f"{r['wall_s']:.2f}", f"{r['ideal_s']:.2f}", _in_turn(r, "in_turn_s"),
             f"{r['ratio']:.2f}", _in_turn(r, "wall_s")] for r in cost["rows"]]
    return ["### The harness's cost per dataset", "",
            f"Each built-in dataset's default deep model, {cost['iterations']} lockstep steps as "
            "`check_model` runs them (wall), against the ideal: the steps times one scratch step "
            "plus the two torch steps a lockstep step takes, each timed alone on one thread as the "
            "mean over a run of its own calls (as the wall is a mean over its steps), in the same "
            f"condition; then again with {cost['cores']} busy-loop processes (one a core). In turn: "
            "the same three steps taken one after the other as a lockstep step takes them, with "
            "nothing else (over the ideal: what alternating the sides costs); wall/in turn is the "
            "lockstep's own work (the probe's reset, both torch models read back and compared).",
            "", table.markdown(["dataset", "layers", "m", "cores", "wall s", "ideal s", "in turn s",
                                "wall/ideal", "wall/in turn"], rows), ""]


def _in_turn(row: dict, key: str) -> str:
    """The in-turn seconds (key 'in_turn_s') or wall / in turn ('wall_s'); '-' if not measured."""
    if row.get("in_turn_s") is None:
        return "-"
    return f"{row['in_turn_s']:.2f}" if key == "in_turn_s" else f"{row['wall_s'] / row['in_turn_s']:.2f}"


def nproc_lines(result: dict) -> list[str]:
    """The torch side of a lockstep step on 2 gloo ranks against one process ([] if not run)."""
    found = result.get("nproc")
    if not found:
        return []
    n = found["world_size"]
    rows = [[r["config"], str(r["layers"]), r["m"], r["threads"], _ms(r["times"]["one process"]),
             _ms(r["times"][f"{n} ranks"]), _ratio(r["ratio"])] for r in found["rows"]]
    return [f"### The cost of `--nproc {n}`", "",
            "The torch side of one lockstep step (the probe's step and the reference's), "
            f"{found['dtype']}: on one process, two `Trainer` steps on the whole batch; on {n} "
            f"{found['backend']} ranks of this machine, two DDP steps as `check_model(nproc={n})` "
            "takes them (the probe's parameters broadcast, each rank's shard, the gradients and "
            "the cost all-reduced, every rank's parameters gathered and compared), timed in the "
            "same rounds on rank 0. A ratio above 1 is what the communication and the second "
            "process cost here.", "",
            table.markdown(["config", "layers", "m", "threads a rank", "one process ms",
                            f"{n} ranks ms", f"{n} ranks / one"], rows), ""]


def _step_sections(result: dict) -> list[str]:
    passes = [("", result["configs"], result["threads"])]
    if "single_thread" in result:
        one = result["single_thread"]
        passes.append((", one thread", one["configs"], one["threads"]))
    lines = []
    for label, configs, used in passes:
        for dtype in ("float32", "float64"):
            if any(dtype in c["dtypes"] for c in configs):
                lines += [f"## One training step, {dtype}{label}", "",
                          f"torch: {used['torch']} intra-op threads; NumPy BLAS: {used['blas']} "
                          "threads.", "", *step_lines(result, configs, dtype), ""]
    return lines


def _allocator_section(result: dict) -> list[str]:
    check = result.get("allocator_check")
    if not (check and check["available"]):
        return []
    r, f = check["ratios"], check["page_faults_per_call"]
    env = " ".join(f"`{k}={v}`" for k, v in check["env"].items())
    if "NNCOMPARE_KEEP_FREED" not in check["env"]:      # a report of the earlier check
        return ["## large, float64, one thread, glibc keeping freed blocks", "",
                f"The same step timed in a fresh process run with {env}: scratch/torch_ref "
                f"{r['scratch/torch_ref']:.2f}; page faults a step: scratch {f['scratch']:.0f}, "
                f"torch_ref {f['torch_ref']:.0f}.", ""]
    return ["## large, float64, one thread, glibc's default allocator", "",
            f"The same step timed in a fresh process run with {env}, so that glibc keeps its "
            "defaults, as a plain NumPy process has them (every freed block of 32 MiB or more "
            "goes back to the kernel and is faulted in again, zero-filled, at the next step) "
            "instead of `nncompare`'s setting (compare.run.memory): scratch/torch_ref "
            f"{r['scratch/torch_ref']:.2f}, scratch/matmul {r['scratch/matmul']:.2f} "
            f"({check['fraction_of_peak']:.0%} of the peak), torch_ref/bare "
            f"{r['torch_ref/bare']:.2f}; page faults a step: scratch "
            f"{f['scratch']:.0f}, torch_ref {f['torch_ref']:.0f}.", ""]


def _tail_lines(result: dict) -> list[str]:
    s = result["settings"]
    lines = ["## Memory", "", *memory_lines(result), "", "## Whole jobs", "", *jobs_lines(result),
             *harness_lines(result), *nproc_lines(result), *startup.lines(result)]
    missed = bench_targets.misses(result)
    if missed:
        lines += ["## Missed targets: what this run's numbers say", "",
                  *(f"- {line}" for line in missed), ""]
    return lines + ["## How it is measured", "",
                    METHOD.format(lr=result["lr"], rounds=s["rounds"], budget=s["budget_s"],
                                  warmup=s["warmup"], limit=s["limit_s"],
                                  min_rounds=s["min_rounds"])]


def markdown(result: dict, json_path: Path) -> str:
    """docs/BENCHMARKS.md: generated, every number from `result`."""
    return "\n".join([*_head_lines(result, json_path), *_step_sections(result),
                      *_allocator_section(result), *_tail_lines(result)])


def summary(result: dict) -> str:
    """The targets, one line each, for the terminal (a quick run's not judged)."""
    lines = [f"{QUICK_NOTE}: the values of a smoke test, not checked against the targets"
             ] if result["quick"] else []
    for t in result["targets"]:
        met = {True: "met", False: "MISSED", None: "-"}[t["met"]]
        threads = {"as set": "threads as set", "1": "one thread"}.get(t["threads"], "")
        where = ", ".join(x for x in (t["config"], t["dtype"], threads) if x)
        lines.append(f"{met:>6}  {t['target']} [{where}]: {_value(t)} (target {_bound(t)})")
    return "\n".join(lines)
