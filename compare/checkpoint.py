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
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import scratch
import torch_ref
from compare import adapter
from scratch.errors import InvalidArgument
from scratch.model import Model
from scratch.spec import ModelSpec, check_int
from torch_ref.models import Net

FORMAT, VERSION = "nncompare-checkpoint", 1
CLASSES = ("LogisticRegression", "ShallowNet", "DeepNet")


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


def save(path: str | os.PathLike, model: Model | Net, step: int, extra: dict | None = None) -> Path:
    """Write `model` (scratch or torch_ref) after `step` training steps to `path` (.npz)."""
    step = check_int("step", step, 0)
    if isinstance(model, Net):
        params, side = adapter.params_from_torch(model), "torch"
        dtype = str(model.dtype).replace("torch.", "")
    else:
        params, side, dtype = model.params, "scratch", model.dtype.name
    spec = model.spec
    meta = {"format": FORMAT, "version": VERSION, "model": _class_name(model),
            "layer_dims": list(spec.layer_dims), "activations": list(spec.activations),
            "output": spec.output, "init": spec.init, "alpha": spec.alpha, "dtype": dtype,
            "step": step, "side": side, "extra": extra or {}}
    target = Path(path)
    if target.suffix != ".npz":
        target = target.with_suffix(".npz")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".npz", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            arrays = {"meta": np.array(json.dumps(meta)), **{k: np.asarray(v) for k, v in params.items()}}
            np.savez(f, **arrays)  # type: ignore[arg-type]  # (NumPy's stub reads ** as allow_pickle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load(path: str | os.PathLike) -> Checkpoint:
    """Read and check a checkpoint (InvalidArgument names what is wrong with the file)."""
    target = Path(path)
    if not target.is_file():
        raise InvalidArgument(f"checkpoint: {str(target)!r} does not exist or is not a file")
    try:
        with np.load(target, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            arrays = {k: f[k] for k in f.files if k != "meta"}
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidArgument(f"checkpoint: {str(target)!r} is not an nncompare checkpoint ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise InvalidArgument(f"checkpoint: {str(target)!r} has format {meta.get('format')!r} version "
                              f"{meta.get('version')!r}, expected {FORMAT!r} version {VERSION}")
    spec = ModelSpec.build(meta["layer_dims"], activation=meta["activations"], output=meta["output"],
                           init=meta["init"], alpha=meta["alpha"])
    for name, shape in spec.param_shapes().items():
        if name not in arrays or arrays[name].shape != shape:
            got = arrays[name].shape if name in arrays else "missing"
            raise InvalidArgument(f"checkpoint: {name} is {got}, expected shape {shape}")
    return Checkpoint(arrays, spec, meta["model"], meta["dtype"], meta["step"], meta["side"],
                      meta.get("extra", {}))


def _constructor_args(ckpt: Checkpoint) -> tuple[tuple, dict]:
    s = ckpt.spec
    if ckpt.model == "LogisticRegression":
        return (s.n_x, s.n_y), dict(output=s.output, init=s.init)
    if ckpt.model == "ShallowNet":
        return (s.n_x, s.layer_dims[1], s.n_y), dict(activation=s.activations[0], output=s.output,
                                                     init=s.init, alpha=s.alpha)
    return (list(s.layer_dims),), dict(activation=list(s.activations), output=s.output, init=s.init,
                                       alpha=s.alpha)


def to_scratch(ckpt: Checkpoint, dtype: str | None = None) -> Model:
    """The scratch model the checkpoint describes, holding copies of its parameters."""
    args, kwargs = _constructor_args(ckpt)
    model = getattr(scratch, ckpt.model)(*args, **kwargs, dtype=dtype or ckpt.dtype)
    model.params = {k: np.array(v, dtype=model.dtype) for k, v in ckpt.params.items()}
    return model


def to_torch(ckpt: Checkpoint, device: object = "cpu", dtype: str | None = None) -> Net:
    """The torch_ref model the checkpoint describes, on `device`, holding its parameters."""
    args, kwargs = _constructor_args(ckpt)
    model = getattr(torch_ref, ckpt.model)(*args, **kwargs, device=device, dtype=dtype or ckpt.dtype)
    with torch.no_grad():
        adapter.copy_params_to_torch(ckpt.params, model)
    return model
