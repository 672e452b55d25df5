"""Helpers of the fault suite: nncompare as a process, every wait with a time limit, every
process stopped by its own PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "compare", "--no-progress"]


class Proc:
    """One nncompare process; `stop()` ends it by PID if it is still running."""

    def __init__(self, *args: str, cwd: Path | None = None, ignore_sigint: bool = False,
                 stdout: object = subprocess.PIPE) -> None:
        def preexec() -> None:
            if ignore_sigint:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.popen = subprocess.Popen([*COMMAND, *args], stdout=stdout, stderr=subprocess.PIPE,
                                      text=True, cwd=cwd or ROOT, preexec_fn=preexec,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, sig)

    def wait(self, timeout: float = 120) -> tuple[int, str, str]:
        out, err = self.popen.communicate(timeout=timeout)
        return self.popen.returncode, out or "", err

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.communicate(timeout=30)


@pytest.fixture
def procs():
    started: list[Proc] = []

    def start(*args: str, **kwargs: object) -> Proc:
        p = Proc(*args, **kwargs)  # type: ignore[arg-type]
        started.append(p)
        return p
    yield start
    for p in started:
        p.stop()


def wait_for(what, timeout: float = 120, every: float = 0.05):
    """Poll `what()` until it is truthy (its value) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def manifest_step(model_folder: Path) -> int | None:
    try:
        return int(json.loads((model_folder / "checkpoint.json").read_text())["step"])
    except (OSError, ValueError, KeyError):
        return None


def nncompare(*args: str, timeout: float = 300, **kwargs: object) -> tuple[int, str, str]:
    done = subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, **kwargs)  # type: ignore[call-overload]
    return done.returncode, done.stdout, done.stderr
