"""The catalogue: every function of the course's three exercises that is checked, in the order
they are checked (the functions others call come first), and the exercises they belong to.

    logistic   sigmoid, initialize_with_zeros, propagate, optimize, predict(w, b, X)
    shallow    layer_sizes, initialize_parameters, forward_propagation, compute_cost,
               backward_propagation, update_parameters, predict(parameters, X)
    deep       sigmoid, relu, sigmoid_backward, relu_backward, initialize_parameters,
               initialize_parameters_deep, linear_forward, linear_activation_forward,
               L_model_forward, compute_cost, linear_backward, linear_activation_backward,
               L_model_backward, update_parameters

Names the exercises share are one contract that serves both (sigmoid: an array or (A, cache);
compute_cost: 2 or 3 arguments; update_parameters: 2 layers, and L with the deep exercise),
except predict, which is told apart by its arguments: (w, b, X) or (parameters, X).
"""

from __future__ import annotations

from compare.functions import activations, backprop, deep, initializers, logistic, planar
from compare.functions.contract import EXERCISES, Contract

CONTRACTS: tuple[Contract, ...] = (
    *activations.CONTRACTS, *logistic.CONTRACTS, *initializers.CONTRACTS[:1], *planar.CONTRACTS,
    *initializers.CONTRACTS[1:], *deep.CONTRACTS, *backprop.CONTRACTS,
)
NAMES = tuple(dict.fromkeys(c.name for c in CONTRACTS))

# names of one exercise only: their presence says which exercises a namespace holds
MARKERS = {e: {c.name for c in CONTRACTS if c.exercises == (e,) and c.name != "predict"} for e in EXERCISES}


def of(exercises: tuple[str, ...]) -> list[Contract]:
    """The contracts of `exercises`, in checking order."""
    return [c for c in CONTRACTS if set(c.exercises) & set(exercises)]
