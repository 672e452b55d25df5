"""The two errors a user of either implementation can meet."""

from __future__ import annotations


class InvalidArgument(ValueError):
    """A user-supplied argument is invalid. The message is one line that names the
    argument, what was received and what was expected."""


class TrainingDiverged(RuntimeError):
    """The cost or a parameter became NaN or inf during training.

    Attributes:
        side: the name of the implementation that was training (as 'scratch').
        step: the 0-based step at which it happened.
        what: what became non-finite ('the cost', 'W2', ...).
        advice: what to do (default: lower the learning rate, for parameters that blew up).
    """

    def __init__(self, side: str, step: int, what: str, lr: float, advice: str | None = None) -> None:
        self.side, self.step, self.what, self.lr = side, step, what, lr
        self.advice = f"lower the learning rate (lr={lr:g})" if advice is None else advice
        super().__init__(f"{side} training diverged at step {step}: {what} became NaN or inf; "
                         f"{self.advice}")
