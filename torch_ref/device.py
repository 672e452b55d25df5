"""Where tensors live and in what precision: device 'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps',
dtype 'float32' | 'float64'.

'auto' picks CUDA, then MPS, then the CPU (as d2l's `try_gpu`). Asking for a
device that is not there, or for float64 on MPS (which has none), is an
`InvalidArgument` that names what is available.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch

from scratch.errors import InvalidArgument
from scratch.spec import check_dtype
from scratch.spec import threads_for as spec_threads_for


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def available_devices() -> list[str]:
    """['cpu', 'cuda:0', ..., 'mps'], whatever this machine has."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if mps_available():
        names.append("mps")
    return names


def resolve_device(name: object = "auto") -> torch.device:
    """The torch.device for `name`, checked against what this machine has."""
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise InvalidArgument(f"device: got {name!r}, expected auto, cpu, cuda, cuda:N or mps")
    text = name.strip().lower()
    have = available_devices()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available()
                            else "mps" if mps_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        raise InvalidArgument(
            f"device: got {name!r}, expected auto, cpu, cuda, cuda:N or mps") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise InvalidArgument(f"device: got {name!r}, expected auto, cpu, cuda, cuda:N or mps")
    if device.type == "cpu":
        return torch.device("cpu")
    wanted = f"cuda:{device.index or 0}" if device.type == "cuda" else "mps"
    if wanted not in have:
        raise InvalidArgument(
            f"device: {name!r} is not available on this machine; available: {', '.join(have)}")
    return device


def resolve_dtype(dtype: object, device: torch.device) -> torch.dtype:
    """torch.float32 or torch.float64; float64 on MPS is refused (MPS has no float64)."""
    name = check_dtype(dtype)
    if name == "float64" and device.type == "mps":
        raise InvalidArgument("dtype: float64 is not supported on mps (it has no float64); "
                              "use dtype float32 or device cpu")
    return getattr(torch, name)


FIRST_SEEN = torch.get_num_threads()   # the intra-op threads when torch_ref was imported


def threads_for(layer_dims: Sequence[int], m: int, device: torch.device) -> int | None:
    """Torch's intra-op threads for a model of `layer_dims` on m samples: the policy of
    `scratch.spec.threads_for` on the CPU, None (leave them) on a GPU or when the user has
    set them (torch.set_num_threads) since torch_ref was imported."""
    if device.type != "cpu" or torch.get_num_threads() != FIRST_SEEN:
        return None
    return spec_threads_for(layer_dims, m)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` torch intra-op threads (None: unchanged), then restore them."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
