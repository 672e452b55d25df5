"""Broken copies of examples/course_functions.py: each one realistic learner mistake, made by
one textual substitution in the example's source (which must apply exactly once), with the
function the checker must name first and the likely cause it must give (None where no
cause is claimed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "course_functions.py"


@dataclass(frozen=True)
class Mistake:
    name: str                  # a short id for the test
    old: str                   # the text replaced (exactly once)
    new: str
    root: str                  # the function the report must list first
    cause: str | None          # a phrase its likely cause must contain
    follows: tuple[str, ...] = ()   # functions that must be reported as following from the root


MISTAKES = [
    Mistake("propagate-no-1/m", "dw = np.dot(X, (A - Y).T) / m", "dw = np.dot(X, (A - Y).T)",
            "propagate", "the 1/m is missing", ("optimize",)),
    Mistake("linear_backward-no-transpose", "dW = np.dot(dZ, A_prev.T) / m", "dW = np.dot(dZ, A_prev) / m",
            "linear_backward", "transpose", ("linear_activation_backward", "L_model_backward")),
    Mistake("linear_backward-keepdims", "db = np.sum(dZ, axis=1, keepdims=True) / m",
            "db = np.sum(dZ, axis=1) / m",
            "linear_backward", "keepdims", ("linear_activation_backward", "L_model_backward")),
    Mistake("linear_backward-db-axis-0", "db = np.sum(dZ, axis=1, keepdims=True) / m",
            "db = np.sum(dZ, axis=0, keepdims=True) / m", "linear_backward", "axis 0"),
    Mistake("relu_backward-at-0", "dZ[Z <= 0] = 0", "dZ[Z < 0] = 0", "relu_backward", "relu'(0)",
            ("linear_activation_backward", "L_model_backward")),
    Mistake("sigmoid_backward-Z-as-A", "    s = 1 / (1 + np.exp(-Z))\n    dZ = dA * s * (1 - s)",
            "    dZ = dA * Z * (1 - Z)", "sigmoid_backward", "as if it were A",
            ("linear_activation_backward", "L_model_backward")),
    Mistake("sigmoid_backward-at-A", "    s = 1 / (1 + np.exp(-Z))\n    dZ = dA * s * (1 - s)",
            "    s = 1 / (1 + np.exp(-sigmoid(Z)))\n    dZ = dA * s * (1 - s)", "sigmoid_backward",
            "at A instead of Z"),
    Mistake("compute_cost-summed", "    cost = -np.sum(logprobs) / m\n", "    cost = -np.sum(logprobs)\n",
            "compute_cost", "the 1/m is missing"),
    Mistake("update-plus-equals",
            'parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads',
            'parameters["W" + str(l)] += learning_rate * grads', "update_parameters", "gradient ascent"),
    Mistake("backward_propagation-db1-axis-0", "db1 = np.sum(dZ1, axis=1, keepdims=True) / m",
            "db1 = np.sum(dZ1, axis=0, keepdims=True) / m", "backward_propagation", "axis 0"),
    Mistake("linear_activation_forward-cache-order", "    cache = (linear_cache, activation_cache)\n",
            "    cache = (activation_cache, linear_cache)\n", "linear_activation_forward", "another order",
            ("L_model_forward",)),
    Mistake("L_model_forward-last-relu", 'parameters["b" + str(L)], "sigmoid")',
            'parameters["b" + str(L)], "relu")',
            "L_model_forward", "the last layer ReLU instead of sigmoid"),
    Mistake("sigmoid-sign", "    s = 1 / (1 + np.exp(-z))", "    s = 1 / (1 + np.exp(z))", "sigmoid",
            "the sign of the exponent", ("propagate", "forward_propagation", "linear_activation_forward",
                                         "L_model_forward", "predict (shallow)", "optimize")),
    Mistake("relu-in-place", "    A = np.maximum(0, Z)\n", "    A = Z\n    A[A < 0] = 0\n", "relu",
            "in place",
            ("linear_activation_forward", "L_model_forward")),
    Mistake("linear_forward-no-bias", "    Z = np.dot(W, A) + b\n", "    Z = np.dot(W, A)\n",
            "linear_forward",
            "b left out", ("linear_activation_forward", "L_model_forward")),
    Mistake("initialize_parameters_deep-rand", "np.random.randn(layer_dims[l], layer_dims[l - 1])",
            "np.random.rand(layer_dims[l], layer_dims[l - 1])", "initialize_parameters_deep", "uniform"),
    Mistake("initialize_parameters_deep-transposed", "np.random.randn(layer_dims[l], layer_dims[l - 1])",
            "np.random.randn(layer_dims[l - 1], layer_dims[l])", "initialize_parameters_deep", "transposed"),
    Mistake("initialize_parameters-no-0.01", "    W1 = np.random.randn(n_h, n_x) * 0.01\n",
            "    W1 = np.random.randn(n_h, n_x)\n", "initialize_parameters", "randn * 0.01"),
    Mistake("initialize_with_zeros-row", "    w = np.zeros((dim, 1))\n", "    w = np.zeros((1, dim))\n",
            "initialize_with_zeros", "transposed"),
    Mistake("layer_sizes-m", "    n_x = X.shape[0]\n", "    n_x = X.shape[1]\n", "layer_sizes", "X.shape[1]"),
    Mistake("forward_propagation-sigmoid-hidden", "    A1 = np.tanh(Z1)\n", "    A1 = sigmoid(Z1)\n",
            "forward_propagation", "sigmoid in the hidden layer", ("predict (shallow)",)),
    Mistake("backward_propagation-no-tanh-prime", "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))",
            "dZ1 = np.dot(W2.T, dZ2)", "backward_propagation", "tanh' left out"),
    Mistake("optimize-costs-every-iteration", "        if i % 100 == 0:\n            costs.append(cost)",
            "        costs.append(cost)\n        if i % 100 == 0:", "optimize", "every 100th"),
    Mistake("predict-probabilities", "    predictions = A2 > 0.5\n", "    predictions = A2\n",
            "predict (shallow)", "probabilities"),
    Mistake("L_model_backward-dAL-sign", "    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))\n",
            "    dAL = np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)\n", "L_model_backward", "sign flipped"),
    Mistake("L_model_backward-dAL-erratum", "    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))\n",
            "    dAL = AL - Y\n", "L_model_backward", "g' applied twice"),
    Mistake("linear_activation_backward-dA-as-dZ", "        dZ = relu_backward(dA, activation_cache)\n",
            "        dZ = dA\n", "linear_activation_backward", "dA passed to linear_backward as dZ",
            ("L_model_backward",)),
    Mistake("L_model_forward-loses-last-cache", "    caches.append(cache)\n    return AL, caches",
            "    return AL, caches", "L_model_forward", "one cache per layer"),
    Mistake("linear_backward-dA-over-m", "    dA_prev = np.dot(W.T, dZ)\n",
            "    dA_prev = np.dot(W.T, dZ) / m\n", "linear_backward", "divided by m once too often",
            ("linear_activation_backward", "L_model_backward")),
    Mistake("propagate-cost-no-minus", "    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m\n",
            "    cost = np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m\n", "propagate", "sign flipped",
            ("optimize",)),
    Mistake("compute_cost-logs-swapped", "np.multiply(np.log(AL), Y) + np.multiply(1 - Y, np.log(1 - AL))",
            "np.multiply(np.log(1 - AL), Y) + np.multiply(1 - Y, np.log(AL))", "compute_cost", "swapped"),
    Mistake("relu_backward-no-copy", "    dZ = np.array(dA, copy=True)\n", "    dZ = dA\n", "relu_backward",
            "changes its input dA in place"),
    Mistake("linear_activation_backward-relu-for-sigmoid",
            "        dZ = sigmoid_backward(dA, activation_cache)\n",
            "        dZ = relu_backward(dA, activation_cache)\n", "linear_activation_backward",
            "relu's derivative used for sigmoid", ("L_model_backward",)),
]


def broken_source(mistake: Mistake) -> str:
    """The example's source with `mistake` made; AssertionError unless its text occurs once."""
    source = EXAMPLE.read_text()
    count = source.count(mistake.old)
    assert count == 1, f"{mistake.name}: {mistake.old!r} occurs {count} times in {EXAMPLE.name}"
    return source.replace(mistake.old, mistake.new)
