"""A deep network written the way the course's assignment writes it: functions
(`L_model_forward`, `compute_cost`, `L_model_backward`, ...) over a parameter dict,
wrapped in a small class that follows the plug-in protocol (`compare.proof.protocol`).

Check it against the torch reference:

    nncompare --scratch-impl examples.course_style:CourseNet --layers 2,10,5,1
    nncompare --scratch-impl examples.course_style:CourseNet --layers 2,10,5,1 --activation tanh

Only `params`, `forward`, `cost` and `backward` are needed. Its caches are the
assignment's ((A_prev, W, b), Z) tuples, so the forward check compares A[L] and
the cost (not every layer); its grads hold dA[l] as well as dW and db, so those
are compared too.
"""

import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-np.clip(Z, -500, 500))), Z


def relu(Z):
    return np.maximum(0, Z), Z


def tanh(Z):
    return np.tanh(Z), Z


def sigmoid_backward(dA, Z):
    s = 1 / (1 + np.exp(-np.clip(Z, -500, 500)))
    return dA * s * (1 - s)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def tanh_backward(dA, Z):
    return dA * (1 - np.tanh(Z) ** 2)


FORWARD = {"sigmoid": sigmoid, "relu": relu, "tanh": tanh}
BACKWARD = {"sigmoid": sigmoid_backward, "relu": relu_backward, "tanh": tanh_backward}


def initialize_parameters_deep(layer_dims, seed):
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) \
            / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b
    A, activation_cache = FORWARD[activation](Z)
    return A, ((A_prev, W, b), activation_cache)


def L_model_forward(X, parameters, activation):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)],
                                             activation)
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)],
                                          "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches, activation):
    grads = {}
    L = len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    linear_cache, Z = caches[L - 1]
    dA_prev, grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(
        sigmoid_backward(dAL, Z), linear_cache)
    grads["dA" + str(L - 1)] = dA_prev
    for l in reversed(range(L - 1)):
        linear_cache, Z = caches[l]
        dA_prev, grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = linear_backward(
            BACKWARD[activation](grads["dA" + str(l + 1)], Z), linear_cache)
        grads["dA" + str(l)] = dA_prev
    return grads


class CourseNet:
    """The plug-in: the assignment's functions behind `params`, `forward`, `cost`, `backward`."""

    def __init__(self, layer_dims, activation="relu", seed=1):
        self.activation = activation
        self.params = initialize_parameters_deep(layer_dims, seed)

    def forward(self, X):
        return L_model_forward(X, self.params, self.activation)

    def cost(self, AL, Y):
        return compute_cost(AL, Y)

    def backward(self, AL, Y, caches):
        return L_model_backward(AL, Y, caches, self.activation)
