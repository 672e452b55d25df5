"""The folder of one `nncompare` run: `<logdir>/<experiment>/`, never silently reused.

    runs/                          --logdir (default `runs`)
      flower-20250101-120000/      the experiment: default name <dataset>-<YYYYmmdd-HHMMSS>
        deep/scratch  deep/torch  deep/diff      one TensorBoard run each (compare.output.tensorboard.logger)

Two rules keep TensorBoard's charts honest (a reused folder gets duplicate steps):

* a default name is made unique atomically: `os.mkdir` either creates the folder
  or fails because it exists, in which case `-2`, `-3`, ... are tried, so two
  processes started in the same second never share a folder;
* an explicit `--experiment NAME` whose folder exists is an error, unless
  `--overwrite`, which clears it first, but only if it is an nncompare run: a
  folder holding the marker file `.nncompare-run` that `create` writes into every
  folder it makes (or, for runs made before the marker, nothing but
  `<model>/{scratch,torch,diff}/` folders of event files and checkpoints), or an
  empty folder. Any other folder is refused and nothing in it is deleted;
* a run holds its folder for as long as it runs: an exclusive lock (`flock`) on the
  file `.nncompare-lock` in it (`claim`), taken before anything is written or cleared
  there, so that two runs never log into one folder, nor clear each other's
  (`compare.run.lock`).

`plan` checks everything (names, the log folder being a folder nncompare can write
in, a folder to overwrite being a run) and creates nothing; `create` makes the
folder once every other check has passed, so a bad-usage failure leaves no folder
behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from compare.proof.result import SIDES
from compare.run.lock import LOCK, claim, release
from scratch.errors import InvalidArgument

MAX_SUFFIX = 1000   # -2 ... -1000 on collisions of the default name in one second
MARKER = ".nncompare-run"   # written into every run folder `create` makes: --overwrite may clear it
RUNS = (*SIDES, "diff")    # the TensorBoard runs of one model


@dataclass(frozen=True)
class Plan:
    """Where the run will log, checked but not yet created."""

    logdir: Path
    name: str | None          # None: the default, <prefix>-<timestamp>[-k]
    prefix: str               # the dataset's name, for the default
    overwrite: bool


def nearest_existing(path: Path) -> Path:
    """`path` if it exists, else the nearest folder above it that does."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing


def cannot_create_in(folder: Path) -> str | None:
    """Why nothing can be created in the existing folder `folder` (None: it can).

    Tries it: a file is created there and deleted at once, since permissions alone do not
    tell (root passes every permission check, yet cannot create files in /proc)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return "it is not writable"
    try:
        fd, probe = tempfile.mkstemp(prefix=".nncompare-probe-", dir=folder)
    except OSError as exc:
        return f"{exc.strerror or exc}"
    os.close(fd)
    os.unlink(probe)
    return None


def check_writable_folder(path: Path) -> None:
    """InvalidArgument unless `path`, or the nearest folder above it that exists, is a
    folder that nncompare can create `path` in."""
    existing = nearest_existing(path)
    if not existing.is_dir():
        raise InvalidArgument(f"logdir: {path} cannot be a folder: {existing} is not a folder")
    why = cannot_create_in(existing)
    if why == "it is not writable":
        raise InvalidArgument(f"logdir: {existing} is not writable, expected a folder "
                              "that can hold the runs (choose another with --logdir)")
    if why is not None:
        raise InvalidArgument(f"logdir: cannot create {path}: nothing can be created in "
                              f"{existing} ({why}); choose another folder with --logdir")


def check_name(name: str) -> str:
    """An experiment name is one folder name: not empty, no separator, not '.' or '..'."""
    text = name.strip()
    if not text or text in (".", "..") or "/" in text or (os.sep in text) or "\0" in text:
        raise InvalidArgument(f"experiment: got {name!r}, expected a folder name such as "
                              "flower-lr0.5 (no '/', not '.' or '..')")
    return text


def _legacy_run(folder: Path) -> bool:
    """A run made before the marker: only <model>/{scratch,torch,diff}/ folders (at least one)
    holding nothing but event files and checkpoints."""
    models = [entry for entry in folder.iterdir() if entry.name != LOCK]
    for model in models:
        if model.is_symlink() or not model.is_dir():
            return False
        for side in model.iterdir():
            if side.name == "checkpoint.json" and side.is_file() and not side.is_symlink():
                continue                                 # the checkpoint pair's manifest
            if side.name not in RUNS or side.is_symlink() or not side.is_dir():
                return False
            for f in side.iterdir():
                if f.is_symlink() or not f.is_file() or not f.name.startswith(
                        ("events.out.tfevents.", "checkpoint.npz", "checkpoint-", ".checkpoint.npz.")):
                    return False
    return bool(models)


def _entries(folder: Path) -> list[Path]:
    """What `folder` holds besides its lock file."""
    return [entry for entry in folder.iterdir() if entry.name != LOCK]


def check_clearable(folder: Path) -> None:
    """InvalidArgument unless `folder` may be cleared by --overwrite: an nncompare run (its
    marker, or the shape of an older run) or an empty folder. Deletes nothing."""
    refuse = (f"experiment: {folder} is not an nncompare run (it holds no {MARKER} file), so "
              "--overwrite will not clear it; nothing was deleted (choose another name, or "
              "remove it yourself)")
    if folder.is_symlink():
        raise InvalidArgument(f"experiment: {folder} is a link, not a run folder; --overwrite "
                              "will not clear it; nothing was deleted")
    try:
        if (folder / MARKER).is_file() or not _entries(folder) or _legacy_run(folder):
            return
    except OSError as exc:
        raise InvalidArgument(f"experiment: cannot read {folder} ({exc.strerror or exc}); "
                              "nothing was deleted") from None
    raise InvalidArgument(refuse)


def plan(logdir: str | os.PathLike, name: str | None, prefix: str, overwrite: bool) -> Plan:
    """Check the log folder and the experiment name; create nothing."""
    root = Path(logdir)
    check_writable_folder(root)
    if name is not None:
        name = check_name(name)
        folder = root / name
        if folder.exists() and not folder.is_dir():
            raise InvalidArgument(f"experiment: {folder} exists and is not a folder")
        if folder.exists() and not overwrite:
            raise InvalidArgument(f"experiment: {folder} already exists; choose another name "
                                  "or pass --overwrite to clear it")
        if folder.exists():
            check_clearable(folder)
    elif overwrite:
        raise InvalidArgument("overwrite: --overwrite needs --experiment NAME "
                              "(a default name is always new)")
    return Plan(root, name, check_name(prefix), overwrite)


def _write_marker(folder: Path) -> None:
    (folder / MARKER).write_text("This folder is an nncompare run: `nncompare --overwrite` "
                                 "may delete it and everything in it.\n"
                                 f"run id: {uuid.uuid4().hex}\n")


def _mkdir(folder: Path) -> None:
    """Create `folder` (its parents as needed), claim it and write its marker, failing if it
    exists (FileExistsError) or another run claimed it first (InvalidArgument; it is theirs)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(folder)
    claim(folder)
    try:
        _write_marker(folder)
    except BaseException:
        remove(folder)
        raise


def _clear(folder: Path) -> None:
    """Claim the run folder `folder`, check it may be cleared, and clear it for a new run:
    everything in it deleted but the lock this run holds, a new marker (a new run id)."""
    check_clearable(folder)           # before the lock file is made in a folder not ours
    claim(folder)
    check_clearable(folder)           # again, under the lock: it may have changed meanwhile
    for entry in _entries(folder):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    _write_marker(folder)


def _named(p: Plan, folder: Path) -> Path:
    """The folder of `--experiment NAME`, created, or with `--overwrite` cleared, and claimed."""
    for _ in range(2):           # an --overwrite whose folder another run creates meanwhile
        if p.overwrite and (folder.is_dir() or folder.is_symlink()):
            _clear(folder)
            return folder
        try:
            _mkdir(folder)
            return folder
        except FileExistsError:
            if not p.overwrite:
                break
    raise InvalidArgument(f"experiment: {folder} already exists (created by another run "
                          "meanwhile); choose another name")


def create(p: Plan) -> Path:
    """Create the experiment folder as planned, claimed by this run (`claim`), and return it.

    Raises:
        InvalidArgument: the folder appeared meanwhile (another process) or another run holds
            it, a folder to overwrite is not an nncompare run (checked again: it may have
            changed since `plan`), or the folder cannot be created (the error names it).
    """
    folder = p.logdir
    try:
        if p.name is not None:
            return _named(p, p.logdir / p.name)
        base = f"{p.prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
        for k in range(1, MAX_SUFFIX + 1):
            folder = p.logdir / (base if k == 1 else f"{base}-{k}")
            try:
                _mkdir(folder)
                return folder
            except FileExistsError:
                continue
        raise InvalidArgument(f"experiment: {MAX_SUFFIX} runs named {base} exist; "
                              "name this one with --experiment")
    except PermissionError as exc:
        raise InvalidArgument(f"logdir: {p.logdir} is not writable ({exc.strerror})") from None
    except OSError as exc:   # e.g. under /proc, a full disk, a name too long: nothing is left
        where = exc.filename or folder
        raise InvalidArgument(f"logdir: cannot create {where} ({exc.strerror or exc}); "
                              "choose another folder with --logdir") from None


def run_id(folder: Path) -> str | None:
    """The random id `create` wrote into the run's marker (None: an older run, without one)."""
    try:
        text = (folder / MARKER).read_text()
    except (OSError, UnicodeDecodeError):
        return None
    ids = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("run id:")]
    return ids[0] if ids else None


def remove(folder: Path) -> None:
    """Delete a folder this run created (after a bad-usage failure), and let go of it."""
    shutil.rmtree(folder, ignore_errors=True)
    release(folder)
