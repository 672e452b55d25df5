"""`nncompare --nproc 2` as a process: the table and JSON say the world; rank 0 writes the same
TensorBoard tags and checkpoint format as one process, and --resume goes on with --nproc."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compare.run import checkpoint
from tests.output.tb_helpers import read

ARGS = ["--model", "shallow", "--iterations", "20", "--no-progress", "--batch-size", "101"]


def nncompare(*argv: str, base: bool = True, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compare", *(ARGS if base else []), *argv],
                          capture_output=True, text=True, timeout=timeout)


def tags(run) -> set[str]:
    found = read(run).Tags()
    return {f"{kind}:{tag}" for kind, names in found.items() if isinstance(names, list) for tag in names}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_logs_checkpoints_and_resume_as_one_process(tmp_path):
    one = nncompare("--logdir", str(tmp_path), "--experiment", "one")
    assert one.returncode == 0, one.stderr
    two = nncompare("--nproc", "2", "--logdir", str(tmp_path), "--experiment", "two",
                    "--json", str(tmp_path / "two.json"))
    assert two.returncode == 0, two.stderr
    assert "2 ranks (gloo)" in two.stdout and two.stdout.count("PASS") == 1
    env = json.loads((tmp_path / "two.json").read_text())["environment"]
    assert env["world_size"] == 2 and env["backend"] == "gloo"
    for side in ("scratch", "torch", "diff"):
        assert tags(tmp_path / "two" / "shallow" / side) == tags(tmp_path / "one" / "shallow" / side)
    saved = checkpoint.load(tmp_path / "two" / "shallow" / "torch" / "checkpoint.npz")
    assert saved.step == 20
    again = nncompare("--resume", str(tmp_path / "two"), "--nproc", "2", "--iterations", "10",
                      "--no-progress", base=False)
    assert again.returncode == 0, again.stderr
    assert checkpoint.load(tmp_path / "two" / "shallow" / "torch" / "checkpoint.npz").step == 30
