"""Checks on the tensors a user hands to a torch_ref model (`fit`, `predict`, `accuracy`).

The torch-side twin of `scratch.validate`: each returns the tensor ready for the
model (its device and dtype) or raises `InvalidArgument` naming the argument, what
it got and what was expected. The training loop itself checks nothing again.
"""

from __future__ import annotations

import torch

from scratch.errors import InvalidArgument
from scratch.spec import ModelSpec


def check_X(X: object, spec: ModelSpec, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """X [m, n_x]: a real tensor, m >= 1, finite in the model's dtype, on the model's device."""
    expected = f"a real tensor [m, {spec.n_x}], one row per sample"
    if not isinstance(X, torch.Tensor):
        hint = (" (compare.adapter.batch_to_torch turns scratch's [n_x, m] array into one)"
                if hasattr(X, "shape") else "")
        raise InvalidArgument(f"X: got {type(X).__name__}, expected {expected}{hint}")
    if X.ndim != 2 or X.shape[1] != spec.n_x or X.is_complex() or X.dtype == torch.bool:
        hint = " (is it transposed? torch takes one row per sample)" \
            if X.ndim == 2 and X.shape[0] == spec.n_x else ""
        raise InvalidArgument(f"X: got {tuple(X.shape)} of {X.dtype}, expected {expected}{hint}")
    if X.shape[0] == 0:
        raise InvalidArgument("X: got m = 0 samples, expected m >= 1")
    if not torch.isfinite(X).all():
        raise InvalidArgument("X: holds NaN or inf, expected finite values")
    cast = X.to(device, dtype)
    if not torch.isfinite(cast).all():
        raise InvalidArgument(f"X: holds values beyond the largest {dtype}, "
                              f"{torch.finfo(dtype).max:.3g}; expected values the model's "
                              "dtype can hold (scale the features)")
    return cast


def check_y(y: object, spec: ModelSpec, m: int, device: torch.device,
            dtype: torch.dtype) -> torch.Tensor:
    """y: float [m, 1] of 0/1 (sigmoid) or whole class indices [m] in 0..K-1 (softmax)."""
    sigmoid = spec.output == "sigmoid"
    expected = (f"a tensor [{m}, 1] of 0/1 labels" if sigmoid
                else f"a tensor [{m}] of class indices in 0..{spec.n_y - 1}")
    shape = (m, 1) if sigmoid else (m,)
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != shape or y.is_complex():
        got = f"{tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y).__name__
        raise InvalidArgument(f"y: got {got}, expected {expected}")
    if sigmoid:
        valid = (y == 0) | (y == 1)
    else:
        whole = y == torch.floor(y) if y.is_floating_point() else torch.ones_like(y, dtype=torch.bool)
        valid = whole & (y >= 0) & (y < spec.n_y)
    if not valid.all():
        bad = y[~valid][:3].tolist()
        raise InvalidArgument(f"y: holds {bad} outside the labels, expected {expected}")
    return y.to(device, dtype if sigmoid else torch.long)
