"""`nncompare --nproc 2` as a process: the table and JSON say the world; rank 0 writes the same
TensorBoard tags and checkpoint format as one process, and a finished run resumed with
--nproc 2 ends on the very parameters (both sides, bitwise) of an unbroken run as long."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from compare.run import checkpoint
from tests.output.tb_helpers import read

ARGS = ["--model", "shallow", "--no-progress", "--batch-size", "101"]


def nncompare(*argv: str, base: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compare", *(ARGS if base else []), *argv],
                          capture_output=True, text=True, timeout=timeout)


def tags(run) -> set[str]:
    found = read(run).Tags()
    return {f"{kind}:{tag}" for kind, names in found.items() if isinstance(names, list) for tag in names}


def final(folder) -> dict[str, checkpoint.Checkpoint]:
    return {side: checkpoint.load(folder / "shallow" / side / "checkpoint.npz")
            for side in ("scratch", "torch")}


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_logs_checkpoints_and_resume_as_one_process(tmp_path):
    one = nncompare("--iterations", "30", "--logdir", str(tmp_path), "--experiment", "one")
    assert one.returncode == 0, one.stderr
    two = nncompare("--nproc", "2", "--iterations", "30", "--logdir", str(tmp_path),
                    "--experiment", "two", "--json", str(tmp_path / "two.json"))
    assert two.returncode == 0, two.stderr
    assert "2 ranks (gloo)" in two.stdout and two.stdout.count("PASS") == 1
    env = json.loads((tmp_path / "two.json").read_text())["environment"]
    assert env["world_size"] == 2 and env["backend"] == "gloo"
    for side in ("scratch", "torch", "diff"):
        assert tags(tmp_path / "two" / "shallow" / side) == tags(tmp_path / "one" / "shallow" / side)

    part = nncompare("--nproc", "2", "--iterations", "20", "--logdir", str(tmp_path),
                     "--experiment", "part")
    assert part.returncode == 0, part.stderr
    again = nncompare("--resume", str(tmp_path / "part"), "--nproc", "2", "--iterations", "10",
                      "--no-progress", base=False)
    assert again.returncode == 0, again.stderr
    resumed, unbroken, alone = final(tmp_path / "part"), final(tmp_path / "two"), final(tmp_path / "one")
    for side in ("scratch", "torch"):
        assert resumed[side].step == unbroken[side].step == 30
        for name, value in unbroken[side].params.items():
            # the same operations on the same values in the same order: bitwise
            assert np.array_equal(resumed[side].params[name], value), (side, name)
            # against one process: the batch's sums split over two ranks, so equal only to
            # rounding (float64's trajectory bound, relative to the layer's size)
            scale = np.abs(alone[side].params[name]).max()
            assert np.abs(value - alone[side].params[name]).max() <= 1e-11 * scale, (side, name)
