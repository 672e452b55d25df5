"""Checkpoints both implementations can read: parameters by the notes' names, in the notes' layout.

File format (`.npz`, written atomically):

    W1, b1, ..., WL, bL    arrays in scratch layout: W[l] [n[l], n[l-1]], b[l] [n[l], 1]
    meta                   a JSON string: {"format": "nncompare-checkpoint", "version": 1,
                           "model": "DeepNet", "layer_dims": [...], "activations": [...],
                           "output": ..., "init": ..., "alpha": ..., "dtype": "float64",
                           "step": <training steps taken>, "side": "scratch" | "torch",
                           "extra": {...}}

A model trained by `torch_ref` (on a GPU, say) loads into `scratch` and predicts
identically, and the reverse; `step` lets training resume where it stopped
(`scratch.fit(..., start_step=step)`, `torch_ref.fit(..., start_step=step)`).

Every problem with a file, a path or an argument is an `InvalidArgument` whose one-line
message names the file or argument and what was expected: `load` refuses anything
`save` would not have written (a truncated or foreign file, a meta with missing or
unknown values, parameters of the wrong shape or holding NaN or inf), and `save`
refuses what `load` would refuse, leaving any file already at the path as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

import scratch
import torch_ref
from compare import adapter
from compare.proof.result import SIDES
from compare.run import files
from scratch.errors import InvalidArgument
from scratch.model import Model
from scratch.spec import DTYPES, ModelSpec, check_choice, check_int
from torch_ref.models import Net

FORMAT, VERSION = "nncompare-checkpoint", 1
CLASSES = ("LogisticRegression", "ShallowNet", "DeepNet")

META_KEYS = ("model", "layer_dims", "activations", "output", "init", "alpha", "dtype", "step", "side")
HIDDEN_LAYERS = {"LogisticRegression": 0, "ShallowNet": 1}       # DeepNet: any number
NOT_NPZ = "is not a checkpoint of nncompare (truncated, corrupted or not a .npz file)"
# What reading a damaged or foreign file can raise, inside numpy.load and zipfile.
UNREADABLE = (OSError, ValueError, EOFError, KeyError, RuntimeError, zipfile.BadZipFile, zlib.error)


@dataclass
class Checkpoint:
    """What a checkpoint file holds."""

    params: dict[str, np.ndarray]        # scratch layout
    spec: ModelSpec
    model: str                            # 'LogisticRegression' | 'ShallowNet' | 'DeepNet'
    dtype: str
    step: int
    side: str
    extra: dict = field(default_factory=dict)


def _class_name(model: Model | Net) -> str:
    name = type(model).__name__
    return name if name in CLASSES else "DeepNet"


def _file(path: object) -> Path:
    """`path` as a Path (InvalidArgument for what is not a path, or names no file)."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgument(f"checkpoint: path: got {type(path).__name__}, expected a file path "
                              "(str or os.PathLike)")
    target = Path(path)
    if not target.name:
        raise InvalidArgument(f"checkpoint: path: got {str(path)!r}, expected a file path, not a folder")
    return target


def _bad(target: Path, why: str) -> InvalidArgument:
    return InvalidArgument(f"checkpoint: {str(target)!r} {why}")


# ----------------------------------------------------------------------------------------- save

def save(path: str | os.PathLike, model: Model | Net, step: int, extra: dict | None = None) -> Path:
    """Write `model` (scratch or torch_ref) after `step` training steps; return the path written.

    That path is `path` when it ends in `.npz`, else `path` with `.npz` appended (`c` ->
    `c.npz`, `c.txt` -> `c.txt.npz`), so that no other file is overwritten by accident.
    Missing folders are created. The write is atomic: afterwards the path holds either the
    complete new checkpoint or, if anything failed, what it held before. The file's mode is
    what `open()` would give: an existing file keeps its own, a new one 0o666 & ~umask.
    `extra` is stored as JSON; NumPy scalars and arrays in it become numbers and lists.

    InvalidArgument (nothing written) when `model` is not a scratch or torch_ref model, its
    parameters are not finite or not of its architecture's shapes, `extra` is not JSON, or
    the file cannot be written (the message names the path and the reason).
    """
    step = check_int("step", step, 0)
    params, side, dtype = _parts(model)
    spec = model.spec
    problem = _param_problem(params, spec)
    if problem:
        raise InvalidArgument(f"checkpoint: cannot save the model: {problem}")
    meta = {"format": FORMAT, "version": VERSION, "model": _class_name(model),
            "layer_dims": list(spec.layer_dims), "activations": list(spec.activations),
            "output": spec.output, "init": spec.init, "alpha": spec.alpha, "dtype": dtype,
            "step": step, "side": side, "extra": _json_extra(extra)}
    target = npz_path(path)
    _write(target, {"meta": np.array(json.dumps(meta)), **params})
    return target


def npz_path(path: str | os.PathLike) -> Path:
    """The file `save(path, ...)` writes: `path` if it ends in .npz, else `path` + '.npz'."""
    target = _file(path)
    return target if target.suffix.lower() == ".npz" else target.with_name(target.name + ".npz")


def _parts(model: object) -> tuple[dict[str, np.ndarray], str, str]:
    """The parameters (scratch layout), side and dtype name of a scratch or torch_ref model."""
    if isinstance(model, Net):
        return adapter.params_from_torch(model), "torch", str(model.dtype).replace("torch.", "")
    if isinstance(model, Model):
        return {k: np.asarray(v) for k, v in model.params.items()}, "scratch", model.dtype.name
    raise InvalidArgument(f"checkpoint: model: got {type(model).__name__}, expected a scratch model "
                          "(scratch.Model, e.g. scratch.DeepNet) or a torch_ref model (torch_ref.Net)")


def _numpy_to_python(value: object) -> object:
    """json.dumps' `default`: NumPy scalars as Python numbers, arrays as (nested) lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a {type(value).__name__} is not JSON serializable")


def _json_extra(extra: object) -> dict:
    """`extra` as it will read back from the file (InvalidArgument naming a key that is not JSON)."""
    if extra is None:
        return {}
    if not isinstance(extra, dict):
        raise InvalidArgument(f"checkpoint: extra: got {type(extra).__name__}, expected a dict "
                              "of JSON values")
    out = {}
    for key, value in extra.items():
        if not isinstance(key, str):
            raise InvalidArgument(f"checkpoint: extra: key {key!r} is a {type(key).__name__}, "
                                  "expected str keys")
        try:
            out[key] = json.loads(json.dumps(value, default=_numpy_to_python))
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidArgument(f"checkpoint: extra[{key!r}]: {exc}; expected JSON values (str, "
                                  "numbers, bools, None, lists, dicts; NumPy scalars and arrays "
                                  "are converted)") from None
    return out


def _write(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the .npz atomically: a complete new file, or the old one left as it was."""
    try:
        if target.is_dir():
            raise _cannot_write(target, "it is a folder")
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(target, _folder_problem(target) or exc.strerror or str(exc)) from None

    def fill(f: BinaryIO) -> None:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # (NumPy's stub reads ** as allow_pickle)

    try:
        files.replace_atomically(target, fill)
    except OSError as exc:
        raise _cannot_write(target, exc.strerror or str(exc)) from None


def _cannot_write(target: Path, why: str) -> InvalidArgument:
    return InvalidArgument(f"checkpoint: cannot write {str(target)!r} ({why}); nothing was written")


def _folder_problem(target: Path) -> str | None:
    """'... is a file, not a folder' when the nearest existing folder above `target` is a file."""
    for parent in target.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{str(parent)!r} is a file, not a folder"
    return None


# ----------------------------------------------------------------------------------------- load

def load(path: str | os.PathLike) -> Checkpoint:
    """Read and check a checkpoint (InvalidArgument names the file and what is wrong with it).

    Refused: a missing or unreadable file, one that is not a .npz written by `save`
    (truncated, empty, a .npy, text...), a meta with a missing or unknown value (format,
    model, layer_dims, activations, output, init, alpha, dtype, step >= 0, side), and
    parameters that are missing, extra, not of the shapes layer_dims gives (W[l]
    [n[l], n[l-1]], b[l] [n[l], 1]) or not finite.
    """
    target = _file(path)
    meta, arrays = _read(target)
    if not isinstance(meta, dict):
        raise _bad(target, f"has a meta that is a JSON {type(meta).__name__}, expected a JSON object")
    if not (_same(meta.get("format"), FORMAT) and _same(meta.get("version"), VERSION)):
        raise _bad(target, f"has format {meta.get('format')!r} version {meta.get('version')!r}, "
                           f"expected {FORMAT!r} version {VERSION}")
    with _in_meta(target):
        spec, fields = _check_meta(meta)
    problem = _param_problem(arrays, spec)
    if problem:
        raise InvalidArgument(f"checkpoint: {str(target)!r}: {problem}")
    return Checkpoint(arrays, spec, **fields)


def _same(value: object, expected: object) -> bool:
    """`value` is `expected`, of the same type (JSON's true is not 1)."""
    return type(value) is type(expected) and value == expected


def _read(target: Path) -> tuple[object, dict[str, np.ndarray]]:
    """The parsed meta and the other arrays of the .npz at `target`."""
    try:
        if not target.is_file():
            raise _bad(target, "does not exist or is not a file")
        with open(target, "rb") as fid:      # ours to close: numpy.load leaks it on a bad zip
            return _contents(target, np.load(fid, allow_pickle=False))
    except InvalidArgument:
        raise
    except OSError as exc:
        raise _bad(target, f"cannot be read ({exc.strerror or exc})") from None
    except UNREADABLE:
        raise _bad(target, NOT_NPZ) from None


def _contents(target: Path, npz: object) -> tuple[object, dict[str, np.ndarray]]:
    """The parsed meta and the other arrays of what numpy.load returned."""
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise _bad(target, "holds a single array (a .npy file), expected a checkpoint of nncompare "
                           "(a .npz of W1, b1, ..., meta)")
    with npz:
        return _meta(target, npz), {k: npz[k] for k in npz.files if k != "meta"}


def _meta(target: Path, npz: np.lib.npyio.NpzFile) -> object:
    """The JSON in the .npz's 'meta' array."""
    if "meta" not in npz.files:
        raise _bad(target, "is a .npz but not a checkpoint of nncompare (it has no 'meta')")
    text = npz["meta"]
    if not isinstance(text, np.ndarray) or text.shape != () or text.dtype.kind != "U":
        raise _bad(target, "is a .npz but not a checkpoint of nncompare (its 'meta' is not a string)")
    try:
        return json.loads(str(text))
    except (ValueError, RecursionError):
        raise _bad(target, "is a .npz but not a checkpoint of nncompare (its 'meta' is not JSON)") from None


@contextlib.contextmanager
def _in_meta(target: Path) -> Iterator[None]:
    """InvalidArgument about a meta value, prefixed with the file it is in."""
    try:
        yield
    except InvalidArgument as exc:
        raise InvalidArgument(f"checkpoint: {str(target)!r}: meta {exc}") from None


def _check_meta(meta: dict) -> tuple[ModelSpec, dict]:
    """The spec and the other Checkpoint fields of a meta, each value checked."""
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise InvalidArgument(f"has no {missing[0]!r}, expected the keys {', '.join(META_KEYS)}")
    spec = ModelSpec.build(meta["layer_dims"], activation=meta["activations"], output=meta["output"],
                           init=meta["init"], alpha=meta["alpha"])
    model = _one_of("model", meta["model"], CLASSES)
    hidden = HIDDEN_LAYERS.get(model)
    if hidden is not None and spec.L - 1 != hidden:
        raise InvalidArgument(f"layer_dims: got {list(spec.layer_dims)} for a {model}, expected "
                              f"{hidden} hidden layer{'s' if hidden != 1 else ''}")
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise InvalidArgument(f"extra: got a JSON {type(extra).__name__}, expected a JSON object")
    return spec, dict(model=model, dtype=check_choice("dtype", meta["dtype"], DTYPES),
                      step=check_int("step", meta["step"], 0),
                      side=_one_of("side", meta["side"], SIDES), extra=extra)


def _one_of(arg: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgument(f"{arg}: got {value!r}, expected one of {', '.join(choices)}")
    return value


def _param_problem(arrays: Mapping[str, object], spec: ModelSpec) -> str | None:
    """What is wrong with `arrays` as the parameters of `spec` (None: nothing)."""
    shapes = spec.param_shapes()
    layout = f"for layer_dims {list(spec.layer_dims)}, W[l] is [n[l], n[l-1]] and b[l] is [n[l], 1]"
    unknown = [name for name in arrays if name not in shapes]
    if unknown:
        return f"holds {unknown[0]!r}, expected only {', '.join(shapes)} ({layout})"
    for name, shape in shapes.items():
        a = arrays.get(name)
        if a is None:
            return f"parameter {name} is missing, expected shape {shape} ({layout})"
        if not isinstance(a, np.ndarray) or not np.issubdtype(a.dtype, np.floating):
            kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
            return f"parameter {name} is {kind}, expected floating-point numbers"
        if a.shape != shape:
            return f"parameter {name} has shape {a.shape}, expected {shape} ({layout})"
        if not np.isfinite(a).all():
            return f"parameter {name} holds NaN or inf, expected finite numbers"
    return None


# --------------------------------------------------------------------------------- into a model

def _constructor_args(ckpt: Checkpoint) -> tuple[tuple, dict]:
    s = ckpt.spec
    if ckpt.model == "LogisticRegression":
        return (s.n_x, s.n_y), dict(output=s.output, init=s.init)
    if ckpt.model == "ShallowNet":
        return (s.n_x, s.layer_dims[1], s.n_y), dict(activation=s.activations[0], output=s.output,
                                                     init=s.init, alpha=s.alpha)
    return (list(s.layer_dims),), dict(activation=list(s.activations), output=s.output, init=s.init,
                                       alpha=s.alpha)


def _model_class(module: object, ckpt: Checkpoint) -> type:
    """The class named by `ckpt.model` in `scratch` or `torch_ref`."""
    return getattr(module, _one_of("checkpoint: model", ckpt.model, CLASSES))


def to_scratch(ckpt: Checkpoint, dtype: str | None = None) -> Model:
    """The scratch model the checkpoint describes, holding copies of its parameters."""
    args, kwargs = _constructor_args(ckpt)
    model = _model_class(scratch, ckpt)(*args, **kwargs, dtype=dtype or ckpt.dtype)
    model.params = {k: np.array(v, dtype=model.dtype) for k, v in ckpt.params.items()}
    return model


def to_torch(ckpt: Checkpoint, device: object = "cpu", dtype: str | None = None) -> Net:
    """The torch_ref model the checkpoint describes, on `device`, holding its parameters."""
    args, kwargs = _constructor_args(ckpt)
    model = _model_class(torch_ref, ckpt)(*args, **kwargs, device=device, dtype=dtype or ckpt.dtype)
    with torch.no_grad():
        adapter.copy_params_to_torch(ckpt.params, model)
    return model
