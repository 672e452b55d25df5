"""The experiments of the notes' claims, in their quick configuration: each claim that is a
real property is asserted (on both sides), not just that the experiment ran."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from compare import cli as nncompare
from compare.cli import experiment as cli
from compare.experiments import (
    EXPERIMENTS,
    ExperimentFailed,
    Settings,
    activations,
    dead_relu,
    docs,
    errata,
    get,
    loop_vs_vectorized,
    more_data,
    printed_errata,
    zero_init,
)
from compare.experiments.probes import checkpoints
from compare.experiments.session import Session
from compare.proof.result import SIDES
from compare.proof.tolerances import tolerance
from compare.run import rundir
from scratch import datasets
from scratch.errors import InvalidArgument
from scratch.shallow import ShallowNet

QUICK = Settings(quick=True, seed=1, logdir=None, progress=False)


@pytest.fixture(scope="module")
def result():
    """result(name): the experiment's quick run, run once per module."""
    cache = {}

    def get_result(name: str):
        if name not in cache:
            cache[name] = EXPERIMENTS[name].run(QUICK)
        return cache[name]
    return get_result


def same_on_both_sides(values: dict) -> None:
    assert values["scratch"] == pytest.approx(values["torch"], rel=1e-9, abs=1e-12)


# 1. zero-init -------------------------------------------------------------------------------

def test_zero_and_constant_init_keep_hidden_units_identical_on_both_sides(result):
    facts = result("zero-init").facts
    for variant, rank in (("zeros", 0), ("constant", 1)):
        for side in SIDES:
            assert facts[variant]["spread"][side] <= zero_init.SYMMETRY_TOL
            assert set(facts[variant]["rank"][side].values()) == {rank}
            assert abs(facts[variant]["accuracy"]["test"][side] - 0.5) <= 0.1   # near chance


def test_small_init_breaks_the_symmetry(result):
    small = result("zero-init").facts["small"]
    for side in SIDES:
        assert small["spread"][side] > 0.1
        assert set(small["rank"][side].values()) == {2}            # W1 [4, 2]: full rank


def test_unit_spread_sees_one_unit_that_differs():
    net = zero_init.build("constant", zero_init.QUICK, n_x=2, seed=0)
    assert zero_init.unit_spread(net.params) == 0.0
    net.params["W2"][0, 3] += 1e-9                                    # unit 4 leaves the others
    assert zero_init.unit_spread(net.params) > zero_init.SYMMETRY_TOL


# 2. hidden-size -----------------------------------------------------------------------------

def test_hidden_size_one_unit_fits_the_flower_worse_than_five(result):
    facts = result("hidden-size").facts
    assert sorted(facts) == [1, 2, 3, 4, 5, 20, 50]
    for f in facts.values():
        for key in ("train", "test", "cost"):
            same_on_both_sides(f[key])
    assert facts[1]["train"]["scratch"] < facts[5]["train"]["scratch"] - 0.1


# 3. activations -----------------------------------------------------------------------------

def test_tanh_reaches_the_threshold_before_sigmoid_on_both_sets(result):
    facts = result("activations").facts
    assert set(facts) == {"flower", "moons"}
    for per_g in facts.values():
        assert set(per_g) == set(activations.ACTIVATIONS)
        for f in per_g.values():
            assert f["steps"]["scratch"] == f["steps"]["torch"]
            same_on_both_sides(f["cost"])
        assert activations.tanh_beats_sigmoid(per_g)


def test_steps_to_counts_updates_before_the_threshold():
    assert activations.steps_to([0.9, 0.6, 0.3, 0.2], 0.3) == 2
    assert activations.steps_to([0.9, 0.6], 0.3) is None


# 4. vanishing gradients ---------------------------------------------------------------------

def test_sigmoid_gradient_vanishes_towards_the_first_layer_and_relu_does_not(result):
    facts = result("vanishing-gradients").facts
    for side in SIDES:
        sigmoid = facts["sigmoid"]["norms"][side][0]                 # ||dW[l]|| at init, l = 1..L
        assert len(sigmoid) >= 10
        assert facts["sigmoid"]["ratio"][0][side] < 1e-3
        assert facts["relu"]["ratio"][0][side] > 0.1
        # sigmoid' <= 1/4: the norm grows layer by layer towards the output
        assert all(a < b for a, b in zip(sigmoid, sigmoid[1:], strict=False))
    for g in ("sigmoid", "relu"):
        for t, norms in facts[g]["norms"]["scratch"].items():
            np.testing.assert_allclose(norms, facts[g]["norms"]["torch"][t], rtol=1e-9)


# 5. dead ReLUs ------------------------------------------------------------------------------

def test_a_dead_relu_gets_exactly_zero_gradient_and_a_leaky_one_does_not(result):
    facts = result("dead-relu").facts
    relu = [f for (g, _), f in facts.items() if g == "relu"]
    leaky = [f for (g, _), f in facts.items() if g == "leaky_relu"]
    assert relu and leaky
    for f in relu:
        assert f["off_seen"] > 0                    # the property was exercised
        assert f["off_grad"] == {"scratch": 0.0, "torch": 0.0}
    for f in leaky:
        assert f["off_seen"] > 0
        assert f["off_grad"]["scratch"] > 0 and f["off_grad"]["torch"] > 0
    for f in facts.values():
        assert f["fraction"]["scratch"] == f["fraction"]["torch"]


def test_the_high_learning_rate_kills_relu_units(result):
    facts = result("dead-relu").facts
    end = dead_relu.QUICK.iterations
    for (g, _), f in facts.items():
        if g == "relu":
            assert f["fraction"]["scratch"][end] > f["fraction"]["scratch"][0] + 0.2


# 6. loop vs vectorized ----------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_the_loop_of_section_3_2_equals_the_vectorized_forward(activation):
    net = ShallowNet(3, 5, activation=activation, init="xavier", seed=3)
    net.params["b1"][...] = np.arange(5)[:, None] * 0.1
    X = np.random.default_rng(0).standard_normal((3, 37))                       # [n_x, m]
    A2_loop = loop_vs_vectorized.forward_loop(net.params, net.g[0].forward, net.g_out.forward, X)
    np.testing.assert_allclose(A2_loop, net.forward(X)[0], rtol=1e-12, atol=0)


def test_loop_vs_vectorized_reports_agreement_and_speed(result):
    facts = result("loop-vs-vectorized").facts
    tol = tolerance("float64", "cpu").forward
    for f in facts.values():
        assert f["diff"] <= tol and f["diff_torch"] <= tol
        assert f["loop"] > 0 and f["vectorized"] > 0                # measured; never compared


# 7. more data -------------------------------------------------------------------------------

def test_logistic_regression_stays_near_chance_where_the_deep_net_learns(result):
    facts = result("more-data").facts
    for per_model in facts.values():
        for f in per_model.values():
            same_on_both_sides(f["test"])
        assert per_model["logistic"]["test"]["scratch"] < 0.65                 # a line, circles
    largest = max(facts)
    assert facts[largest]["deep"]["test"]["scratch"] > \
        facts[largest]["logistic"]["test"]["scratch"] + 0.2


def test_more_data_subsets_are_nested_and_share_the_test_set():
    pool = datasets.load("gaussian_quantiles", seed=1, m=200)
    order = np.random.default_rng(0).permutation(pool.X_train.shape[1])
    small, large = more_data.subset(pool, 10, order), more_data.subset(pool, 50, order)
    np.testing.assert_array_equal(small.X_train, large.X_train[:, :10])
    assert small.X_test is pool.X_test and large.Y_test is pool.Y_test


# 8. errata ----------------------------------------------------------------------------------

def test_every_printed_formula_fails_named_and_its_correction_passes(result):
    facts = result("errata").facts["errata"]
    assert len(facts) == len(errata.ERRATA)
    for f in facts:
        assert f["printed_failed"], f["erratum"].printed
        assert f["matches"], (f["erratum"].printed, f["said"])
        assert f["corrected_passed"], f["erratum"].printed


def test_errata_matching_rejects_the_wrong_quantity():
    e = errata.ERRATA[0]                                                          # names dZ1
    assert printed_errata.matches(e, "dZ1", "gradients: dZ1")
    assert not printed_errata.matches(e, "dW1", "gradients: dW1")
    assert not printed_errata.matches(e, None, "forward: raised at x.py:1: `Z = W @ A`")


# the runner, the command line, the docs -----------------------------------------------------

def test_a_run_where_the_sides_disagree_stops_the_experiment():
    data = datasets.load("flower", seed=1)
    threads = torch.get_num_threads()
    printed = errata.build(errata.ERRATA[0], data.n_x)
    with pytest.raises(ExperimentFailed, match="disagree: .*dZ1"):
        with Session("test", QUICK, total_steps=2) as session:
            session.train(printed, data, variant="printed", lr=1.2, iterations=2)
    assert torch.get_num_threads() == threads


def test_checkpoints():
    assert checkpoints(2000) == [0, 1, 10, 100, 1000, 2000]
    assert checkpoints(1) == [0, 1]


def test_list_names_every_experiment(capsys):
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXPERIMENTS)
    assert len(EXPERIMENTS) == 8


def test_an_unknown_name_suggests_the_closest():
    with pytest.raises(InvalidArgument, match="did you mean 'zero-init'"):
        get("zero-innit")
    with pytest.raises(InvalidArgument, match="give a name or 'all'"):
        cli.main([])


def test_nncompare_reports_bad_usage_in_one_line_with_exit_2(capsys):
    assert nncompare.main(["experiment", "hiden-size"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean 'hidden-size'" in err


def test_a_failed_experiment_exits_1_and_writes_no_docs(monkeypatch, tmp_path, capsys):
    def fail(settings):
        raise ExperimentFailed("the two implementations disagree")
    monkeypatch.setitem(EXPERIMENTS, "errata", dataclasses.replace(EXPERIMENTS["errata"], run=fail))
    path = tmp_path / "E.md"
    assert cli.main(["errata", "--no-log", "--no-progress", "--write-docs", str(path)]) == 1
    assert "errata FAILED" in capsys.readouterr().err
    assert not path.exists()


def test_write_docs_holds_each_experiments_table_and_command(tmp_path, capsys):
    path = tmp_path / "docs" / "EXPERIMENTS.md"
    old = os.umask(0o027)
    try:
        assert cli.main(["errata", "loop-vs-vectorized", "--quick", "--no-log", "--no-progress",
                         "--write-docs", str(path)]) == 0
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640                  # as open() would, not 0o600
    text = path.read_text()
    assert "`nncompare experiment loop-vs-vectorized errata --quick --write-docs" in text
    assert "## 1. The per-sample loop against the vectorized forward pass (§3.2)" in text
    assert "**Command.** `nncompare experiment errata --quick`" in text
    assert "| §2.3 | `dL/da = -y/a - (1-y)/(1-a)` |" in text
    assert f"(#{docs.anchor(2, EXPERIMENTS['errata'].title, 'errata')})" in text
    assert "== errata" in capsys.readouterr().out


def test_each_run_is_logged_for_both_sides_with_the_experiments_own_quantities(tmp_path):
    settings = dataclasses.replace(QUICK, logdir=str(tmp_path), overwrite=True)
    result = zero_init.run(settings)
    folder = tmp_path / "exp-zero-init"
    assert result.logs == str(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([rundir.MARKER, *zero_init.VARIANTS])
    for side in SIDES:
        events = EventAccumulator(str(folder / "constant" / side), size_guidance={"scalars": 0})
        events.Reload()
        ranks = events.Scalars("symmetry/w1_rank")
        assert [e.step for e in ranks] == list(range(zero_init.QUICK.iterations + 1))
        assert {e.value for e in ranks} == {1.0}
        assert "loss/train" in events.Tags()["scalars"]
    assert (folder / "small" / "diff").is_dir()


def test_overwrite_needs_the_logs():
    with pytest.raises(InvalidArgument, match="--overwrite needs the logs"):
        cli.main(["zero-init", "--no-log", "--overwrite"])


def test_list_takes_no_names():
    with pytest.raises(InvalidArgument, match="--list takes no names, got 'extra'"):
        cli.main(["--list", "extra"])


@pytest.mark.parametrize("path, message", [
    ("", "write-docs: got '', expected a file path"),
    ("-", "write-docs: got '-', expected a file path"),
    (".", "write-docs: . is a folder, expected a file path"),
    (__file__ + "/E.md", f"write-docs: cannot write {__file__}/E.md: {__file__} is not a folder"),
])
def test_a_bad_write_docs_path_is_refused_before_any_experiment_runs(monkeypatch, path, message):
    def never(settings):
        raise AssertionError("an experiment ran")
    monkeypatch.setitem(EXPERIMENTS, "errata", dataclasses.replace(EXPERIMENTS["errata"], run=never))
    with pytest.raises(InvalidArgument) as error:
        cli.main(["errata", "--no-log", "--no-progress", "--write-docs", path])
    assert str(error.value).startswith(message)


def test_overwrite_refuses_a_folder_that_is_not_an_experiments_run(monkeypatch, tmp_path):
    def never(settings):
        raise AssertionError("an experiment ran")
    monkeypatch.setitem(EXPERIMENTS, "errata", dataclasses.replace(EXPERIMENTS["errata"], run=never))
    (tmp_path / "exp-errata").mkdir()
    (tmp_path / "exp-errata" / "notes.txt").write_text("mine")
    with pytest.raises(InvalidArgument, match="exp-errata is not an nncompare run"):
        cli.main(["errata", "--logdir", str(tmp_path), "--overwrite", "--no-progress"])
    assert (tmp_path / "exp-errata" / "notes.txt").read_text() == "mine"
    assert nncompare.main(["experiment", "errata", "--logdir", str(tmp_path), "--overwrite"]) == 2
