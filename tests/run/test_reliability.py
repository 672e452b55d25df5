"""Reliability of nncompare as a process: divergence, Ctrl-C, resuming, reproducibility and
two runs at once. Each test runs the real command in fresh processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from compare.run import checkpoint

COMMAND = [sys.executable, "-m", "compare", "--no-progress"]


def events(run_folder):
    """Every event of a run, read after its writers are closed."""
    ea = EventAccumulator(str(run_folder), size_guidance={"scalars": 0, "tensors": 0, "histograms": 0})
    ea.Reload()
    return ea


def text(ea, tag):
    return [t.tensor_proto.string_val[0].decode() for t in ea.Tensors(f"{tag}/text_summary")]


def test_a_diverging_model_stops_at_its_step_is_reported_and_its_logs_are_readable(tmp_path):
    out = tmp_path / "r.json"
    done = subprocess.run([*COMMAND, "--model", "deep", "--activation", "leaky_relu", "--lr", "1000",
                           "--iterations", "300", "--logdir", str(tmp_path), "--experiment", "boom",
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    model = json.loads(out.read_text())["models"][0]
    assert "scratch training diverged at step" in model["error"]
    assert "lower the learning rate" in model["error"]
    step = int(model["error"].split("at step ")[1].split(":")[0])
    assert "diverged" in done.stdout
    for side in ("scratch", "torch"):
        ea = events(tmp_path / "boom" / "deep" / side)
        assert [e.step for e in ea.Scalars("loss/train")][0] == 0
        assert any("diverged" in t for t in text(ea, "status"))
    assert not (tmp_path / "boom" / "deep" / "scratch" / "checkpoint.npz").exists()   # NaN: nothing to resume
    assert step < 300


def test_ctrl_c_closes_the_logs_marks_them_interrupted_and_exits_130_then_resume_goes_on(tmp_path):
    folder = tmp_path / "stopped"
    proc = subprocess.Popen([*COMMAND, "--model", "shallow", "--iterations", "1000000", "--log-every", "20",
                             "--logdir", str(tmp_path), "--experiment", "stopped"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run = folder / "shallow" / "scratch"
        deadline = time.time() + 120
        def logged() -> int:
            return sum(f.stat().st_size for f in run.iterdir()) if run.exists() else 0

        while time.time() < deadline and logged() < 20_000:  # until training has logged some steps
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"logs and checkpoints so far in {folder}" in stderr
    ea = events(folder / "shallow" / "scratch")
    statuses = text(ea, "status")
    assert len(statuses) == 1 and statuses[0].startswith("interrupted after step ")
    last = int(statuses[0].rsplit(" ", 1)[1])
    ckpt = checkpoint.load(folder / "shallow" / "scratch" / "checkpoint.npz")
    assert ckpt.step == last + 1                            # the state after the last step
    assert checkpoint.load(folder / "shallow" / "torch" / "checkpoint.npz").step == last + 1
    steps = [e.step for e in ea.Scalars("loss/train")]
    assert steps and max(steps) <= last

    done = subprocess.run([*COMMAND, "--resume", str(folder), "--iterations", "30", "--log-every", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    steps = [e.step for e in events(folder / "shallow" / "scratch").Scalars("loss/train")]
    assert len(steps) == len(set(steps)), "a step logged twice"
    assert max(steps) == last + 30
    assert checkpoint.load(folder / "shallow" / "scratch" / "checkpoint.npz").step == last + 31


def without_volatile(report):
    report = dict(report)
    report.pop("logdir")
    report.pop("logging_seconds")
    return report


def test_the_same_command_gives_bitwise_identical_results_in_two_processes(tmp_path):
    reports = []
    for i in range(2):
        out = tmp_path / f"r{i}.json"
        subprocess.run([*COMMAND, "--iterations", "200", "--batch-size", "64", "--logdir", str(tmp_path),
                        "--json", str(out)], check=True, capture_output=True, timeout=300)
        reports.append(json.loads(out.read_text()))
    assert without_volatile(reports[0]) == without_volatile(reports[1])
    for model in reports[0]["models"]:
        assert len(model["final"]["scratch"]["params_sha256"]) == 64
    folders = [Path(r["logdir"]) for r in reports]
    for kind in ("logistic", "shallow", "deep"):
        for side in ("scratch", "torch"):
            a, b = (checkpoint.load(f / kind / side / "checkpoint.npz") for f in folders)
            assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_two_runs_started_together_never_share_a_folder(tmp_path):
    args = [*COMMAND, "--model", "logistic", "--iterations", "50", "--logdir", str(tmp_path)]
    procs = [subprocess.Popen([*args, "--json", str(tmp_path / f"r{i}.json")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    for proc in procs:
        proc.communicate(timeout=300)
        assert proc.returncode == 0
    folders = {json.loads((tmp_path / f"r{i}.json").read_text())["logdir"] for i in range(2)}
    assert len(folders) == 2
    for folder in folders:
        # the three TensorBoard runs and the manifest of the checkpoint pair (compare.run.pair)
        assert sorted(os.listdir(Path(folder) / "logistic")) == ["checkpoint.json", "diff",
                                                                 "scratch", "torch"]
        ea = events(Path(folder) / "logistic" / "scratch")
        assert [e.step for e in ea.Scalars("loss/train")][-1] == 49
        assert checkpoint.load(Path(folder) / "logistic" / "torch" / "checkpoint.npz").step == 50
