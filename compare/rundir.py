"""The folder of one `nncompare` run: `<logdir>/<experiment>/`, never silently reused.

    runs/                          --logdir (default `runs`)
      flower-20250101-120000/      the experiment: default name <dataset>-<YYYYmmdd-HHMMSS>
        deep/scratch  deep/torch  deep/diff      one TensorBoard run each (compare.tblog)

Two rules keep TensorBoard's charts honest (a reused folder gets duplicate steps):

* a default name is made unique atomically: `os.mkdir` either creates the folder
  or fails because it exists, in which case `-2`, `-3`, ... are tried, so two
  processes started in the same second never share a folder;
* an explicit `--experiment NAME` whose folder exists is an error, unless
  `--overwrite`, which clears it first.

`plan` checks everything (names, the log folder being a writable folder) and
creates nothing; `create` makes the folder once every other check has passed,
so a bad-usage failure leaves no folder behind.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from scratch.errors import InvalidArgument

MAX_SUFFIX = 1000   # -2 ... -1000 on collisions of the default name in one second


@dataclass(frozen=True)
class Plan:
    """Where the run will log, checked but not yet created."""

    logdir: Path
    name: str | None          # None: the default, <prefix>-<timestamp>[-k]
    prefix: str               # the dataset's name, for the default
    overwrite: bool


def check_writable_folder(path: Path) -> None:
    """InvalidArgument unless `path`, or the nearest folder above it that exists, is a
    writable folder (so that `path` can be created in it)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidArgument(f"logdir: {path} cannot be a folder: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidArgument(f"logdir: {existing} is not writable, expected a folder "
                              "that can hold the runs (choose another with --logdir)")


def check_name(name: str) -> str:
    """An experiment name is one folder name: not empty, no separator, not '.' or '..'."""
    text = name.strip()
    if not text or text in (".", "..") or "/" in text or (os.sep in text) or "\0" in text:
        raise InvalidArgument(f"experiment: got {name!r}, expected a folder name such as "
                              "flower-lr0.5 (no '/', not '.' or '..')")
    return text


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
    elif overwrite:
        raise InvalidArgument("overwrite: --overwrite needs --experiment NAME "
                              "(a default name is always new)")
    return Plan(root, name, check_name(prefix), overwrite)


def _mkdir(folder: Path) -> None:
    """Create `folder` (its parents as needed), failing if it exists."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(folder)


def create(p: Plan) -> Path:
    """Create the experiment folder as planned and return it.

    Raises:
        InvalidArgument: the folder appeared meanwhile (another process), or the log
            folder cannot be written.
    """
    try:
        if p.name is not None:
            folder = p.logdir / p.name
            if p.overwrite and folder.is_dir():
                shutil.rmtree(folder)
            try:
                _mkdir(folder)
            except FileExistsError:
                raise InvalidArgument(f"experiment: {folder} already exists (created by "
                                      "another run meanwhile); choose another name") from None
            return folder
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


def remove(folder: Path) -> None:
    """Delete a folder this run created (after a bad-usage failure)."""
    shutil.rmtree(folder, ignore_errors=True)
