"""The architecture a model is built from, and the checks on every argument a user gives.

Both implementations accept the same constructor arguments; this module turns them
into one validated `ModelSpec` (pure Python, no math), so that `scratch` and
`torch_ref` reject bad input with the same message. Every check raises
`InvalidArgument`, whose message names the argument, what was received and what
was expected.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from scratch.errors import InvalidArgument

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUTS = ("sigmoid", "softmax")
INITS = ("zeros", "small", "xavier", "he")
DTYPES = ("float32", "float64")


def suggest(value: str, choices: Sequence[str]) -> str:
    """' (did you mean 'tanh'?)' when a choice is close to `value`, else ''."""
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_choice(arg: str, value: object, choices: Sequence[str]) -> str:
    """`value` normalised (lower case, '-'/' ' as '_') if it is one of `choices`."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{arg}: got {value!r}, expected one of {', '.join(choices)}")
    name = value.strip().lower().replace("-", "_").replace(" ", "_")
    if name not in choices:
        raise InvalidArgument(
            f"{arg}: unknown name {value!r}{suggest(name, choices)}; expected one of {', '.join(choices)}"
        )
    return name


def check_int(arg: str, value: object, minimum: int) -> int:
    """An integer >= minimum (bool and non-integral numbers are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgument(f"{arg}: got {value!r}, expected an integer >= {minimum}")
    if value < minimum:
        raise InvalidArgument(f"{arg}: got {value}, expected an integer >= {minimum}")
    return int(value)


def check_real(arg: str, value: object, low: float, high: float = math.inf,
               low_open: bool = True, high_open: bool = True) -> float:
    """A finite real number inside the interval (open or closed at each end as asked)."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    expected = f"a finite number in {interval}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(f"{arg}: got {value!r}, expected {expected}")
    x = float(value)
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    if not math.isfinite(x) or too_low or too_high:
        raise InvalidArgument(f"{arg}: got {value!r}, expected {expected}")
    return x


def check_trainable(model: object, expected: type, side: str, other: str) -> None:
    """InvalidArgument unless `model` is one of `side`'s models ('scratch' or 'torch_ref');
    a model of the `other` side is pointed to its own fit."""
    if isinstance(model, expected):
        return
    hint = f" (a {other} model trains with {other}.fit)" \
        if type(model).__module__.startswith(other) else ""
    raise InvalidArgument(f"model: got {type(model).__name__}, expected a {side} model "
                          f"(LogisticRegression, ShallowNet or DeepNet){hint}")


def check_callback(callback: object, signature: str) -> None:
    """InvalidArgument unless `callback` is None or a function (called as `signature`)."""
    if callback is not None and not callable(callback):
        raise InvalidArgument(f"callback: got {callback!r}, expected a function "
                              f"{signature} or None")


MAX_SEED = 2**32 - 1    # the largest seed every consumer takes (scikit-learn's random_state)


def check_seed(seed: object) -> int:
    """A seed in 0..2**32 - 1, which NumPy, torch and scikit-learn all accept."""
    seed = check_int("seed", seed, 0)
    if seed > MAX_SEED:
        raise InvalidArgument(f"seed: got {seed}, expected an integer in 0..{MAX_SEED}")
    return seed


def check_dtype(dtype: object) -> str:
    """'float32' or 'float64' from a name, a NumPy dtype or type, or a torch dtype."""
    if isinstance(dtype, type):
        name = dtype.__name__
    else:
        name = str(dtype).replace("torch.", "").strip().lower()
    if name not in DTYPES:
        raise InvalidArgument(f"dtype: got {dtype!r}, expected one of {', '.join(DTYPES)}")
    return name


@dataclass(frozen=True)
class ModelSpec:
    """The architecture of an L-layer network in the notes' notation (§4.0).

    Attributes:
        layer_dims: (n[0], n[1], ..., n[L]); n[0] is the number of features.
        activations: g[1..L-1] of the hidden layers (empty for logistic regression).
        output: g[L], 'sigmoid' (one unit, binary) or 'softmax' (K >= 2 units).
        init: how W[l] is drawn ('zeros', 'small', 'xavier', 'he'); biases are zero.
        alpha: slope of Leaky ReLU for z < 0 (and at z = 0, PyTorch's convention).
    """

    layer_dims: tuple[int, ...]
    activations: tuple[str, ...]
    output: str = "sigmoid"
    init: str = "he"
    alpha: float = 0.01

    @property
    def L(self) -> int:
        return len(self.layer_dims) - 1

    @property
    def n_x(self) -> int:
        return self.layer_dims[0]

    @property
    def n_y(self) -> int:
        return self.layer_dims[-1]

    def param_names(self) -> list[str]:
        """['W1', 'b1', ..., 'WL', 'bL'], in the order of the layers."""
        return [f"{p}{l}" for l in range(1, self.L + 1) for p in ("W", "b")]

    def param_shapes(self) -> dict[str, tuple[int, int]]:
        """W[l] is [n[l], n[l-1]], b[l] is [n[l], 1]."""
        n = self.layer_dims
        shapes: dict[str, tuple[int, int]] = {}
        for l in range(1, self.L + 1):
            shapes[f"W{l}"] = (n[l], n[l - 1])
            shapes[f"b{l}"] = (n[l], 1)
        return shapes

    @classmethod
    def build(cls, layer_dims: object, activation: object = "relu", output: object = "sigmoid",
              init: object = "he", alpha: object = 0.01) -> ModelSpec:
        """Validate every argument and build the spec; `activation` is one name or one per hidden layer."""
        if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Sequence):
            raise InvalidArgument(
                f"layer_dims: got {layer_dims!r}, expected a list of layer sizes such as [2, 4, 1]"
            )
        if len(layer_dims) < 2:
            raise InvalidArgument(
                f"layer_dims: got {list(layer_dims)!r}, expected at least two sizes "
                "(n[0] features and n[L] outputs)"
            )
        dims = tuple(check_int(f"layer_dims[{i}]", n, 1) for i, n in enumerate(layer_dims))
        output_name = check_choice("output", output, OUTPUTS)
        if output_name == "sigmoid" and dims[-1] != 1:
            raise InvalidArgument(
                f"layer_dims: the sigmoid output has one unit, got n[L] = {dims[-1]}; "
                "for K classes use output='softmax'"
            )
        if output_name == "softmax" and dims[-1] < 2:
            raise InvalidArgument(
                f"layer_dims: a softmax output needs at least 2 classes, got n[L] = {dims[-1]}"
            )
        n_hidden = len(dims) - 2
        if isinstance(activation, str):
            names = (activation,) * n_hidden
        elif isinstance(activation, Sequence) and len(activation) == n_hidden:
            names = tuple(activation)
        else:
            raise InvalidArgument(
                f"activation: got {activation!r}, expected one name or a list of "
                f"{n_hidden} names (one per hidden layer)"
            )
        acts = tuple(check_choice("activation", a, HIDDEN_ACTIVATIONS) for a in names)
        if isinstance(activation, str):  # validate the name even with no hidden layer
            check_choice("activation", activation, HIDDEN_ACTIVATIONS)
        return cls(
            layer_dims=dims,
            activations=acts,
            output=output_name,
            init=check_choice("init", init, INITS),
            alpha=check_real("alpha", alpha, 0.0, 1.0),
        )
