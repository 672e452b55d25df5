"""Plug-ins (`--scratch-impl tests/faults/plugins.py:NAME`) that misbehave on purpose."""

import time

import numpy as np

import scratch


class Slow(scratch.DeepNet):
    """Correct, but each backward pass takes a while: the checks last for minutes."""

    def backward(self, AL, Y, caches):
        time.sleep(0.05)
        return super().backward(AL, Y, caches)


class NaNForward(scratch.DeepNet):
    """A forward pass that gives NaN: a bug of the plug-in, not a learning rate too high."""

    def forward(self, X):
        AL, caches = super().forward(X)
        return np.full_like(AL, np.nan), caches


class AddsAKey(scratch.DeepNet):
    """Adds a key to params during forward (a protocol violation of the plug-in)."""

    def forward(self, X):
        self.params["extra"] = np.zeros((1, 1))
        return super().forward(X)
