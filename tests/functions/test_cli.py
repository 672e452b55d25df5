"""`nncompare check PATH_OR_MODULE` as a process: exit 0 when every function provided agrees,
1 when one differs, 2 for bad usage (one line on standard error, nothing on standard output,
no folder made); `--json -` puts the JSON alone on standard output."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.functions.broken import EXAMPLE, MISTAKES, broken_source

ROOT = EXAMPLE.parents[1]


def nncompare_check(*args, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, "-m", "compare", "check", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_the_example_passes_with_its_models_logged(tmp_path):
    done = nncompare_check("examples/course_functions.py", "--logdir", tmp_path, "--iterations", "20")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["function", "exercise", "verdict"]
    assert "21 agree, 0 differ, 1 not provided" in done.stdout and lines[-1].endswith("PASS")
    (folder,) = tmp_path.glob("check-*")
    assert f"TensorBoard logs of the models: {folder}" in done.stdout
    for model in ("logistic", "shallow", "deep"):
        for run in ("scratch", "torch", "diff"):
            assert any((folder / model / run).glob("events.out.tfevents.*")), (model, run)


def test_a_broken_module_exits_1_and_json_goes_alone_to_stdout(tmp_path):
    mistake = next(m for m in MISTAKES if m.name == "linear_backward-keepdims")
    path = tmp_path / "assignment.py"
    path.write_text(broken_source(mistake) + "\nprint('hello from the learner')\n")
    done = nncompare_check(path, "--json", "-", "--no-model")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["passed"] is False and data["source"] == str(path) and data["models"] == []
    assert data["functions"][0]["function"] == "linear_backward" and data["functions"][0]["root"]
    assert "keepdims=True missing" in data["functions"][0]["cause"]
    assert "hello from the learner" in done.stderr and "(fix first: linear_backward)" in done.stderr
    written = tmp_path / "report.json"
    again = nncompare_check(path, "--json", written, "--no-model")
    assert again.returncode == 1 and f"report written to {written}" in again.stdout
    assert json.loads(written.read_text())["functions"][0]["function"] == "linear_backward"


def bad(tmp_path, *args):
    done = nncompare_check("--logdir", tmp_path / "logs", *args, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("nncompare: error: check: ")
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())
    return done.stderr.strip()


def test_bad_usage_exits_2_with_one_line(tmp_path):
    (tmp_path / "syntax.py").write_text("def sigmoid(z)\n    return z\n")
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert bad(tmp_path).endswith("the following arguments are required: PATH_OR_MODULE")
    assert bad(tmp_path, "nope.py") == "nncompare: error: check: no such file nope.py"
    assert bad(tmp_path, "syntax.py").startswith("nncompare: error: check: syntax.py:1: SyntaxError: ")
    assert "empty.py defines none of the course's functions" in bad(tmp_path, "empty.py")
    assert "exercise: " in bad(tmp_path, EXAMPLE, "--exercise", "cnn")
    assert "time_limit: got 0.0" in bad(tmp_path, EXAMPLE, "--time-limit", "0")
    assert "iterations: got 0" in bad(tmp_path, EXAMPLE, "--iterations", "0")
    assert bad(tmp_path, EXAMPLE, "--json", tmp_path).endswith(f"json: {tmp_path} is a folder, expected a "
                                                                "file path, or - for standard output")
    assert "empty.py" in bad(tmp_path, EXAMPLE, "--logdir", tmp_path / "empty.py")


def test_help_imports_no_torch():
    code = ("import sys\nfrom compare.cli.command import main\n"
            "assert main(['check']) == 2 and main(['check', '--bogus']) == 2\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "main(['check', '--help'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: nncompare check ") and "--time-limit SECONDS" in done.stdout


@pytest.mark.parametrize("target", ["examples.course_functions", "examples/course_functions.py"])
def test_a_module_name_or_a_path(target):
    done = nncompare_check(target, "--no-model", "--exercise", "deep", "--json", "-")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["exercises"] == ["deep"] and all(f["passed"] for f in data["functions"])
    assert data["source"] == ("module examples.course_functions" if "." in target and "/" not in target
                              else str(Path(target)))
