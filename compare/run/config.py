"""What one `nncompare` run does: the dataset, the models, their hyperparameters.

Defaults are the main job: every model on the flower set in float64 on the CPU,
with each model's own defaults where the user gives none (the course's choices:
logistic regression from zeros, a shallow tanh net of 4 units from small random
weights at lr 1.2, a deep ReLU net with He init).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import scratch
from scratch.datasets import NAMES as DATASETS
from scratch.datasets import Dataset
from scratch.errors import InvalidArgument
from scratch.model import Model
from scratch.spec import check_choice, check_int, check_seed

MODELS = ("logistic", "shallow", "deep")

# per-model defaults, used where the user does not set the value
DEFAULTS: dict[str, dict[str, Any]] = {
    "logistic": {"init": "zeros", "lr": 1.2},
    "shallow": {"init": "small", "lr": 1.2, "activation": "tanh"},
    "deep": {"init": "he", "lr": 0.3, "activation": "relu"},
}
DEEP_HIDDEN = (10, 5)   # hidden sizes of the deep net when --layers is not given


@dataclass
class RunConfig:
    """Everything a run needs; None means "the model's default"."""

    models: tuple[str, ...] = MODELS
    dataset: str = "flower"
    layers: tuple[int, ...] | None = None
    hidden_units: int = 4
    activation: str | None = None
    output: str | None = None           # None: sigmoid for 2 classes, softmax for more
    init: str | None = None
    alpha: float = 0.01
    lr: float | None = None
    iterations: int = 5000
    batch_size: int | None = None
    seed: int = 1
    dtype: str = "float64"
    device: str = "cpu"
    fd_max_entries: int = 2000
    fd_mode: str = "entries"         # check 3 entry by entry, or 'directional'

    def validate(self) -> RunConfig:
        """Check every field but the training ones (raises InvalidArgument naming the first
        bad one): lr, iterations and batch_size are checked once the dataset's m is known, by
        `scratch.spec.check_training` (at `nncompare`'s entry point, and in the harness)."""
        from torch_ref.device import resolve_device, resolve_dtype  # torch: not for --help

        self.models = tuple(check_choice("model", m, MODELS) for m in self.models)
        self.dataset = check_choice("dataset", self.dataset, DATASETS)
        check_int("hidden_units", self.hidden_units, 1)
        check_seed(self.seed)
        check_int("fd_max_entries", self.fd_max_entries, 1)
        from compare.proof.tolerances import FD_MODES
        self.fd_mode = check_choice("fd_mode", self.fd_mode, FD_MODES)
        resolve_dtype(self.dtype, resolve_device(self.device))
        return self

    def as_dict(self) -> dict:
        return asdict(self)

    def lr_for(self, kind: str) -> float:
        return self.lr if self.lr is not None else float(DEFAULTS[kind]["lr"])

    def output_for(self, data: Dataset) -> str:
        """The output layer: as asked, else sigmoid for 2 classes and softmax for more."""
        if self.output is None:
            return "sigmoid" if data.n_classes == 2 else "softmax"
        output = check_choice("output", self.output, ("sigmoid", "softmax"))
        if output == "sigmoid" and data.n_classes > 2:
            raise InvalidArgument(
                f"output: the {data.name} set has {data.n_classes} classes, a sigmoid output "
                "has one unit; use --output softmax")
        return output


def n_outputs(output: str, data: Dataset) -> int:
    return 1 if output == "sigmoid" else data.n_classes


def build_scratch(kind: str, cfg: RunConfig, data: Dataset) -> Model:
    """The scratch model `kind` for this dataset and config (its own defaults where unset)."""
    output = cfg.output_for(data)
    n_y = n_outputs(output, data)
    init = str(cfg.init or DEFAULTS[kind]["init"])
    if kind == "logistic":
        return scratch.LogisticRegression(data.n_x, n_y, output=output, init=init, seed=cfg.seed,
                                          dtype=cfg.dtype)
    activation = str(cfg.activation or DEFAULTS[kind]["activation"])
    common: dict[str, Any] = dict(output=output, init=init, seed=cfg.seed, alpha=cfg.alpha,
                                  dtype=cfg.dtype)
    if kind == "shallow":
        return scratch.ShallowNet(data.n_x, cfg.hidden_units, n_y, activation=activation, **common)
    layers = list(cfg.layers) if cfg.layers else [data.n_x, *DEEP_HIDDEN, n_y]
    if len(layers) >= 2 and (layers[0] != data.n_x or layers[-1] != n_y):
        raise InvalidArgument(
            f"layers: got {','.join(map(str, layers))}, expected the first size to be "
            f"{data.n_x} (features of {data.name}) and the last {n_y} (outputs of a "
            f"{output} layer)")
    return scratch.DeepNet(layers, activation=activation, **common)
