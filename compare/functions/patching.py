"""Telling a root cause from what follows from it: the reference put in place of a callee.

When a function that differs calls catalogue functions that differ too (L_model_forward calls
linear_activation_forward, which calls linear_forward), it is checked again with the
reference, with the course's signature and return layout, in place of each of those
callees: the name is rebound in the globals the learner's code looks it up in (a module's
__dict__, a notebook's globals()) for the length of that check, then restored. If it then
agrees, it differs only through them.

`referenced` reads which global names a function's code (nested functions and
comprehensions included) looks up.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from compare.functions import reference

_MISSING = object()


def referenced(fn: Any) -> set[str]:
    """The global names `fn`'s code looks up (empty for what has no Python code)."""
    code = getattr(fn, "__code__", None)
    names: set[str] = set()
    stack = [code] if isinstance(code, types.CodeType) else []
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    return names


def reachable(fn: Any, functions: dict[str, Any]) -> list[str]:
    """The names in `functions` that `fn` calls, directly or through one another."""
    seen: list[str] = []
    todo = [n for n in referenced(fn) if n in functions]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.append(name)
            todo += [n for n in referenced(functions[name]) if n in functions and n not in seen]
    return seen


@contextlib.contextmanager
def patched(fns: Iterable[Any], replacements: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """Each name of `replacements` rebound, in the globals of every function of `fns` that looks
    it up, for the block; then restored (or removed, where it was not bound)."""
    saved: dict[tuple[int, str], tuple[dict[str, Any], Any]] = {}
    for fn in fns:
        space = getattr(fn, "__globals__", None)
        if not isinstance(space, dict):
            continue
        for name in referenced(fn) & set(replacements):
            saved.setdefault((id(space), name), (space, space.get(name, _MISSING)))
            space[name] = replacements[name]
    try:
        yield
    finally:
        for (_, name), (space, old) in saved.items():
            if old is _MISSING:
                space.pop(name, None)
            else:
                space[name] = old


def like(x: Any, *inputs: Any) -> np.ndarray:
    """`x` in the floating dtype of the inputs (float32 in, float32 out)."""
    kinds = [np.asarray(i).dtype for i in inputs if np.asarray(i).dtype.kind == "f"]
    return np.asarray(x).astype(np.result_type(*kinds) if kinds else np.float64)


def activation(name: str, style: str) -> Callable[[Any], Any]:
    """The reference g(Z): the array alone ('plain') or (A, cache = Z) ('tuple')."""
    def g(Z: Any) -> Any:
        A = like(reference.activation(name, Z), Z)
        return (A, Z) if style == "tuple" else A
    return g


def linear_forward(A: Any, W: Any, b: Any) -> tuple[np.ndarray, tuple[Any, Any, Any]]:
    return like(reference.linear_forward(A, W, b), A, W, b), (A, W, b)


def linear_activation_forward(A_prev: Any, W: Any, b: Any, activation: str) -> tuple[np.ndarray, Any]:
    Z, cache = linear_forward(A_prev, W, b)
    return like(reference.activation(activation, Z), Z), (cache, Z)


def activation_backward(name: str) -> Callable[[Any, Any], np.ndarray]:
    return lambda dA, cache: like(reference.activation_backward(name, dA, cache), dA, cache)


def linear_backward(dZ: Any, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    A_prev, W, b = cache
    dA, dW, db = reference.linear_backward(dZ, A_prev, W, b)
    return like(dA, dZ, W), like(dW, dZ, A_prev), like(db, dZ)


def linear_activation_backward(dA: Any, cache: Any, activation: str) -> tuple[np.ndarray, ...]:
    linear_cache, Z = cache
    return linear_backward(like(reference.activation_backward(activation, dA, Z), dA, Z), linear_cache)


def forward_propagation(X: Any, parameters: dict[str, Any]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    layers = reference.forward(X, parameters, "tanh")
    cache = {f"{q}{l}": like(f[q], X) for l, f in enumerate(layers, 1) for q in ("Z", "A")}
    return cache["A2"], cache


def propagate(w: Any, b: Any, X: Any, Y: Any) -> tuple[dict[str, Any], float]:
    dw, db, J, _ = reference.logistic(w, b, X, Y)
    return {"dw": like(dw, w, X), "db": db}, J


def compute_cost(AL: Any, Y: Any, parameters: Any = None) -> float:
    return reference.cost(AL, Y)


def replacements(styles: dict[str, str]) -> dict[str, Callable[..., Any]]:
    """The reference of each catalogue function a composite may call, in the course's layout;
    sigmoid and relu return what the learner's own return (`styles`: 'plain' or 'tuple')."""
    return {"sigmoid": activation("sigmoid", styles.get("sigmoid", "plain")),
            "relu": activation("relu", styles.get("relu", "tuple")),
            "sigmoid_backward": activation_backward("sigmoid"), "relu_backward": activation_backward("relu"),
            "linear_forward": linear_forward, "linear_activation_forward": linear_activation_forward,
            "linear_backward": linear_backward, "linear_activation_backward": linear_activation_backward,
            "forward_propagation": forward_propagation, "propagate": propagate, "compute_cost": compute_cost}
