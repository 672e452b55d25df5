"""`nncompare`'s logging options and the run folder: unique names, no silent reuse, nothing left
behind by bad usage, the JSON naming the logdir."""

from __future__ import annotations

import json
import os
import threading

import pytest

from compare import cli
from compare.run import job as runner
from compare.run import rundir
from scratch.errors import InvalidArgument

QUICK = ["--model", "logistic", "--iterations", "5", "--no-progress"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([*QUICK, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def runs_under(folder) -> list[str]:
    """Every run folder (one holding event files) under `folder`, relative, sorted."""
    return sorted(os.path.relpath(root, folder) for root, _, files in os.walk(folder)
                  if any(f.startswith("events.out.tfevents.") for f in files))


def test_a_default_run_logs_three_runs_per_model_and_the_json_names_the_folder(tmp_path, capsys):
    code, out, _ = run(capsys, "--model", "all", "--logdir", str(tmp_path / "runs"),
                       "--json", str(tmp_path / "r.json"))
    assert code == 0
    [experiment] = (tmp_path / "runs").iterdir()
    assert experiment.name.startswith("flower-")
    assert runs_under(experiment) == [f"{m}/{s}" for m in ("deep", "logistic", "shallow")
                                      for s in ("diff", "scratch", "torch")]
    assert json.loads((tmp_path / "r.json").read_text())["logdir"] == str(experiment)
    assert f"tensorboard --logdir {experiment}" in out


def test_default_names_are_unique_even_when_started_in_the_same_second(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "20250101-120000")
    plan = rundir.plan(tmp_path, None, "flower", overwrite=False)
    made, barrier = [], threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        made.append(rundir.create(plan).name)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(made) == sorted(["flower-20250101-120000"]
                                  + [f"flower-20250101-120000-{k}" for k in range(2, 9)])


def test_every_run_folder_carries_the_marker_that_lets_overwrite_clear_it(tmp_path, capsys):
    """... and the lock file the run held it by (compare.run.lock)."""
    assert run(capsys, "--logdir", str(tmp_path))[0] == 0
    [experiment] = tmp_path.iterdir()
    assert sorted(p.name for p in experiment.iterdir()) == [rundir.LOCK, rundir.MARKER, "logistic"]


def test_overwrite_refuses_a_folder_that_is_not_a_run_and_deletes_nothing(tmp_path, capsys):
    important = tmp_path / "important"
    important.mkdir()
    (important / "notes.txt").write_text("years of work")
    code, out, err = run(capsys, "--logdir", str(tmp_path), "--experiment", "important", "--overwrite")
    assert code == 2 and out == ""
    assert err == (f"nncompare: error: experiment: {important} is not an nncompare run (it holds no "
                   f"{rundir.MARKER} file), so --overwrite will not clear it; nothing was deleted "
                   "(choose another name, or remove it yourself)\n")
    assert [p.name for p in important.iterdir()] == ["notes.txt"]
    assert (important / "notes.txt").read_text() == "years of work"


def test_overwrite_clears_an_older_run_without_the_marker_but_not_with_a_stray_file(tmp_path, capsys):
    logdir = ["--logdir", str(tmp_path), "--experiment", "old"]
    assert run(capsys, *logdir)[0] == 0
    (tmp_path / "old" / rundir.MARKER).unlink()             # as runs made before the marker
    assert run(capsys, *logdir, "--overwrite")[0] == 0
    assert (tmp_path / "old" / rundir.MARKER).is_file()
    (tmp_path / "old" / rundir.MARKER).unlink()
    (tmp_path / "old" / "logistic" / "scratch" / "mine.txt").write_text("not nncompare's")
    code, _, err = run(capsys, *logdir, "--overwrite")
    assert code == 2 and "is not an nncompare run" in err
    assert (tmp_path / "old" / "logistic" / "scratch" / "mine.txt").is_file()


def test_overwrite_reuses_an_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run(capsys, "--logdir", str(tmp_path), "--experiment", "empty", "--overwrite")[0] == 0
    assert runs_under(tmp_path) == ["empty/logistic/diff", "empty/logistic/scratch",
                                    "empty/logistic/torch"]


def test_create_checks_again_a_folder_that_changed_since_the_plan(tmp_path):
    (tmp_path / "e").mkdir()
    plan = rundir.plan(tmp_path, "e", "flower", overwrite=True)       # empty: may be cleared
    (tmp_path / "e" / "notes.txt").write_text("written meanwhile")
    with pytest.raises(InvalidArgument, match="is not an nncompare run"):
        rundir.create(plan)
    assert (tmp_path / "e" / "notes.txt").read_text() == "written meanwhile"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_logdir_where_nothing_can_be_created_is_a_usage_error(capsys):
    code, out, err = run(capsys, "--logdir", "/proc/nncompare-test-runs")
    assert code == 2 and out == ""
    assert err == ("nncompare: error: logdir: cannot create /proc/nncompare-test-runs: nothing can "
                   "be created in /proc (No such file or directory); choose another folder with "
                   "--logdir\n")


def test_an_os_error_creating_the_run_folder_names_it_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    def full(path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(rundir.os, "mkdir", full)
    code, out, err = run(capsys, "--logdir", str(tmp_path), "--experiment", "e")
    assert code == 2 and out == ""
    assert err == (f"nncompare: error: logdir: cannot create {tmp_path / 'e'} (No space left on "
                   "device); choose another folder with --logdir\n")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_experiment_is_an_error_unless_overwrite_which_clears_it(tmp_path, capsys):
    logdir = ["--logdir", str(tmp_path), "--experiment", "mine"]
    assert run(capsys, *logdir)[0] == 0
    marker = tmp_path / "mine" / "logistic" / "scratch" / "marker"
    marker.write_text("from the first run")
    code, out, err = run(capsys, *logdir)
    assert code == 2 and out == ""
    assert err.strip() == (f"nncompare: error: experiment: {tmp_path / 'mine'} already exists; "
                           "choose another name or pass --overwrite to clear it")
    assert marker.exists()                                          # untouched
    assert run(capsys, *logdir, "--overwrite")[0] == 0
    assert not marker.exists()
    assert runs_under(tmp_path) == ["mine/logistic/diff", "mine/logistic/scratch",
                                    "mine/logistic/torch"]
    files = sorted(f.name for f in (tmp_path / "mine" / "logistic" / "torch").iterdir())
    assert len(files) == 3 and files[:2] == ["checkpoint-00000005.npz", "checkpoint.npz"]   # a pair
    assert files[2].startswith("events.out")


@pytest.mark.parametrize("argv, message", [
    (["--iterations", "0"], "iterations"),
    (["--model", "deep", "--layers", "3,4,1"], "layers"),
    (["--experiment", "a/b"], "experiment"),
    (["--experiment", ".."], "experiment"),
    (["--overwrite"], "overwrite"),
    (["--no-log", "--tensorboard"], "no-log"),
    (["--log-every", "0"], "log_every"),
    (["--hist-every", "-1"], "hist_every"),
    (["--scratch-impl", "no_such_module:Net"], "scratch"),
])
def test_bad_usage_exits_2_in_one_line_and_leaves_no_run_folder(tmp_path, capsys, argv, message):
    code, out, err = run(capsys, "--logdir", str(tmp_path / "runs"), *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("nncompare: error: ") and message in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_logdir_that_is_a_file_is_named_in_the_error(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    code, _, err = run(capsys, "--logdir", str(target / "runs"))
    assert code == 2 and f"{target}" in err and "is not a folder" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_logdir_is_named_in_the_error(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run(capsys, "--logdir", str(locked / "runs"))
    finally:
        locked.chmod(0o700)
    assert code == 2 and f"logdir: {locked} is not writable" in err


def test_no_log_writes_nothing_and_the_json_says_so(tmp_path, capsys):
    code, out, _ = run(capsys, "--no-log", "--logdir", str(tmp_path / "runs"),
                       "--json", str(tmp_path / "r.json"))
    assert code == 0 and "TensorBoard" not in out
    assert not (tmp_path / "runs").exists()
    assert json.loads((tmp_path / "r.json").read_text())["logdir"] is None


def test_cadence_flags_set_what_is_written(tmp_path, capsys):
    from tests.output.tb_helpers import read

    code, _, _ = run(capsys, "--logdir", str(tmp_path), "--experiment", "e", "--log-every", "2",
                     "--hist-every", "0", "--image-every", "4")
    assert code == 0
    acc = read(tmp_path / "e" / "logistic" / "scratch")
    assert [e.step for e in acc.Scalars("loss/train")] == [0, 2, 4]
    assert [e.step for e in acc.Scalars("accuracy/test")] == [0, 2, 4, 5]
    assert [i.step for i in acc.Images("decision_boundary")] == [0, 4, 5]
    assert acc.Tags()["histograms"] == []


def test_a_late_bad_argument_removes_the_folder_it_made(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise InvalidArgument("model: refused by the harness")

    monkeypatch.setattr(runner, "check_model", refuse)
    assert cli.main([*QUICK, "--logdir", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []
