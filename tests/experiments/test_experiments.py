"""The experiments of the notes' claims, in their quick configuration: each claim that is a
real property is asserted (on both sides), not just that the experiment ran."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

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
    hidden_size,
    loop_vs_vectorized,
    more_data,
    printed_errata,
    vanishing,
    zero_init,
)
from compare.experiments.probes import checkpoints
from compare.experiments.session import Session
from compare.proof.result import SIDES
from compare.proof.tolerances import tolerance
from compare.run import lock, rundir
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
    assert [line.split()[0] for line in out.splitlines() if line.strip()] == list(EXPERIMENTS)


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
    # the marker, the lock the run held on the folder, and one folder a variant
    assert sorted(p.name for p in folder.iterdir()) == sorted([rundir.MARKER, lock.LOCK,
                                                               *zero_init.VARIANTS])
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


# conclusions: each claim checked against the run's own numbers --------------------------------

def both(x) -> dict:
    return {"scratch": x, "torch": x}


def zero_init_facts(small_test: float) -> dict:
    def variant(rank: int, spread: float, test: float) -> dict:
        return {"rank": both({0: rank, 60: rank}), "spread": both(spread),
                "accuracy": {"train": both(0.5), "test": both(test)}}
    return {"zeros": variant(0, 0.0, 0.5), "constant": variant(1, 0.0, 0.475),
            "small": variant(2, 1.8, small_test)}


def test_zero_init_claims_small_init_learned_only_when_its_accuracy_says_so():
    cfg = zero_init.QUICK
    short = zero_init.conclusion(zero_init_facts(0.375), cfg)
    assert "broke the symmetry" in short and "reached test accuracy" not in short
    assert "0.375" in short and "too short" in short
    learned = zero_init.conclusion(zero_init_facts(0.85), cfg)
    assert "reached test accuracy 0.850." in learned and "too short" not in learned


def test_hidden_size_states_what_its_numbers_show():
    def conclusion(train: tuple, test: tuple) -> str:
        return hidden_size.conclusion({n: {"train": both(a), "test": both(b), "cost": both(0.2)}
                                       for n, a, b in zip((1, 3, 50), train, test, strict=True)})
    lower = conclusion((0.71, 0.93, 0.86), (0.62, 0.95, 0.85))
    assert "neither help nor hurt" not in lower and "scores lower on the test set" in lower
    assert "fit the training set's noise" in conclusion((0.71, 0.93, 0.99), (0.62, 0.95, 0.85))
    flat = conclusion((0.9, 0.9, 0.9), (0.9, 0.9, 0.9))
    assert "reaches only" not in flat and "straight line" not in flat
    assert "a handful of units is enough" not in conclusion((0.7, 0.8, 0.95), (0.6, 0.7, 0.95))


def activation_facts(steps: dict, cost: dict, test: dict) -> dict:
    return {g: {"steps": both(steps[g]), "cost": both(cost[g]), "train": both(0.8),
                "test": both(test[g])} for g in activations.ACTIVATIONS}


def test_activations_answer_says_where_sigmoid_still_scores_higher():
    cfg = activations.QUICK
    f = activation_facts({"sigmoid": 44, "tanh": 7, "relu": 13, "leaky_relu": 13},
                         {"sigmoid": 0.33, "tanh": 0.31, "relu": 0.29, "leaky_relu": 0.29},
                         {"sigmoid": 0.875, "tanh": 0.85, "relu": 0.85, "leaky_relu": 0.85})
    text = activations.conclusion({"moons": f}, cfg)
    assert "tanh beats sigmoid" in text and "sigmoid's test accuracy is higher on moons" in text
    never = activation_facts(dict.fromkeys(activations.ACTIVATIONS),
                             {"sigmoid": 0.6, "tanh": 0.55, "relu": 0.58, "leaky_relu": 0.59},
                             dict.fromkeys(activations.ACTIVATIONS, 0.6))
    text = activations.conclusion({"flower": never}, cfg)
    assert "the fastest was" not in text and "no activation reached it" in text


def vanishing_facts(sig_cost: float, sig_top: float, relu_cost: float) -> dict:
    def net(cost: float, norms: list[float], ratio: float) -> dict:
        return {"norms": both({0: norms, 19: norms}), "ratio": {0: both(ratio), 19: both(ratio)},
                "cost": both(cost), "test": both(0.8)}
    return {"sigmoid": net(sig_cost, [1e-9, sig_top], 4.5e-6), "relu": net(relu_cost, [0.7, 1], 0.7)}


def test_vanishing_says_training_stalled_only_when_its_numbers_show_it():
    short = vanishing.conclusion(vanishing_facts(0.6934, 2e-2, 0.66), [0, 10, 19], 11)
    assert "stalled" not in short and "fitted the class prior" not in short
    assert "too few" in short and "too short" in short and "reaches J" not in short
    full = vanishing.conclusion(vanishing_facts(0.6931, 3e-7, 0.074), [0, 10, 19], 11)
    assert "training has stalled" in full and "the ReLU net reaches J = 0.0740" in full


def dead_relu_facts(relu_grad: float, leaky_min: float) -> dict:
    def run(grad: float, least: float) -> dict:
        return {"fraction": both({0: 0.0, 20: 0.4}), "off_grad": both(grad),
                "off_grad_min": both(least), "off_seen": 5, "cost": both(0.2), "test": both(0.9)}
    return {("relu", 6.0): run(relu_grad, relu_grad), ("leaky_relu", 6.0): run(1e-3, leaky_min)}


def test_dead_relu_claims_exact_zeros_and_live_leaky_units_only_when_measured():
    cfg = dead_relu.QUICK
    held = dead_relu.conclusion(dead_relu_facts(0.0, 1e-5), cfg)
    assert "exactly 0" in held and "every such unit still got a gradient" in held
    broken = dead_relu.conclusion(dead_relu_facts(1e-6, 0.0), cfg)
    assert "gradient of exactly 0" not in broken and "never move again" not in broken
    assert "every such unit" not in broken and "no gradient at all" in broken


def test_the_dead_relu_probe_records_the_least_gradient_of_an_off_unit(result):
    for (g, _), f in result("dead-relu").facts.items():
        for side in SIDES:
            assert 0.0 <= f["off_grad_min"][side] <= f["off_grad"][side]
            assert (f["off_grad_min"][side] > 0) == (g == "leaky_relu")


def test_loop_vs_vectorized_calls_the_loop_slower_only_when_it_is():
    def facts(loop: float) -> dict:
        return {10: {"loop": loop, "vectorized": 1e-3, "torch": 1e-3, "diff": 0.0,
                     "diff_torch": 0.0, "identical": True}}
    assert "times slower" in loop_vs_vectorized.conclusion(facts(0.1), 1e-12)
    close = loop_vs_vectorized.conclusion(facts(1.2e-3), 1e-12)
    assert "times slower" not in close and "not clearly slower" in close


def more_data_facts(acc: dict[str, list[float]], train: float = 0.95) -> dict:
    sizes = (20, 50, 400)
    return {m: {k: {"test": both(v[i]), "train": both(train), "cost": both(0.3)}
                for k, v in acc.items()} for i, m in enumerate(sizes)}


def test_more_data_states_what_its_numbers_show():
    dip = more_data.conclusion(more_data_facts({"logistic": [0.53, 0.57, 0.49],
                                                "shallow": [0.75, 0.9, 0.95],
                                                "deep": [0.85, 0.98, 0.95]}))
    assert "keeps improving" not in dip and "not at every size" in dip and "near chance" in dip
    below = more_data.conclusion(more_data_facts({"logistic": [0.6, 0.5, 0.36],
                                                  "shallow": [0.75, 0.7, 0.5],
                                                  "deep": [0.85, 0.9, 0.92]}, train=0.51))
    assert "near chance" not in below and "never far above chance" in below
    assert "keeps improving" in below and "lower with more data" in below and "too short" in below


def test_errata_remarks_come_from_what_the_harness_said():
    e = errata.ERRATA[4]
    late = {"erratum": e, "quantity": "b1", "said": "trajectory: b1 at step 3", "diagnosis": ""}
    assert "at step 3" in printed_errata._remark(late) and "first step" not in printed_errata._remark(late)
    raised = {"erratum": e, "quantity": None, "said": "gradients: raised at x.py:1: `y`",
              "diagnosis": "gradients: the scratch model raised ZeroDivisionError"}
    assert "shapes" not in printed_errata._remark(raised)


def test_quick_conclusions_state_no_claim_their_own_numbers_contradict(result):
    zero = result("zero-init")
    small = zero.facts["small"]["accuracy"]["test"]["scratch"]
    if small < 0.6:
        assert "reached test accuracy" not in zero.conclusion and "too short" in zero.conclusion
    vanish = result("vanishing-gradients").facts
    if max(vanish["sigmoid"]["norms"]["scratch"][max(vanish["sigmoid"]["norms"]["scratch"])]) > 1e-4:
        assert "stalled" not in result("vanishing-gradients").conclusion.split(" Every step")[0]
    more = result("more-data")
    if max(f["logistic"]["test"]["scratch"] for f in more.facts.values()) - 0.5 > 0.1 or \
            min(f["logistic"]["test"]["scratch"] for f in more.facts.values()) < 0.4:
        assert "near chance" not in more.conclusion


# the proof's functions, the repository's own texts -------------------------------------------

def test_the_dead_relu_probe_reads_scratch_layers_through_the_proofs_layer_values(monkeypatch):
    from compare import adapter
    from compare.experiments import probes
    from compare.proof.protocol import ScratchSide
    from scratch.deep import DeepNet
    from torch_ref.models import Net
    calls = []
    real = dead_relu.layer_values
    monkeypatch.setattr(dead_relu, "layer_values", lambda caches: calls.append(1) or real(caches))
    net = DeepNet([2, 6, 1], activation="relu", init="he", seed=0)
    reference = Net(net.spec, seed=0)
    adapter.copy_params_to_torch(net.params, reference)
    X = np.random.default_rng(0).standard_normal((2, 30))                     # [n0, m]
    probe = dead_relu.DeadUnits(X, [0])
    probe.start(ScratchSide(net), reference)
    assert calls and probe.fraction["scratch"][0] == probe.fraction["torch"][0]
    assert not hasattr(probes, "scratch_layers") and not hasattr(probes, "copy_params")


def test_the_experiments_texts_point_only_inside_the_repository():
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "compare" / "experiments").glob("*.py")):
        text = path.read_text()
        assert "../" not in text and "GUIDE.md" not in text, path.name
        assert re.search(r"(?i)\bissue\b|#\d+\b", text) is None, path.name
    assert "`docs/NOTES.md`" in docs.INTRO
    notes = (root / "docs" / "NOTES.md").read_text()
    assert "\n## Formulas the notes print wrong\n" in notes       # #formulas-the-notes-print-wrong
    for module in (errata, printed_errata):
        assert "docs/NOTES.md#formulas-the-notes-print-wrong" in (module.__doc__ or "")


def test_dead_relu_numbers_do_not_depend_on_the_logs(tmp_path):
    logged = dead_relu.run(dataclasses.replace(QUICK, logdir=str(tmp_path), overwrite=True))
    plain = dead_relu.run(QUICK)
    for key, f in plain.facts.items():
        for name in ("off_grad", "off_grad_min", "off_seen", "fraction"):
            assert logged.facts[key][name] == f[name], (key, name)
