"""The one module that moves data between the two worlds. Nothing else transposes, and
nothing here judges: what it is given is checked by `scratch.validate`.

    scratch (NumPy, the notes)            torch_ref (PyTorch)
    X        [n, m]  one column a sample  <->  X [m, n]  one row a sample
    W[l]     [n[l], n[l-1]]               <->  Linear.weight [n[l], n[l-1]]  (same)
    b[l]     [n[l], 1]                    <->  Linear.bias [n[l]]
    Y        [1, m] of 0/1 (sigmoid)      <->  y float [m, 1]
    Y        one-hot [K, m] (softmax)     <->  y class indices [m]
    Y        class indices [1, m]         <->  y class indices [m]
    labels   [1, m]                       <->  [m]
    Z[l], A[l]  [n[l], m]                 <->  [m, n[l]]
    dZ[l], dA[l] = m dJ/dZ, m dJ/dA       <->  .grad = dJ/dZ, dJ/dA

The last row is the notes' convention: dZ[L] = A[L] - Y is the derivative of one
sample's loss, and the 1/m of the mean is applied in dW and db; autograd
differentiates J itself, so its dZ is 1/m of the notes'.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from scratch.spec import OUTPUTS, check_choice
from scratch.validate import check_samples, check_targets
from torch_ref.models import Net


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A NumPy copy of a tensor on any device (same dtype); a copy on the CPU too, where
    `.numpy()` alone would share the tensor's memory and change with it."""
    return np.array(t.detach().cpu().numpy())


def batch_to_torch(X: np.ndarray, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """X [n, m] -> [m, n] on `device`."""
    X = check_samples("X", X)
    return torch.from_numpy(np.ascontiguousarray(X.T)).to(device=device, dtype=dtype)


def batch_to_scratch(X: torch.Tensor) -> np.ndarray:
    """[m, n] -> [n, m]; also used for Z[l] and A[l]."""
    return np.ascontiguousarray(to_numpy(X).T)


def targets_to_torch(Y: np.ndarray, output: str, device: torch.device,
                     dtype: torch.dtype) -> torch.Tensor:
    """Scratch targets -> torch targets: [1, m] 0/1 -> float [m, 1] (sigmoid); class
    indices [1, m] or one-hot [K, m] -> indices [m] (softmax)."""
    output = check_choice("output", output, OUTPUTS)
    Y = check_targets(Y, output)
    if output == "sigmoid":
        return torch.from_numpy(np.ascontiguousarray(Y.T)).to(device=device, dtype=dtype)
    indices = Y[0] if Y.shape[0] == 1 else np.argmax(Y, axis=0)      # [m]
    return torch.from_numpy(np.ascontiguousarray(indices)).to(device=device, dtype=torch.long)


def labels_to_scratch(labels: torch.Tensor) -> np.ndarray:
    """Predicted labels [m] -> [1, m]."""
    return to_numpy(labels)[None, :]


def indices_to_torch(idx: np.ndarray | None, device: torch.device) -> torch.Tensor | None:
    """A mini-batch's sample indices, for indexing the rows of a torch batch."""
    return None if idx is None else torch.from_numpy(idx).to(device)


def param_to_torch(name: str, value: np.ndarray) -> torch.Tensor:
    """W [n_l, n_{l-1}] unchanged; b [n_l, 1] -> [n_l]."""
    return torch.from_numpy(value[:, 0] if name.startswith("b") else value)


def param_to_scratch(name: str, value: torch.Tensor) -> np.ndarray:
    """W unchanged; b [n_l] -> [n_l, 1]."""
    array = to_numpy(value)
    return array[:, None] if name.startswith("b") else array


def copy_params_to_torch(params: dict[str, np.ndarray], model: Net) -> None:
    """Overwrite the torch model's parameters with copies of the scratch ones (any device, its dtype)."""
    target = model.notes_params()
    with torch.no_grad():
        for name, p in target.items():
            p.copy_(param_to_torch(name, params[name]))


def params_from_torch(model: Net) -> dict[str, np.ndarray]:
    """The torch model's parameters in the notes' names and layout."""
    return {name: param_to_scratch(name, p) for name, p in model.notes_params().items()}


def params_vector(tensors: list[torch.Tensor]) -> np.ndarray:
    """Torch parameters in the notes' order (W1, b1, W2, ...) as one float64 vector [P] (a
    copy): each ravels as its scratch counterpart does, W[l] row by row and b[l] [n[l]] as
    [n[l], 1]."""
    with torch.no_grad():
        flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    return flat.to(dtype=torch.float64).cpu().numpy()


class ParamViews:
    """A torch model's parameters in the notes' order (W1, b1, W2, ...), read as one float64
    vector [P] (`vector`, as `params_vector`) and overwritten with scratch's (`assign`, as
    `copy_params_to_torch`), between steps, many times a run: on the CPU through NumPy views
    of their memory (no torch call, a tenth of the time on a small model), elsewhere, or once
    a parameter's memory was replaced, through torch's own copies."""

    def __init__(self, model: Net, order: list[str]) -> None:
        params = model.notes_params()
        self.order, self.tensors = order, [params[n] for n in order]
        self.memory = [t.data_ptr() for t in self.tensors]
        on_cpu = all(t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64)
                     for t in self.tensors)
        self.views = [t.detach().numpy() for t in self.tensors] if on_cpu else None

    def _viewed(self) -> list[np.ndarray] | None:
        """The views, while every parameter still lives where they look."""
        if self.views is None or [t.data_ptr() for t in self.tensors] != self.memory:
            return None
        return self.views

    def vector(self) -> np.ndarray:
        views = self._viewed()
        if views is None:
            return params_vector(self.tensors)
        return np.concatenate([v.reshape(-1) for v in views], dtype=np.float64)

    def assign(self, params: dict[str, np.ndarray]) -> None:
        """The parameters set to scratch's `params` (rounded to the model's dtype)."""
        views = self._viewed()
        if views is None:
            with torch.no_grad():
                for name, t in zip(self.order, self.tensors, strict=True):
                    t.copy_(param_to_torch(name, params[name]))
            return
        for name, v in zip(self.order, views, strict=True):    # (no graph holds them now)
            p = params[name]
            v[...] = p[:, 0] if name.startswith("b") else p


def grads_from_torch(model: Net) -> dict[str, np.ndarray]:
    """The gradients left in `.grad` by the last backward, as {'dW1': ..., 'db1': ...}."""
    grads: dict[str, np.ndarray] = {}
    for name, p in model.notes_params().items():
        if p.grad is not None:
            grads["d" + name] = param_to_scratch(name, p.grad)
    return grads


def delta_to_scratch(grad: torch.Tensor, m: int) -> np.ndarray:
    """autograd's dJ/dZ [m, n] -> the notes' dZ = m dJ/dZ [n, m] (likewise dA)."""
    return batch_to_scratch(grad) * m


def modules_in_order(model: Net) -> list[tuple[str, nn.Module]]:
    """('Z1', Linear), ('A1', g), ('Z2', Linear), ...: which module outputs which notes quantity."""
    names: list[tuple[str, nn.Module]] = []
    l = 0
    for module in model.layers:
        if isinstance(module, nn.Linear):
            l += 1
            names.append((f"Z{l}", module))
        else:
            names.append((f"A{l}", module))
    return names
