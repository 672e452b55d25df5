"""Load a user's own from-scratch model: `--scratch-impl package.module:ClassName`, or
`--scratch-impl path/to/file.py:ClassName` (a file, imported under its own name; its
`if __name__ == "__main__":` block does not run).

The class is built with the keyword arguments it accepts among layer_dims,
activation, output, init, seed and alpha (and dtype when --dtype is given;
layer_dims is required); an --init or --dtype set on the command line that the
class does not take is an error. The object it makes must follow
`compare.proof.protocol`. Every failure is an `InvalidArgument` that says what is wrong.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Collection
from pathlib import Path
from types import ModuleType

from compare.proof.protocol import missing_members
from scratch.errors import InvalidArgument
from scratch.spec import ModelSpec, suggest

ARG = "scratch-impl"


def load_class(target: str) -> type:
    """The class named by 'package.module:ClassName' (the current folder is importable) or by
    'path/to/file.py:ClassName'."""
    module_name, _, class_name = target.rpartition(":")
    if not module_name or not class_name:
        raise InvalidArgument(f"{ARG}: got {target!r}, expected 'package.module:ClassName' or "
                              "'path/to/file.py:ClassName'")
    module = import_file(module_name) if module_name.endswith(".py") else import_module(module_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        names = [n for n, v in vars(module).items() if inspect.isclass(v)]
        raise InvalidArgument(f"{ARG}: module {module_name!r} has no {class_name!r}"
                              f"{suggest(class_name, names)}")
    if not inspect.isclass(cls):
        raise InvalidArgument(f"{ARG}: {target!r} is a {type(cls).__name__}, expected a class")
    return cls


def import_module(name: str) -> ModuleType:
    """The module `name`, the current folder first on the path."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except Exception as exc:  # any error while importing the user's code
        raise InvalidArgument(f"{ARG}: cannot import {name!r}: {type(exc).__name__}: {exc}") from None


def import_file(path: str) -> ModuleType:
    """The Python file at `path`, imported as a module named after it (not '__main__')."""
    file = Path(path)
    if not file.is_file():
        raise InvalidArgument(f"{ARG}: {path} is not a file, expected a Python file such as "
                              "examples/course_style.py")
    name = f"nncompare_plugin_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise InvalidArgument(f"{ARG}: {path} cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                     # dataclasses and pickling look it up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # any error while importing the user's code
        del sys.modules[name]
        raise InvalidArgument(f"{ARG}: cannot import {path}: {type(exc).__name__}: {exc}") from None
    return module


def build(target: str, spec: ModelSpec, seed: int, dtype: str = "float64",
          given: Collection[str] = ()) -> object:
    """An instance of the user's class for the architecture `spec`, checked against the protocol.

    `given` names the options the user set explicitly (e.g. 'init', 'dtype'); `dtype` is
    offered only when given. A given option the class does not take is an error, not
    silently dropped.
    """
    cls = load_class(target)
    offered = {"layer_dims": list(spec.layer_dims),
               "activation": spec.activations[0] if len(set(spec.activations)) == 1
               else list(spec.activations),
               "output": spec.output, "init": spec.init, "seed": seed, "alpha": spec.alpha}
    if "dtype" in given:                 # else the class keeps its own default
        offered["dtype"] = dtype
    try:
        params = dict(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        params = {}
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    if not takes_all and "layer_dims" not in params:
        raise InvalidArgument(
            f"{ARG}: {cls.__name__}.__init__ must take 'layer_dims' (the sizes [n0, ..., nL])")
    dropped = [k for k in given if k in offered and not (takes_all or k in params)]
    if dropped:
        raise InvalidArgument(
            f"{dropped[0]}: {cls.__name__}.__init__ takes no {dropped[0]!r}, so "
            f"--{dropped[0]} cannot reach the model; leave it out (the model uses its own)")
    kwargs = {k: v for k, v in offered.items() if takes_all or k in params}
    try:
        model = cls(**kwargs)
    except Exception as exc:  # the user's constructor failed
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise InvalidArgument(
            f"{ARG}: {cls.__name__}({shown}) raised {type(exc).__name__}: {exc}") from None
    missing = missing_members(model)
    if missing:
        raise InvalidArgument(f"{ARG}: {cls.__name__} does not follow the scratch protocol; "
                              f"missing: {', '.join(missing)}")
    return model
