"""The fault suite: each way a run can break, reproduced, and what nncompare does about it
(README, "When things go wrong"). Processes are real, every wait has a time limit, every
process is stopped by its PID."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from compare.cli import main
from compare.run import checkpoint, files, pair
from compare.run import job as runner
from scratch.errors import InvalidArgument
from tests.faults.conftest import ROOT, manifest_step, nncompare, wait_for
from tests.output.tb_helpers import read

PLUGINS = "tests/faults/plugins.py"
SMALL = ["--no-progress", "--iterations", "6"]


def statuses(folder: Path) -> list[str]:
    acc = read(folder)
    return [t.tensor_proto.string_val[0].decode() for t in acc.Tensors("status/text_summary")]


# ---------------------------------------------------------------- a checkpoint cannot be written

def test_a_failed_checkpoint_write_keeps_the_run_reports_it_and_exits_2(tmp_path, capsys, monkeypatch):
    real = checkpoint.save

    def full(path, model, step, extra=None):
        if "deep" in str(path):
            raise InvalidArgument(f"checkpoint: cannot write {str(path)!r} (No space left on device); "
                                  "nothing was written")
        return real(path, model, step, extra)

    monkeypatch.setattr(checkpoint, "save", full)
    code = main([*SMALL, "--logdir", str(tmp_path), "--experiment", "e"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "logistic" in out and "shallow" in out and "deep" in out     # the table of what finished
    assert "could not write" in err and "No space left on device" in err and "Traceback" not in err
    assert (tmp_path / "e" / "logistic" / "scratch" / "checkpoint.npz").is_file()   # all kept
    assert (tmp_path / "e" / "deep" / "scratch").is_dir()
    assert not (tmp_path / "e" / "deep" / "checkpoint.json").exists()


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "300k")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def test_a_full_disk_is_one_line_exit_2_and_what_was_written_stays(small_disk):
    code, out, err = nncompare("--iterations", "400", "--log-every", "1", "--logdir", str(small_disk),
                               "--experiment", "full", timeout=300)
    assert code == 2, err
    assert "Traceback" not in err and "this is a bug" not in err, err
    assert "No space left on device" in err
    assert err.strip().count("\n") <= 3, err
    assert (small_disk / "full" / ".nncompare-run").is_file()           # the run is kept


# ---------------------------------------------------------------- two runs want one folder

LONG = ["--model", "logistic", "--iterations", "100000", "--checkpoint-every", "50"]


def event_files(model_folder: Path) -> dict[str, int]:
    """How many event files each TensorBoard run of a model holds (one per writer: a second
    process logging into the folder adds its own)."""
    return {run: len(list((model_folder / run).glob("events.out.tfevents.*")))
            for run in ("scratch", "torch", "diff")}


def test_overwrite_and_resume_of_a_folder_in_use_are_refused_and_delete_nothing(tmp_path, procs):
    first = procs(*LONG, "--logdir", str(tmp_path), "--experiment", "e")
    wait_for(lambda: manifest_step(tmp_path / "e" / "logistic"), timeout=120)      # training
    marker = (tmp_path / "e" / ".nncompare-run").read_text()
    for argv in (["--model", "logistic", "--iterations", "5", "--logdir", str(tmp_path),
                  "--experiment", "e", "--overwrite"],
                 ["--resume", str(tmp_path / "e"), "--iterations", "5"]):
        code, out, err = nncompare(*argv, timeout=120)
        assert code == 2 and out == "", err
        assert err == (f"nncompare: error: experiment: {tmp_path / 'e'} is in use by another "
                       f"nncompare run (pid {first.popen.pid}); wait for it to end, or choose "
                       "another name\n")
    assert first.popen.poll() is None                      # the first run goes on, untouched
    assert (tmp_path / "e" / ".nncompare-run").read_text() == marker
    first.signal(signal.SIGINT)
    rc, _, err = first.wait(timeout=120)
    assert rc == 130, err
    assert event_files(tmp_path / "e" / "logistic") == {"scratch": 1, "torch": 1, "diff": 1}


def test_two_overwrites_started_together_one_runs_the_other_gets_one_line(tmp_path, procs):
    assert nncompare(*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment",
                     "e")[0] == 0                          # the folder both will clear
    both = [procs(*LONG, "--logdir", str(tmp_path), "--experiment", "e", "--overwrite")
            for _ in range(2)]
    loser = wait_for(lambda: next((p for p in both if p.popen.poll() is not None), None), timeout=180)
    winner = both[1 - both.index(loser)]
    rc, out, err = loser.wait(timeout=30)
    assert rc == 2 and err.count("\n") == 1, err
    assert f"experiment: {tmp_path / 'e'} " in err and ("in use by another nncompare run" in err
                                                        or "already exists" in err), err
    assert winner.popen.poll() is None, winner.wait(timeout=30)
    wait_for(lambda: manifest_step(tmp_path / "e" / "logistic"), timeout=120)
    winner.signal(signal.SIGINT)
    rc, _, err = winner.wait(timeout=120)
    assert rc == 130, err
    assert event_files(tmp_path / "e" / "logistic") == {"scratch": 1, "torch": 1, "diff": 1}


# ---------------------------------------------------------------- the pair is written as a unit

def test_a_pair_write_that_fails_half_way_leaves_the_old_pair_current(tmp_path, capsys, monkeypatch):
    real = checkpoint.save

    def torch_fails_at_6(path, model, step, extra=None):
        if step == 6 and "/torch/" in str(path):
            raise InvalidArgument("checkpoint: cannot write it (No space left on device)")
        return real(path, model, step, extra)

    monkeypatch.setattr(checkpoint, "save", torch_fails_at_6)
    argv = [*SMALL, "--model", "shallow", "--checkpoint-every", "2", "--logdir", str(tmp_path),
            "--experiment", "e"]
    assert main(argv) == 2
    capsys.readouterr()
    ours, theirs = pair.load(tmp_path / "e" / "shallow")
    assert ours.step == theirs.step == 4                    # the old pair, both halves
    pair.verify(tmp_path / "e" / "shallow")
    monkeypatch.setattr(checkpoint, "save", real)
    assert main(["--no-progress", "--resume", str(tmp_path / "e"), "--iterations", "2"]) == 0
    assert "shallow from step 4 to 6" in capsys.readouterr().out


def test_a_pair_is_switched_by_its_manifest_alone(tmp_path):
    assert main([*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment", "e"]) == 0
    folder = tmp_path / "e" / "logistic"
    ours, theirs = pair.load(folder)
    model = checkpoint.to_scratch(ours)
    checkpoint.save(folder / pair.step_name("scratch", 9), model, 9)   # half of a new pair, no switch
    again = pair.load(folder)
    assert again[0].step == again[1].step == 6


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_at_the_step_save_and_exit_128_plus_the_signal(tmp_path, procs, sig, code):
    p = procs("--model", "shallow", "--iterations", "100000", "--checkpoint-every", "50",
              "--logdir", str(tmp_path), "--experiment", "s")
    wait_for(lambda: manifest_step(tmp_path / "s" / "shallow"), timeout=120)   # training
    p.signal(sig)
    rc, _, err = p.wait(timeout=120)
    assert rc == code, err
    assert "stopping after this step" in err and signal.Signals(sig).name in err
    assert "Traceback" not in err and "--resume" in err
    step = manifest_step(tmp_path / "s" / "shallow")
    assert step and statuses(tmp_path / "s" / "shallow" / "scratch") == [f"interrupted after step {step - 1}"]


def test_ctrl_c_during_the_checks_of_a_slow_plug_in_stops_at_once_and_says_what_exists(tmp_path, procs):
    p = procs("--scratch-impl", f"{PLUGINS}:Slow", "--iterations", "5", "--logdir", str(tmp_path),
              "--experiment", "slow")
    wait_for(lambda: any((tmp_path / "slow" / "Slow" / "scratch").glob("events.*")), timeout=120)
    time.sleep(0.5)
    t0 = time.monotonic()
    p.signal(signal.SIGINT)
    rc, _, err = p.wait(timeout=60)
    assert rc == 130 and time.monotonic() - t0 < 30, err
    assert "during the checks of Slow" in err and "--resume" not in err and "step -1" not in err, err
    assert "Traceback" not in err
    assert all("step -1" not in s for s in statuses(tmp_path / "slow" / "Slow" / "scratch"))


def handles_sigterm(pid: int) -> bool:
    """Whether process `pid` has a handler for SIGTERM (Linux: the SigCgt mask of /proc):
    Python installs none of its own, so one there is nncompare's, installed first thing."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("delay", [0.0, 0.2, 0.5])
def test_ctrl_c_during_the_imports_is_one_line_and_exit_130(procs, delay):
    p = procs("--no-log", "--model", "logistic", "--iterations", "3")
    wait_for(lambda: handles_sigterm(p.popen.pid), timeout=60, every=0.002)   # imports begin
    time.sleep(delay)
    p.signal(signal.SIGINT)
    rc, _, err = p.wait(timeout=60)
    assert "Traceback" not in err, err
    if delay == 0.0 or rc != 0:                # (a late one may find the run done)
        assert rc == 130 and err.count("\n") == 1 and err.startswith("nncompare: interrupted"), (rc, err)


def test_an_inherited_ignored_sigint_stays_ignored(procs):
    p = procs("--no-log", "--model", "shallow", "--iterations", "3000", ignore_sigint=True)
    for _ in range(6):
        time.sleep(0.5)
        p.signal(signal.SIGINT)
    rc, out, err = p.wait(timeout=240)
    assert rc == 0, err
    assert "stopping" not in err and "interrupted" not in err


def test_a_plug_in_run_stopped_in_training_says_it_keeps_no_checkpoints(tmp_path, capsys, monkeypatch):
    real = runner.Runner._progress

    def ctrl_c_at_2(self, t):
        if t == 2:
            signal.raise_signal(signal.SIGINT)
        real(self, t)

    monkeypatch.setattr(runner.Runner, "_progress", ctrl_c_at_2)
    assert main(["--scratch-impl", f"{PLUGINS}:Plain", *SMALL, "--logdir", str(tmp_path),
                 "--experiment", "p"]) == 130
    err = capsys.readouterr().err
    assert "after step 2 of Plain" in err and "--resume" not in err, err
    assert "a --scratch-impl model keeps no checkpoints" in err, err
    assert statuses(tmp_path / "p" / "Plain" / "scratch") == ["interrupted after step 2"]
    assert not (tmp_path / "p" / "Plain" / "checkpoint.json").exists()


# ---------------------------------------------------------------- the environment fails

def test_standard_output_on_a_full_disk_is_one_line_exit_2(tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "compare", "--no-progress", "--no-log", "--model",
                               "logistic", "--iterations", "2"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "standard output" in done.stderr
    assert "No space left on device" in done.stderr and "bug" not in done.stderr


def test_an_event_write_that_fails_in_the_writer_thread_is_one_line_exit_2(tmp_path, capfd, monkeypatch):
    from tensorboard.summary.writer import record_writer

    real, calls = record_writer.RecordWriter.write, [0]

    def fill_up(self, data):
        calls[0] += 1
        if calls[0] > 30:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(record_writer.RecordWriter, "write", fill_up)
    code = main([*SMALL, "--iterations", "40", "--log-every", "1", "--logdir", str(tmp_path),
                 "--experiment", "e"])
    err = capfd.readouterr().err
    assert code == 2, err
    assert "No space left on device" in err and "Traceback" not in err and "bug" not in err, err
    assert (tmp_path / "e").is_dir()


def test_a_log_folder_that_cannot_be_written_mid_run_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    from compare.output.tensorboard import logger

    real = logger.SummaryWriter

    def read_only(folder, *args, **kwargs):
        if "/deep/" in folder + "/":
            raise PermissionError(13, "Permission denied", folder)
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(logger, "SummaryWriter", read_only)
    code = main([*SMALL, "--logdir", str(tmp_path), "--experiment", "e"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert str(tmp_path / "e" / "deep") in err and "Permission denied" in err
    assert (tmp_path / "e" / "shallow" / "scratch" / "checkpoint.npz").is_file()


# ---------------------------------------------------------------- what a report says

def test_a_wrong_shape_gradient_is_judged_the_same_with_logs_and_they_chart_what_is_judgeable(
        tmp_path, capsys):
    from compare.output.tensorboard import tags

    plug = ["--scratch-impl", f"{PLUGINS}:WrongShapeGrad", *SMALL]
    assert main([*plug, "--no-log"]) == 1
    unlogged = capsys.readouterr().out
    assert main([*plug, "--log-every", "1", "--logdir", str(tmp_path), "--experiment", "e"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "bug" not in err, err
    assert "dW1 differs: shape [2, 10], expected [10, 2]" in unlogged
    assert out.split("TensorBoard logs in")[0] == unlogged        # the same report, logs or not
    charted = read(tmp_path / "e" / "WrongShapeGrad" / "diff").Tags()["scalars"]
    assert tags.grad_diff("W2") in charted and tags.grad_diff("W1") not in charted


@pytest.mark.parametrize("plugin,function", [("NaNForward", "A[L] of forward"),
                                             ("NaNBackward", "db2 of backward")])
def test_nan_from_a_plug_in_names_the_function_and_gives_no_learning_rate_advice(tmp_path, capsys,
                                                                                 plugin, function):
    assert main(["--scratch-impl", f"{PLUGINS}:{plugin}", *SMALL, "--no-log",
                 "--json", str(tmp_path / "r.json")]) == 1
    out, err = capsys.readouterr()
    error = json.loads((tmp_path / "r.json").read_text())["models"][0]["error"]
    assert error.startswith(f"scratch training diverged at step 0: {function} (the parameters"), error
    assert "learning rate" not in out + err + error


def test_a_learning_rate_too_high_still_gets_the_learning_rate_advice(capsys):
    assert main(["--no-progress", "--no-log", "--model", "deep", "--lr", "1000", "--activation",
                 "leaky_relu", "--iterations", "20"]) == 1
    assert "lower the learning rate (lr=1000)" in capsys.readouterr().out


def test_a_params_key_added_in_forward_is_blamed_on_the_model_s_line(capsys):
    import inspect

    from tests.faults import plugins

    line = inspect.getsourcelines(plugins.AddsAKey.forward)[1]
    assert main(["--scratch-impl", f"{PLUGINS}:AddsAKey", *SMALL, "--no-log"]) == 1
    out = capsys.readouterr().out
    assert f"forward (plugins.py:{line}) added 'extra' to params" in out, out
    assert "protocol.py" not in out and "harness.py" not in out


def test_a_params_key_removed_in_forward_is_named_and_put_back():
    from compare.proof.protocol import ProtocolError, ScratchSide
    from scratch import DeepNet

    class DropsB1(DeepNet):
        def forward(self, X):
            out = super().forward(X)
            del self.params["b1"]
            return out

    model = DropsB1([2, 3, 1])
    with pytest.raises(ProtocolError, match="removed 'b1' from params"):
        ScratchSide(model).forward(np.zeros((2, 4)))
    assert sorted(model.params) == ["W1", "W2", "b1", "b2"]


def test_one_step_is_one_step(capsys):
    assert main(["--no-progress", "--no-log", "--model", "logistic", "--iterations", "1"]) == 0
    out = capsys.readouterr().out
    assert "trajectory: 1 step;" in out and "1 steps" not in out


def test_a_check_that_checked_nothing_says_so_in_the_table_and_the_diagnosis():
    from compare.proof.result import CheckResult, ModelReport, table

    r = ModelReport("deep", "a deep net", checks={
        "forward": CheckResult("forward"), "gradients": CheckResult("gradients"),
        "finite_difference": CheckResult("finite_difference", checked=0, of=91,
                                         detail="checked 0 of 91 entries; skipped 91 next to a ReLU kink"),
        "trajectory": CheckResult("trajectory")})
    text = table([r])
    cells = [c.strip() for c in text.splitlines()[2].split("  ")]
    assert "skipped: 0 of 91 checked" in cells
    assert "checked nothing" in r.diagnosis


def test_fd_max_entries_says_why_it_checks_more_than_asked():
    code, out, err = nncompare("--model", "deep", "--iterations", "2", "--no-log", "--fd-max-entries", "5")
    assert code == 0, err
    assert "fd_max_entries=5" in out and "at least 8 entries" in out


# ---------------------------------------------------------------- resuming

def test_a_resume_covers_every_model_and_says_where_each_starts(tmp_path, capsys, monkeypatch):
    real = runner.Runner._progress

    def ctrl_c_in_shallow(self, t):
        if self.name == "shallow" and t == 2:
            signal.raise_signal(signal.SIGINT)
        real(self, t)

    monkeypatch.setattr(runner.Runner, "_progress", ctrl_c_in_shallow)
    assert main([*SMALL, "--logdir", str(tmp_path), "--experiment", "e"]) == 130
    err = capsys.readouterr().err
    assert "after step 2 of shallow (logistic finished)" in err and "--resume" in err
    monkeypatch.setattr(runner.Runner, "_progress", real)
    out_json = tmp_path / "r.json"
    assert main(["--no-progress", "--resume", str(tmp_path / "e"), "--iterations", "4",
                 "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "logistic from step 6 to 10; shallow from step 3 to 7; deep from step 0 to 4" in out
    steps = json.loads(out_json.read_text())["config"]["steps"]
    assert steps["shallow"] == {"start_step": 3, "total_steps": 7}
    assert any(s.startswith("resumed at step 3") for s in statuses(tmp_path / "e" / "shallow" / "scratch"))


def test_resume_refuses_a_pair_of_another_run_naming_the_difference(tmp_path, capsys):
    for name in ("a", "b"):
        assert main([*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment", name]) == 0
    shutil.rmtree(tmp_path / "a" / "logistic")
    shutil.copytree(tmp_path / "b" / "logistic", tmp_path / "a" / "logistic")
    capsys.readouterr()
    assert main(["--no-progress", "--resume", str(tmp_path / "a"), "--iterations", "2"]) == 2
    err = capsys.readouterr().err
    assert "another run" in err and "run id" in err, err


def test_resume_refuses_a_torch_half_copied_from_another_run(tmp_path, capsys):
    for name in ("a", "b"):
        assert main([*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment", name]) == 0
    for half in ("torch/checkpoint.npz", pair.step_name("torch", 6)):    # same model, same step
        shutil.copyfile(tmp_path / "b" / "logistic" / half, tmp_path / "a" / "logistic" / half)
    capsys.readouterr()
    assert main(["--no-progress", "--resume", str(tmp_path / "a"), "--iterations", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not the torch checkpoint that" in err, err


def test_resume_refuses_a_pair_whose_sides_disagree(tmp_path, capsys):
    assert main([*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment", "a"]) == 0
    folder = tmp_path / "a" / "logistic"
    ours, theirs = pair.load(folder)
    moved = checkpoint.to_torch(theirs)
    model = checkpoint.to_scratch(ours)
    model.params["W1"] = model.params["W1"] + 0.5
    pair.save(folder, model, moved, 7, ours.extra)             # a pair whose halves differ
    capsys.readouterr()
    assert main(["--no-progress", "--resume", str(tmp_path / "a"), "--iterations", "2"]) == 2
    assert "W1" in capsys.readouterr().err


def test_resume_refuses_a_pair_in_the_folder_of_another_model(tmp_path, capsys):
    assert main([*SMALL, "--model", "shallow", "--logdir", str(tmp_path), "--experiment", "a"]) == 0
    os.rename(tmp_path / "a" / "shallow", tmp_path / "a" / "logistic")
    capsys.readouterr()
    assert main(["--no-progress", "--resume", str(tmp_path / "a"), "--iterations", "2"]) == 2
    assert "'shallow' model, not of 'logistic'" in capsys.readouterr().err


def test_stale_temporary_files_are_cleaned_when_the_run_is_next_used(tmp_path, capsys):
    assert main([*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment", "a"]) == 0
    side = tmp_path / "a" / "logistic" / "scratch"
    stale = [side / ".checkpoint.npz.x1.tmp", tmp_path / "a" / ".r.json.x2.tmp"]
    for f in stale:
        f.write_bytes(b"half")
        os.utime(f, (files.STARTED - 60, files.STARTED - 60))
    assert main(["--no-progress", "--resume", str(tmp_path / "a"), "--iterations", "1"]) == 0
    assert not any(f.exists() for f in stale)
    (side / ".checkpoint.npz.x3.tmp").write_bytes(b"half")
    assert main([*SMALL, "--model", "logistic", "--logdir", str(tmp_path), "--experiment", "a",
                 "--overwrite"]) == 0
    assert not (side / ".checkpoint.npz.x3.tmp").exists()


def test_a_stop_with_no_checkpoint_gives_no_resume_hint(tmp_path, capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "check_model", stop)
    assert main([*SMALL, "--logdir", str(tmp_path), "--experiment", "e"]) == 130
    err = capsys.readouterr().err
    assert "--resume" not in err and "cannot be resumed" in err and "step -1" not in err, err


# ---------------------------------------------------------------- stopped at random, resumed: bitwise

MAIN_JOB = ("logistic", "shallow", "deep")


def final_hashes(report: Path) -> dict[str, dict[str, str]]:
    """{model: {side: SHA-256 of its final parameters}} of a JSON report."""
    return {m["model"]: {side: m["final"][side]["params_sha256"] for side in ("scratch", "torch")}
            for m in json.loads(report.read_text())["models"]}


@pytest.mark.slow
def test_the_main_job_stopped_at_random_steps_then_resumed_gives_the_unbroken_parameters(
        tmp_path, procs):
    """kill -9, SIGINT and SIGTERM, each in another model and at a step drawn at random, then
    `--resume --iterations N`: every model of the main job ends bitwise where an unbroken main
    job of the same total steps ends (N more steps of each model: the one stopped reaches
    `total`, those that had finished `total + N`, those never started N)."""
    total, every = 200, 3
    args = ["--checkpoint-every", str(every), "--log-every", "50", "--hist-every", "0",
            "--image-every", "0"]
    unbroken: dict[int, dict] = {}

    def reference(steps: int) -> dict:
        if steps not in unbroken:
            report = tmp_path / f"unbroken-{steps}.json"
            code, _, err = nncompare("--no-log", "--iterations", str(steps), "--json", str(report))
            assert code == 0, err
            unbroken[steps] = final_hashes(report)
        return unbroken[steps]

    rng = random.Random(14)
    signals_in = zip((signal.SIGKILL, signal.SIGINT, signal.SIGTERM), rng.sample(MAIN_JOB, 3),
                     strict=True)                          # each model stopped once
    for k, (sig, model) in enumerate(signals_in):
        name, at = f"run{k}", rng.randrange(5, total // 2)
        p = procs(*args, "--iterations", str(total), "--logdir", str(tmp_path), "--experiment", name)
        folder = tmp_path / name / model
        wait_for(lambda f=folder, a=at, q=p: (manifest_step(f) or 0) >= a or q.popen.poll() is not None,
                 timeout=240)
        p.signal(sig)
        rc, _, err = p.wait(timeout=120)
        assert rc == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + sig), (sig, rc, err)
        steps = {m: manifest_step(tmp_path / name / m) or 0 for m in MAIN_JOB}
        stopped = next(m for m in MAIN_JOB if steps[m] < total)
        more = total - steps[stopped]
        report = tmp_path / f"{name}.json"
        code, out, err = nncompare("--resume", str(tmp_path / name), "--iterations", str(more),
                                   "--json", str(report), timeout=300)
        assert code == 0, (sig, steps, err)
        resumed = final_hashes(report)
        assert sorted(resumed) == sorted(MAIN_JOB), out
        for m in MAIN_JOB:
            assert resumed[m] == reference(steps[m] + more)[m], (sig, m, steps)
