"""Deliberately broken scratch models, used only by the tests: the harness must catch each
one and name the quantity the mistake first makes wrong.

Each is one of our models with one realistic mistake: the notes' printed errata
(`compare.experiments.errata`) and mistakes learners commonly make.
"""

from dataclasses import dataclass

import numpy as np

from compare.experiments import errata
from scratch import DeepNet, ShallowNet
from scratch.activations import Activation, sigmoid_backward, tanh
from scratch.model import LayerCache


class Buggy(DeepNet):
    """DeepNet whose backward walks the layers as usual but with one `mistake` switched on."""

    mistake = ""

    def backward(self, AL, Y, caches, intermediates=False):
        L, m = len(caches), AL.shape[1]
        grads = {}
        dZ = self.output_dZ(AL, Y, caches[-1])                      # [n_L, m]
        dA = np.empty(0)
        for l in range(L, 0, -1):
            A_prev, W, Z, A = caches[l - 1]
            if self.mistake == "caches A[l] instead of A[l-1]":
                A_prev = A
            if l < L:
                dZ = self.g[l - 1].backward(dA, Z, A)               # [n_l, m]
            grads[f"dZ{l}"] = dZ
            scale = 1.0 if self.mistake == "dW without 1/m" else 1 / m
            grads[f"dW{l}"] = scale * (dZ @ A_prev.T)               # [n_l, n_{l-1}]
            if self.mistake == "db without 1/m":
                grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True)
            elif self.mistake == "db summed over the wrong axis":
                grads[f"db{l}"] = np.sum(dZ, axis=0, keepdims=True) / m
            elif self.mistake == "bias forgotten in the backward":
                grads[f"db{l}"] = np.zeros_like(self.params[f"b{l}"])
            else:
                grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
            if l > 1:
                dA = W @ dZ if self.mistake == "dA without the transpose" else W.T @ dZ
                grads[f"dA{l - 1}"] = dA
        return grads


def buggy(mistake, *args, **kwargs):
    model = Buggy(*args, **kwargs)
    model.mistake = mistake
    return model


def with_hidden(model, backward):
    """The model with every hidden layer's backward replaced (its forward kept)."""
    model.g = [Activation(g.name, g.forward, backward) for g in model.g]
    return model


class SumCost(DeepNet):
    """The cost summed over the samples, not averaged (J without its 1/m)."""

    def cost(self, AL, Y, caches=None):
        return super().cost(AL, Y, caches) * Y.shape[1]


class GradientAscent(ShallowNet):
    """The update adds the gradient: W := W + alpha dW."""

    def update(self, grads, lr):
        for name, p in self.params.items():
            p += lr * grads["d" + name]


class UnstableSoftmax(DeepNet):
    """softmax as exp(Z) / sum(exp(Z)) with no shift by the maximum: overflows for large logits."""

    def forward(self, X):
        AL, caches = super().forward(X)
        ZL = caches[-1].Z
        E = np.exp(ZL)
        AL = E / E.sum(axis=0, keepdims=True)
        return AL, caches[:-1] + [caches[-1]._replace(A=AL)]


class RowSoftmax(DeepNet):
    """softmax normalized over the samples (axis=1) instead of the classes (axis=0)."""

    def forward(self, X):
        AL, caches = super().forward(X)
        ZL = caches[-1].Z
        E = np.exp(ZL - ZL.max(axis=1, keepdims=True))
        AL = E / E.sum(axis=1, keepdims=True)
        return AL, caches[:-1] + [LayerCache(caches[-1].A_prev, caches[-1].W, ZL, AL)]


@dataclass(frozen=True)
class Variant:
    name: str
    build: object           # (n_x, n_y) -> model
    check: str              # the check that must catch it
    quantity: str | None    # the quantity it must name (None: the check errors; see `message`)
    data: str = "flower"    # 'flower', 'square4' (4 features, 4 classes) or 'huge' (|x| ~ 1e3)
    message: str = ""       # a fragment the diagnosis must contain


def deep(mistake):
    return lambda n_x, n_y: buggy(mistake, [n_x, 10, 5, n_y], activation="tanh", init="xavier", seed=3)


COMMON = [
    Variant("dW without 1/m", deep("dW without 1/m"), "gradients", "dW3"),
    Variant("db without 1/m", deep("db without 1/m"), "gradients", "db3"),
    Variant("db summed over the wrong axis", deep("db summed over the wrong axis"), "gradients", "db3",
            message="shape [1,"),
    Variant("bias forgotten in the backward", deep("bias forgotten in the backward"), "gradients", "db3"),
    Variant("caches A[l] instead of A[l-1]", deep("caches A[l] instead of A[l-1]"), "gradients", "dW3"),
    Variant("dA without the transpose",
            lambda n_x, n_y: buggy("dA without the transpose", [n_x, 4, 4, n_y], activation="tanh",
                                   output="softmax", init="xavier"),
            "gradients", "dA2", data="square4"),
    Variant("tanh derivative taken at A instead of Z",
            lambda n_x, n_y: with_hidden(DeepNet([n_x, 10, 5, n_y], "tanh", init="xavier"),
                                         lambda dA, Z, A: dA * (1 - tanh(A) ** 2)),
            "gradients", "dZ2"),
    Variant("sigmoid derivative used for tanh",
            lambda n_x, n_y: with_hidden(DeepNet([n_x, 10, 5, n_y], "tanh", init="xavier"),
                                         sigmoid_backward),
            "gradients", "dZ2"),
    Variant("Leaky ReLU backward with slope 0.1, forward with 0.01",
            lambda n_x, n_y: with_hidden(DeepNet([n_x, 10, 5, n_y], "leaky_relu", alpha=0.01),
                                         lambda dA, Z, A: np.where(Z > 0, dA, 0.1 * dA)),
            "gradients", "dZ2"),
    Variant("Leaky ReLU backward as ReLU",
            lambda n_x, n_y: with_hidden(DeepNet([n_x, 10, 5, n_y], "leaky_relu", alpha=0.05),
                                         lambda dA, Z, A: dA * (Z > 0)),
            "gradients", "dZ2"),
    Variant("cost summed, not averaged", lambda n_x, n_y: SumCost([n_x, 6, n_y], "tanh", init="xavier"),
            "forward", "cost"),
    Variant("softmax over the samples",
            lambda n_x, n_y: RowSoftmax([n_x, 6, n_y], "tanh", output="softmax", init="xavier"),
            "forward", "A2", data="square4"),
    Variant("softmax without the max shift",
            lambda n_x, n_y: UnstableSoftmax([n_x, 6, n_y], "relu", output="softmax", init="he"),
            "forward", None, data="huge", message="overflow"),
    Variant("gradient ascent", lambda n_x, n_y: GradientAscent(n_x, 4, n_y, init="xavier"),
            "trajectory", None, message="at step 0"),
]

def erratum_variant(e: errata.Erratum) -> Variant:
    """The printed model of one erratum, and where the harness must catch it."""
    raises = e.model is errata.PrintedDWNoTranspose         # the printed shapes cannot multiply
    check = {"cost": "forward", "Z1": "forward"}.get(e.names, "gradients")
    if e.names == "b1":                                     # a bias of the wrong shape, or updated wrong
        check = "forward" if e.section == "3.2" else "trajectory"
    return Variant(f"§{e.section}: {e.printed}", lambda n_x, n_y: errata.build(e, n_x), check,
                   None if raises else e.names, message="dW" if raises else "")


ERRATA = [erratum_variant(e) for e in errata.ERRATA]

VARIANTS = COMMON + ERRATA
