"""Experiments that reproduce the notes' claims on both implementations at once.

Each is a command (`nncompare experiment NAME`, `nncompare experiment --list`),
trains scratch and torch in lockstep through the harness (asserting they agree),
prints a result table, and logs to TensorBoard under runs/<experiment>/....
`docs/EXPERIMENTS.md` holds the tables of the full-size runs
(`nncompare experiment all --write-docs docs/EXPERIMENTS.md`).
"""

from compare.experiments.base import Experiment, ExperimentFailed, Result, Settings, Table
from compare.experiments.registry import EXPERIMENTS, get

__all__ = ["EXPERIMENTS", "Experiment", "ExperimentFailed", "Result", "Settings", "Table", "get"]
