"""nncompare from the outside: the main job, its JSON report, exit codes, and bad usage
answered in one line with no traceback and no run folder left behind."""

import json
import subprocess
import sys

import pytest

from compare.cli import main
from tests.tb_helpers import read


def nncompare(*args, cwd=None, timeout=300):
    """Run `python -m compare ARGS` in a fresh process; (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "compare", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def test_main_job_in_small_prints_the_table_and_writes_the_documented_json(tmp_path):
    out = tmp_path / "report.json"
    code, stdout, stderr = nncompare("--iterations", "30", "--no-progress",
                                     "--logdir", str(tmp_path / "runs"), "--json", str(out))
    assert code == 0, stderr
    for model in ("logistic", "shallow", "deep"):
        assert f"\n{model} " in stdout and f"{model}: " in stdout
    assert "all checks agree" in stdout and "Traceback" not in stderr
    report = json.loads(out.read_text())
    assert report["passed"] is True
    assert [m["model"] for m in report["models"]] == ["logistic", "shallow", "deep"]
    for m in report["models"]:
        assert set(m) >= {"model", "passed", "first_divergence", "max_rel_err", "final"}
        assert m["passed"] and m["first_divergence"] is None
        assert set(m["max_rel_err"]) == {"forward", "gradients", "finite_difference", "trajectory"}
        assert max(m["max_rel_err"][c] for c in ("forward", "gradients", "trajectory")) <= 1e-12
        for side in ("scratch", "torch"):
            assert set(m["final"][side]) >= {"cost", "accuracy"}
            assert set(m["final"][side]["accuracy"]) == {"train", "test"}
        assert m["final"]["scratch"]["accuracy"] == m["final"]["torch"]["accuracy"]
    assert report["dataset"]["name"] == "flower" and report["environment"]["dtype"] == "float64"


def test_a_failing_model_exits_1_and_names_the_divergence(tmp_path):
    out = tmp_path / "r.json"
    code, stdout, _ = nncompare("--scratch-impl", "tests.broken_variants:SumCost", "--layers", "2,6,1",
                                "--iterations", "5", "--no-progress", "--no-log", "--json", str(out))
    assert code == 1
    model = json.loads(out.read_text())["models"][0]
    assert not model["passed"]
    assert (model["first_divergence"]["check"], model["first_divergence"]["quantity"]) == ("forward", "cost")
    assert "cost differs" in stdout


def test_the_plug_in_example_passes_and_is_logged(tmp_path):
    """CourseNet's backward also returns dA and dZ: the logs chart the parameters' gradients."""
    code, stdout, stderr = nncompare("--scratch-impl", "examples.course_style:CourseNet", "--layers",
                                     "2,6,3,1", "--activation", "tanh", "--iterations", "20",
                                     "--no-progress", "--logdir", str(tmp_path), "--experiment", "plug")
    assert code == 0, stdout + stderr
    assert "CourseNet" in stdout and "all checks agree" in stdout
    tags = read(tmp_path / "plug" / "CourseNet" / "scratch").Tags()["scalars"]
    assert {f"grad_norm/{p}{l}" for p in "Wb" for l in (1, 2, 3)} <= set(tags)
    assert not [t for t in tags if t.startswith(("grad_norm/A", "grad_norm/Z"))]


BAD_USAGE = [
    (["--lr", "-1"], "lr: got -1.0"),
    (["--lr", "nan"], "lr: got nan"),
    (["--lr", "abc"], "argument --lr: invalid float value: 'abc'"),
    (["--iterations", "0"], "iterations: got 0"),
    (["--batch-size", "0"], "batch_size: got 0"),
    (["--batch-size", "100000"], "batch_size: got 100000, expected at most m = 320"),
    (["--seed", "-3"], "seed: got -3"),
    (["--layers", "2,0,1", "--model", "deep"], "layers[1]: got 0"),
    (["--layers", "2,x,1"], "layers: got '2,x,1', expected comma-separated integers"),
    (["--layers", "3,4,1", "--model", "deep"], "expected the first size to be 2"),
    (["--layers", "2"], "at least two sizes"),
    (["--hidden-units", "0", "--model", "shallow"], "hidden_units: got 0"),
    (["--activation", "relux"], "did you mean 'relu'"),
    (["--init", "xavir"], "did you mean 'xavier'"),
    (["--model", "deeep"], "did you mean 'deep'"),
    (["--dataset", "flowers"], "did you mean 'flower'"),
    (["--output", "softmaxx"], "did you mean 'softmax'"),
    (["--dataset", "digits", "--output", "sigmoid"], "digits set has 10 classes"),
    (["--alpha", "1.5", "--activation", "leaky_relu"], "alpha: got 1.5"),
    (["--dtype", "float16"], "dtype: got 'float16'"),
    (["--device", "cuda:9"], "device: 'cuda:9' is not available on this machine"),
    (["--device", "mps"], "device: 'mps' is not available"),
    (["--device", "tpu"], "device: got 'tpu'"),
    (["--scratch-impl", "nosuchmodule:Net"], "cannot import 'nosuchmodule'"),
    (["--scratch-impl", "examples.course_style:Nope"], "has no 'Nope'"),
    (["--scratch-impl", "tests.test_bad_input:HalfModel"], "missing: 'backward'"),
    (["--scratch-impl", "examples.course_style"], "expected 'package.module:ClassName'"),
    (["--bogus-flag"], "unrecognized arguments: --bogus-flag"),
    (["experiment", "zero-initt"], "did you mean 'zero-init'"),
]


@pytest.mark.parametrize("args, message", BAD_USAGE, ids=[" ".join(a) for a, _ in BAD_USAGE])
def test_bad_usage_is_one_line_exit_2_and_leaves_no_run_folder(tmp_path, args, message):
    logdir = tmp_path / "runs"
    code, stdout, stderr = nncompare(*args, "--logdir", str(logdir), cwd=None)
    assert code == 2, (stdout, stderr)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("nncompare: error: "), stderr
    assert message in lines[0]
    assert "Traceback" not in stderr and stdout == ""
    assert not logdir.exists() or not any(logdir.iterdir())


def test_an_existing_experiment_needs_overwrite_and_a_file_is_no_logdir(tmp_path, capsys):
    (tmp_path / "runs" / "mine").mkdir(parents=True)
    assert main(["--experiment", "mine", "--logdir", str(tmp_path / "runs"), "--iterations", "1"]) == 2
    assert "already exists" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["--logdir", str(tmp_path / "file"), "--iterations", "1"]) == 2
    assert "logdir" in capsys.readouterr().err


def test_python_dash_m_compare_and_the_console_script_agree():
    code, stdout, _ = nncompare("--help")
    assert code == 0 and "--scratch-impl" in stdout and "--logdir" in stdout


def test_a_bug_of_nncompare_is_one_line_and_a_traceback_file(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("A2")

    monkeypatch.delenv("NNCOMPARE_TRACEBACK", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)           # re-read TMPDIR
    monkeypatch.setattr("compare.runner.run", broken)
    assert main(["--iterations", "1", "--no-log", "--no-progress"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("nncompare: internal error: KeyError: 'A2'\n") and "Traceback" not in err
    (saved,) = tmp_path.glob("nncompare-traceback-*.txt")
    assert str(saved) in err
    assert "Traceback" in saved.read_text() and "in broken" in saved.read_text()
    monkeypatch.setenv("NNCOMPARE_TRACEBACK", "1")
    with pytest.raises(KeyError):
        main(["--iterations", "1", "--no-log", "--no-progress"])


def test_resume_from_a_folder_without_checkpoints_says_why(tmp_path, capsys):
    assert main(["--resume", str(tmp_path / "nothing")]) == 2
    assert "is not a folder of an nncompare run" in capsys.readouterr().err
    (tmp_path / "plug" / "CourseNet" / "scratch").mkdir(parents=True)
    assert main(["--resume", str(tmp_path / "plug")]) == 2
    assert "holds no checkpoints" in capsys.readouterr().err
    assert main(["--resume", str(tmp_path / "plug"), "--lr", "0.1"]) == 2
    assert "--lr comes from the checkpoints" in capsys.readouterr().err
