"""The three scratch models: the interface, backward against central differences of their
own cost, the special cases that must coincide, prediction and training."""

import numpy as np
import pytest

import scratch
from scratch.errors import InvalidArgument
from tests.helpers import central_differences, jitter_biases, problem, rel_err

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu"]


def models(n_x=3, K=1):
    output = "sigmoid" if K == 1 else "softmax"
    yield scratch.LogisticRegression(n_x, K, output=output, init="xavier", seed=1)
    for g in ACTIVATIONS:
        yield scratch.ShallowNet(n_x, 5, K, activation=g, output=output, init="xavier", seed=2)
        yield scratch.DeepNet([n_x, 6, 4, 5, K], activation=g, output=output, init="xavier", seed=3)
    yield scratch.DeepNet([n_x, 4, 4, K], activation=["relu", "tanh"], output=output, init="he", seed=4)


@pytest.mark.parametrize("K", [1, 3])
def test_backward_matches_central_differences_of_the_cost(K):
    """Relative error <= 1e-7 (central differences resolve these gradients to ~1e-8)."""
    X, Y = problem(n_x=3, m=30, K=K)
    for model in models(3, K):
        jitter_biases(model)
        AL, caches = model.forward(X)
        grads = model.backward(AL, Y, caches)
        numeric = central_differences(model, X, Y)
        assert sorted(grads) == sorted(numeric), model
        for name in numeric:
            assert rel_err(grads[name], numeric[name]) <= 1e-7, (model, name)


def test_interface_shapes_and_names():
    X, Y = problem(n_x=3, m=7)
    net = scratch.DeepNet([3, 5, 2, 1], activation="tanh")
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p.shape for p in net.params.values()] == [(5, 3), (5, 1), (2, 5), (2, 1), (1, 2), (1, 1)]
    AL, caches = net.forward(X)
    assert AL.shape == (1, 7) and len(caches) == 3
    assert [c.Z.shape for c in caches] == [(5, 7), (2, 7), (1, 7)]
    assert caches[0].A_prev is X and caches[1].A_prev is caches[0].A
    grads = net.backward(AL, Y, caches)
    assert list(grads) == ["dW3", "db3", "dW2", "db2", "dW1", "db1"]
    assert all(grads["d" + k].shape == p.shape for k, p in net.params.items())
    full = net.backward(AL, Y, caches, intermediates=True)
    assert {"dZ3", "dZ2", "dZ1", "dA2", "dA1"} <= set(full)


def test_backward_intermediates_follow_the_notes():
    """dZ[L] = A[L] - Y and dA[l-1] = W[l]^T dZ[l] (dZ is m dJ/dZ, the notes' convention)."""
    X, Y = problem(n_x=2, m=9)
    net = scratch.DeepNet([2, 3, 1], activation="tanh", init="xavier")
    AL, caches = net.forward(X)
    g = net.backward(AL, Y, caches, intermediates=True)
    np.testing.assert_array_equal(g["dZ2"], AL - Y)
    np.testing.assert_allclose(g["dA1"], net.params["W2"].T @ g["dZ2"], rtol=1e-15)
    np.testing.assert_allclose(g["dZ1"], g["dA1"] * (1 - caches[0].A ** 2), rtol=1e-15)
    np.testing.assert_allclose(g["dW2"], g["dZ2"] @ caches[0].A.T / 9, rtol=1e-15)


@pytest.mark.parametrize("output, K", [("sigmoid", 1), ("softmax", 3)])
def test_one_layer_deep_net_is_logistic_regression(output, K):
    X, Y = problem(n_x=4, m=25, K=K)
    deep = scratch.DeepNet([4, K], output=output, init="xavier", seed=5)
    logistic = scratch.LogisticRegression(4, K, output=output, init="zeros")
    jitter_biases(deep)
    logistic.params = {k: v.copy() for k, v in deep.params.items()}
    for a, b in [(deep, logistic)]:
        ALa, ca = a.forward(X)
        ALb, cb = b.forward(X)
        assert a.cost(ALa, Y, ca) == b.cost(ALb, Y, cb)
        ga, gb = a.backward(ALa, Y, ca), b.backward(ALb, Y, cb)
        for k in ga:
            np.testing.assert_array_equal(ga[k], gb[k])


@pytest.mark.parametrize("g", ACTIVATIONS)
def test_two_layer_deep_net_is_the_shallow_net(g):
    X, Y = problem(n_x=3, m=20)
    deep = scratch.DeepNet([3, 6, 1], activation=g, init="xavier", seed=6)
    shallow = scratch.ShallowNet(3, 6, activation=g)
    jitter_biases(deep)
    shallow.params = {k: v.copy() for k, v in deep.params.items()}
    ALd, cd = deep.forward(X)
    ALs, cs = shallow.forward(X)
    assert deep.cost(ALd, Y, cd) == shallow.cost(ALs, Y, cs)
    gd, gs = deep.backward(ALd, Y, cd), shallow.backward(ALs, Y, cs)
    for k in gd:
        np.testing.assert_allclose(gd[k], gs[k], rtol=1e-15, atol=0)


def test_cost_from_logits_stays_finite_where_the_printed_formula_is_not():
    net = scratch.LogisticRegression(1)
    net.params["W1"][...] = 100.0
    X, Y = np.array([[10.0, -10.0]]), np.array([[0.0, 1.0]])     # confidently wrong: z = +-1000
    AL, caches = net.forward(X)
    assert net.cost(AL, Y, caches) == pytest.approx(1000.0, rel=1e-15)
    with np.errstate(divide="ignore"):
        assert net.cost(AL, Y) == np.inf                          # from A[L]: log(0)


def test_predict_and_accuracy():
    net = scratch.LogisticRegression(1, init="zeros")
    net.params["W1"][...] = 1.0
    X = np.array([[-2.0, -0.5, 0.5, 3.0]])
    np.testing.assert_array_equal(net.predict(X), [[0, 0, 1, 1]])
    assert net.accuracy(X, [[0, 1, 1, 1]]) == 0.75
    soft = scratch.LogisticRegression(1, 3, output="softmax")
    soft.params["W1"][...] = [[-1.0], [0.0], [1.0]]
    np.testing.assert_array_equal(soft.predict(np.array([[-5.0, 5.0]])), [[0, 2]])


def test_fit_lowers_the_cost_and_learns_the_flower():
    from scratch import datasets
    data = datasets.load("flower", seed=1)
    net = scratch.ShallowNet(2, 4, activation="tanh", seed=1)
    costs = scratch.fit(net, data.X_train, data.Y_train, lr=1.2, iterations=1000, progress=False)
    assert len(costs) == 1000
    assert costs[-1] < 0.35 < costs[0]
    assert net.accuracy(data.X_test, data.Y_test) > 0.85


def test_fit_with_mini_batches_visits_every_sample_each_epoch():
    from scratch.train import batch_order
    order = list(batch_order(10, 4, 6, seed=3))
    assert [len(i) for i in order] == [4, 4, 2, 4, 4, 2]
    assert sorted(np.concatenate(order[:3])) == list(range(10))
    assert sorted(np.concatenate(order[3:])) == list(range(10))
    assert list(batch_order(10, None, 2)) == [None, None]
    X, Y = problem(n_x=2, m=50)
    net = scratch.DeepNet([2, 4, 1], activation="tanh", init="xavier")
    costs = scratch.fit(net, X, Y, lr=0.1, iterations=30, batch_size=8, progress=False)
    assert len(costs) == 30 and all(np.isfinite(costs))


def test_fit_accepts_class_indices_for_softmax():
    X, _ = problem(n_x=2, m=30)
    labels = np.arange(30)[None, :] % 3
    net = scratch.DeepNet([2, 5, 3], activation="relu", output="softmax")
    costs = scratch.fit(net, X, labels, lr=0.5, iterations=200, progress=False)
    assert costs[-1] < costs[0]


def test_float32_model_computes_in_float32():
    X, Y = problem(n_x=3, m=10)
    net = scratch.DeepNet([3, 4, 1], dtype="float32")
    costs = scratch.fit(net, X, Y, lr=0.1, iterations=5, progress=False)
    assert all(p.dtype == np.float32 for p in net.params.values())
    AL, caches = net.forward(X.astype(np.float32))
    assert AL.dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.backward(AL, Y.astype(np.float32), caches).values())
    assert np.isfinite(costs).all()


def test_same_seed_same_model_bitwise():
    X, Y = problem()
    runs = []
    for _ in range(2):
        net = scratch.DeepNet([3, 5, 1], seed=11)
        scratch.fit(net, X, Y, lr=0.3, iterations=50, batch_size=16, seed=4, progress=False)
        runs.append(net.params)
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])


@pytest.mark.parametrize("build, match", [
    (lambda: scratch.DeepNet([3]), "at least two sizes"),
    (lambda: scratch.DeepNet([3, 0, 1]), r"layer_dims\[1\].*>= 1"),
    (lambda: scratch.DeepNet([3, 2.5, 1]), r"layer_dims\[1\].*integer"),
    (lambda: scratch.DeepNet([3, 4, 2]), "sigmoid output has one unit"),
    (lambda: scratch.DeepNet([3, 4, 1], output="softmax"), "at least 2 classes"),
    (lambda: scratch.DeepNet([3, 4, 1], activation="relux"), "did you mean 'relu'"),
    (lambda: scratch.DeepNet([3, 4, 1], init="hee"), "did you mean 'he'"),
    (lambda: scratch.DeepNet([3, 4, 4, 1], activation=["relu"]), "one per hidden layer"),
    (lambda: scratch.ShallowNet(2, n_h=-1), "n_h"),
    (lambda: scratch.ShallowNet(2, alpha=1.5), "alpha"),
    (lambda: scratch.LogisticRegression(2, seed=-1), "seed"),
    (lambda: scratch.LogisticRegression(2, dtype="float16"), "dtype"),
])
def test_bad_model_arguments_are_named(build, match):
    with pytest.raises(InvalidArgument, match=match):
        build()
