"""Hand-written models the harness must judge right whatever their habits: caches in the
course's layout, parameters referenced elsewhere, float32 arithmetic, values written in
place, costs as arrays; and updates that break the protocol are failures, not crashes."""

import numpy as np
import pytest

from compare import check_model
from examples.course_style import CourseNet, linear_activation_forward
from scratch import datasets
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument

FLOWER = datasets.load("flower", seed=1)


def check(model, activation="relu", data=FLOWER, **kwargs):
    return check_model(model, data, lr=0.3, iterations=kwargs.pop("iterations", 5),
                       activation=activation, output="sigmoid", **kwargs)


@pytest.mark.parametrize("seed, layers", [(2, [2, 3, 3, 1]), (3, [2, 3, 3, 1]), (4, [2, 3, 3, 1]),
                                          (0, [2, 4, 4, 4, 1]), (5, [2, 4, 4, 4, 1])])
def test_relu_kinks_are_found_without_z_in_the_caches(seed, layers):
    """The course's caches are ((A_prev, W, b), Z) tuples: the kinks come from the parameters."""
    report = check(CourseNet(layers, "relu", seed=seed), seed=seed)
    assert report.passed, report.diagnosis


class KeepsLayerList(CourseNet):
    """Correct; its forward reads (W, b) pairs that alias the arrays in params."""

    def __init__(self, layer_dims, activation="tanh", seed=1):
        super().__init__(layer_dims, activation, seed)
        L = len(self.params) // 2
        self.layers = [(self.params[f"W{l}"], self.params[f"b{l}"]) for l in range(1, L + 1)]

    def forward(self, X):
        A, caches = X, []
        for i, (W, b) in enumerate(self.layers):
            g = self.activation if i < len(self.layers) - 1 else "sigmoid"
            A, cache = linear_activation_forward(A, W, b, g)
            caches.append(cache)
        return A, caches


def test_finite_differences_move_the_arrays_the_model_reads():
    report = check(KeepsLayerList([2, 5, 3, 1]), "tanh")
    assert report.passed, report.diagnosis


class ComputesInFloat32(CourseNet):
    """Correct, in float32 whatever dtype its parameters have."""

    def __init__(self, layer_dims, activation="tanh", seed=1):
        super().__init__(layer_dims, activation, seed)
        self.params = {k: v.astype(np.float32) for k, v in self.params.items()}

    def forward(self, X):
        saved = self.params
        self.params = {k: v.astype(np.float32) for k, v in saved.items()}
        try:
            return super().forward(np.asarray(X, dtype=np.float32))
        finally:
            self.params = saved


def test_a_model_that_computes_in_float32_is_not_judged_by_float64_differences():
    report = check(ComputesInFloat32([2, 4, 1]), "tanh")
    assert report.passed, report.diagnosis
    assert "not run: the model computes in float32" in report.checks["finite_difference"].detail


class DZInPlace(CourseNet):
    """Correct, but its backward turns AL into dZ[L] in place (dZ = AL; dZ -= Y)."""

    def backward(self, AL, Y, caches):
        dZ = AL
        dZ -= Y                                       # dZ[L] = A[L] - Y, written into AL
        grads, L = {}, len(caches)
        for l in range(L, 0, -1):
            (A_prev, W, b), Z = caches[l - 1]
            if l < L:
                dZ = grads[f"dA{l}"] * (Z > 0)        # ReLU'
            m = A_prev.shape[1]
            grads[f"dW{l}"] = dZ @ A_prev.T / m
            grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True) / m
            grads[f"dA{l - 1}"] = W.T @ dZ
        return grads


def test_forward_values_are_kept_before_backward_writes_into_them():
    report = check(DZInPlace([2, 5, 1]))
    assert report.passed, report.diagnosis


class CourseCachesAsDicts(CourseNet):
    """Correct; dict caches where 'A' is the layer's input, as in the course's linear cache."""

    def forward(self, X):
        AL, caches = super().forward(X)
        return AL, [{"A": A_prev, "W": W, "b": b, "Z": Z} for (A_prev, W, b), Z in caches]

    def backward(self, AL, Y, caches):
        return super().backward(AL, Y, [((c["A"], c["W"], c["b"]), c["Z"]) for c in caches])


class CostAsArray(CourseNet):
    def cost(self, AL, Y):
        return np.array([[super().cost(AL, Y)]])


@pytest.mark.parametrize("model", [CourseCachesAsDicts([2, 6, 1]), CostAsArray([2, 6, 1])],
                         ids=["dict caches with A as input", "cost as a [1, 1] array"])
def test_unusual_but_correct_layouts_pass(model):
    report = check(model)
    assert report.passed, report.diagnosis


class DividesByTheFirstM(CourseNet):
    """Wrong: remembers m from the first batch it saw."""

    def backward(self, AL, Y, caches):
        grads = super().backward(AL, Y, caches)
        self.m = getattr(self, "m", AL.shape[1])
        return {k: g * AL.shape[1] / self.m if k[:2] in ("dW", "db") else g
                for k, g in grads.items()}


def test_a_remembered_m_is_caught_at_the_second_point_on_fewer_samples():
    report = check(DividesByTheFirstM([2, 6, 1]))
    assert not report.passed
    first = report.first_divergence
    assert (first["check"], first["where"]) == ("gradients", "at random parameters"), report.diagnosis


class DropsTheLastLayer(CourseNet):
    def update(self, grads, lr):
        L = len(self.params) // 2
        self.params = {f"{p}{l}": self.params[f"{p}{l}"] - lr * grads[f"d{p}{l}"]
                       for l in range(1, L) for p in "Wb"}


class AddsAKey(CourseNet):
    def update(self, grads, lr):
        for k in list(self.params):
            self.params[k] = self.params[k] - lr * grads["d" + k]
        self.params["step"] = np.zeros(1)


class StoresLists(CourseNet):
    def update(self, grads, lr):
        self.params = {k: (v - lr * grads["d" + k]).tolist() for k, v in self.params.items()}


@pytest.mark.parametrize("model, message", [
    (DropsTheLastLayer([2, 6, 3, 1]), "params holds ['W1', 'W2', 'b1', 'b2'], expected"),
    (AddsAKey([2, 6, 1]), "params holds ['W1', 'W2', 'b1', 'b2', 'step']"),
    (StoresLists([2, 6, 1]), "params['W1'] became list, expected a NumPy array"),
])
def test_an_update_that_breaks_params_fails_the_trajectory_and_says_how(model, message):
    report = check(model)
    assert not report.passed and report.first_divergence["check"] == "trajectory"
    assert "at step 0, after the scratch model's update, " + message in report.diagnosis


class ScalesItsInput(CourseNet):
    def forward(self, X):
        X *= 1.001
        return super().forward(X)


def test_the_callers_dataset_is_never_changed():
    data = datasets.load("moons", seed=0)
    kept = Dataset(data.name, data.X_train.copy(), data.Y_train.copy(), data.X_test.copy(),
                   data.Y_test.copy(), data.n_classes)
    check(ScalesItsInput([2, 4, 1]), data=data, iterations=2)
    for field in ("X_train", "Y_train", "X_test", "Y_test"):
        assert np.array_equal(getattr(data, field), getattr(kept, field))


# What the harness says a plug-in is, and what it says when its training breaks --------------

def test_a_plug_in_s_own_activation_attribute_is_used_not_a_silent_relu():
    """CourseNet says activation='tanh'; checking it without naming one must not assume ReLU."""
    report = check_model(CourseNet([2, 10, 5, 1], activation="tanh"), FLOWER, lr=0.3, iterations=100)
    assert report.passed, report.diagnosis
    assert "tanh" in report.description and "sigmoid output inferred from n[L] = 1" in report.description


class Unsaid(CourseNet):
    """A correct model that states neither its activation nor its output (no attributes)."""

    def __init__(self, layer_dims, seed=1):
        super().__init__(layer_dims, "tanh", seed)
        self.g = self.__dict__.pop("activation")

    def forward(self, X):
        from examples.course_style import L_model_forward
        return L_model_forward(X, self.params, self.g)

    def backward(self, AL, Y, caches):
        from examples.course_style import L_model_backward
        return L_model_backward(AL, Y, caches, self.g)


def test_an_unstated_hidden_activation_is_asked_for_by_name():
    with pytest.raises(InvalidArgument, match="^activation: the model has no `spec` and no `activation`"):
        check_model(Unsaid([2, 4, 1]), FLOWER, lr=0.3, iterations=5)
    assert check_model(Unsaid([2, 4, 1]), FLOWER, lr=0.3, iterations=5, activation="tanh").passed


def test_an_activation_that_contradicts_the_model_is_refused():
    with pytest.raises(InvalidArgument,
                       match="^activation: got 'relu', but the model says its activation is 'tanh'"):
        check_model(CourseNet([2, 4, 1], activation="tanh"), FLOWER, lr=0.3, iterations=5, activation="relu")


def test_the_course_cost_saturating_is_named_log_0_not_the_learning_rate():
    """The course's compute_cost takes log(A[L]); with ReLU on the flower A[L] reaches exactly
    1.0 (step 1917 at lr 0.3): the parameters are finite, so the learning rate is not the cause."""
    report = check_model(CourseNet([2, 10, 5, 1], activation="relu"), FLOWER, lr=0.3, iterations=2500)
    assert not report.passed
    assert "log(0): A[L] saturated to exactly 0 or 1 at sample" in report.error
    assert "compute the cost from the logits" in report.error
    assert "learning rate" not in report.error


class NaNForward(CourseNet):
    """Finite parameters, a forward that produces NaN at step 3 (a bug, not a learning rate)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def forward(self, X):
        self.calls += 1
        AL, caches = super().forward(X)
        return (AL * np.nan if self.calls > 8 else AL), caches


def test_nan_from_a_forward_names_the_forward_not_the_learning_rate():
    report = check_model(NaNForward([2, 4, 1], "tanh"), FLOWER, lr=0.3, iterations=20)
    assert not report.passed and "learning rate" not in report.error
    assert "A[L] of forward (the parameters are finite)" in report.error


def test_parameters_that_blow_up_are_told_to_lower_the_learning_rate():
    report = check_model(CourseNet([2, 10, 1], activation="tanh"), FLOWER, lr=1e4, iterations=200)
    assert not report.passed and "lower the learning rate (lr=10000)" in report.error


# Plain arrays in the notes' layout ------------------------------------------------------------

def test_plain_arrays_split_or_not_give_the_same_checks_as_a_dataset():
    d = FLOWER
    as_dataset = check(CourseNet([2, 4, 1], "tanh"), "tanh", data=d, iterations=20)
    split = check(CourseNet([2, 4, 1], "tanh"), "tanh", data=(d.X_train, d.Y_train, d.X_test, d.Y_test),
                  iterations=20)
    whole = check(CourseNet([2, 4, 1], "tanh"), "tanh", data=(d.X_train, d.Y_train), iterations=20)
    assert as_dataset.passed and split.passed and whole.passed
    assert split.final == as_dataset.final
    assert whole.final["scratch"]["accuracy"]["test"] is None
    assert whole.final["scratch"]["cost"] == as_dataset.final["scratch"]["cost"]


@pytest.mark.parametrize("data", [FLOWER.X_train, (FLOWER.X_train,), "flower", None])
def test_data_that_is_neither_a_dataset_nor_arrays_is_named(data):
    with pytest.raises(InvalidArgument, match="^data: got .*, expected a scratch.datasets.Dataset"):
        check(CourseNet([2, 4, 1], "tanh"), "tanh", data=data)
