"""What a function of the catalogue promises, and the cases it is checked on.

A `Contract` names a course function, its arguments (the course's names) and what it returns,
and builds its `Case`s from the shared problems; each case carries the arguments (copied for
every call) and a `judge` that returns the `Measure`s of what came back (raising
`judge.Mismatch` on a wrong structure).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compare.functions.judge import TOLERANCE, Measure
from compare.functions.problems import Problem, Problems

EXERCISES = ("logistic", "shallow", "deep")
EXERCISE_TITLES = {"logistic": "logistic regression", "shallow": "one hidden layer (planar data)",
                   "deep": "deep network, step by step"}


@dataclass
class Case:
    """One call: the course's positional arguments, where it is (for the report), its judge."""

    where: str
    args: tuple[Any, ...]
    judge: Callable[[Any], list[Measure]]
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What every contract's cases are built from, and the cases built (a function checked
    again with the reference in place of its callees is called on the same cases)."""

    problems: Problems
    exercises: tuple[str, ...]
    seed: int
    built: dict[str, list[Case]] = field(default_factory=dict)

    def cases(self, contract: Contract) -> list[Case]:
        if contract.key not in self.built:
            self.built[contract.key] = contract.cases(self)
        return self.built[contract.key]


@dataclass(frozen=True)
class Contract:
    """A function of the course: its name, the exercises it belongs to, its arguments, what it
    returns, how it is checked, and its cases."""

    name: str
    exercises: tuple[str, ...]
    params: tuple[str, ...]                      # the course's argument names, in order
    returns: str
    checked: str                                 # how it is checked, in one line
    cases: Callable[[Context], list[Case]]
    arities: tuple[int, ...] = ()                # positional arguments it may take (default all)
    keywords: tuple[str, ...] = ()               # passed by name when the function takes them
    may_mutate: frozenset[str] = frozenset()     # arguments it may change in place

    @property
    def key(self) -> str:
        """Unique among the contracts: 'predict (logistic)' where two share a name."""
        return self.name if self.name != "predict" else f"predict ({self.exercises[0]})"

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params + tuple(f'{k}=...' for k in self.keywords))})"

    def accepted(self) -> tuple[int, ...]:
        return self.arities or (len(self.params),)


def tol(problem: Problem) -> float:
    return TOLERANCE[problem.dtype]
