"""The time to first output: nncompare on a pseudo-terminal, as in a shell (no timing is
asserted, only what the measurement must see)."""

from __future__ import annotations

import os

import pytest

from compare.bench import startup

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (pty)")


def test_help_writes_before_it_ends_and_exits_0():
    row = startup.first_output(("--help",), timeout_s=120)
    assert row["rc"] == 0 and row["command"] == "nncompare --help"
    assert row["first_output_s"] is not None and 0 < row["first_output_s"] <= row["total_s"]


def test_on_a_terminal_the_progress_bar_is_the_first_output_of_a_long_run():
    bar = startup.first_output(("--model", "logistic", "--iterations", "3000", "--no-log"), 300)
    silent = startup.first_output(("--model", "logistic", "--iterations", "3000", "--no-log",
                                   "--no-progress"), 300)
    assert bar["rc"] == silent["rc"] == 0
    # without the bar the table at the end is the first output: within the last moments of
    # the run; with it, something shows while the 3,000 steps train
    assert silent["total_s"] - silent["first_output_s"] < bar["total_s"] - bar["first_output_s"]


def test_the_section_renders_every_row():
    result = {"startup": {"rows": [{"command": "nncompare --help", "first_output_s": 0.3,
                                    "total_s": 0.4, "rc": 0}]}}
    text = "\n".join(startup.lines(result))
    assert "| `nncompare --help` | 0.30 | 0.40 | 0 |" in text
    assert startup.lines({}) == []
