"""Every tolerance of the harness, per dtype and device, in one table.

Errors are relative, measured as `compare.proof.metric` says: forward values and
gradients against the magnitude of the terms they are computed from
(`compare.proof.magnitude`), trajectory steps against the size of each layer. In those
units, two correct implementations differ by a few to a few hundred units of
roundoff u (u = 1.1e-16 in float64, 6.0e-8 in float32): the sums they compute run
over up to m samples, in different orders (NumPy's pairwise sums and OpenBLAS
against PyTorch's MKL / oneDNN or cuBLAS kernels).

Worst errors seen on the CPU over the property tests (random architectures,
activations, inits, m from 1 to 300) and the main job are listed in the README;
each bound below sits well above them and far below what any wrong formula gives
(a broken gradient is off by 1e-3 to 1).

    dtype    device  forward  gradients  trajectory step
    float64  any     1e-12    1e-12      1e-11     (~1e4 u)
    float32  cpu     1e-5     1e-5       1e-4      (~170 u; ~1700 u over a step)
    float32  cuda    1e-5     1e-5       1e-4      with TF32 off (the harness turns it off)
    float32  mps     1e-5     1e-5       1e-4      (untested here)

The finite-difference witness always runs in float64: central differences with
h = 1e-6 are accurate to about 1e-9 absolute (rounding, eps * |J| / h) and
h^2 |J'''| / 6 (truncation), so each entry must agree to 1e-7 relative plus a
rounding floor of 8 eps max(|J|, 1) / h.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    """Relative error bounds of one dtype on one kind of device."""

    forward: float
    gradients: float
    trajectory: float


TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("float64", "cpu"): Tolerance(forward=1e-12, gradients=1e-12, trajectory=1e-11),
    ("float64", "cuda"): Tolerance(forward=1e-12, gradients=1e-12, trajectory=1e-11),
    ("float32", "cpu"): Tolerance(forward=1e-5, gradients=1e-5, trajectory=1e-4),
    ("float32", "cuda"): Tolerance(forward=1e-5, gradients=1e-5, trajectory=1e-4),
    ("float32", "mps"): Tolerance(forward=1e-5, gradients=1e-5, trajectory=1e-4),
}

FD_STEP = 1e-6          # h of the central differences
FD_RTOL = 1e-7          # relative bound of each finite-difference entry
FD_MAX_ENTRIES = 2000   # above this many parameters, a seeded sample of entries is checked
FD_MODES = ("entries", "directional")   # check 3 entry by entry, or along random directions


def tolerance(dtype: str, device_type: str) -> Tolerance:
    """The bounds for `dtype` ('float32' | 'float64') on `device_type` ('cpu' | 'cuda' | 'mps')."""
    return TOLERANCES[(dtype, device_type)]
