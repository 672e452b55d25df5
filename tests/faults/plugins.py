"""Plug-ins (`--scratch-impl tests/faults/plugins.py:NAME`) that misbehave on purpose."""

import time

import numpy as np

import scratch


class Plain(scratch.DeepNet):
    """Correct and quick: a plug-in run keeps logs but no checkpoints."""


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



class WrongShapeGrad(scratch.DeepNet):
    """A backward pass whose dW1 is transposed ([n0, n1], not W1's [n1, n0]), with an update
    that reshapes every gradient to its parameter: training runs, the gradient check fails."""

    def backward(self, AL, Y, caches, **kwargs):
        grads = super().backward(AL, Y, caches, **kwargs)
        grads["dW1"] = grads["dW1"].T.copy()
        return grads

    def update(self, grads, lr):
        for name, p in self.params.items():
            p -= lr * np.reshape(grads["d" + name], p.shape)


class NaNBackward(scratch.DeepNet):
    """A backward pass whose db2 is NaN: the model's bug, not a learning rate too high."""

    def backward(self, AL, Y, caches, **kwargs):
        grads = super().backward(AL, Y, caches, **kwargs)
        grads["db2"] = np.full_like(grads["db2"], np.nan)
        return grads
