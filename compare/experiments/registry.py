"""The experiments by name, in the order of docs/EXPERIMENTS.md."""

from __future__ import annotations

from compare.experiments import (
    activations,
    course_flower,
    ddp_mistakes,
    dead_relu,
    hidden_size,
    loop_vs_vectorized,
    mnist,
    more_data,
    precision_drift,
    printed_errata,
    vanishing,
    zero_init,
)
from compare.experiments.base import Experiment
from scratch.errors import InvalidArgument
from scratch.spec import suggest

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        zero_init.EXPERIMENT,
        hidden_size.EXPERIMENT,
        activations.EXPERIMENT,
        vanishing.EXPERIMENT,
        dead_relu.EXPERIMENT,
        loop_vs_vectorized.EXPERIMENT,
        more_data.EXPERIMENT,
        printed_errata.EXPERIMENT,
        mnist.EXPERIMENT,
        precision_drift.EXPERIMENT,
        course_flower.EXPERIMENT,
        ddp_mistakes.EXPERIMENT,
    )
}


def get(name: str) -> Experiment:
    """The experiment called `name`; InvalidArgument (suggesting the closest name) if none is."""
    key = name.strip().lower().replace("_", "-")
    if key not in EXPERIMENTS:
        raise InvalidArgument(
            f"experiment: unknown name {name!r}{suggest(key, list(EXPERIMENTS))}; expected one of "
            f"{', '.join(EXPERIMENTS)} or 'all' (see 'nncompare experiment --list')")
    return EXPERIMENTS[key]
