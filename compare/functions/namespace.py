"""Where the learner's functions come from: a module, a `.py` file, a module name, or a
notebook's `globals()`.

A file is imported under a module name of its own (`nncompare_check_<stem>_<n>`), never
`__main__`, so its `if __name__ == "__main__":` block does not run; its folder comes first on
sys.path while it is imported (so `import testCases` beside it works). A file that does not
exist, cannot be imported (a SyntaxError included) or raises while importing is one
InvalidArgument naming the file and the line.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.functions.calls import learner_frames
from scratch.errors import InvalidArgument

_numbers = itertools.count(1)


@dataclass
class Namespace:
    """The names a learner defined, and what to call the place they came from."""

    source: str                       # 'examples/course_functions.py', 'module mine', 'globals()'
    names: dict[str, Any]             # the module's __dict__, or the notebook's globals() itself
    module: str = ""                  # its module name ('' for a dict)


def load(target: object, arg: str = "namespace") -> Namespace:
    """The Namespace of a module, a dict, a path to a .py file, or an importable module name."""
    if isinstance(target, types.ModuleType):
        return Namespace(f"module {target.__name__}", vars(target), target.__name__)
    if isinstance(target, dict):
        return Namespace("globals()", target, str(target.get("__name__", "")))
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if text.endswith(".py") or os.sep in text or Path(text).exists():
            return from_file(Path(text))
        return from_module_name(text)
    raise InvalidArgument(f"{arg}: got {type(target).__name__}, expected a module, a .py file's path, "
                          "a module name or a notebook's globals()")


def from_file(path: Path) -> Namespace:
    """Import the file at `path` under a fresh module name (its __main__ block does not run)."""
    if not path.exists():
        raise InvalidArgument(f"no such file {path}")
    if path.is_dir() or path.suffix != ".py":
        raise InvalidArgument(f"{path} is not a .py file; expected a Python file of the course's functions")
    name = f"nncompare_check_{path.stem.replace('-', '_')}_{next(_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidArgument(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InvalidArgument(import_error(path, exc)) from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return Namespace(str(path), vars(module), name)


def import_error(path: Path, exc: BaseException) -> str:
    """'x.py:3: SyntaxError: invalid syntax (the file cannot be imported)' and the like."""
    if isinstance(exc, SyntaxError):
        return f"{path}:{exc.lineno}: {type(exc).__name__}: {exc.msg} (the file cannot be imported)"
    frames = [f for f in learner_frames(exc) if Path(f.filename).resolve() == path.resolve()]
    line = f":{frames[-1].lineno}" if frames else ""
    message = " ".join(str(exc).split())
    return f"{path}{line}: importing it raised {type(exc).__name__}: {message}"


def from_module_name(name: str) -> Namespace:
    """An importable module, by its dotted name."""
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise InvalidArgument(f"no such file or module {name}") from None
        raise InvalidArgument(f"module {name}: importing it raised ModuleNotFoundError: {exc}") from None
    except Exception as exc:
        raise InvalidArgument(f"module {name}: importing it raised {type(exc).__name__}: {exc}") from None
    return Namespace(f"module {name}", vars(module), name)
