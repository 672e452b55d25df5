"""A rank that raises or is killed stops every other within the launcher's bound, and the
command exits 1 in one line naming it; bad --nproc usage exits 2 in one line, nothing started."""

from __future__ import annotations

import argparse
import socket
import time

import pytest

from compare.cli import command, parallel
from compare.distributed import launch
from tests.distributed import ranks


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("how, says", [("raise", "RuntimeError: rank 1 broke on purpose"),
                                       ("kill", "killed by signal 9")])
def test_a_failed_rank_stops_the_others_and_is_named(how, says):
    start = time.monotonic()
    with pytest.raises(launch.RankFailed) as caught:
        launch.local(2, "gloo", ranks.fail, how)
    elapsed = time.monotonic() - start
    line = str(caught.value)
    assert line.startswith("rank 1 failed: ") and says in line and "\n" not in line
    assert elapsed < 15 + launch.STOP_WITHIN_S        # start-up (spawn, torch import) + the bound


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_the_command_exits_1_naming_the_rank(capsys):
    code = parallel.run_ranks(argparse.Namespace(nproc=2), ranks.fail_run, "cpu")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("nncompare: error: rank 1 failed: RuntimeError: rank 1 broke on purpose")


@pytest.mark.parametrize("argv, says", [
    (["--nproc", "0"], "nproc: "),
    (["--nproc", "2", "--batch-size", "1"], "nproc: 2 ranks, but a batch has only 1"),
    (["--nproc", "400"], "nproc: 400 ranks, but a batch has only 320"),
    (["--nproc", "2", "--device", "cuda"], "cuda"),
])
def test_bad_nproc_is_a_usage_error(argv, says, capsys):
    code = command.main([*argv, "--no-log", "--iterations", "3", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and says in err, err


def test_a_port_in_use_is_a_usage_error(monkeypatch, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("MASTER_PORT", str(busy.getsockname()[1]))
        code = command.main(["--nproc", "2", "--no-log", "--iterations", "3", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "MASTER_PORT=" in err and "cannot be used" in err, err
