"""The precision audit: the float64 row is the truth to the trajectory bound, lower precisions
are measured (their errors ordered as their unit roundoffs are), CUDA-only rows say why they
did not run, every global torch setting is put back, and `nncompare precision` answers bad
usage in one line with exit 2."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import scratch
from compare.precision import audit as audit_module
from compare.precision import cli_main, numerics_environment, report
from compare.precision.audit import run_audit as audit
from compare.precision.regimes import REGIMES
from compare.proof.tolerances import Tolerance, tolerance
from scratch import datasets
from scratch.errors import TrainingDiverged

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def flower():
    return datasets.load("flower", seed=1)


@pytest.fixture(scope="module")
def logistic_audit(flower):
    """The well-conditioned case: logistic regression (a convex cost) at a modest lr."""
    model = scratch.LogisticRegression(2, init="zeros", seed=1)
    return audit(model, flower, lr=0.5, iterations=150, device=CPU)


def test_the_float64_row_is_the_truth_to_the_trajectory_bound(logistic_audit):
    bound = tolerance("float64", "cpu").trajectory
    c = logistic_audit.runs["float64"].curves
    assert len(c.params) == len(c.cost) == len(c.predictions) == 151      # states 0 .. 150
    assert max(c.params) <= bound and max(c.cost) <= bound
    assert max(c.predictions) == 0
    assert report.first_difference(c) is None


def test_lower_precisions_are_measured_and_ordered_as_their_unit_roundoffs(logistic_audit):
    runs = logistic_audit.runs
    u = {name: REGIMES[name].unit_roundoff for name in ("bfloat16", "float32", "float64")}
    assert u["bfloat16"] > u["float32"] > u["float64"]
    for state in (1, 10, 100, 150):
        errors = [runs[name].curves.params[state] for name in ("bfloat16", "float32", "float64")]
        assert errors[0] > errors[1] > errors[2], (state, errors)
    f32 = runs["float32"].curves.params[1]
    assert 1e-9 < f32 < 1e-5                              # a few float32 roundoffs, not zero
    assert 1e-5 < runs["bfloat16"].curves.params[1] < 1e-1


def test_cuda_only_rows_are_skipped_on_the_cpu_with_the_reason(logistic_audit):
    assert set(logistic_audit.runs) == {"float64", "float32", "bfloat16"}
    assert set(logistic_audit.skipped) == {"tf32", "float16"}
    assert all("CUDA" in why for why in logistic_audit.skipped.values())


def test_final_scores_agree_with_the_truth_to_each_precision(logistic_audit):
    truth = logistic_audit.truth
    assert logistic_audit.runs["float64"].final.cost == pytest.approx(truth.cost, rel=1e-12)
    assert logistic_audit.runs["float32"].final.cost == pytest.approx(truth.cost, rel=1e-5)
    assert logistic_audit.runs["bfloat16"].final.cost == pytest.approx(truth.cost, rel=1e-2)


def test_every_global_setting_is_restored(flower, monkeypatch):
    torch.backends.cuda.matmul.allow_tf32 = True             # something the float32 row turns off
    try:
        before = numerics_environment("cpu")
        model = scratch.DeepNet([2, 5, 1], seed=1)
        audit(model, flower, lr=0.3, iterations=3, device=CPU)
        assert numerics_environment("cpu") == before

        def broken(*args):
            raise RuntimeError("a logger that fails")
        with pytest.raises(RuntimeError):
            audit(scratch.DeepNet([2, 5, 1], seed=1), flower, lr=0.3, iterations=3, device=CPU,
                  log=broken)
        assert numerics_environment("cpu") == before
    finally:
        torch.backends.cuda.matmul.allow_tf32 = False


def test_numerics_environment_names_every_setting_that_decides_the_numbers():
    env = numerics_environment("cpu")
    for key in ("matmul_allow_tf32", "cudnn_allow_tf32", "float32_matmul_precision",
                "cudnn_deterministic", "deterministic_algorithms", "CUBLAS_WORKSPACE_CONFIG",
                "autocast_dtype", "device", "device_name"):
        assert key in env, key
    assert env["device"] == "cpu" and env["autocast_dtype"] == "bfloat16"
    json.dumps(env, allow_nan=False)


def test_a_diverging_truth_is_training_diverged(flower):
    with pytest.raises(TrainingDiverged):
        audit(scratch.DeepNet([2, 50, 50, 1], seed=1), flower, lr=1e6, iterations=50, device=CPU)


def test_the_table_and_the_json_report_what_was_measured(tmp_path, capsys):
    path = tmp_path / "p.json"
    rc = cli_main(["--model", "logistic", "--iterations", "12", "--no-log", "--no-progress",
                   "--json", str(path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "float64 (truth)" in out and "params err step 10" in out and "tf32: skipped" in out
    doc = json.loads(path.read_text())
    assert doc["passed"] and doc["iterations"] == 12 and doc["config"]["models"] == ["logistic"]
    rows = {r["precision"]: r for r in doc["rows"]}
    assert list(rows) == list(REGIMES)
    assert rows["tf32"]["skipped"] and "error_at" not in rows["tf32"]
    assert set(rows["float32"]["error_at"]) == {"0", "1", "10", "12"}
    assert rows["float64"]["error_at"]["1"]["params"] <= 1e-11
    assert doc["environment"]["float32_matmul_precision"] == torch.get_float32_matmul_precision()


def test_json_on_stdout_sends_the_table_to_stderr(capsys):
    assert cli_main(["--model", "logistic", "--iterations", "2", "--no-log", "--json", "-",
                     "--precisions", "float64"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rows"][0]["precision"] == "float64"
    assert "float64 (truth)" in captured.err


def test_a_judged_row_over_its_bound_exits_1(monkeypatch, capsys):
    monkeypatch.setattr(report, "tolerance", lambda dtype, device: Tolerance(1e-30, 1e-30, 1e-30))
    assert cli_main(["--model", "logistic", "--iterations", "2", "--no-log",
                     "--precisions", "float32"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_the_truth_diverging_exits_1(capsys):
    assert cli_main(["--layers", "2,50,50,1", "--lr", "1e6", "--iterations", "50", "--no-log"]) == 1
    assert "the float64 truth diverged" in capsys.readouterr().err


def test_one_tensorboard_run_per_precision_with_the_same_tags(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert cli_main(["--model", "shallow", "--iterations", "30", "--logdir", str(tmp_path / "runs"),
                     "--no-progress", "--json", str(path)]) == 0
    doc = json.loads(path.read_text())
    folder = tmp_path / "runs"
    [experiment] = [p for p in folder.iterdir() if p.name.startswith("precision-")]
    assert doc["logdir"] == str(experiment)
    runs = {p.name for p in experiment.iterdir() if p.is_dir()}
    assert runs == {"float64", "float32", "bfloat16", "scratch-float64"}
    for name in ("float64", "float32", "bfloat16"):
        acc = EventAccumulator(str(experiment / name), size_guidance={"scalars": 0})
        acc.Reload()
        assert set(acc.Tags()["scalars"]) == {"drift/params", "drift/cost", "drift/predictions"}
        params = {e.step: e.value for e in acc.Scalars("drift/params")}
        assert sorted(params) == list(range(31))
        row = next(r for r in doc["rows"] if r["precision"] == name)
        assert params[1] == pytest.approx(row["error_at"]["1"]["params"], rel=1e-6, abs=1e-30)
    truth = EventAccumulator(str(experiment / "scratch-float64"))
    truth.Reload()
    assert any(t.startswith("precision/report") for t in truth.Tags()["tensors"])


BAD = {
    "iterations 0": (["--iterations", "0"], "iterations: got 0"),
    "negative lr": (["--lr", "-1"], "lr: got -1"),
    "no such precision": (["--precisions", "float8"], "precisions: unknown name 'float8'"),
    "layers for logistic": (["--model", "logistic", "--layers", "2,4,1"],
                            "layers: --layers sizes the deep net"),
    "layers not numbers": (["--layers", "2,x,1"], "layers: got '2,x,1'"),
    "layers not the data's": (["--layers", "3,4,1"], "layers: got 3,4,1, expected the first size to be 2"),
    "unknown dataset": (["--dataset", "flowers"], "did you mean 'flower'"),
    "unknown model": (["--model", "deeep"], "model: unknown name 'deeep'"),
    "cuda where there is none": (["--device", "cuda"], "device: 'cuda' is not available"),
    "unknown option": (["--bogus"], "precision: unrecognized arguments: --bogus"),
    "not a number": (["--iterations", "many"], "precision: argument --iterations: invalid int value"),
    "empty logdir": (["--logdir", " "], "logdir: got ' '"),
}


@pytest.mark.parametrize("argv, message", BAD.values(), ids=BAD.keys())
def test_bad_usage_is_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    if "cuda" in argv and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.chdir(tmp_path)
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nncompare: error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "runs").exists()              # nothing created


def test_a_json_path_that_is_a_folder_is_refused_before_any_work(tmp_path, capsys):
    assert cli_main(["--json", str(tmp_path), "--no-log"]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_params_error_is_the_trajectory_measure():
    truth = {"W1": np.array([[2.0, -4.0]]), "b1": np.array([[0.0]])}
    off = {"W1": np.array([[2.0, -4.0 + 1e-3]]), "b1": np.array([[1e-3]])}
    assert audit_module.params_error(off, truth, lr=0.1) == pytest.approx(1e-3 / 4)
    assert audit_module.cost_error(0.5 + 1e-4, 0.5, 0.7) == pytest.approx(1e-4)
    assert math.isinf(audit_module.cost_error(math.nan, 0.5, 0.7))


@pytest.mark.cuda
def test_every_row_runs_on_cuda_and_float64_is_the_truth(flower):
    model = scratch.DeepNet([2, 10, 5, 1], seed=1)
    before = numerics_environment("cuda")
    found = audit(model, flower, lr=0.3, iterations=100, device=torch.device("cuda"))
    assert numerics_environment("cuda") == before
    assert set(found.runs) == set(REGIMES) and not found.skipped
    assert max(found.runs["float64"].curves.params[:11]) <= tolerance("float64", "cuda").trajectory
    assert found.runs["float32"].curves.params[1] <= tolerance("float32", "cuda").trajectory
    f32 = found.runs["float32"].curves.params[1]
    for name in ("bfloat16", "float16"):        # 8 and 11 bits against float32's 24
        assert found.runs[name].curves.params[1] > f32 > 0, name
    # TF32 is measured, not ordered: cuBLAS may keep a product this small off the tensor cores
    assert math.isfinite(found.runs["tf32"].curves.params[1]) and found.runs["tf32"].final is not None


@pytest.mark.cuda
def test_the_command_on_cuda_exits_0_with_tf32_and_float16_rows(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert cli_main(["--device", "cuda", "--iterations", "50", "--no-log", "--json", str(path)]) == 0
    doc = json.loads(path.read_text())
    assert all(r["skipped"] is None for r in doc["rows"])
    assert doc["environment"]["device_name"] == torch.cuda.get_device_name(0)


@pytest.mark.cuda
def test_the_harness_agrees_on_mnist_on_cuda_in_both_dtypes():
    from compare.proof.harness import check_model

    data = datasets.load("mnist_binary", seed=1)
    for dtype in ("float64", "float32"):
        net = scratch.DeepNet([784, 20, 7, 5, 1], init="xavier", seed=1, dtype=dtype)
        found = check_model(net, data, lr=0.0075, iterations=20, device="cuda", fd_max_entries=200)
        assert found.passed, (dtype, found.diagnosis)
