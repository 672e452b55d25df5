"""What every experiment shares: its description, its settings, its result and tables.

An experiment answers one of the notes' claims with numbers from both
implementations. It is an `Experiment` (name, section, question, `run`); `run`
takes `Settings` and returns a `Result`: one or more `Table`s, a conclusion
written from the measured numbers, and `facts` (the raw numbers the tests
assert on). Numbers measured on both sides are shown as `scratch / torch`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from compare import table
from compare.proof.lockstep import Trajectory
from compare.proof.result import SIDES, ModelReport
from scratch.spec import check_seed


class ExperimentFailed(RuntimeError):
    """An experiment's own assertion failed: the two implementations disagree, or a
    claim the experiment states as a fact (e.g. loop == vectorized) does not hold."""


@dataclass(frozen=True)
class Settings:
    """How to run an experiment.

    Attributes:
        quick: the small configuration (seconds; what the tests run) instead of the full one.
        seed: seeds the data, the initial parameters and the mini-batch order.
        logdir: TensorBoard root, None for no logs. An experiment's runs go to
            <logdir>/exp-<name>-<YYYYmmdd-HHMMSS>/<variant>/{scratch,torch,diff} (a new folder
            every time), or to <logdir>/exp-<name>/... with `overwrite`, which clears it first.
        overwrite: log to the fixed folder exp-<name>, clearing it first.
        progress: show a progress bar on stderr (when it is a terminal).
    """

    quick: bool = False
    seed: int = 1
    logdir: str | None = None
    overwrite: bool = False
    progress: bool = False

    def __post_init__(self) -> None:
        check_seed(self.seed)


@dataclass
class Table:
    """A result table: a title, a header and rows of already formatted cells."""

    header: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def text(self) -> str:
        """Aligned columns for a terminal."""
        return "\n".join(([self.title] if self.title else []) + [table.aligned(self.header, self.rows)])

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown table."""
        return "\n".join(([f"**{self.title}**", ""] if self.title else [])
                         + [table.markdown(self.header, self.rows)])


@dataclass
class Result:
    """What one experiment measured."""

    name: str
    setup: str                                   # the configuration actually run, in words
    tables: list[Table]
    conclusion: str                              # written from the measured numbers
    facts: dict = field(default_factory=dict)    # raw numbers, for the tests
    logs: str | None = None                      # the TensorBoard folder of its runs
    seconds: float = 0.0

    def text(self) -> str:
        took = f" ({self.seconds:.0f} s)" if self.seconds else ""
        parts = [f"== {self.name}{took}: {self.setup}"]
        parts += [t.text() for t in self.tables]
        parts.append(self.conclusion)
        if self.logs:
            parts.append(f"TensorBoard logs in {self.logs} (tensorboard --logdir {self.logs})")
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Experiment:
    """One experiment of the notes' claims."""

    name: str                                    # 'zero-init': the command-line name
    section: str                                 # '§3.4'
    title: str
    question: str
    run: Callable[[Settings], Result]


def fmt(x: float | None, spec: str = ".3f") -> str:
    """A number, '-' for None, 'inf'/'nan' as such."""
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return format(x, spec)


def pair(values: Mapping[str, float | None], spec: str = ".3f") -> str:
    """'0.925 / 0.925': the scratch value, then the torch value."""
    return f"{fmt(values['scratch'], spec)} / {fmt(values['torch'], spec)}"


def trajectory(report: ModelReport) -> Trajectory:
    """The lockstep trajectory of a trained run (every run `Session.train` returns has one)."""
    if report.trajectory is None:
        raise RuntimeError(f"{report.model}: the report holds no lockstep trajectory")
    return report.trajectory


def finals(report: ModelReport) -> dict[str, dict[str, float]]:
    """{'cost': {'scratch': J, 'torch': J}, 'train': {...}, 'test': {...}}: the final cost and
    train / test accuracy of a trained run, each side computed by its own code."""
    f = report.final
    return {"cost": {s: f[s]["cost"] for s in SIDES},
            "train": {s: f[s]["accuracy"]["train"] for s in SIDES},
            "test": {s: f[s]["accuracy"]["test"] for s in SIDES}}
