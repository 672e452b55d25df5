"""The run's report: a table for people, JSON for programs (schema in the README)."""

from __future__ import annotations

import json
import math

from compare.output.table import aligned
from compare.proof.result import CHECKS, ModelReport

SCHEMA_VERSION = 1


def _num(x: float | None) -> float | None:
    """JSON has no inf or NaN: those become null."""
    return x if x is not None and math.isfinite(x) else None


def model_json(report: ModelReport) -> dict:
    """One entry of `models` in the JSON report."""
    return {
        "model": report.model,
        "description": report.description,
        "passed": report.passed,
        "error": report.error or None,
        "diagnosis": report.diagnosis,
        "first_divergence": report.first_divergence,
        "max_rel_err": {c: _num(report.checks[c].max_rel_err) if c in report.checks else None
                        for c in CHECKS},
        "checks": {name: {"passed": r.passed, "max_rel_err": _num(r.max_rel_err),
                          "detail": r.detail or None, "error": r.error or None}
                   for name, r in report.checks.items()},
        "final": report.final or None,
    }


def to_json(reports: list[ModelReport], meta: dict) -> dict:
    """{'passed', 'models': [...], and the run's `meta` (config, dataset, environment, logdir)}."""
    return {"schema": SCHEMA_VERSION, "passed": bool(reports) and all(r.passed for r in reports),
            **meta, "models": [model_json(r) for r in reports]}


def json_text(document: dict) -> str:
    """The JSON report as written to a file or to standard output."""
    return json.dumps(document, indent=2) + "\n"


def _err(report: ModelReport, check: str) -> str:
    result = report.checks.get(check)
    if result is None:
        return "-"
    mark = "ok" if result.passed else "FAIL"
    value = result.max_rel_err
    return f"{mark} {value:.0e}" if math.isfinite(value) else mark


def _pair(report: ModelReport, key: str, sub: str | None = None, fmt: str = "{:.3f}") -> str:
    if not report.final:
        return "-"
    values = []
    for side in ("scratch", "torch"):
        v = report.final[side][key] if sub is None else report.final[side][key][sub]
        values.append("-" if v is None else fmt.format(v))
    return " / ".join(values)


def table(reports: list[ModelReport]) -> str:
    """The run's table: per model, each check's verdict and worst error, then final scores
    (scratch / torch)."""
    header = ["model", "forward", "gradients", "fin. diff.", "trajectory",
              "cost (s / t)", "train acc (s / t)", "test acc (s / t)"]
    rows = [[r.model, *(_err(r, c) for c in CHECKS),
             _pair(r, "cost", fmt="{:.4f}"), _pair(r, "accuracy", "train"),
             _pair(r, "accuracy", "test")] for r in reports]
    lines = aligned(header, rows).split("\n")
    for r in reports:
        lines.append(f"{r.model}: {r.description}")
        lines.append(f"  {'PASS' if r.passed else 'FAIL'}: {r.diagnosis}")
        for name in CHECKS:
            if name in r.checks and r.checks[name].detail:
                lines.append(f"  {name}: {r.checks[name].detail}")
    return "\n".join(lines)
