"""The report of `check_functions`: one row per function, the assembled models' reports, a
summary; as an aligned table (`print(report)`), an HTML table (Jupyter) and a JSON-able dict.

Rows come in the order to read them: the functions that differ on their own first (the root
causes), then those that differ only through a function they call ('follows from ...'),
then those that agree, then those not provided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from compare.functions.contract import EXERCISE_TITLES
from compare.functions.judge import TOLERANCE
from compare.output.report import model_json
from compare.proof.result import ModelReport
from compare.proof.result import table as model_table
from compare.table import aligned

FAILED = ("differs", "error", "wrong signature")
HEADER = ("function", "exercise", "verdict", "float64", "float32", "where", "likely cause / note")
SCHEMA_VERSION = 1


def fmt_err(err: float | None) -> str:
    return "-" if err is None else f"{err:.0e}" if math.isfinite(err) else "inf"


@dataclass
class FunctionResult:
    """What one function's check found."""

    name: str                                   # 'predict (logistic)' where two share a name
    exercise: str                               # 'logistic', 'shallow, deep'
    signature: str                              # the course's, as 'linear_forward(A, W, b)'
    verdict: str                                # 'ok', 'differs', 'error', 'wrong signature', 'not provided'
    error: float | None = None                  # the worst relative error measured
    errors: dict[str, float] = field(default_factory=dict)   # the worst, per input dtype
    tol: float | None = None
    where: str = ""                             # the input case it was seen on
    cause: str = ""                             # the likely cause, or the one-line problem
    follows_from: tuple[str, ...] = ()          # root functions it differs through
    cases: int = 0                              # calls judged
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict in FAILED

    @property
    def root(self) -> bool:
        return self.failed and not self.follows_from

    def cells(self) -> list[str]:
        errs = [self.errors.get(d) for d in TOLERANCE]
        text = f"follows from {', '.join(self.follows_from)}" if self.follows_from else self.cause
        text = "; ".join(t for t in (text, self.note) if t)
        return [self.name, self.exercise, self.verdict, *map(fmt_err, errs), self.where, text]

    def to_dict(self) -> dict:
        finite = self.error if self.error is not None and math.isfinite(self.error) else None
        return {"function": self.name, "exercise": self.exercise, "signature": self.signature,
                "verdict": self.verdict, "passed": not self.failed, "root": self.root,
                "follows_from": list(self.follows_from), "max_rel_err": finite, "tolerance": self.tol,
                "max_rel_err_by_dtype": {d: e if math.isfinite(e) else None for d, e in self.errors.items()},
                "where": self.where or None, "cause": self.cause or None, "note": self.note or None,
                "cases": self.cases}


@dataclass
class FunctionsReport:
    """Every function's result, the models assembled from them, and what was checked."""

    source: str
    exercises: tuple[str, ...]
    functions: list[FunctionResult]
    models: list[ModelReport] = field(default_factory=list)
    model_notes: list[str] = field(default_factory=list)
    time_limit: float = 10.0
    seconds: float = 0.0
    logs: Path | None = None                    # the models' TensorBoard folder

    @property
    def passed(self) -> bool:
        return not any(f.failed for f in self.functions) and all(m.passed for m in self.models)

    def rows(self) -> list[FunctionResult]:
        """Root causes, then what follows from them, then what agrees, then what is missing."""
        rank = {"root": 0, "follows": 1, "ok": 2, "not provided": 3}
        def of(f: FunctionResult) -> int:
            if f.failed:
                return rank["root" if f.root else "follows"]
            return rank.get(f.verdict, rank["ok"])
        return sorted(self.functions, key=of)

    def summary(self) -> list[str]:
        checked = [f for f in self.functions if f.verdict != "not provided"]
        bad = [f for f in checked if f.failed]
        roots = [f.name for f in bad if f.root]
        lines = [f"{self.source}: {len(checked)} functions of the course "
                 f"({'; '.join(EXERCISE_TITLES[e] for e in self.exercises)}) checked against the torch "
                 f"reference: {len(checked) - len(bad)} agree, {len(bad)} differ"
                 + (f" (fix first: {', '.join(roots)})" if roots else "")
                 + f", {len(self.functions) - len(checked)} not provided."]
        lines += self.model_notes
        if self.logs is not None:
            lines.append(f"TensorBoard logs of the models: {self.logs} (tensorboard --logdir {self.logs})")
        lines.append(f"Tolerances: {TOLERANCE['float64']:g} (float64), {TOLERANCE['float32']:g} (float32) "
                     f"relative to the magnitude of the terms; each call limited to {self.time_limit:g} s; "
                     f"{self.seconds:.1f} s in all. {'PASS' if self.passed else 'FAIL'}")
        return lines

    def __str__(self) -> str:
        parts = [aligned(HEADER, [f.cells() for f in self.rows()])]
        if self.models:
            parts += ["", "The whole model from your functions (compare.check_model):",
                      model_table(self.models)]
        return "\n".join([*parts, "", *self.summary()])

    def _repr_html_(self) -> str:
        def cells(tag: str, values: list[str] | tuple[str, ...]) -> str:
            return "".join(f"<{tag}>{escape(v)}</{tag}>" for v in values)
        body = "".join(f"<tr>{cells('td', f.cells())}</tr>" for f in self.rows())
        models = f"<pre>{escape(model_table(self.models))}</pre>" if self.models else ""
        notes = "".join(f"<p>{escape(line)}</p>" for line in self.summary())
        return (f"<table><thead><tr>{cells('th', HEADER)}</tr></thead><tbody>{body}</tbody></table>"
                f"{models}{notes}")

    def to_dict(self) -> dict:
        return {"schema": SCHEMA_VERSION, "passed": self.passed, "source": self.source,
                "exercises": list(self.exercises), "tolerances": dict(TOLERANCE),
                "time_limit_s": self.time_limit, "seconds": round(self.seconds, 3),
                "functions": [f.to_dict() for f in self.rows()],
                "models": [model_json(m) for m in self.models], "model_notes": self.model_notes,
                "logs": None if self.logs is None else str(self.logs)}
