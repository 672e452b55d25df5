"""Ctrl-C (SIGINT to the `nncompare --nproc 2` process alone, as `kill -INT` sends it; the
terminal's goes to the same process, the ranks sitting in process groups of their own) stops
every rank: rank 0 after its step, with its checkpoints and logs, as one process does; the
command exits 130 with one line saying what was kept, and no rank process is left (checked by
pid and start time). The run then resumes with --nproc 2 to the very parameters an unbroken
run reaches. A second Ctrl-C, or one before the ranks are up, stops at once, in one line too."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from compare.distributed import signals
from compare.run import checkpoint

RUN = ["--nproc", "2", "--model", "shallow", "--batch-size", "101", "--no-progress"]


def start(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "compare", *RUN, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def started_at(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def ranks_of(parent: int) -> dict[int, str]:
    """{pid: start time} of the rank processes the launcher `parent` started."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"spawn_main" in command:
            found[int(entry.name)] = stat[19]
    return found


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def interrupt(p: subprocess.Popen, times: int = 1,
              ready=lambda ranks: len(ranks) == 2) -> tuple[dict[int, str], float, str]:
    """SIGINT `times` to the launcher once `ready(its ranks)`; every rank it had while it ran
    (pid: start time), the seconds from the signal to its exit, its standard error."""
    seen: dict[int, str] = {}

    def look() -> dict[int, str]:
        seen.update(ranks_of(p.pid))
        return seen
    try:
        wait_for(lambda: ready(look()), timeout=180)
        t0 = time.monotonic()
        for _ in range(times):
            p.send_signal(signal.SIGINT)
            time.sleep(0.2)
        while p.poll() is None and time.monotonic() - t0 < signals.GRACE_S + 45:
            look()
            time.sleep(0.05)
        _, err = p.communicate(timeout=5)
        return seen, time.monotonic() - t0, err
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def assert_gone(ranks: dict[int, str]) -> None:
    """Every rank exited (a pid now naming another process does not count)."""
    wait_for(lambda: all(started_at(pid) != when for pid, when in ranks.items()), timeout=10)


def params(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    return {side: checkpoint.load(folder / "shallow" / side / "checkpoint.npz").params
            for side in ("scratch", "torch")}


def training(folder: Path) -> subprocess.Popen:
    """`nncompare --nproc 2` logging to `folder`, once its first checkpoint is written."""
    p = start("--iterations", "1000000", "--checkpoint-every", "20", "--logdir", str(folder.parent),
              "--experiment", folder.name)
    try:
        wait_for(lambda: (folder / "shallow" / "checkpoint.json").exists(), timeout=180)
    except AssertionError:
        os.killpg(p.pid, signal.SIGKILL)
        raise
    return p


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_ctrl_c_stops_every_rank_after_its_step_and_the_run_resumes_as_unbroken(tmp_path):
    p = training(tmp_path / "stopped")
    ranks, seconds, err = interrupt(p)
    assert p.returncode == 130, err
    assert seconds < signals.GRACE_S, err          # rank 0 stopped after its step, not killed
    assert_gone(ranks)
    lines = err.strip().splitlines()
    assert "Traceback" not in err and [line for line in lines if "interrupted" in line] == lines[-1:]
    assert all("stopping after this step" in line for line in lines[:-1]), err   # rank 0's notice
    folder = tmp_path / "stopped"
    assert f"logs and checkpoints so far in {folder}" in lines[-1]
    steps = int(re.search(r"after step (\d+) of shallow", lines[-1]).group(1)) + 1
    assert checkpoint.load(folder / "shallow" / "torch" / "checkpoint.npz").step == steps

    resumed = subprocess.run([sys.executable, "-m", "compare", "--resume", str(folder), "--nproc",
                              "2", "--iterations", "10", "--no-progress"],
                             capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    whole = subprocess.run([sys.executable, "-m", "compare", *RUN, "--iterations", str(steps + 10),
                            "--logdir", str(tmp_path), "--experiment", "whole"],
                           capture_output=True, text=True, timeout=180)
    assert whole.returncode == 0, whole.stderr
    # the same operations on the same values in the same order: bitwise the same parameters
    for side, found in params(folder).items():
        for name, value in params(tmp_path / "whole")[side].items():
            assert np.array_equal(found[name], value), (side, name)


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_a_second_ctrl_c_stops_at_once_in_one_line(tmp_path):
    ranks, seconds, err = interrupt(p := training(tmp_path / "twice"), times=2)
    assert p.returncode == 130, err
    assert_gone(ranks)
    lines = [line for line in err.strip().splitlines() if "stopping after this step" not in line]
    assert len(lines) == 1 and lines[0].startswith("nncompare: interrupted"), err
    assert "Traceback" not in err and seconds < signals.GRACE_S + 5


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_ctrl_c_before_the_ranks_are_up_is_one_line_and_exit_130():
    started = time.monotonic()
    p = start("--iterations", "1000000", "--no-log")
    ranks, _, err = interrupt(p, ready=lambda ranks: time.monotonic() - started > 1.0)
    assert p.returncode == 130 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("nncompare: interrupted")
    assert_gone(ranks)                          # any that had started
