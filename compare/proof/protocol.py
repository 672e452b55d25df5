"""The protocol a from-scratch model follows to be checked against the torch reference.

A model (ours, or one a user wrote by hand, e.g. for the course assignment) needs:

    params                      dict {'W1': [n1, n0], 'b1': [n1, 1], ..., 'WL', 'bL'}
    forward(X)                  X [n0, m] -> (AL [nL, m], caches)
    cost(AL, Y)                 -> J (a float); may take the caches as a third argument
    backward(AL, Y, caches)     -> grads {'dW1': ..., 'db1': ..., ...}

Optional, and used when present:
    update(grads, lr)           gradient descent in place (else the harness does p -= lr * dp)
    backward(..., intermediates=True) also returning 'dZ1', 'dA1', ... (the notes' dZ = m dJ/dZ)
    caches                      a list with one entry per layer holding Z and A (attributes
                                `.Z`/`.A`, or dict keys 'Z'/'A'): per-layer forward parity
    spec                        a `scratch.spec.ModelSpec`; else the architecture is read
                                from the shapes of `params` and the activation/output given

`ScratchSide` calls any such object the same way, so the checks and
`scratch.train.step` run on ours and on a user's alike.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from scratch.errors import InvalidArgument

REQUIRED = ("params", "forward", "cost", "backward")


def _accepts(fn: Callable[..., Any], n_positional: int = 0, keyword: str | None = None) -> bool:
    """Whether `fn` takes `n_positional` positional arguments (or the keyword `keyword`)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    params = list(signature.parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params) and keyword:
        return True
    if keyword:
        return keyword in signature.parameters
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= n_positional


def missing_members(model: object) -> list[str]:
    """What `model` lacks of the protocol, as readable phrases ([] when it follows it)."""
    missing = []
    for name in REQUIRED:
        member = getattr(model, name, None)
        if member is None:
            missing.append(f"'{name}'")
        elif name == "params" and not isinstance(member, dict):
            missing.append("'params' as a dict {'W1': ..., 'b1': ...}")
        elif name != "params" and not callable(member):
            missing.append(f"'{name}' as a method")
    params = getattr(model, "params", None)
    if isinstance(params, dict):
        L = sum(1 for k in params if k.startswith("W"))
        expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
        if L == 0 or set(params) != expected:
            missing.append(f"params keyed W1, b1, ..., WL, bL (got {sorted(params)})")
    return missing


def params_problem(params: object, names: list[str]) -> str | None:
    """Why `params` (after an update) no longer holds arrays named `names`, or None."""
    if not isinstance(params, dict):
        return f"params became {type(params).__name__}, expected a dict"
    if set(params) != set(names):
        return f"params holds {sorted(params)}, expected {sorted(names)}"
    bad = next((n for n in names if not isinstance(params[n], np.ndarray)), None)
    if bad is not None:
        return f"params[{bad!r}] became {type(params[bad]).__name__}, expected a NumPy array"
    return None


def layer_dims_of(params: dict[str, np.ndarray]) -> list[int]:
    """[n0, n1, ..., nL] read off the shapes W[l] [n[l], n[l-1]]."""
    L = sum(1 for k in params if k.startswith("W"))
    return [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]


class ScratchSide:
    """A protocol model behind one set of calls: forward, cost, backward, update."""

    def __init__(self, model: Any, where: str = "scratch model") -> None:
        missing = missing_members(model)
        if missing:
            raise InvalidArgument(
                f"{where}: {type(model).__name__} does not follow the scratch protocol; "
                f"missing: {', '.join(missing)}")
        self.model: Any = model
        self._cost_takes_caches = _accepts(model.cost, 3)
        self._backward_keeps = _accepts(model.backward, keyword="intermediates")
        self._update = getattr(model, "update", None)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.model.params

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, Any]:
        before = dict(self.model.params)          # the same arrays: only its keys are checked
        out = self.model.forward(X)
        if isinstance(self.model.params, dict) and self.model.params.keys() != before.keys():
            raise keys_changed(self.model, before)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise ProtocolError(f"forward returned {type(out).__name__}, expected a pair "
                                "(AL [n_L, m], caches)")
        return np.asarray(out[0]), out[1]

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Any = None) -> float:
        if self._cost_takes_caches:
            return as_number(self.model.cost(AL, Y, caches))
        return as_number(self.model.cost(AL, Y))

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Any,
                 intermediates: bool = False) -> dict[str, np.ndarray]:
        if self._backward_keeps:
            return self.model.backward(AL, Y, caches, intermediates=intermediates)
        return self.model.backward(AL, Y, caches)

    def update(self, grads: dict[str, np.ndarray], lr: float) -> None:
        if callable(self._update):
            self._update(grads, lr)
            return
        for name, p in self.params.items():
            p -= lr * grads["d" + name]


class ProtocolError(TypeError):
    """A value a protocol method returned is not what the protocol says."""


def keys_changed(model: Any, before: dict[str, np.ndarray]) -> ProtocolError:
    """The ProtocolError of a forward that added keys to params or removed some, naming the
    model's forward (file:line); params get their keys back, so the checks can go on
    restoring the parameters they set."""
    params = model.params
    added, removed = sorted(set(params) - set(before)), sorted(set(before) - set(params))
    for name in added:
        del params[name]
    params.update({name: before[name] for name in removed})
    changes = ([f"added {', '.join(map(repr, added))} to params"] if added else []) + \
        ([f"removed {', '.join(map(repr, removed))} from params"] if removed else [])
    return ProtocolError(f"forward ({source_of(model.forward)}) {' and '.join(changes)}, which "
                         "holds W1, b1, ..., WL, bL only (keep other state in attributes of the "
                         "model)")


def source_of(function: Callable[..., Any]) -> str:
    """'file.py:27' of where `function` is defined (its name where that is not known)."""
    try:
        code = inspect.unwrap(function).__code__
    except AttributeError:
        return getattr(function, "__qualname__", "forward")
    return f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}"


def as_number(J: object) -> float:
    """The cost as a float: a number, or any array or list holding exactly one number."""
    value = np.asarray(J)
    if value.size != 1 or value.dtype.kind not in "biuf":
        raise ProtocolError(f"cost returned {type(J).__name__} of shape {value.shape}, "
                            "expected one number J")
    return float(value.reshape(()))


def layer_values(caches: Any) -> dict[str, np.ndarray]:
    """{'Z1': ..., 'A1': ..., 'ZL': ..., 'AL' as 'A{L}'} from caches that hold them, else {}."""
    values: dict[str, np.ndarray] = {}
    if not isinstance(caches, (list, tuple)):
        return values
    for l, cache in enumerate(caches, start=1):
        Z = getattr(cache, "Z", None) if not isinstance(cache, dict) else cache.get("Z")
        A = getattr(cache, "A", None) if not isinstance(cache, dict) else cache.get("A")
        if Z is None or A is None or np.shape(Z) != np.shape(A):
            return {}   # not a layer's (Z, A): e.g. 'A' is its input A[l-1], as the course's caches keep
        values[f"Z{l}"], values[f"A{l}"] = Z, A
    return values


def _user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return [f for f in traceback.extract_tb(exc.__traceback__)
            if f"{os.sep}numpy{os.sep}" not in f.filename and f"{os.sep}torch{os.sep}" not in f.filename
            and not (isinstance(exc, ProtocolError) and f.filename == __file__)]


def failed_in(exc: BaseException) -> str:
    """The name of the innermost protocol method ('forward', 'cost', 'backward', 'update') that
    the exception passed through, or ''."""
    names = [f.name for f in _user_frames(exc) if f.name in ("forward", "cost", "backward", "update")]
    return names[-1] if names else ""


def raised(exc: BaseException) -> str:
    """'the scratch model raised ValueError: ... (file.py:87: dW = np.dot(dZ, A_prev))': the
    exception and the innermost line of the model's code (outside NumPy and torch)."""
    if isinstance(exc, ProtocolError):
        return f"the scratch model's {exc}"
    frames = _user_frames(exc)
    where = (f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}: "
             f"{(frames[-1].line or '').strip()}") if frames else "no source line"
    return f"the scratch model raised {type(exc).__name__}: {exc} ({where})"
