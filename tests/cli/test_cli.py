"""nncompare from the outside: the main job, its JSON report, exit codes, and bad usage
answered in one line with no traceback and no run folder left behind."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compare.cli import main
from tests.output.tb_helpers import read


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
    code, stdout, _ = nncompare("--scratch-impl", "tests.proof.broken_variants:SumCost", "--layers", "2,6,1",
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


HERE = Path(__file__).resolve()
SMALL = ["--model", "logistic", "--iterations", "3", "--no-progress"]   # quick if it ever ran
NO_PROC = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")

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
    (["--scratch-impl", "tests.cli.test_bad_input:HalfModel"], "missing: 'backward'"),
    (["--scratch-impl", "examples.course_style"], "expected 'package.module:ClassName'"),
    (["--scratch-impl", "examples.course_style:CourseNet", "--init", "zeros"],
     "init: CourseNet.__init__ takes no 'init', so --init cannot reach the model"),
    (["--scratch-impl", "examples.course_style:CourseNet", "--dtype", "float32"],
     "dtype: CourseNet.__init__ takes no 'dtype'"),
    (["--bogus-flag"], "unrecognized arguments: --bogus-flag"),
    (["--model", "logistic", "--layers", "2,4,1"], "layers: applies to the deep model, and --model logistic"),
    (["--model", "deep", "--hidden-units", "8"], "hidden-units: applies to the shallow model"),
    (["--model", "logistic", "--activation", "tanh"], "activation: applies to the shallow and deep models"),
    (["--scratch-impl", "examples.course_style:CourseNet", "--hidden-units", "8"],
     "hidden-units: applies to the shallow model, and --scratch-impl runs none of them"),
    (["experiment", "zero-initt"], "did you mean 'zero-init'"),
    # output paths are checked before any work (they used to fail after training, exit 3)
    ([*SMALL, "--json", str(HERE.parent)], f"json: {HERE.parent} is a folder, expected a file path"),
    ([*SMALL, "--json", str(HERE / "r.json")],
     f"json: cannot write {HERE / 'r.json'}: {HERE} is not a folder"),
    pytest.param([*SMALL, "--json", "/proc/r.json"], "json: cannot write /proc/r.json: nothing can be "
                 "created in /proc", marks=NO_PROC),
    ([*SMALL, "--json", ""], "json: got '', expected a file path, or - for standard output"),
    ([*SMALL, "--layers", ""], "layers: got '', expected sizes such as 2,4,1"),
    ([*SMALL, "--activation", " "], "activation: got ' ', expected one of sigmoid"),
    ([*SMALL, "--init", ""], "init: got '', expected one of zeros"),
    ([*SMALL, "--scratch-impl", ""], "scratch_impl: got '', expected 'package.module:ClassName'"),
    ([*SMALL, "--resume", ""], "resume: got '', expected the folder of a run"),
    (["experiment", "--list", "extra"], "experiment: --list takes no names, got 'extra'"),
    (["experiment", "errata", "--quick", "--no-progress", "--write-docs", str(HERE.parent)],
     f"write-docs: {HERE.parent} is a folder"),
    (["experiment", "errata", "--quick", "--no-progress", "--write-docs", ""], "write-docs: got ''"),
    (["experiment", "errata", "--quick", "--no-progress", "--write-docs", "-"], "write-docs: got '-'"),
]


def _id(case) -> str:
    args = case.values[0] if hasattr(case, "values") else case[0]
    return " ".join(repr(a) if not a.strip() else a for a in args)


@pytest.mark.parametrize("args, message", BAD_USAGE, ids=[_id(c) for c in BAD_USAGE])
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
    assert "nncompare experiment ..." in stdout and "nncompare bench ..." in stdout


def test_help_and_early_usage_errors_import_no_torch():
    """So that they answer at once: torch (and the harness with it) is imported only once the
    arguments that need it are reached."""
    code = ("import sys\nfrom compare.cli import main\n"
            "assert main(['--layers', 'x']) == 2 and main(['--bogus']) == 2\n"
            "assert main(['--model', 'logistic', '--hidden-units', '8']) == 2\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "main(['--help'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: nncompare ") and "layers: got 'x'" in done.stderr


def test_a_bug_of_nncompare_is_one_line_and_a_traceback_file(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("A2")

    monkeypatch.delenv("NNCOMPARE_TRACEBACK", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)           # re-read TMPDIR
    monkeypatch.setattr("compare.run.job.run", broken)
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


def test_json_dash_prints_the_json_alone_on_stdout_and_the_table_on_stderr(tmp_path):
    code, stdout, stderr = nncompare(*SMALL, "--logdir", str(tmp_path / "runs"), "--json", "-",
                                     cwd=tmp_path)
    assert code == 0, stderr
    report = json.loads(stdout)                                    # nothing else on stdout
    assert report["passed"] is True and [m["model"] for m in report["models"]] == ["logistic"]
    assert "all checks agree" in stderr and "TensorBoard logs in" in stderr
    assert not (tmp_path / "-").exists()
    assert report["logdir"] and Path(report["logdir"]).is_dir()


def test_the_json_file_gets_the_mode_open_would_give_it(tmp_path, capsys):
    old = os.umask(0o027)
    try:
        assert main([*SMALL, "--no-log", "--json", str(tmp_path / "new.json")]) == 0
        kept = tmp_path / "kept.json"
        kept.write_text("{}")
        kept.chmod(0o604)
        assert main([*SMALL, "--no-log", "--json", str(kept)]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o640       # 0o666 & ~umask
    assert kept.stat().st_mode & 0o777 == 0o604 and json.loads(kept.read_text())["passed"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_json_file_that_cannot_be_written_at_the_end_keeps_the_run(tmp_path, capsys, monkeypatch):
    def full(path, document):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("compare.run.files.write_text", full)
    runs = tmp_path / "runs"
    code = main([*SMALL, "--logdir", str(runs), "--experiment", "e", "--json", str(tmp_path / "r.json")])
    out, err = capsys.readouterr()
    assert code == 2 and "all checks agree" in out
    assert err == (f"nncompare: error: json: cannot write {tmp_path / 'r.json'} (No space left on "
                   f"device); the table above is the report; the logs are kept in {runs / 'e'}\n")
    assert (runs / "e" / "logistic" / "torch" / "checkpoint.npz").is_file()


def test_resume_says_a_resumed_run_logs_into_the_run_it_resumes(tmp_path, capsys):
    assert main([*SMALL, "--logdir", str(tmp_path), "--experiment", "e"]) == 0
    capsys.readouterr()
    for flag in (["--no-log"], ["--logdir", "elsewhere"], ["--experiment", "f"]):
        assert main(["--resume", str(tmp_path / "e"), *flag]) == 2
        err = capsys.readouterr().err
        assert err == (f"nncompare: error: resume: {flag[0]} does not go with --resume: a resumed "
                       f"run always logs into the run it resumes ({tmp_path / 'e'})\n")
