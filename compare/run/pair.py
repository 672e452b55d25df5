"""Both sides' checkpoints of one model, written as a unit: a reader sees the old pair or the
new one, never one side of each.

    <experiment>/<model>/checkpoint.json                 the manifest: which pair is current
    <experiment>/<model>/scratch/checkpoint-<step>.npz   the pair it names
    <experiment>/<model>/torch/checkpoint-<step>.npz
    <experiment>/<model>/{scratch,torch}/checkpoint.npz  the current pair under a fixed name
                                                         (a hard link to the step's file)

`save` writes the new pair's two files beside the old ones, then the manifest (atomically:
that one rename is the switch from the old pair to the new), then points the fixed names at
the new pair and deletes the old one. `load` reads what the manifest names, each file checked
against the SHA-256 the manifest holds; a folder of an older run, without a manifest, is read
from the fixed names. A checkpoint write that is killed or fails at any point leaves the
manifest naming a complete pair (or no manifest, and no pair, in a run that had none).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from compare.proof.result import SIDES
from compare.run import checkpoint, files
from scratch.errors import InvalidArgument
from scratch.model import Model
from torch_ref.models import Net

MANIFEST = "checkpoint.json"
FIXED = "checkpoint.npz"
FORMAT = "nncompare-checkpoint-pair"


def step_name(side: str, step: int) -> str:
    return f"{side}/checkpoint-{step:08d}.npz"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: Path) -> dict | None:
    """The manifest of `folder` (<experiment>/<model>), None where there is none."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"resume: {path} cannot be read as a checkpoint manifest ({exc})") from None
    if not (isinstance(found, dict) and found.get("format") == FORMAT
            and isinstance(found.get("files"), dict)):
        raise InvalidArgument(f"resume: {path} is not a checkpoint manifest of nncompare")
    return found


def exists(folder: Path) -> bool:
    """Whether `folder` holds a pair to resume (a manifest, or an older run's fixed names)."""
    return (folder / MANIFEST).is_file() or (folder / "scratch" / FIXED).is_file()


def save(folder: Path, scratch_model: Model, torch_model: Net, step: int, extra: dict) -> None:
    """Write the pair after `step` steps (InvalidArgument naming the file that could not be
    written; the manifest then still names the old pair)."""
    old = manifest(folder)
    if old is not None and old.get("step") == step and old.get("run_id") == extra.get("run_id"):
        return                                           # this state is the current pair already
    names = {side: step_name(side, step) for side in SIDES}
    models: dict[str, Model | Net] = {"scratch": scratch_model, "torch": torch_model}
    for side in SIDES:
        checkpoint.save(folder / names[side], models[side], step, extra)
    entry = {"format": FORMAT, "version": 1, "step": step, "run_id": extra.get("run_id"),
             "files": names, "sha256": {side: sha256(folder / names[side]) for side in SIDES}}
    try:
        text = (json.dumps(entry, indent=1) + "\n").encode()
        files.replace_atomically(folder / MANIFEST, lambda f: f.write(text))   # the switch
    except OSError as exc:
        raise InvalidArgument(f"checkpoint: cannot write {folder / MANIFEST} ({exc.strerror or exc}); "
                              "the previous checkpoints are kept") from None
    for side in SIDES:
        with contextlib.suppress(OSError):       # the fixed names are a convenience only
            _link(folder / names[side], folder / side / FIXED)
        _drop_others(folder / side, Path(names[side]).name)


def _link(source: Path, target: Path) -> None:
    """`target` made the same file as `source`, in one rename (a copy where links fail)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        files.replace_atomically(target, lambda f: f.write(source.read_bytes()))


def _drop_others(side: Path, keep: str) -> None:
    for old in side.glob("checkpoint-*.npz"):
        if old.name != keep:
            with contextlib.suppress(OSError):
                old.unlink()


def paths(folder: Path) -> dict[str, Path]:
    """The files of the current pair, by side: what the manifest names (under its fixed name
    where that is the same file, as it is after a complete save), else the fixed names."""
    found = manifest(folder)
    fixed = {side: folder / side / FIXED for side in SIDES}
    if found is None:                                    # an older run: the fixed names
        return fixed
    named = {side: folder / str(found["files"].get(side, "")) for side in SIDES}
    for side in SIDES:
        with contextlib.suppress(OSError):
            if not named[side].is_file() or os.path.samefile(named[side], fixed[side]):
                named[side] = fixed[side]
    return named


def load(folder: Path) -> tuple[checkpoint.Checkpoint, checkpoint.Checkpoint]:
    """The current pair of `folder` (scratch, torch), each file checked by `checkpoint.load`
    (InvalidArgument); `verify` then checks they are the files the manifest wrote."""
    where = paths(folder)
    return checkpoint.load(where["scratch"]), checkpoint.load(where["torch"])


def verify(folder: Path) -> None:
    """InvalidArgument unless each file of the pair is the one the manifest recorded."""
    found = manifest(folder)
    if found is None:
        return
    for side, path in paths(folder).items():
        if not path.is_file() or sha256(path) != found.get("sha256", {}).get(side):
            raise InvalidArgument(f"resume: {path} is not the {side} checkpoint that "
                                  f"{folder / MANIFEST} records (it is missing or has changed "
                                  "since); the pair cannot be resumed")
