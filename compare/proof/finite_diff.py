"""Check 3: scratch's backward against central differences of scratch's own cost, in float64.

The third witness: it needs neither torch nor the notes, only J. Entries next to a
ReLU kink (a unit with z near 0 for some sample) are skipped, as the derivative is
not defined there.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from compare.proof.metric import Comparison, compare
from compare.proof.protocol import ScratchSide
from compare.proof.result import CheckResult
from scratch import activations
from scratch.spec import ModelSpec

KINKED = ("relu", "leaky_relu")  # hidden activations with no derivative at z = 0


def kink_signs(params: dict[str, np.ndarray], X: np.ndarray, spec: ModelSpec) -> list[np.ndarray]:
    """The signs (Z > 0) of every pre-activation that enters a ReLU or Leaky ReLU, computed
    from the parameters by the notes' forward pass (whatever the model keeps in its caches)."""
    kinked = [l for l, g in enumerate(spec.activations, start=1) if g in KINKED]
    signs, A = [], X                                                  # A[0] = X [n0, m]
    for l, g in enumerate(spec.activations[:max(kinked, default=0)], start=1):
        Z = np.asarray(params[f"W{l}"]) @ A + np.asarray(params[f"b{l}"])   # [n_l, m]
        if g in KINKED:
            signs.append(Z > 0)
        A = activations.get(g, spec.alpha).forward(Z)                # [n_l, m]
    return signs


def sample_entries(params: dict[str, np.ndarray], max_entries: int | None,
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Flat indices to check in each parameter: all of them, or a seeded sample of about
    `max_entries` in all (each tensor keeps its share, and at least 8 entries or all it has)."""
    total = sum(p.size for p in params.values())
    chosen = {}
    for name, p in params.items():
        if max_entries is None or total <= max_entries:
            chosen[name] = np.arange(p.size)
        else:
            k = min(p.size, max(8, round(max_entries * p.size / total)))
            chosen[name] = np.sort(rng.choice(p.size, size=k, replace=False))
    return chosen


def finite_differences(model: ScratchSide, spec: ModelSpec, X: np.ndarray, Y: np.ndarray,
                       h: float, rtol: float, max_entries: int | None = None,
                       seed: int = 1, where: str = "") -> CheckResult:
    """Check 3: scratch's backward against (J(p + h) - J(p - h)) / 2h for each checked entry,
    on a float64 copy of the model.

    Entries must agree to `rtol` relative to max(|numeric|, atol / rtol), where atol = 8 eps64
    max(|J|, 1) / h bounds the rounding error of the quotient. Entries whose +-h step moves
    a ReLU / Leaky ReLU pre-activation across 0 make a one-sided difference: not counted.
    """
    witness = float64_witness(model)
    X64, Y64 = np.array(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)   # [n0, m], [n_L, m]
    AL, caches = witness.forward(X64)
    if np.asarray(AL).dtype != np.float64:
        return not_run(where, np.asarray(AL).dtype)
    J = witness.cost(AL, Y64, caches)
    analytic = witness.backward(AL, Y64, caches)
    base_signs = kink_signs(witness.params, X64, spec)
    atol = 8 * np.finfo(np.float64).eps * max(abs(J), 1.0) / h
    chosen = sample_entries(witness.params, max_entries, np.random.default_rng(seed))
    result = CheckResult("finite_difference")
    checked = kinks = 0
    for name in spec.param_names():
        p = witness.params[name]
        numeric = central_differences(witness, p, chosen[name], X64, Y64, h, spec, base_signs)
        keep = ~np.isnan(numeric)
        checked, kinks = checked + int(keep.sum()), kinks + len(chosen[name]) - int(keep.sum())
        grad = analytic.get("d" + name)
        if grad is None or np.shape(grad) != p.shape:
            c = compare("d" + name, grad, p, 0.0)
        else:
            c = _fd_compare("d" + name, np.asarray(grad).reshape(-1), numeric, keep, p.shape,
                            rtol, atol)
        result.comparisons.append(dataclasses.replace(c, where=where))
    result.checked, result.of = checked, sum(p.size for p in witness.params.values())
    result.detail = detail(where, result, h, atol, chosen, max_entries, kinks)
    return result


def detail(where: str, result: CheckResult, h: float, atol: float,
           chosen: dict[str, np.ndarray], max_entries: int | None, kinks: int) -> str:
    """'at ...: checked 35 of 91 entries (h, atol); why a sample; what was skipped'."""
    sampled = sum(len(c) for c in chosen.values())
    return (f"{where or 'at the initial parameters'}: checked {result.checked} of {result.of} "
            f"entries (h = {h:g}, atol = {atol:.1e})"
            + (sample_note(sampled, max_entries, len(chosen)) if sampled < (result.of or 0) else "")
            + (f"; skipped {kinks} next to a ReLU kink" if kinks else "")
            + ("; nothing was checked" if result.checked == 0 else ""))


def sample_note(sampled: int, max_entries: int | None, n_params: int) -> str:
    """Why `sampled` entries were checked for fd_max_entries: a seeded sample, each parameter
    keeping its share, and more than asked where every parameter's floor of 8 adds up."""
    if max_entries is not None and sampled > max_entries:
        return (f"; a seeded sample, more than fd_max_entries={max_entries}: each of the "
                f"{n_params} parameters keeps at least 8 entries, or all it has")
    return f"; a seeded sample for fd_max_entries={max_entries}, each parameter keeping its share"


def not_run(where: str, dtype: np.dtype) -> CheckResult:
    return CheckResult("finite_difference", checked=0, detail=(
        f"{where or 'at the initial parameters'}: not run: the model computes in {dtype} even "
        "from float64 parameters, and central differences need float64"))


def float64_witness(model: ScratchSide) -> ScratchSide:
    """A deep copy of the model (which keeps aliases of its params) holding float64 params,
    whose entries can be set in place."""
    witness = ScratchSide(copy.deepcopy(model.model))
    for name, p in list(witness.params.items()):
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64):
            witness.params[name] = np.array(p, dtype=np.float64)
    return witness


def central_differences(witness: ScratchSide, p: np.ndarray, entries: np.ndarray,
                        X: np.ndarray, Y: np.ndarray, h: float, spec: ModelSpec,
                        base_signs: list[np.ndarray]) -> np.ndarray:
    """(J(p + h) - J(p - h)) / 2h at each flat index of `entries` of the parameter p (set in
    place, then restored); NaN elsewhere and where the step crosses a ReLU kink."""
    numeric = np.full(p.size, np.nan)
    for i in entries:
        idx = np.unravel_index(i, p.shape)
        old = p[idx]
        costs, crossed = [], False
        for step in (h, -h):
            p[idx] = old + step
            AL, caches = witness.forward(X)
            costs.append(witness.cost(AL, Y, caches))
            signs = kink_signs(witness.params, X, spec)
            crossed |= any(np.any(s != b) for s, b in zip(signs, base_signs, strict=False))
        p[idx] = old
        if not crossed:
            numeric[i] = (costs[0] - costs[1]) / (2 * h)
    return numeric


def _fd_compare(name: str, analytic: np.ndarray, numeric: np.ndarray, keep: np.ndarray,
                shape: tuple[int, ...], rtol: float, atol: float) -> Comparison:
    """Compare the kept entries like `compare`, against max(|numeric|, atol / rtol): below
    atol / rtol a gradient is smaller than central differences can resolve. The index
    reported is the entry's place in the parameter."""
    scale = max(float(np.max(np.abs(numeric[keep]), initial=0.0)), atol / rtol)
    c = compare(name, analytic[keep], numeric[keep], rtol, scale)
    if c.index is None:
        return c
    index = tuple(int(i) for i in np.unravel_index(np.flatnonzero(keep)[c.index[0]], shape))
    return Comparison(c.name, c.rel_err, c.max_abs_err, index, c.passed, c.note)
