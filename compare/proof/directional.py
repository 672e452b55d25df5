"""Check 3 for models too big to difference entry by entry: directional finite differences.

For a random unit direction v over all parameters (v = u / ||u||, u ~ N(0, I), seeded),
one central difference of J along v,

    (J(p + h v) - J(p - h v)) / 2h   against   grad J . v = sum over l of <dW[l], vW[l]> + <db[l], vb[l]>,

costs two forward passes whatever the model's size (entry by entry: two per entry). This
is the fast mode of torch.autograd.gradcheck, here as the third witness. An error is
measured against ||grad J|| (the largest |grad J . v| can be, Cauchy-Schwarz), at least
atol / rtol, with atol = 8 eps64 max(|J|, 1) / h the rounding bound of the quotient.

What it can and cannot see: a wrong gradient g' = g + e shows as e . v, which for a random
v is about ||e|| / sqrt(N) (N parameters): an error of relative size ||e|| / ||g|| is seen
in one direction when it exceeds about rtol sqrt(N); k directions see the same e k times
over, independently. So it catches every mistake that spreads over a tensor (a missing
1/m, a transpose, a sign, a wrong derivative) and can miss an error confined to a few
entries of a big model; `compare.proof.finite_diff`'s sampled entries are the check for
those. A direction whose +-h v step moves a ReLU pre-activation across 0 is replaced by
another (up to `MAX_DRAWS` draws).
"""

from __future__ import annotations

import numpy as np

from compare.proof.finite_diff import float64_witness, kink_signs, not_run
from compare.proof.metric import Comparison
from compare.proof.protocol import ScratchSide
from compare.proof.result import CheckResult
from scratch.spec import ModelSpec

DIRECTIONS = 4      # directions a point by default
MAX_DRAWS = 32      # directions drawn at most, to find DIRECTIONS that cross no ReLU kink


def direction(params: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A random unit vector over all parameters, in their shapes."""
    u = {name: rng.standard_normal(p.shape) for name, p in params.items()}
    norm = np.sqrt(sum(float(np.sum(x * x)) for x in u.values()))
    return {name: x / norm for name, x in u.items()}


def along(witness: ScratchSide, v: dict[str, np.ndarray], h: float, X: np.ndarray,
          Y: np.ndarray, spec: ModelSpec, base_signs: list[np.ndarray]) -> float | None:
    """(J(p + h v) - J(p - h v)) / 2h, the parameters restored after; None if a step crosses
    a ReLU kink (the difference would be one-sided)."""
    start = {name: p.copy() for name, p in witness.params.items()}
    costs = []
    try:
        for step in (h, -h):
            for name, p in witness.params.items():
                p[...] = start[name] + step * v[name]
            if any(np.any(s != b) for s, b in zip(kink_signs(witness.params, X, spec),
                                                   base_signs, strict=False)):
                return None
            AL, caches = witness.forward(X)
            costs.append(float(witness.cost(AL, Y, caches)))
    finally:
        for name, p in witness.params.items():
            p[...] = start[name]
    return (costs[0] - costs[1]) / (2 * h)


def dot(grads: dict[str, np.ndarray], v: dict[str, np.ndarray], names: list[str]) -> float:
    return float(sum(np.sum(np.asarray(grads["d" + n], dtype=np.float64) * v[n]) for n in names))


def directional_differences(model: ScratchSide, spec: ModelSpec, X: np.ndarray, Y: np.ndarray,
                            h: float, rtol: float, directions: int = DIRECTIONS, seed: int = 1,
                            where: str = "") -> CheckResult:
    """Check 3 in directional mode: scratch's grad J . v against the central difference of J
    along v for `directions` seeded random unit directions v."""
    witness = float64_witness(model)
    X64, Y64 = np.array(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)   # [n0, m], [n_L, m]
    AL, caches = witness.forward(X64)
    if np.asarray(AL).dtype != np.float64:
        return not_run(where, np.asarray(AL).dtype)
    J = float(witness.cost(AL, Y64, caches))
    grads = witness.backward(AL, Y64, caches)
    names = spec.param_names()
    bad = [n for n in names if shape_of(grads.get("d" + n)) != witness.params[n].shape]
    if bad:
        return shape_failure(bad, grads, witness.params, where)
    atol = 8 * np.finfo(np.float64).eps * max(abs(J), 1.0) / h
    scale = max(float(np.sqrt(sum(np.sum(np.square(grads["d" + n])) for n in names))), atol / rtol)
    numeric, analytic = sample(witness, grads, names, X64, Y64, h, spec, directions, seed)
    return judged(numeric, analytic, scale, rtol, atol, h, directions, where)


def sample(witness: ScratchSide, grads: dict, names: list[str], X: np.ndarray, Y: np.ndarray,
           h: float, spec: ModelSpec, directions: int, seed: int) -> tuple[list[float], list[float]]:
    """The central differences and grad . v of up to `directions` kink-free directions."""
    rng = np.random.default_rng(seed)
    base_signs = kink_signs(witness.params, X, spec)
    numeric: list[float] = []
    analytic: list[float] = []
    for _ in range(MAX_DRAWS):
        if len(numeric) == directions:
            break
        v = direction({n: witness.params[n] for n in names}, rng)
        d = along(witness, v, h, X, Y, spec, base_signs)
        if d is not None:
            numeric.append(d)
            analytic.append(dot(grads, v, names))
    return numeric, analytic


def judged(numeric: list[float], analytic: list[float], scale: float, rtol: float, atol: float,
           h: float, directions: int, where: str) -> CheckResult:
    """The result: the worst direction's |grad . v - difference| / scale against rtol."""
    errs = [abs(a - n) / scale for a, n in zip(analytic, numeric, strict=True)]
    worst = int(np.argmax(errs)) if errs else None
    rel = errs[worst] if worst is not None else 0.0
    passed = bool(rel <= rtol)
    note = "" if passed or worst is None else (
        f"direction {worst}: grad . v = {analytic[worst]:.6e}, the central difference "
        f"{numeric[worst]:.6e} (against ||grad J|| = {scale:.2e})")
    c = Comparison("grad . v", rel, rel * scale, None if worst is None else (worst,), passed,
                   note, where=where)
    result = CheckResult("finite_difference", comparisons=[c])
    result.checked, result.of = len(errs), directions
    result.detail = (f"{where or 'at the initial parameters'}: directional mode, {len(errs)} of "
                     f"{directions} random directions checked (h = {h:g}, atol = {atol:.1e}, "
                     "errors relative to ||grad J||)"
                     + ("; every direction drawn crossed a ReLU kink: nothing was checked"
                        if not errs else ""))
    return result


def shape_of(x: object) -> tuple[int, ...] | None:
    return None if x is None else tuple(np.asarray(x).shape)


def shape_failure(bad: list[str], grads: dict, params: dict, where: str) -> CheckResult:
    """A failed check naming the first gradient whose shape is not its parameter's."""
    n = bad[0]
    got = shape_of(grads.get("d" + n)) or "missing"
    c = Comparison("d" + n, float("inf"), float("inf"), None, False,
                   f"shape {got}, expected {params[n].shape}", where=where)
    return CheckResult("finite_difference", comparisons=[c], detail=(
        f"{where or 'at the initial parameters'}: directional mode: d{n} is {got}, not "
        f"{params[n].shape}"))
