"""The course's models in idiomatic PyTorch, with the same names and arguments as `scratch`.

Each is `nn.Sequential(Linear, g, Linear, g, ..., Linear)` returning logits [m, n_L];
`nn.Linear.weight` is [out, in], exactly the notes' W[l] [n[l], n[l-1]]. The output
activation is fused into the loss: `BCEWithLogitsLoss` (sigmoid) or `CrossEntropyLoss`
(softmax), both with mean reduction, which is the notes' J.

Batches are [m, n] (one row per sample); targets are float [m, 1] of 0/1 (sigmoid)
or class indices [m] (softmax).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from scratch.spec import ModelSpec, check_int, check_seed, init_scale
from torch_ref.device import resolve_device, resolve_dtype
from torch_ref.validate import check_X, check_y


def make_activation(name: str, alpha: float) -> nn.Module:
    """The nn.Module of a hidden activation (LeakyReLU's negative_slope is alpha)."""
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope=alpha)
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[name]()


class Net(nn.Module):
    """An L-layer perceptron built from a validated `ModelSpec`.

    Attributes:
        spec: the architecture.
        layers: nn.Sequential of nn.Linear and hidden activation modules.
        loss_fn: BCEWithLogitsLoss or CrossEntropyLoss (mean over the m samples).
    """

    def __init__(self, spec: ModelSpec, seed: int = 1, device: object = "cpu",
                 dtype: object = "float64") -> None:
        super().__init__()
        self.spec = spec
        self.seed = check_seed(seed)
        device = resolve_device(device)
        dtype = resolve_dtype(dtype, device)
        n = spec.layer_dims
        modules: list[nn.Module] = []
        for l in range(1, spec.L + 1):
            modules.append(nn.Linear(n[l - 1], n[l], device=device, dtype=dtype))
            if l < spec.L:
                modules.append(make_activation(spec.activations[l - 1], spec.alpha))
        self.layers = nn.Sequential(*modules)
        self.loss_fn: nn.Module = (nn.BCEWithLogitsLoss() if spec.output == "sigmoid"
                                   else nn.CrossEntropyLoss())
        self.reset_parameters()

    @property
    def device(self) -> torch.device:
        return self.linears()[0].weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.linears()[0].weight.dtype

    def reset_parameters(self) -> None:
        """W[l] ~ N(0, 1) * init_scale(init, n[l-1]) (`scratch.spec`'s table, §3.4), b[l] = 0,
        drawn layer by layer from a CPU `torch.Generator` seeded with `seed`, in float64,
        then copied to the device."""
        generator = torch.Generator().manual_seed(self.seed)
        with torch.no_grad():
            for linear in self.linears():
                std = init_scale(self.spec.init, linear.in_features)
                W = torch.randn(linear.weight.shape, generator=generator, dtype=torch.float64)
                linear.weight.copy_(W * std)                   # [n_l, n_{l-1}]
                linear.bias.zero_()                            # [n_l]

    def linears(self) -> list[nn.Linear]:
        """The L linear layers, layer 1 first."""
        return [module for module in self.layers if isinstance(module, nn.Linear)]

    def notes_params(self) -> dict[str, torch.Tensor]:
        """{'W1': layer 1 weight [n1, n0], 'b1': its bias [n1], ...}: the notes' names."""
        params: dict[str, torch.Tensor] = {}
        for l, linear in enumerate(self.linears(), start=1):
            params[f"W{l}"], params[f"b{l}"] = linear.weight, linear.bias
        return params

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits Z[L] [m, n_L] of the samples X [m, n_0]."""
        return self.layers(X)

    def output_activation(self, logits: torch.Tensor) -> torch.Tensor:
        """A[L] from Z[L]: sigmoid, or softmax over the classes (dim 1)."""
        return torch.sigmoid(logits) if self.spec.output == "sigmoid" else logits.softmax(dim=1)

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """J, the mean cross-entropy of the batch."""
        return self.loss_fn(logits, y)

    @torch.no_grad()
    def predict_proba(self, X: torch.Tensor) -> torch.Tensor:
        """A[L] [m, n_L] of the samples X [m, n_x] (checked, and moved to the model)."""
        return self.output_activation(self(check_X(X, self.spec, self.device, self.dtype)))

    @torch.no_grad()
    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Labels [m]: A[L] > 0.5 (sigmoid) or the most probable class (softmax)."""
        probs = self.predict_proba(X)
        if self.spec.output == "sigmoid":
            return (probs[:, 0] > 0.5).long()
        return probs.argmax(dim=1)

    @torch.no_grad()
    def accuracy(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of the samples predicted right (y as given to the loss)."""
        X = check_X(X, self.spec, self.device, self.dtype)
        y = check_y(y, self.spec, X.shape[0], self.device, self.dtype)
        labels = y[:, 0].long() if self.spec.output == "sigmoid" else y
        return (self.predict(X) == labels).double().mean().item()


class LogisticRegression(Net):
    """Logistic regression (§2): logits = X W1^T + b1, one nn.Linear.

    Same arguments as `scratch.LogisticRegression`, plus `device` and `dtype`.
    """

    def __init__(self, n_x: int, n_y: int = 1, output: str = "sigmoid", init: str = "zeros",
                 seed: int = 1, device: object = "cpu", dtype: object = "float64") -> None:
        spec = ModelSpec.build([check_int("n_x", n_x, 1), check_int("n_y", n_y, 1)],
                               activation=(), output=output, init=init)
        super().__init__(spec, seed, device, dtype)


class ShallowNet(Net):
    """One hidden layer (§3): Linear(n_x, n_h), g1, Linear(n_h, n_y).

    Same arguments as `scratch.ShallowNet`, plus `device` and `dtype`.
    """

    def __init__(self, n_x: int, n_h: int = 4, n_y: int = 1, activation: str = "tanh",
                 output: str = "sigmoid", init: str = "small", seed: int = 1,
                 alpha: float = 0.01, device: object = "cpu", dtype: object = "float64") -> None:
        dims = [check_int("n_x", n_x, 1), check_int("n_h", n_h, 1), check_int("n_y", n_y, 1)]
        spec = ModelSpec.build(dims, activation=activation, output=output, init=init, alpha=alpha)
        super().__init__(spec, seed, device, dtype)


class DeepNet(Net):
    """L layers (§4): Linear, g[1], ..., Linear, with any `layer_dims`.

    Same arguments as `scratch.DeepNet`, plus `device` and `dtype`.

    Examples:
        >>> net = DeepNet([2, 5, 3, 1], activation="relu")
        >>> net(torch.zeros(7, 2, dtype=torch.float64)).shape
        torch.Size([7, 1])
    """

    def __init__(self, layer_dims: Sequence[int], activation: str | Sequence[str] = "relu",
                 output: str = "sigmoid", init: str = "he", seed: int = 1,
                 alpha: float = 0.01, device: object = "cpu", dtype: object = "float64") -> None:
        spec = ModelSpec.build(layer_dims, activation=activation, output=output, init=init,
                               alpha=alpha)
        super().__init__(spec, seed, device, dtype)
