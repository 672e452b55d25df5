"""The README's Python examples run as written and do what they say."""

import re
from pathlib import Path

import scratch
from compare.run import checkpoint

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def block_with(marker):
    return next(b for b in blocks() if marker in b)


def run(code, namespace):
    exec(compile(code, "README.md", "exec"), namespace)


def test_the_five_line_examples_of_each_side_learn_the_flower():
    namespace: dict = {}
    run(block_with("scratch.fit("), namespace)
    assert namespace["costs"][-1] < 0.3
    run(block_with("torch_ref.fit("), namespace)
    assert namespace["costs"][-1] < 0.3
    assert namespace["net"].accuracy(namespace["X"], namespace["y"]) > 0.9


def test_the_plug_in_example_passes():
    namespace: dict = {}
    run(block_with("check_model(CourseNet").replace("iterations=500", "iterations=20"), namespace)
    assert namespace["report"].passed


def test_the_checkpoint_example_moves_a_model_between_the_sides(tmp_path, monkeypatch):
    code = block_with("checkpoint.load(")
    path = re.search(r'checkpoint\.load\("([^"]+)"\)', code).group(1)
    trained = scratch.DeepNet([2, 10, 5, 1], seed=1)
    checkpoint.save(tmp_path / path, trained, step=7)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    run(code, namespace)
    assert namespace["ckpt"].step == 7
    assert (tmp_path / "mine.npz").is_file()
    assert all((namespace["model"].params[k] == trained.params[k]).all() for k in trained.params)


def test_the_main_jobs_table_is_what_nncompare_prints():
    """The README shows the main job's real output: run it (about 20 s) and compare."""
    import subprocess
    import sys
    shown = re.search(r"```\n(model +forward.*?)```", README.read_text(), re.S).group(1)
    done = subprocess.run([sys.executable, "-m", "compare", "--no-log", "--no-progress"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()[:len(shown.splitlines())]
    # the same words, costs and accuracies; each check's worst error within a factor of 10
    # (its last digit depends on the BLAS kernels of the machine)
    def errors(line):
        return [float(e) for e in re.findall(r"\b\d\.?\d*e[-+]\d+", line)]

    def rest(line):
        return re.sub(r"\b\d\.?\d*e[-+]\d+", "E", line)

    assert [rest(line) for line in printed] == [rest(line) for line in shown.splitlines()]
    for ours, theirs in zip(printed, shown.splitlines(), strict=True):
        assert all(b / 10 <= a <= b * 10 or a == b for a, b in zip(errors(ours), errors(theirs), strict=True))
