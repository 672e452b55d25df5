"""The course's models in idiomatic PyTorch: nn.Module, autograd, torch.optim.

Same class names and constructor arguments as `scratch`, plus `device`
('auto', 'cpu', 'cuda', 'cuda:N', 'mps') and `dtype` ('float32', 'float64').
Batches are [m, n]; `model.notes_params()` gives the parameters as W1, b1, ...
"""

from torch_ref.device import available_devices, resolve_device, resolve_dtype
from torch_ref.models import DeepNet, LogisticRegression, Net, ShallowNet
from torch_ref.train import Trainer, fit

__all__ = [
    "DeepNet",
    "LogisticRegression",
    "Net",
    "ShallowNet",
    "Trainer",
    "available_devices",
    "fit",
    "resolve_device",
    "resolve_dtype",
]
