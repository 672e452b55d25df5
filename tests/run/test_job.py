"""The runner that `nncompare` and the experiments share: the hooks it calls, the steps it
counts, and Ctrl-C stopping a run after its step (a second Ctrl-C at once)."""

import signal

import pytest

import scratch
from compare.run.job import Runner, log_plan
from scratch import datasets
from scratch.errors import InvalidArgument

DATA = datasets.load("flower", seed=1)


class Recorder:
    """A hook that notes the steps it is shown."""

    def __init__(self) -> None:
        self.started, self.steps = False, []

    def start(self, wrapped, reference) -> None:
        self.started = True

    def step(self, record) -> None:
        self.steps.append(record.step)


def test_hooks_see_every_step_and_the_runner_counts_them():
    hooks, ticks = [Recorder(), Recorder()], []
    with Runner(progress=ticks.append) as runner:
        report = runner.check(scratch.LogisticRegression(DATA.n_x, 1), DATA, None, hooks, lr=1.2,
                              iterations=4, name="logistic")
    assert report.passed and ticks == [0, 1, 2, 3] and runner.steps == 4
    assert runner.reference is not None and runner.seconds == 0.0
    assert all(h.started and h.steps == hooks[0].steps and len(h.steps) >= 4 for h in hooks)


def test_a_first_ctrl_c_stops_the_run_after_its_step_and_restores_the_handler():
    before = signal.getsignal(signal.SIGINT)

    def interrupt_at_step_2(t: int) -> None:
        if t == 2:
            signal.raise_signal(signal.SIGINT)

    with Runner(progress=interrupt_at_step_2) as runner, pytest.raises(KeyboardInterrupt):
        runner.check(scratch.LogisticRegression(DATA.n_x, 1), DATA, None, lr=1.2, iterations=50,
                     name="logistic")
    assert runner.steps == 3 and runner.stop.requested and not runner.stop.forced
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_stops_at_once():
    with Runner() as runner:
        signal.raise_signal(signal.SIGINT)                      # asks for a stop after the step
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert runner.stop.forced


def test_without_logs_a_flag_that_needs_them_is_refused():
    assert log_plan(None, None, "flower", False, needs_logs={"--overwrite": False}) is None
    with pytest.raises(InvalidArgument, match="no-log: --tensorboard needs the logs"):
        log_plan(None, None, "flower", False, needs_logs={"--overwrite": False, "--tensorboard": True})
