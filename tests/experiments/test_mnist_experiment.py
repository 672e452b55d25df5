"""The `mnist` experiment (§4's application on real digits), quick configuration: both sides agree,
the test cost is each side's own, and the conclusion states only what its numbers show."""

from __future__ import annotations

import pytest

from compare.experiments import EXPERIMENTS, Settings, mnist
from compare.proof.result import SIDES
from scratch import datasets

QUICK = Settings(quick=True, seed=1, logdir=None, progress=False)


@pytest.fixture(scope="module")
def result():
    return EXPERIMENTS["mnist"].run(QUICK)


def test_the_three_networks_of_the_application_train_on_both_sides(result):
    assert list(result.facts) == ["two-layer", "L-layer", "L-layer-10"]
    assert result.facts["two-layer"]["layers"] == [784, 7, 1]
    assert result.facts["L-layer"]["layers"] == [784, 20, 7, 5, 1]
    assert result.facts["L-layer-10"]["layers"] == [784, 20, 7, 5, 10]
    for f in result.facts.values():
        for key in ("cost", "train", "test", "test_cost"):
            assert f[key]["scratch"] == pytest.approx(f[key]["torch"], rel=1e-9), key
    assert len(result.tables[0].rows) == 3


def test_the_baselines_are_the_majority_class_of_the_test_split(result):
    assert result.facts["two-layer"]["baseline"] == pytest.approx(0.9)      # 'not an 8'
    assert result.facts["L-layer-10"]["baseline"] == pytest.approx(0.1)


def test_the_quick_run_uses_a_subset_of_the_training_split_and_the_whole_test_split(result):
    assert "m_train = 400, m_test = 1000" in result.setup
    data = mnist.load("mnist", 1, 400)
    assert data.X_train.shape == (784, 400) and data.X_test.shape == (784, 1000)


def test_the_conclusion_states_the_measured_numbers(result):
    text = result.conclusion
    for key in ("two-layer", "L-layer", "L-layer-10"):
        assert f"{result.facts[key]['test']['scratch']:.3f}" in text
    assert f"'not {datasets.MNIST_DIGIT}' scores 0.900" in text
    two, deep = (result.facts[k]["test"]["scratch"] for k in ("two-layer", "L-layer"))
    if deep > two + mnist.CLEAR:
        assert "the L-layer net scores" in text
    elif deep < two - mnist.CLEAR:
        assert "the 2-layer net scores" in text
    else:
        assert "within" in text


@pytest.mark.parametrize("two, deep, words", [
    (0.95, 0.97, "the L-layer net scores 0.020 higher"),
    (0.97, 0.95, "the 2-layer net scores 0.020 higher"),
    (0.95, 0.955, "within 0.01 of each other"),
])
def test_the_comparison_follows_the_numbers(two, deep, words):
    assert words in mnist._compare(two, deep)


def test_the_test_cost_probe_matches_each_sides_own_cost():
    from compare import adapter
    from compare.proof.protocol import ScratchSide
    from scratch.deep import DeepNet
    from torch_ref.models import Net

    data = mnist.load("mnist_binary", 1, 100)
    net = DeepNet([784, 7, 1], init="small", seed=1)
    reference = Net(net.spec, seed=1)
    adapter.copy_params_to_torch(net.params, reference)
    cost = mnist.test_cost(ScratchSide(net), reference, data, "sigmoid")
    AL, caches = net.forward(data.X_test)
    assert cost["scratch"] == net.cost(AL, data.Y_test, caches)
    assert set(cost) == set(SIDES) and cost["torch"] == pytest.approx(cost["scratch"], rel=1e-12)
