"""The course's models by hand in NumPy, in the notes' notation.

X is [n, m] (one column per sample), W[l] is [n[l], n[l-1]], b[l] is [n[l], 1];
every model has `params` {'W1', 'b1', ...}, `forward(X) -> (AL, caches)`,
`cost(AL, Y, caches=None)`, `backward(AL, Y, caches) -> grads` {'dW1', 'db1', ...},
`predict(X)`, and trains with `scratch.fit`.
"""

from scratch.deep import DeepNet
from scratch.errors import InvalidArgument, TrainingDiverged
from scratch.logistic import LogisticRegression
from scratch.model import LayerCache, Model
from scratch.shallow import ShallowNet
from scratch.train import fit, step

__all__ = [
    "DeepNet",
    "InvalidArgument",
    "LayerCache",
    "LogisticRegression",
    "Model",
    "ShallowNet",
    "TrainingDiverged",
    "fit",
    "step",
]
