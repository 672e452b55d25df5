"""A run's hold on its folder (compare.run.lock): `check_free` refuses a folder that another
process holds, as `claim` does, without taking or writing anything; a resume asks it before
it reads the checkpoints, which the holder may be replacing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from compare.run import lock
from scratch.errors import InvalidArgument

pytestmark = pytest.mark.skipif(lock.fcntl is None, reason="no flock on this system")

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from compare.run import lock
    lock.claim(Path(sys.argv[1]))
    print("held", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def held(tmp_path):
    """`tmp_path` held by another process (its pid), stopped by PID at the end."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline() == "held\n"
        yield child.pid
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()


def in_use(folder, pid):
    return (f"experiment: {folder} is in use by another nncompare run (pid {pid}); wait for it "
            "to end, or choose another name")


def test_check_free_refuses_a_folder_another_process_holds_as_claim_does(tmp_path, held):
    with pytest.raises(InvalidArgument) as checked:
        lock.check_free(tmp_path)
    with pytest.raises(InvalidArgument) as claimed:
        lock.claim(tmp_path)
    assert str(checked.value) == str(claimed.value) == in_use(tmp_path, held)


def test_check_free_takes_nothing_and_writes_nothing(tmp_path):
    lock.check_free(tmp_path)                          # a folder no run has held
    assert list(tmp_path.iterdir()) == []
    (tmp_path / lock.LOCK).write_text("4242\n")       # the file a run that ended left
    lock.check_free(tmp_path)
    assert (tmp_path / lock.LOCK).read_text() == "4242\n"
    lock.claim(tmp_path)                               # the probe let go of it
    try:
        lock.check_free(tmp_path)                      # this process holds it: free for us
    finally:
        lock.release(tmp_path)


def test_a_resume_of_a_folder_in_use_is_refused_before_its_checkpoints_are_read(tmp_path, held,
                                                                               capsys):
    from compare.cli.command import main

    model = tmp_path / "logistic"
    for side in ("scratch", "torch"):                  # not a pair: read, they would be refused
        (model / side).mkdir(parents=True)
        (model / side / "checkpoint.npz").write_bytes(b"being replaced")
    assert main(["--resume", str(tmp_path), "--iterations", "5"]) == 2
    assert capsys.readouterr().err == f"nncompare: error: {in_use(tmp_path, held)}\n"
    assert (model / "scratch" / "checkpoint.npz").read_bytes() == b"being replaced"
