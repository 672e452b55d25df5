"""The speed targets against a run's numbers, and where one is missed, what the same
run's numbers say about why (the generated report's last section)."""

from __future__ import annotations

# (what, config, bound, op): ratios measured in one run, never absolute times
STEP_TARGETS = (("scratch/torch_ref", "toy", 0.35), ("scratch/torch_ref", "medium", 0.85),
                ("scratch/torch_ref", "large", 1.0))
PEAK_TARGET = 0.80          # scratch on large, fraction of NumPy's matmul peak
LOOP_TARGET = 1.10          # torch_ref / bare, every config
MEMORY_TARGET = 1.5         # scratch peak / minimum, large
LOGGING_TARGET = 1.15       # logged / unlogged main job
PARITY_TARGET_S = 15.0      # float64 parity suite, seconds
HARNESS_TARGET = 1.5        # lockstep wall / ideal, every dataset's default deep model
DIGITS_TARGET_S = 25.0      # the digits main job's 5,000 lockstep steps, seconds


def _target(name: str, config: str, dtype: str, value: float | None, bound: float,
            op: str, threads: str = "") -> dict:
    met = None if value is None else (value <= bound if op == "<=" else
                                      value >= bound if op == ">=" else value < bound)
    return {"target": name, "config": config, "dtype": dtype, "threads": threads,
            "value": value, "op": op, "bound": bound, "met": met}


def step_targets(configs: list[dict], threads: str) -> list[dict]:
    """The targets on step times, from one pass over the configs."""
    found = []
    by_name = {c["name"]: c for c in configs}
    for what, name, bound in STEP_TARGETS:
        for dtype, d in by_name.get(name, {}).get("dtypes", {}).items():
            found.append(_target(what, name, dtype, d["ratios"][what]["median"], bound, "<=",
                                 threads))
    for dtype, d in by_name.get("large", {}).get("dtypes", {}).items():
        found.append(_target("scratch fraction of matmul peak", "large", dtype,
                             d["fraction_of_peak"]["scratch"], PEAK_TARGET, ">=", threads))
    for name, c in by_name.items():
        for dtype, d in c["dtypes"].items():
            found.append(_target("torch_ref/bare", name, dtype,
                                 d["ratios"]["torch_ref/bare"]["median"], LOOP_TARGET, "<=",
                                 threads))
    return found


def targets(result: dict) -> list[dict]:
    """Every target against this run's numbers (met None: not measured, or a quick run,
    whose sizes judge nothing); the step targets at the threads as set and, where
    measured, again with one thread."""
    found = step_targets(result["configs"], "as set")
    if "single_thread" in result:
        found += step_targets(result["single_thread"]["configs"], "1")
    for dtype in ("float32", "float64"):
        mem = result.get("memory", {}).get(dtype)
        if mem:
            found.append(_target("scratch peak memory / minimum", "large", dtype, mem["ratio"],
                                 MEMORY_TARGET, "<="))
    tb = result.get("tensorboard")
    if tb is not None:
        found.append(_target("logged/unlogged main job", "main job", "float64",
                             tb.get("ratio"), LOGGING_TARGET, "<="))
    suite = result.get("parity_suite")
    if suite is not None:
        whole = suite["cases"] == suite["of_cases"]
        found.append(_target("float64 parity suite seconds", "all models", "float64",
                             suite["wall_s"] if whole else None, PARITY_TARGET_S, "<"))
        if not whole:
            found[-1]["note"] = sample_note(suite["cases"], suite["of_cases"])
    found += harness_targets(result.get("harness_cost"))
    if result.get("quick"):          # a smoke test's sizes support no verdict
        for t in found:
            t["met"] = None
    return found


def harness_targets(cost: dict | None) -> list[dict]:
    """The harness's overhead on every dataset, idle and busy; the digits main job's time."""
    if not cost:
        return []
    found = []
    for row in cost["rows"]:
        where = "busy cores" if row["busy"] else "as the machine is"
        found.append(_target("lockstep wall / ideal", row["dataset"], "float64", row["ratio"],
                             HARNESS_TARGET, "<=", where))
        if row["dataset"] == "digits" and cost["iterations"] == 5000:
            found.append(_target("digits main job seconds", "digits", "float64", row["wall_s"],
                                 DIGITS_TARGET_S, "<=", where))
    return found


def sample_note(cases: int, of_cases: int) -> str:
    """What a sample of the parity suite is, where its time would be: it is not the suite's."""
    return f"a sample of {cases} of {of_cases} cases, not timed against the target"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _step(result: dict, config: str, dtype: str, single: bool = False) -> dict | None:
    configs = result.get("single_thread", {}).get("configs", []) if single else result["configs"]
    c = next((c for c in configs if c["name"] == config), None)
    return None if c is None else c["dtypes"].get(dtype)


def _measured(result: dict, t: dict) -> dict:
    """The step times a missed target `t` was computed from (they exist: its value is set)."""
    d = _step(result, t["config"], t["dtype"], t["threads"] == "1")
    if d is None:
        raise RuntimeError(f"no step times for target {t['target']!r} on {t['config']}, "
                           f"{t['dtype']}, threads {t['threads']!r}")
    return d


def _one_thread(result: dict, config: str, dtype: str, what: str) -> str:
    d = _step(result, config, dtype, single=True)
    if d is None:
        return ""
    r = d["ratios"][what]
    return (f" With one thread for both libraries the same ratio is {r['median']:.2f} "
            f"(rounds {r['rounds_min']:.2f}-{r['rounds_max']:.2f}).")


def _faults(d: dict) -> str:
    f = {k: v.get("page_faults_per_call", 0) for k, v in d["times"].items()}
    return (f" Page faults a step: scratch {f['scratch']:.0f}, the products alone "
            f"{f['matmul']:.0f}, torch_ref {f['torch_ref']:.0f}.")


def _why_step(result: dict, t: dict) -> str:
    d = _measured(result, t)
    times = {k: v["median_s"] for k, v in d["times"].items()}
    r = d["ratios"]["scratch/torch_ref"]
    mm = d["ratios"]["matmul/torch_ref"]["median"]
    return (f"scratch/torch_ref on {t['config']}, {t['dtype']}: {r['median']:.2f} (rounds "
            f"{r['rounds_min']:.2f}-{r['rounds_max']:.2f}). The step's matrix products alone in "
            f"NumPy take {mm:.2f}x torch_ref's whole step ({_ms(times['matmul'])} against "
            f"{_ms(times['torch_ref'])}); scratch's step is "
            f"{d['ratios']['scratch/matmul']['median']:.2f}x its products." + _faults(d)
            + ("" if t["threads"] == "1" else _one_thread(result, t["config"], t["dtype"],
                                                          "scratch/torch_ref")))


def _allocator(result: dict) -> str:
    check = result.get("allocator_check")
    if not check or not check["available"]:
        return ""
    r, f = check["ratios"], check["page_faults_per_call"]
    env = " ".join(f"{k}={v}" for k, v in check["env"].items())
    if "NNCOMPARE_KEEP_FREED" not in check["env"]:      # a report of the earlier check
        return (f"large, float64, the cause: in a fresh process whose glibc keeps freed blocks "
                f"({env}; one thread), scratch takes {f['scratch']:.0f} page faults a step and "
                f"is {r['scratch/torch_ref']:.2f}x torch_ref.")
    kept = result["machine"].get("glibc_keeps_freed")
    return (f"large, float64, the allocator: in a fresh process with glibc's defaults ({env}; one "
            f"thread) scratch takes {f['scratch']:.0f} page faults a step and is "
            f"{r['scratch/torch_ref']:.2f}x torch_ref ({r['scratch/matmul']:.2f}x its products): "
            "every [1024, 4096] float64 temporary (32 MiB, at glibc's largest mmap threshold) is "
            "mapped fresh for each step and unmapped after it, and the kernel zero-fills its pages "
            "again; " + ("this run's process kept freed blocks (`nncompare`'s setting), as the "
                         "tables above show." if kept else "this run's process had the defaults too."))


def _why_peak(result: dict, t: dict) -> str:
    d = _measured(result, t)
    r = d["ratios"]["scratch/matmul"]
    one = None if t["threads"] == "1" else _step(result, t["config"], t["dtype"], single=True)
    text = (f"scratch on {t['config']}, {t['dtype']}: {t['value']:.0%} of the matmul peak; its "
            f"step is {r['median']:.2f}x the products alone (rounds {r['rounds_min']:.2f}-"
            f"{r['rounds_max']:.2f})." + _faults(d))
    if one is not None:
        text += (f" With one thread it reaches {one['fraction_of_peak']['scratch']:.0%} "
                 f"({one['peak_gflops']:.3g} GFLOP/s peak).")
    return text


def _why_loop(result: dict, t: dict) -> str:
    r = _measured(result, t)["ratios"]["torch_ref/bare"]
    return (f"torch_ref/bare on {t['config']}, {t['dtype']}: {t['value']:.2f}, per-round ratios "
            f"{r['rounds_min']:.2f}-{r['rounds_max']:.2f} (Trainer.step is the bare loop plus "
            f"one method call and a detach)." + ("" if t["threads"] == "1" else _one_thread(
                result, t["config"], t["dtype"], "torch_ref/bare")))


def _why_memory(result: dict, t: dict) -> str:
    m = result["memory"][t["dtype"]]
    return (f"scratch peak memory on large, {t['dtype']}: {m['peak_bytes'] / 2**20:.1f} MiB against "
            f"a minimum of {m['minimum_bytes'] / 2**20:.1f} MiB.")


def _why_logging(result: dict, t: dict) -> str:
    tb = result["tensorboard"]
    extra = [a - b for a, b in zip(tb["logged_s"], tb["unlogged_s"], strict=True)]
    text = (f"TensorBoard logging: the main job takes {min(tb['unlogged_s']):.1f}-"
            f"{max(tb['unlogged_s']):.1f} s without logs; logging adds {min(extra):.1f}-"
            f"{max(extra):.1f} s to it (CPU time ratio {tb['cpu_ratio']:.2f})")
    hooks = tb.get("hook_s")
    if not hooks:
        return text + "."
    return text + (f", of which {min(hooks):.1f}-{max(hooks):.1f} s inside the logging hooks (the "
                   "scalars, histograms, images and each side's test metrics at their cadence); the "
                   "rest is the event writers' threads (each event wakes one, which then takes the "
                   "GIL from the training) and the checkpoints a logged run also writes, every "
                   "tenth of the run.")


def _why_parity(result: dict, t: dict) -> str:
    suite = result["parity_suite"]
    text = f"float64 parity suite: {suite['wall_s']:.1f} s for {suite['cases']} cases."
    if suite.get("fixed_s") is not None:
        steps = suite["cases"] * suite["iterations"]
        per_step = (suite["wall_s"] - suite["fixed_s"]) / steps
        text += (f" The same cases with one lockstep step take {suite['fixed_s']:.1f} s (checks "
                 f"1-3 at two parameter points, finite differences, setup); the other "
                 f"{suite['wall_s'] - suite['fixed_s']:.1f} s are {steps} lockstep steps at "
                 f"{per_step * 1e3:.2f} ms each, two torch_ref training steps (the free-running "
                 f"model and the probe), one scratch step and the comparisons.")
    return text


def _why_harness(result: dict, t: dict) -> str:
    cost = result["harness_cost"]
    busy = t["threads"] == "busy cores"
    row = next((r for r in cost["rows"] if r["dataset"] == t["config"] and r["busy"] == busy),
               None)
    if row is None:
        return ""
    per_step = 1e3 / cost["iterations"]
    text = (f"harness cost on {row['dataset']} {row['layers']} ({t['threads']}): lockstep wall "
            f"{row['wall_s']:.1f} s against the ideal {row['ideal_s']:.1f} s ({row['ratio']:.2f}x), "
            f"{(row['wall_s'] - row['ideal_s']) * per_step:.2f} ms a step over the three steps alone")
    if row.get("in_turn_s") is None:
        return text + "."
    alternation = row["in_turn_s"] / row["ideal_s"]
    why = ("each side's code and data evicted from the caches by the other's" if alternation > 1.05
           else "alternating the sides costs nothing measurable here")
    return text + (f"; the same three steps taken in turn with nothing else take {row['in_turn_s']:.1f} s "
                   f"({alternation:.2f}x the ideal: {why}), the lockstep's own work (the probe's "
                   "reset, both torch models read back and compared with scratch) "
                   f"{(row['wall_s'] - row['in_turn_s']) * per_step:.2f} ms a step"
                   + (", with the waits for a core the busy loops hold" if busy else "") + ".")


WHY = {"scratch/torch_ref": _why_step, "lockstep wall / ideal": _why_harness,
       "digits main job seconds": _why_harness, "scratch fraction of matmul peak": _why_peak,
       "torch_ref/bare": _why_loop, "scratch peak memory / minimum": _why_memory,
       "logged/unlogged main job": _why_logging, "float64 parity suite seconds": _why_parity}


def misses(result: dict) -> list[str]:
    """One line of numbers from this run for every missed target."""
    missed = [t for t in result["targets"] if t["met"] is False]
    lines = [("[one thread] " if t["threads"] == "1" else "") + WHY[t["target"]](result, t)
             for t in missed]
    if any(t["config"] == "large" and t["dtype"] == "float64" for t in missed):
        lines.append(_allocator(result))
    return [line for line in lines if line]


def thread_notes(result: dict, factor: float = 3.0) -> list[str]:
    """Where torch_ref's step with the threads as set took `factor` times or more its
    one-thread time: the mark of a second thread waiting for a core that other work holds."""
    lines = []
    for c in result["configs"]:
        for dtype, d in c["dtypes"].items():
            one = _step(result, c["name"], dtype, single=True)
            if one is None:
                continue
            t, t1 = d["times"]["torch_ref"]["median_s"], one["times"]["torch_ref"]["median_s"]
            if t >= factor * t1:
                lines.append(f"{c['name']}, {dtype}: torch_ref's step takes {_ms(t)} with "
                             f"{result['threads']['torch']} threads and {_ms(t1)} with one "
                             f"({t / t1:.0f}x).")
    return lines
