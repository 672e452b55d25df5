"""Name where two implementations part: the first quantity that differs, in the order of computation.

Checks run forward, gradients, finite differences, trajectory; inside each,
quantities are in the order they are computed (Z1, A1, ..., cost; dZL, dWL, dbL,
dA(L-1), ...). Everything computed after a wrong quantity may be wrong because of
it, so the first one is where to look:

    forward ok; dZ2, dA1 ok; dW2 differs: max rel err 3.1e-01 at [0, 2]; layers below follow from it
"""

from __future__ import annotations

import math
import re

from compare.checks import CheckResult

ORDER = ("forward", "gradients", "finite_difference", "trajectory")
LABEL = {"forward": "forward", "gradients": "gradients",
         "finite_difference": "finite differences", "trajectory": "trajectory"}
NAME = re.compile(r"^(?P<quantity>d?[A-Za-z]+?)(?P<layer>\d+)?$")


def parse(name: str) -> tuple[str, int | None]:
    """'dW2' -> ('dW2', 2); 'cost' -> ('cost', None)."""
    match = NAME.match(name)
    if match is None:
        return name, None
    layer = match["layer"]
    return match["quantity"] + (layer or ""), (int(layer) if layer else None)


def first_divergence(checks: dict[str, CheckResult]) -> dict | None:
    """{check, quantity, layer, where, step, index, rel_err, message} of the first failure, or None."""
    for check in ORDER:
        result = checks.get(check)
        if result is None:
            continue
        c = result.first_divergence
        if c is None and result.error:
            return {"check": check, "quantity": None, "layer": None, "where": None,
                    "step": None, "index": None, "rel_err": None, "message": result.error}
        if c is not None:
            quantity, layer = parse(c.name)
            return {"check": check, "quantity": quantity, "layer": layer,
                    "where": c.where or None, "step": c.step,
                    "index": list(c.index) if c.index is not None else None,
                    "rel_err": c.rel_err if math.isfinite(c.rel_err) else None,
                    "message": c.describe()}
    return None


def diagnose(checks: dict[str, CheckResult], error: str = "") -> str:
    """One line: what agrees, then the first quantity that differs and what follows from it."""
    parts: list[str] = []
    for check in ORDER:
        result = checks.get(check)
        if result is None:
            continue
        bad = result.first_divergence
        if bad is None and result.error:
            parts.append(f"{LABEL[check]}: {result.error}")
            return "; ".join(parts)
        if bad is None:
            parts.append(f"{LABEL[check]} ok")
            continue
        position = result.comparisons.index(bad)
        before = [c.name for c in result.comparisons[:position] if c.where == bad.where]
        later = [c for c in result.comparisons[position + 1:] if not c.passed]
        if check != "gradients":
            parts.append(LABEL[check] + ":")
        if before and check in ("forward", "gradients"):
            parts.append(f"{', '.join(before)} ok")
        parts.append(bad.describe())
        if later and check != "trajectory":
            layer = parse(bad.name)[1]
            below = layer is not None and any((parse(c.name)[1] or layer) < layer for c in later)
            parts.append("layers below follow from it" if below else "what is computed from it differs too")
        return "; ".join(parts).replace(":;", ":")
    if error:
        parts.append(error)
    elif all(checks.get(c) is not None for c in ORDER):
        return "all checks agree"
    return "; ".join(parts)
