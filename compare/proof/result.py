"""What the checks found, and where the two implementations part.

`CheckResult` holds one check's comparisons in the order of computation; `ModelReport`
holds one model's four checks and final scores. Checks run forward, gradients, finite
differences, trajectory; inside each, quantities are in the order they are computed
(Z1, A1, ..., cost; dZL, dWL, dbL, dA(L-1), ...). Everything computed after a wrong
quantity may be wrong because of it, so the first one is where to look:

    forward ok; dZ2, dA1 ok; dW2 differs: max rel err 3.1e-01 at [0, 2]; layers below follow from it
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from compare.proof.metric import Comparison
from compare.table import aligned

if TYPE_CHECKING:
    from compare.proof.lockstep import Trajectory

SIDES = ("scratch", "torch")                                   # the two implementations
CHECKS = ("forward", "gradients", "finite_difference", "trajectory")   # in the order they run
LABEL = {"forward": "forward", "gradients": "gradients",
         "finite_difference": "finite differences", "trajectory": "trajectory"}


@dataclass
class CheckResult:
    """One check of one model: every comparison in the order of computation."""

    check: str                                   # forward | gradients | finite_difference | trajectory
    comparisons: list[Comparison] = field(default_factory=list)
    detail: str = ""                             # what was covered, what was skipped
    error: str = ""                              # set when the check could not run to the end
    checked: int | None = None                   # entries checked, of `of` (None: not counted)
    of: int | None = None
    convention: str = ""                         # intermediates given as dJ/dZ, dJ/dA ('dA2, dA1')

    @property
    def empty(self) -> bool:
        """A check that checked nothing (every entry skipped, or not run): not a pass."""
        return self.checked == 0 and not self.error

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.comparisons)

    @property
    def max_rel_err(self) -> float:
        if self.error:
            return float("inf")
        return max((c.rel_err for c in self.comparisons), default=0.0)

    @property
    def first_divergence(self) -> Comparison | None:
        return next((c for c in self.comparisons if not c.passed), None)


def merge(results: list[CheckResult]) -> CheckResult:
    """One check's results at several parameter points, in order, as one result."""
    merged = CheckResult(results[0].check)
    for r in results:
        merged.comparisons += r.comparisons
        merged.error = merged.error or r.error
    counted = [r for r in results if r.checked is not None]
    if counted:
        merged.checked = sum(r.checked or 0 for r in counted)
        merged.of = max(r.of or 0 for r in counted)
    merged.detail = "; ".join(dict.fromkeys(r.detail for r in results if r.detail))
    merged.convention = ", ".join(dict.fromkeys(name for r in results if r.convention
                                                for name in r.convention.split(", ")))
    return merged


@dataclass
class ModelReport:
    """Everything known about one model after the checks and the training."""

    model: str                                        # 'logistic', 'shallow', 'deep', or a class name
    description: str
    checks: dict[str, CheckResult] = field(default_factory=dict)
    final: dict[str, dict] = field(default_factory=dict)   # per side: cost, accuracy train/test
    error: str = ""                                   # e.g. training diverged
    trajectory: Trajectory | None = None

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.checks.values())

    @property
    def first_divergence(self) -> dict | None:
        return first_divergence(self.checks)

    @property
    def diagnosis(self) -> str:
        return diagnose(self.checks, self.error)

    def __str__(self) -> str:
        return table([self])

    def _repr_html_(self) -> str:
        return html([self])



NAME = re.compile(r"^(?P<quantity>d?[A-Za-z]+?)(?P<layer>\d+)?$")


def parse(name: str) -> tuple[str, int | None]:
    """'dW2' -> ('dW2', 2); 'cost' -> ('cost', None)."""
    match = NAME.match(name)
    if match is None:
        return name, None
    layer = match["layer"]
    return match["quantity"] + (layer or ""), (int(layer) if layer else None)


def _first_failure(checks: dict[str, CheckResult]) -> tuple[str, CheckResult] | None:
    """The first check, in CHECKS, that failed (a comparison or an error), and its result."""
    for check in CHECKS:
        result = checks.get(check)
        if result is not None and (result.first_divergence is not None or result.error):
            return check, result
    return None


def first_divergence(checks: dict[str, CheckResult]) -> dict | None:
    """{check, quantity, layer, where, step, index, rel_err, message} of the first failure, or None."""
    failure = _first_failure(checks)
    if failure is None:
        return None
    check, result = failure
    c = result.first_divergence
    if c is None:
        return {"check": check, "quantity": None, "layer": None, "where": None,
                "step": None, "index": None, "rel_err": None, "message": result.error}
    quantity, layer = parse(c.name)
    return {"check": check, "quantity": quantity, "layer": layer,
            "where": c.where or None, "step": c.step,
            "index": list(c.index) if c.index is not None else None,
            "rel_err": c.rel_err if math.isfinite(c.rel_err) else None,
            "message": c.describe()}


def diagnose(checks: dict[str, CheckResult], error: str = "") -> str:
    """One line: what agrees, then the first quantity that differs and what follows from it."""
    failure = _first_failure(checks)
    failed = failure[0] if failure else None
    parts = [f"{LABEL[c]} ok" for c in CHECKS[:CHECKS.index(failed) if failed else len(CHECKS)]
             if c in checks]
    if failure is not None:
        check, bad = failure[0], failure[1].first_divergence
        if bad is None:
            return "; ".join([*parts, f"{LABEL[check]}: {failure[1].error}"])
        comparisons = failure[1].comparisons
        position = comparisons.index(bad)
        before = [c.name for c in comparisons[:position] if c.where == bad.where]
        later = [c for c in comparisons[position + 1:] if not c.passed]
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
    elif all(checks.get(c) is not None for c in CHECKS):
        empty = [LABEL[c] for c in CHECKS if checks[c].empty]
        if empty:
            return (f"the checks agree, but {' and '.join(empty)} checked nothing (0 of "
                    f"{checks['finite_difference'].of} entries: see its detail below)")
        return "all checks agree" + convention_note(checks)
    return "; ".join(parts)


def convention_note(checks: dict[str, CheckResult]) -> str:
    """'; dA2, dA1 follow the 1/m convention (dJ/dA, without the notes' factor m)', or ''."""
    gradients = checks.get("gradients")
    if gradients is None or not gradients.convention:
        return ""
    names = gradients.convention.split(", ")
    true = " and ".join(f"dJ/d{kind[1]}" for kind in ("dZ", "dA")
                        if any(n.startswith(kind) for n in names))
    return f"; {gradients.convention} follow the 1/m convention ({true}, without the notes' factor m)"


def _err(report: ModelReport, check: str) -> str:
    result = report.checks.get(check)
    if result is None:
        return "-"
    if result.passed and result.empty:
        return f"skipped: 0 of {result.of} checked"
    mark = "ok" if result.passed else "FAIL"
    value = result.max_rel_err
    return f"{mark} {value:.0e}" if math.isfinite(value) else mark


def _pair(report: ModelReport, key: str, sub: str | None = None, fmt: str = "{:.3f}") -> str:
    if not report.final:
        return "-"
    values = []
    for side in SIDES:
        v = report.final[side][key] if sub is None else report.final[side][key][sub]
        values.append("-" if v is None else fmt.format(v))
    return " / ".join(values)


HEADER = ("model", "forward", "gradients", "fin. diff.", "trajectory",
          "cost (s / t)", "train acc (s / t)", "test acc (s / t)")


def row(r: ModelReport) -> list[str]:
    """One model's cells of the table: each check's verdict and worst error, then final scores
    (scratch / torch)."""
    return [r.model, *(_err(r, c) for c in CHECKS), _pair(r, "cost", fmt="{:.4f}"),
            _pair(r, "accuracy", "train"), _pair(r, "accuracy", "test")]


def notes(r: ModelReport) -> list[str]:
    """What the table's row cannot say: the model, the verdict with the diagnosis, each check's detail."""
    return [f"{r.model}: {r.description}", f"  {'PASS' if r.passed else 'FAIL'}: {r.diagnosis}",
            *(f"  {name}: {r.checks[name].detail}" for name in CHECKS
              if name in r.checks and r.checks[name].detail)]


def table(reports: Sequence[ModelReport]) -> str:
    """The run's table as `nncompare` prints it, then each model's notes."""
    return "\n".join([aligned(HEADER, [row(r) for r in reports]), *(n for r in reports for n in notes(r))])


def html(reports: Sequence[ModelReport]) -> str:
    """The same table for a notebook: one HTML row a model, its notes in a row below."""
    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(f"<{tag}>{escape(v)}</{tag}>" for v in values)
    body = "".join(f"<tr>{cells('td', row(r))}</tr><tr><td colspan=\"{len(HEADER)}\"><pre>"
                   f"{escape(chr(10).join(notes(r)))}</pre></td></tr>" for r in reports)
    return f"<table><thead><tr>{cells('th', HEADER)}</tr></thead><tbody>{body}</tbody></table>"


class Reports(list):
    """A list of ModelReports that prints as the run's table (and renders as HTML in Jupyter)."""

    def __str__(self) -> str:
        return table(self)

    def _repr_html_(self) -> str:
        return html(self)
