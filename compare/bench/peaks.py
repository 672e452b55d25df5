"""Dense peak TFLOP/s of common data-centre GPUs, from their vendor's datasheets (pure Python:
`scripts/gpu_check.py` reads it where only torch is installed).

The figures are the datasheets' dense ones (no 2:4 sparsity) for the units cuBLAS uses:
FP32 on the CUDA cores for float32 with TF32 off, FP64 on the Tensor Cores for float64
(DGEMM has run on them since Ampere), FP64 on the CUDA cores beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Peak:
    """A GPU's dense peak TFLOP/s by its vendor's datasheet."""

    match: str             # a substring of torch.cuda.get_device_name()
    name: str
    float32: float         # FP32, CUDA cores (TF32 off)
    float64: float         # FP64 Tensor Core (cuBLAS DGEMM)
    float64_vector: float  # FP64, CUDA cores
    source: str


H200 = "NVIDIA H200 datasheet, https://www.nvidia.com/en-us/data-center/h200/"
H100 = "NVIDIA H100 datasheet, https://www.nvidia.com/en-us/data-center/h100/"
A100 = ("NVIDIA A100 datasheet, https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/"
        "a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf")
PEAKS = (   # the first whose `match` is in the device's name; longer names first
    Peak("H200 NVL", "H200 NVL", 60.0, 60.0, 30.0, H200),
    Peak("H200", "H200 SXM", 67.0, 67.0, 34.0, H200),
    Peak("H100 PCIe", "H100 PCIe", 51.0, 51.0, 26.0, H100),
    Peak("H100 80GB HBM3", "H100 SXM", 67.0, 67.0, 34.0, H100),
    Peak("H100 SXM", "H100 SXM", 67.0, 67.0, 34.0, H100),
    Peak("A100", "A100 (SXM4 and PCIe)", 19.5, 19.5, 9.7, A100),
)


def peak_for(device_name: str) -> Peak | None:
    return next((p for p in PEAKS if p.match in device_name), None)
