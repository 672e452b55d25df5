"""Every global setting of torch that decides the numbers of a run, read and restored.

`numerics_environment(device)` records them (for any run's JSON `environment`);
`saved_numerics()` restores them, all of them, after a block that changes some.

What each decides:
    matmul_allow_tf32, cudnn_allow_tf32    float32 matrix products (convolutions) on CUDA in
                                           TF32, a 10-bit mantissa (u = 4.9e-4), or in float32
    float32_matmul_precision               'highest' (float32), 'high' (TF32 or bfloat16x3),
                                           'medium' (bfloat16): the same choice, newer API
    fp32_precision                         torch >= 2.9's per-backend form of it ('none' inherits)
    matmul_allow_{bf16,fp16}_reduced_precision_reduction
                                           cuBLAS may add the partial sums of a bfloat16 /
                                           float16 product in that type, not in float32
    cudnn_deterministic, cudnn_benchmark, deterministic_algorithms, CUBLAS_WORKSPACE_CONFIG
                                           whether the same inputs give bitwise the same result
                                           run to run (the order of a reduction may change)
    autocast_dtype                         what torch.autocast on this device casts to by default
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
from collections.abc import Iterator
from pathlib import Path

import torch

from torch_ref.device import resolve_device

# torch >= 2.9: per-backend float32 precision; parents first, so restoring a child comes last
FP32_PRECISION = ("fp32_precision", "cuda.matmul.fp32_precision", "cudnn.fp32_precision",
                  "cudnn.conv.fp32_precision", "cudnn.rnn.fp32_precision",
                  "mkldnn.fp32_precision", "mkldnn.matmul.fp32_precision",
                  "mkldnn.conv.fp32_precision", "mkldnn.rnn.fp32_precision")
MISSING = object()


def _backend(path: str) -> object:
    """torch.backends.<path>, or MISSING in a torch without it."""
    found: object = torch.backends
    for part in path.split("."):
        found = getattr(found, part, MISSING)
        if found is MISSING:
            return MISSING
    return found


def _set_backend(path: str, value: object) -> None:
    *parents, last = path.split(".")
    owner: object = torch.backends
    for part in parents:
        owner = getattr(owner, part)
    setattr(owner, last, value)


def fp32_precision() -> dict[str, str]:
    """{'cuda.matmul.fp32_precision': 'none', ...}: those this torch has."""
    return {path: str(v) for path in FP32_PRECISION if (v := _backend(path)) is not MISSING}


def autocast_dtype(device_type: str) -> str | None:
    """The dtype torch.autocast casts to by default on `device_type`, None if it has no autocast."""
    try:
        return str(torch.get_autocast_dtype(device_type)).removeprefix("torch.")
    except (AttributeError, RuntimeError, TypeError, ValueError):
        return None


def cpu_name() -> str:
    try:
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    except OSError:
        found = None
    return found.group(1).strip() if found else (platform.processor() or platform.machine())


def device_name(device: torch.device) -> str:
    """'NVIDIA H200', the CPU's model name, or 'Apple MPS'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "Apple MPS" if device.type == "mps" else cpu_name()


def numerics_environment(device: object = "cpu") -> dict:
    """The settings that decide a run's numbers on `device` ('cpu', 'cuda', 'cuda:N', 'mps',
    'auto' or a torch.device), as JSON-ready values."""
    dev = resolve_device(device)
    matmul = torch.backends.cuda.matmul
    return {
        "device": str(dev), "device_name": device_name(dev), "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "matmul_allow_tf32": bool(matmul.allow_tf32),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "fp32_precision": fp32_precision(),
        "matmul_allow_bf16_reduced_precision_reduction":
            bool(getattr(matmul, "allow_bf16_reduced_precision_reduction", False)),
        "matmul_allow_fp16_reduced_precision_reduction":
            bool(getattr(matmul, "allow_fp16_reduced_precision_reduction", False)),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "CUBLAS_WORKSPACE_CONFIG": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "autocast_dtype": autocast_dtype(dev.type),
        "threads": torch.get_num_threads(),
    }


@contextlib.contextmanager
def saved_numerics() -> Iterator[None]:
    """Run the block, then put back every setting it may change: TF32 (both APIs, the newer one
    last, since setting the older one changes it) and the float32 matmul precision."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    precision = torch.get_float32_matmul_precision()
    per_backend = fp32_precision()
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
        torch.set_float32_matmul_precision(precision)
        for path, value in per_backend.items():
            _set_backend(path, value)


def set_tf32(on: bool) -> None:
    """TF32 for float32 matrix products and convolutions on CUDA, on or off (no effect elsewhere)."""
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on
