"""The vocabulary every implementation of the course's models shares (pure Python).

The architecture a model is built from and the checks on every argument a user gives:
any implementation accepts the same constructor and training arguments, and this
module turns them into one validated `ModelSpec` (and lr, iterations, batch size), so
that every implementation rejects bad input with the same message. Every check raises
`InvalidArgument`, whose message names the argument, what was received and what was
expected.

Also the rules the implementations share: the scale of each initializer (§3.4), the
order in which mini-batch gradient descent takes the samples, and from how many
iterations `fit` shows a progress bar.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from scratch.errors import InvalidArgument

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
OUTPUTS = ("sigmoid", "softmax")
DTYPES = ("float32", "float64")

# The scale of each initializer (§3.4): W[l] = N(0, 1) * scale(fan_in), fan_in = n[l-1].
INIT_SCALES: dict[str, Callable[[int], float]] = {
    "zeros": lambda fan_in: 0.0,                        # W = 0 (keeps hidden units symmetric)
    "small": lambda fan_in: 0.01,                       # the notes' choice
    "xavier": lambda fan_in: math.sqrt(1.0 / fan_in),   # the course's Xavier, for tanh
    "he": lambda fan_in: math.sqrt(2.0 / fan_in),       # He et al., for ReLU
}
INITS = tuple(INIT_SCALES)                              # ("zeros", "small", "xavier", "he")

PROGRESS_FROM = 500  # iterations from which fit shows a progress bar by default

# The thread policy of both sides, NumPy's BLAS and torch's intra-op pool alike: one thread
# while every matrix product of a step is below PARALLEL_FLOPS floating-point operations.
# Measured on a 2-core machine under load (float64, 1 vs 2 threads, speedup of 2 threads):
# 1.8 MFLOP (digits' [1437, 64] x [64, 10]) 0.38 NumPy, 0.38 torch; 34 MFLOP 0.09, 0.16;
# 0.54 GFLOP 1.07, 0.84; 2.1 GFLOP 0.90, 1.24; 17 GFLOP 0.98, 1.10. Below a gigaflop a
# second thread only adds a fork and a join per product (and, where the cores are busy or
# the other side's pool still spins, a wait for a free core); above it the pools are left
# as they are. Lockstep alternates the sides every step, so they share the rule.
PARALLEL_FLOPS = 1e9
THREAD_SETTINGS = ("NNCOMPARE_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def product_flops(layer_dims: Sequence[int], m: int) -> int:
    """The floating-point operations of the largest product of a step, 2 m n[l] n[l-1]."""
    return max((2 * m * a * b for a, b in zip(layer_dims[:-1], layer_dims[1:], strict=False)), default=0)


def threads_for(layer_dims: Sequence[int], m: int) -> int | None:
    """Threads for a model of `layer_dims` on m samples: 1 below PARALLEL_FLOPS, None (leave
    the pools as they are) above it or when the user chose: NNCOMPARE_THREADS=N sets N for
    both sides, and any of OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS set
    leaves the pools to them."""
    chosen = os.environ.get("NNCOMPARE_THREADS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        return int(chosen)
    if any(os.environ.get(name) for name in THREAD_SETTINGS[1:]) or chosen:
        return None
    return 1 if product_flops(layer_dims, m) < PARALLEL_FLOPS else None


def init_scale(init: str, fan_in: int) -> float:
    """The factor that multiplies a standard normal draw for W[l] under the rule `init`
    (a name of INITS, already checked); fan_in = n[l-1]."""
    return INIT_SCALES[init](fan_in)


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


def check_trainable(model: object, expected: type, side: str) -> None:
    """InvalidArgument unless `model` is an instance of `expected`, the models of the package
    `side` (the implementation whose fit was called); a model of another implementation,
    a package with its own `fit`, is pointed to that fit."""
    if isinstance(model, expected):
        return
    package = type(model).__module__.partition(".")[0]
    has_fit = callable(getattr(sys.modules.get(package), "fit", None))
    hint = f" (a {package} model trains with {package}.fit)" \
        if package != side and has_fit else ""
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
    """'float32' or 'float64' from a name, a NumPy dtype or type, or a dtype object whose
    str() is the name with a library prefix (as torch's 'torch.float32')."""
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
        dims = check_layer_dims(layer_dims)
        output_name = check_output_layer(output, dims)
        return cls(
            layer_dims=dims,
            activations=check_hidden_activations(activation, len(dims) - 2),
            output=output_name,
            init=check_choice("init", init, INITS),
            alpha=check_real("alpha", alpha, 0.0, 1.0),
        )


def check_layer_dims(layer_dims: object) -> tuple[int, ...]:
    """(n[0], ..., n[L]) from a sequence of at least two sizes, each an integer >= 1."""
    if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Sequence):
        raise InvalidArgument(
            f"layer_dims: got {layer_dims!r}, expected a list of layer sizes such as [2, 4, 1]"
        )
    if len(layer_dims) < 2:
        raise InvalidArgument(
            f"layer_dims: got {list(layer_dims)!r}, expected at least two sizes "
            "(n[0] features and n[L] outputs)"
        )
    return tuple(check_int(f"layer_dims[{i}]", n, 1) for i, n in enumerate(layer_dims))


def check_output_layer(output: object, dims: tuple[int, ...]) -> str:
    """g[L]'s name, checked against n[L]: one unit for a sigmoid, K >= 2 for a softmax."""
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
    return output_name


def check_hidden_activations(activation: object, n_hidden: int) -> tuple[str, ...]:
    """g[1..L-1] from one name (for every hidden layer) or a list of `n_hidden` names."""
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
    return acts


def check_training(lr: object, iterations: object, batch_size: object, m: int) -> tuple:
    """(lr, iterations, batch_size or None) after checking each."""
    lr = check_real("lr", lr, 0.0)
    iterations = check_int("iterations", iterations, 1)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
        if batch_size > m:
            raise InvalidArgument(
                f"batch_size: got {batch_size}, expected at most m = {m} (the number of samples)"
            )
    return lr, iterations, batch_size


class Sliceable(Protocol):
    """What a permutation of the sample indices is: an array that slices."""

    def __getitem__(self, key: slice, /) -> Any: ...


def batch_order(m: int, batch_size: int | None, iterations: int, permutation: Callable[[int], Sliceable],
                start_step: int = 0) -> Iterator[Any]:
    """The samples each step uses: None (all m) for batch gradient descent, else index
    arrays of `batch_size` taken in order from a fresh `permutation(m)` every epoch (the
    last, shorter batch of an epoch is kept). Steps start_step .. start_step + iterations - 1
    of that sequence, so a resumed run sees the batches an uninterrupted one would.

    `permutation` is the implementation's seeded random permutation of 0..m-1, called
    once per epoch (never for batch gradient descent)."""
    if batch_size is None or batch_size >= m:
        for _ in range(iterations):
            yield None
        return
    step, end = 0, start_step + iterations
    while True:
        order = permutation(m)                           # [m]
        for first in range(0, m, batch_size):
            if step == end:
                return
            if step >= start_step:
                yield order[first:first + batch_size]    # [batch]
            step += 1
