"""The run's report: a table for people, JSON for programs (schema in the README)."""

from __future__ import annotations

import json
import math

from compare.proof.result import CHECKS, ModelReport, table

__all__ = ["json_text", "model_json", "table", "to_json"]

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
