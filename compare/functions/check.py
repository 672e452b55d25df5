"""`check_functions`: the learner's functions, one by one, against the torch reference.

    report = check_functions("my_assignment.py")        # or a module, or globals() in a notebook
    print(report)                                       # the table; report.passed, report.to_dict()

1. the namespace is loaded (`namespace.load`) and the exercises it holds are read off the
   names it defines (or given, `exercise=`);
2. each catalogue function it defines is matched to its contract by name and arguments
   (two `predict`s are told apart by theirs); one it lacks is 'not provided';
3. each is called on every case of its contract (`calls.call`: copies, a time limit) and
   judged (`judge`); the first call that raises, hangs, mutates or returns a malformed value
   ends its check with one line;
4. each that differs and calls others that differ is checked again with the reference in
   their place (`patching`): if it then agrees, it 'follows from' them;
5. the models whose functions all agree are assembled and checked end to end (`model`).
"""

from __future__ import annotations

import inspect
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from compare.functions import calls, catalogue, model, patching
from compare.functions.contract import EXERCISE_TITLES, EXERCISES, Case, Context, Contract
from compare.functions.judge import TOLERANCE, Measure, Mismatch
from compare.functions.namespace import Namespace, load
from compare.functions.problems import DTYPES, SHAPES, Problems, Shape
from compare.functions.report import FunctionResult, FunctionsReport
from compare.run import rundir
from compare.run.job import log_plan
from scratch.errors import InvalidArgument
from scratch.spec import check_choice, check_int, check_real, check_seed


@dataclass
class Planned:
    """A contract matched to the learner's function, with the arguments to pass it."""

    contract: Contract
    fn: Callable[..., Any]
    n_args: int
    keywords: tuple[str, ...]


def check_functions(namespace: object, *, exercise: str | Sequence[str] | None = None, seed: int = 0,
                    time_limit: float = calls.TIME_LIMIT, dtypes: Sequence[str] = DTYPES,
                    shapes: Sequence[Shape] = SHAPES, model: bool = True, iterations: int = 100,
                    logdir: str | os.PathLike | None = None) -> FunctionsReport:
    """Check every course function `namespace` defines against the torch reference.

    namespace: a module, a path to a .py file, an importable module name, or a notebook's
    `globals()`. exercise: 'logistic', 'shallow' or 'deep' (or several), else read off the
    names defined. seed: the random inputs; time_limit: seconds per call; dtypes: the input
    dtypes checked; shapes: the networks the inputs are drawn from (`problems.Shape`). model:
    also check the models assembled from the functions with `compare.check_model`, for
    `iterations` lockstep steps, logged to TensorBoard in a new folder LOGDIR/check-<time>
    when `logdir` is given. Raises InvalidArgument for a namespace that cannot be loaded or
    defines none of the course's functions, and for a bad argument.
    """
    began = time.perf_counter()
    problems = Problems(check_shapes(shapes), check_dtypes(dtypes), check_seed(seed))
    limit = check_real("time_limit", time_limit, 0.0, math.inf, low_open=True)
    steps = check_int("iterations", iterations, 1)
    logs = log_plan(None if logdir is None else os.fspath(logdir), None, "check", False)
    ns = load(namespace)
    exercises = pick_exercises(ns, exercise)
    ctx = Context(problems, exercises, seed)
    planned, results = plan(ns, exercises)
    for p in planned:
        results[p.contract.key] = run(p, ctx, limit)
    attribute(planned, results, ctx, limit)
    report = FunctionsReport(ns.source, exercises, [results[c.key] for c in catalogue.of(exercises)
                                                    if c.key in results], time_limit=limit)
    if model:
        try:
            models(report, planned, results, steps, seed, logs)
        finally:
            if report.logs is not None:
                rundir.release(report.logs)             # the folder's lock, held while logging
    report.seconds = time.perf_counter() - began
    return report


def pick_exercises(ns: Namespace, exercise: str | Sequence[str] | None) -> tuple[str, ...]:
    """The exercises asked for, or those whose own names `ns` defines (all three when it
    defines only shared names); InvalidArgument when it defines none of their functions."""
    defined = {n for n in catalogue.NAMES if n in ns.names}
    if exercise is not None:
        asked = [exercise] if isinstance(exercise, str) else list(exercise)
        chosen = tuple(check_choice("exercise", e, EXERCISES) for e in asked)
        for e in chosen:
            if not defined & {c.name for c in catalogue.of((e,))}:
                raise InvalidArgument(f"{ns.source} defines none of the functions of the {e} exercise "
                                      f"({EXERCISE_TITLES[e]}): "
                                      f"{', '.join(c.name for c in catalogue.of((e,)))}")
        return chosen
    if not defined:
        raise InvalidArgument(f"{ns.source} defines none of the course's functions "
                              f"({', '.join(catalogue.NAMES)}); expected at least one")
    found = tuple(e for e in EXERCISES if defined & catalogue.MARKERS[e])
    return found or EXERCISES


def check_shapes(shapes: Sequence[Shape]) -> tuple[Shape, ...]:
    if not shapes or not all(isinstance(s, Shape) for s in shapes):
        raise InvalidArgument(f"shapes: got {shapes!r}, expected Shapes such as Shape((4, 3, 1), m=7)")
    return tuple(shapes)


def check_dtypes(dtypes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(dtypes, str) or not dtypes:
        raise InvalidArgument(f"dtypes: got {dtypes!r}, expected a list of {', '.join(DTYPES)}")
    return tuple(check_choice("dtypes", d, DTYPES) for d in dtypes)


def plan(ns: Namespace, exercises: tuple[str, ...]) -> tuple[list[Planned], dict[str, FunctionResult]]:
    """Each catalogue function of `exercises` matched to what `ns` binds to its name: planned,
    or already a result ('not provided', 'wrong signature')."""
    planned, results = [], {}
    contracts = catalogue.of(exercises)
    for name in dict.fromkeys(c.name for c in contracts):
        rivals = [c for c in contracts if c.name == name]
        fn = ns.names.get(name)
        if fn is None:
            results.update({c.key: result(c, "not provided") for c in rivals})
            continue
        if not callable(fn):
            results[rivals[0].key] = result(rivals[0], "wrong signature",
                                            cause=f"{name} is {type(fn).__name__}, expected a function")
            continue
        fits = [(c, n) for c in rivals if (n := arguments(fn, c)) is not None]
        if not fits:
            results[rivals[0].key] = result(rivals[0], "wrong signature", cause=f"takes {described(fn)}, "
                                            f"expected {' or '.join(c.signature for c in rivals)}")
            continue
        contract, n = fits[0]
        planned.append(Planned(contract, fn, n, keywords(fn, contract)))
        taken = f"the name is taken by {contract.signature} ({EXERCISE_TITLES[contract.exercises[0]]})"
        results.update({c.key: result(c, "not provided", note=taken) for c in rivals if c is not contract})
    planned.sort(key=lambda p: contracts.index(p.contract))       # callees first
    return planned, results


def arguments(fn: Callable[..., Any], contract: Contract) -> int | None:
    """How many positional arguments of the contract's `fn` takes (None: none it accepts)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):               # a builtin or ufunc: call it and see
        return contract.accepted()[-1]
    for n in sorted(contract.accepted()):
        try:
            signature.bind(*range(n))
            return n
        except TypeError:
            continue
    return None


def keywords(fn: Callable[..., Any], contract: Contract) -> tuple[str, ...]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return ()
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return contract.keywords
    return tuple(k for k in contract.keywords if k in params)


def described(fn: Callable[..., Any]) -> str:
    try:
        return f"({', '.join(inspect.signature(fn).parameters)})"
    except (TypeError, ValueError):
        return "arguments that cannot be read"


def result(c: Contract, verdict: str, **kw: Any) -> FunctionResult:
    return FunctionResult(c.key, ", ".join(c.exercises), c.signature, verdict, **kw)


def run(p: Planned, ctx: Context, limit: float) -> FunctionResult:
    """Every case of the contract, called and judged; the first broken call ends it."""
    seen: list[tuple[Case, Measure]] = []
    cases = ctx.cases(p.contract)
    for case in cases:
        kwargs = {k: v for k, v in case.kwargs.items() if k in p.keywords}
        outcome = calls.call(p.fn, case.args[:p.n_args], p.contract.params, limit, kwargs,
                             p.contract.may_mutate)
        if outcome.problem:
            cause = "; ".join(t for t in (outcome.problem, outcome.hint) if t)
            return result(p.contract, "error", where=case.where, cause=cause, cases=len(seen))
        try:
            measures = case.judge(outcome.value)
        except Mismatch as exc:
            verdict = "error" if exc.malformed else "differs"
            cause = "; ".join(t for t in (str(exc), exc.hint) if t)
            return result(p.contract, verdict, error=math.inf, where=case.where, cause=cause, cases=len(seen))
        seen += [(case, m) for m in measures]
    if not seen:
        return result(p.contract, "error", cause="no case to check it on among the shapes given")
    return summarize(p.contract, seen, len(cases))


def summarize(c: Contract, seen: list[tuple[Case, Measure]], n_cases: int) -> FunctionResult:
    """The verdict of all measures: the worst error of each dtype, and the case showing the
    likely cause (or, when all agree, the case nearest its tolerance)."""
    dtype_of = {t: d for d, t in TOLERANCE.items()}
    errors: dict[str, float] = {}
    for _, m in seen:
        if m.tol in dtype_of:
            errors[dtype_of[m.tol]] = max(errors.get(dtype_of[m.tol], 0.0), m.err)
    failing = [(case, m) for case, m in seen if not m.passed]
    if not failing:
        case, m = max(seen, key=lambda cm: cm[1].err / cm[1].tol if cm[1].tol else 0.0)
        note = next((m.note for _, m in seen if m.note), "")
        return result(c, "ok", error=max(m.err for _, m in seen), errors=errors, tol=m.tol,
                      where=case.where, cases=n_cases, note=note)
    case, m = next(((k, x) for k, x in failing if x.hint), max(failing, key=lambda cm: cm[1].err))
    cause = m.hint or f"{m.name} differs (max rel err {m.err:.1e})"
    return result(c, "differs", error=max(x.err for _, x in failing), errors=errors, tol=m.tol,
                  where=case.where, cause=cause, cases=n_cases)


def styles(planned: list[Planned], results: dict[str, FunctionResult], limit: float) -> dict[str, str]:
    """Whether the learner's sigmoid and relu return the array alone ('plain') or (A, cache)
    (not asked of one that raised or hung: the reference's callers then get the default)."""
    found = {}
    for p in planned:
        if p.contract.name in ("sigmoid", "relu") and results[p.contract.key].verdict != "error":
            value = calls.call(p.fn, (np.zeros((1, 2)),), ("Z",), limit).value
            found[p.contract.name] = "tuple" if isinstance(value, (tuple, list)) else "plain"
    return found


def attribute(planned: list[Planned], results: dict[str, FunctionResult], ctx: Context, limit: float) -> None:
    """Each failing function that calls failing ones, checked again with the reference in their
    place: agreeing then, it follows from their root causes."""
    fns = {p.contract.name: p.fn for p in planned}
    keys = {p.contract.name: p.contract.key for p in planned}
    if not any(results[p.contract.key].failed for p in planned):
        return
    replacements = patching.replacements(styles(planned, results, limit))
    for p in planned:
        r = results[p.contract.key]
        if not r.failed:
            continue
        callees = [n for n in patching.reachable(p.fn, fns)
                   if n != p.contract.name and results[keys[n]].failed]
        swap = {n: replacements[n] for n in callees if n in replacements}
        if not swap:
            continue
        with patching.patched([p.fn, *(fns[n] for n in patching.reachable(p.fn, fns))], swap):
            again = run(p, ctx, limit)
        if again.failed:
            r.note = f"also calls {', '.join(sorted(swap))}, which differ"
            continue
        roots = [x for n in swap for x in (results[keys[n]].follows_from or (n,))]
        r.follows_from = tuple(sorted(set(roots), key=catalogue.NAMES.index))      # callees first


def models(report: FunctionsReport, planned: list[Planned], results: dict[str, FunctionResult],
           iterations: int, seed: int, logs: rundir.Plan | None) -> None:
    """The model of each exercise whose functions all agree, checked end to end (logged in the
    folder `logs` plans, created for the first of them)."""
    by_name = {p.contract.name: p for p in planned}
    for kind in report.exercises:
        needs = model.NEEDS[kind]
        missing = [n for n in needs if n not in by_name]
        bad = [n for n in needs if n in by_name and results[by_name[n].contract.key].failed]
        if missing or bad:
            if len(missing) < len(needs):
                verb = "differs" if len(bad) == 1 else "differ"
                why = f"{', '.join(bad)} {verb}" if bad else f"{', '.join(missing)} not provided"
                report.model_notes.append(f"The {kind} model was not assembled: {why}.")
            continue
        fns = {n: by_name[n].fn for n in (*needs, model.INIT[kind]) if n in by_name
               and not results[by_name[n].contract.key].failed}
        cost_args = by_name["compute_cost"].n_args if "compute_cost" in by_name else 2
        if logs is not None and report.logs is None:
            report.logs = rundir.create(logs)
        try:
            report.models.append(model.check(kind, fns, cost_args, iterations, seed, report.logs))
        except (Exception, calls.TimedOut) as exc:
            report.model_notes.append(f"The {kind} model's check_model failed: {calls.raised(exc)}")
