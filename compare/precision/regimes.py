"""The precisions the audit trains torch in, and the settings each one runs under.

    name      parameters  matrix products                          where
    float64   float64     float64                                  cpu, cuda
    float32   float32     float32 (TF32 off)                       cpu, cuda, mps
    tf32      float32     TF32: float32 range, 10-bit mantissa     cuda (tensor cores)
    bfloat16  float32     autocast bfloat16 (8-bit mantissa)       cpu, cuda
    float16   float32     autocast float16 (10-bit mantissa,       cuda
                          range 6e-8 .. 65504)

Unit roundoffs u = 2^-p of the products' inputs: float64 1.1e-16, float32 6.0e-8, TF32 and
float16 4.9e-4, bfloat16 3.9e-3. Under autocast the parameters, their gradients and the
update stay float32 (the products run on float32 weights cast down); the forward pass
runs under `torch.autocast` and the loss is computed from the logits cast to float32,
as autocast itself does on CUDA. float16 runs without loss scaling (a GradScaler skips
the steps whose scaled gradients overflow, which would be measured here as drift but is
not rounding): gradients below float16's smallest subnormal, 6e-8, flush to zero.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Regime:
    """One way of training torch: the parameters' dtype, TF32, autocast."""

    name: str
    dtype: str                        # the parameters': 'float64' or 'float32'
    tf32: bool                        # float32 products in TF32 (CUDA)
    autocast: torch.dtype | None      # forward pass under torch.autocast to this dtype
    devices: tuple[str, ...]          # the device types it runs on
    unit_roundoff: float              # u of the products' inputs
    what: str                         # in words, for the report

    @property
    def autocast_name(self) -> str | None:
        return None if self.autocast is None else str(self.autocast).removeprefix("torch.")


REGIMES: dict[str, Regime] = {r.name: r for r in (
    Regime("float64", "float64", False, None, ("cpu", "cuda"), 2.0**-53, "float64"),
    Regime("float32", "float32", False, None, ("cpu", "cuda", "mps"), 2.0**-24,
           "float32, TF32 off"),
    Regime("tf32", "float32", True, None, ("cuda",), 2.0**-11,
           "float32 parameters, matmuls in TF32"),
    Regime("bfloat16", "float32", False, torch.bfloat16, ("cpu", "cuda"), 2.0**-8,
           "float32 parameters, autocast bfloat16"),
    Regime("float16", "float32", False, torch.float16, ("cuda",), 2.0**-11,
           "float32 parameters, autocast float16, no loss scaling"),
)}
PRECISIONS = tuple(REGIMES)

WHY_NOT = {"tf32": "TF32 is a mode of NVIDIA's tensor cores (CUDA only)",
           "float16": "autocast float16 is audited on CUDA only",
           "float64": "MPS has no float64",
           "bfloat16": "autocast bfloat16 is audited on cpu and cuda only"}


def skip_reason(regime: Regime, device: torch.device) -> str | None:
    """Why `regime` does not run on `device`, or None when it does."""
    if device.type in regime.devices:
        return None
    return f"not run on {device.type}: {WHY_NOT[regime.name]}"


@contextlib.contextmanager
def forward(regime: Regime, device: torch.device) -> Iterator[None]:
    """The block (a forward pass) under the regime's autocast, if it has one."""
    if regime.autocast is None:
        yield
        return
    with torch.autocast(device.type, dtype=regime.autocast):
        yield
