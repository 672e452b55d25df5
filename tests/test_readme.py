"""The README's Python examples run as written and do what they say."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import scratch
from compare.run import checkpoint

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def block_with(marker):
    return next(b for b in blocks() if marker in b)


def run(code, namespace):
    exec(compile(code, "README.md", "exec"), namespace)


def test_the_five_line_examples_of_each_side_agree_and_print_what_they_say(capsys):
    """Both snippets, from the same copied start, print the same cost and test accuracy, the
    numbers their comments show; every cost agrees within the float64 trajectory bound (1e-12)."""
    namespace: dict = {}
    shown = []
    for marker in ("scratch.fit(", "torch_ref.fit("):
        code = block_with(marker)
        run(code, namespace)
        shown.append(re.search(r"# (\d\.\d{4} \d\.\d{3})", code).group(1))
        namespace[f"costs_{marker[:-5]}"] = namespace["costs"]
    printed = capsys.readouterr().out.split("\n")[:2]
    assert printed == shown == [shown[0], shown[0]]
    s, t = namespace["costs_scratch"], namespace["costs_torch_ref"]
    assert len(s) == len(t) == 5000
    torch.testing.assert_close(torch.tensor(s), torch.tensor(t), rtol=0, atol=1e-12)   # measured 8.9e-16


def test_the_plug_in_example_passes_and_prints_the_table(capsys):
    namespace: dict = {}
    run(block_with("check_model(CourseNet"), namespace)          # at its real size
    report = namespace["report"]
    assert report.passed, report.diagnosis
    assert capsys.readouterr().out == f"all checks agree\n{report}\n"
    assert str(report).splitlines()[0].split()[:2] == ["model", "forward"]


def commands():
    """Every `nncompare ...` line of the README's shell blocks, without its comment."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        found += [line.split("  #")[0].strip() for line in block.splitlines()
                  if line.startswith("nncompare")]
    return found


def nncompare(command, cwd, timeout=600):
    argv = [sys.executable, "-m", "compare", *shlex.split(command)[1:]]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_every_readme_command_is_run_by_a_test():
    """The main job (its table, below), --tensorboard (tests/output), the resume, plug-in,
    precision and check commands (below): a new command in the README needs a test here."""
    assert set(commands()) == {
        "nncompare", "nncompare --tensorboard",
        "nncompare --resume runs/flower-20250101-120000 --iterations 2000",
        "nncompare --scratch-impl examples/course_style.py:CourseNet --layers 2,10,5,1 --activation tanh",
        "nncompare precision --iterations 200 --no-log",
        "nncompare check examples/course_functions.py"}


def test_the_precision_command_passes_as_shown():
    done = nncompare(next(c for c in commands() if "precision" in c) + " --no-progress", cwd=README.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "float32: one step from the common start within" in done.stdout


def test_the_plug_in_command_passes_as_shown():
    command = next(c for c in commands() if "--scratch-impl" in c)
    done = nncompare(command + " --no-log --no-progress", cwd=README.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS: all checks agree" in done.stdout


@pytest.mark.slow
def test_the_resume_command_goes_on_from_the_main_job(tmp_path):
    """The README's run folder, made by the main job at its real size, then resumed as shown."""
    command = next(c for c in commands() if "--resume" in c)
    folder = re.search(r"--resume (\S+)", command).group(1)
    made = nncompare(f"nncompare --logdir {Path(folder).parent} --experiment {Path(folder).name} "
                     "--no-progress", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    resumed = nncompare(command + " --no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.count("PASS: all checks agree") == 3


def section(title):
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_check_your_assignment_section_runs_as_written(tmp_path, monkeypatch, capsys):
    """Its Python call, its notebook call (in globals() holding the example's functions, as a
    notebook's would), its command, and the table it shows, which is what the checker prints
    for the example with linear_backward's keepdims=True left out."""
    from compare.functions import check_functions
    from tests.functions.broken import MISTAKES, broken_source

    text = section("Check your assignment")
    file_call, notebook_call = re.findall(r"```python\n(.*?)```", text, re.S)
    monkeypatch.chdir(README.parent)
    namespace: dict = {}
    run(file_call, namespace)
    assert namespace["report"].passed and capsys.readouterr().out == f"{namespace['report']}\n"
    source = (README.parent / "examples" / "course_functions.py").read_text()
    notebook: dict = {"__name__": "__main__"}
    exec(compile(source.split('if __name__ == "__main__":')[0], "notebook", "exec"), notebook)
    run(notebook_call, notebook)
    assert notebook["report"].passed and notebook["report"].source == "globals()"
    assert notebook["report"]._repr_html_().startswith("<table><thead><tr><th>function</th>")
    (command,) = [c for c in commands() if c.startswith("nncompare check")]
    done = nncompare(f"{command} --logdir {tmp_path}", cwd=README.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].endswith("PASS") and list(tmp_path.glob("check-*/deep/torch"))
    shown = re.search(r"```\n(function +exercise.*?)```", text, re.S).group(1).splitlines()
    broken = tmp_path / "my_assignment.py"
    broken.write_text(broken_source(next(m for m in MISTAKES if m.name == "linear_backward-keepdims")))
    printed = str(check_functions(broken, model=False)).splitlines()[:len(shown)]
    assert [line.rstrip() for line in printed] == [line.rstrip() for line in shown]
    assert f"`tests/functions/broken.py` holds {len(MISTAKES)} such mistakes" in " ".join(text.split())


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


def test_the_allocator_snippet_runs_and_says_whether_it_set_glibc(capsys):
    from compare.run import memory
    run(block_with("keep_freed_blocks()"), {})
    assert capsys.readouterr().out == f"{memory.on_glibc() and not memory.chosen_by_user()}\n"
