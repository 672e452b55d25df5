"""The real `tensorboard` server, on 127.0.0.1 and a free port, serves both runs of a logged
model with the values the harness recorded; `nncompare --tensorboard` starts and stops one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compare.output.tensorboard import server as tb_server
from compare.output.tensorboard.logger import Cadence
from tests.output.tb_helpers import f32, get_json, logged_run, logged_steps, post_json, scalars_url, served

pytestmark = pytest.mark.slow

ITERATIONS = 12
RUNS = {"shallow/scratch", "shallow/torch", "shallow/diff"}


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    experiment = tmp_path_factory.mktemp("served") / "exp"
    return experiment, logged_run(experiment / "shallow", "shallow", ITERATIONS, Cadence(1, 5, 0))


@pytest.fixture(scope="module")
def server(logged):
    experiment, _ = logged
    with served(experiment, RUNS) as server:
        yield server
    assert server.process.poll() is not None                        # stopped, by its PID
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)


def test_the_server_listens_on_localhost_and_lists_exactly_the_three_runs(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.url)
    assert set(get_json(server.url + "data/runs")) == RUNS


def test_the_scratch_and_torch_runs_serve_the_same_scalar_tags(server):
    tags = get_json(server.url + "data/plugin/scalars/tags")
    assert set(tags) == RUNS
    assert set(tags["shallow/scratch"]) == set(tags["shallow/torch"])
    assert {"loss/train", "loss/test", "accuracy/test", "grad_norm/W1"} <= set(tags["shallow/torch"])
    assert {"check/step_error", "check/drift", "diff_drift/cost", "diff_drift/W2",
            "diff_grad/b2", "diff_test/loss"} <= set(tags["shallow/diff"])


def test_the_served_losses_are_the_harness_costs_of_each_side(server, logged):
    _, run = logged
    costs = run.report.trajectory.costs
    for side in ("scratch", "torch"):
        points = get_json(scalars_url(server, f"shallow/{side}", "loss/train"))
        assert [step for _, step, _ in points] == list(range(ITERATIONS))
        assert [value for _, _, value in points] == [f32(c) for c in costs[side]]
    points = get_json(scalars_url(server, "shallow/diff", "check/step_error"))
    assert [value for _, _, value in points] == [f32(e) for e in run.report.trajectory.step_error]


def test_the_served_test_accuracy_ends_at_the_reports(server, logged):
    _, run = logged
    for side in ("scratch", "torch"):
        points = get_json(scalars_url(server, f"shallow/{side}", "accuracy/test"))
        assert [step for _, step, _ in points] == logged_steps(1, ITERATIONS)
        assert points[-1][2] == f32(run.report.final[side]["accuracy"]["test"])


def test_the_hparams_tab_shows_both_sides_with_the_same_keys_and_their_final_metrics(server, logged):
    _, run = logged
    experiment = post_json(server.url + "data/plugin/hparams/experiment", {"experimentName": ""})
    infos = experiment["hparamInfos"]
    assert {"model", "side", "lr", "layers", "dataset"} <= {h["name"] for h in infos}
    # the tab shows five: the first of those marked `differs` (a stable sort), in this order
    shown = sorted(infos, key=lambda h: not h.get("differs", False))[:5]
    assert [h["name"] for h in shown] == ["activation", "init", "iterations", "layers", "lr"]
    groups = post_json(server.url + "data/plugin/hparams/session_groups", {
        "experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
        "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]})
    sessions = {g["name"]: g for g in groups["sessionGroups"]}
    assert set(sessions) == {"shallow/scratch", "shallow/torch"}          # no sub-runs
    for side in ("scratch", "torch"):
        group = sessions[f"shallow/{side}"]
        assert group["hparams"]["side"] == side and group["hparams"]["model"] == "shallow"
        assert group["hparams"]["iterations"] == str(ITERATIONS) and group["hparams"]["lr"] == 1.2
        assert "alpha" not in group["hparams"]                          # tanh: no alpha
        metrics = {m["name"]["tag"]: m["value"] for m in group["metricValues"]}
        assert metrics["accuracy/test"] == f32(run.report.final[side]["accuracy"]["test"])
        assert metrics["loss/train"] == f32(run.report.trajectory.costs[side][-1])


def live_processes_mentioning(text: str) -> list[int]:
    """PIDs of running processes whose command line contains `text` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
def test_nncompare_tensorboard_prints_the_url_serves_the_run_and_stops_on_ctrl_c(tmp_path):
    logdir = tmp_path / "runs"
    command = [sys.executable, "-m", "compare", "--model", "logistic", "--iterations", "4",
               "--no-progress", "--logdir", str(logdir), "--experiment", "served", "--tensorboard"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url, lines, deadline = None, [], time.monotonic() + 120
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"TensorBoard on .*: (http://127\.0\.0\.1:\d+/)(\S*)", line)
            url, page = (match.group(1), match.group(2)) if match else (None, "")
        assert url, "".join(lines)
        assert url + page == tb_server.pinned(url)       # loss, accuracy and the check pinned
        deadline = time.monotonic() + 60
        while set(get_json(url + "data/runs")) != {"logistic/scratch", "logistic/torch",
                                                    "logistic/diff"}:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert live_processes_mentioning(str(logdir / "served"))   # the server, by its logdir
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert live_processes_mentioning(str(logdir / "served")) == []    # no server left behind
