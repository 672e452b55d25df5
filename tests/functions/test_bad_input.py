"""Bad input to the checker: what cannot be loaded is one line (InvalidArgument, exit 2 on the
command line) naming the file and the line; a function that raises, returns None, returns a
tuple of the wrong length, hangs, mutates its input or has the wrong signature is one line in
its row of the report, and every other function is still checked; a function not defined
is 'not provided', which is no failure."""

import textwrap
import threading
import time

import pytest

from compare.functions import check_functions
from scratch.errors import InvalidArgument
from tests.functions.broken import EXAMPLE

LIMIT = 0.5     # seconds a call may take in these tests (the default is 10 s)


def write(tmp_path, text, name="assignment.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(target, **kw):
    with pytest.raises(InvalidArgument) as caught:
        check_functions(target, model=False, **kw)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_path_that_does_not_exist(tmp_path):
    assert refused(tmp_path / "nope.py") == f"no such file {tmp_path / 'nope.py'}"
    assert refused("no_such_module_of_mine") == "no such file or module no_such_module_of_mine"
    assert refused(tmp_path) == (f"{tmp_path} is not a .py file; expected a Python file of the "
                                 "course's functions")


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path, """\
        import numpy as np

        def sigmoid(z)
            return 1 / (1 + np.exp(-z))
        """)
    assert refused(path).startswith(f"{path}:3: SyntaxError: ")
    assert refused(path).endswith("(the file cannot be imported)")


def test_a_file_that_raises_on_import_names_the_file_and_line(tmp_path):
    path = write(tmp_path, """\
        import numpy as np

        data = np.load("train_catvnoncat.h5")

        def sigmoid(z):
            return 1 / (1 + np.exp(-z))
        """)
    message = refused(path)
    assert message.startswith(f"{path}:3: importing it raised FileNotFoundError: ")
    assert "train_catvnoncat.h5" in message
    assert refused(write(tmp_path, "import sys\nsys.exit('bye')\n", "leaves.py")).startswith(
        f"{tmp_path / 'leaves.py'}:2: importing it raised SystemExit: bye")


def test_a_namespace_with_none_of_the_course_names():
    message = refused({"__name__": "__main__", "my_sigmoid": lambda z: z, "W": 3})
    assert message.startswith("globals() defines none of the course's functions (sigmoid, relu, ")
    assert message.endswith("; expected at least one")
    assert refused(42) == ("namespace: got int, expected a module, a .py file's path, a module name "
                           "or a notebook's globals()")
    assert refused({"sigmoid": abs}, exercise="shallow").startswith(
        "globals() defines none of the functions of the shallow exercise")
    assert "exercise: " in refused({"sigmoid": abs}, exercise="cnn")


def test_the_main_block_of_a_file_is_not_run(tmp_path):
    path = write(tmp_path, EXAMPLE.read_text() + "\n    raise SystemExit('the main block ran')\n")
    assert check_functions(path, model=False).passed


BROKEN_CALLS = '''

def initialize_with_zeros(dim):
    raise NotImplementedError("TODO: write this")


def layer_sizes(X, Y):
    n_x = X.shape[0]


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T) / m


def predict(parameters, X):
    while True:
        pass


def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    dA *= s * (1 - s)
    return dA
'''


def test_each_broken_call_is_one_line_and_the_rest_are_checked(tmp_path):
    """Five functions replaced by broken ones at the end of the example module."""
    path = write(tmp_path, EXAMPLE.read_text() + BROKEN_CALLS)
    began = time.perf_counter()
    report = check_functions(path, model=False, time_limit=LIMIT)
    rows = {f.name: f for f in report.functions}
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "TODO: write this" in text)
    assert rows["initialize_with_zeros"].cause == (
        f"raised NotImplementedError: TODO: write this "
        f"(assignment.py:{line}: raise NotImplementedError(\"TODO: write this\"))")
    assert rows["layer_sizes"].cause == "returned None, expected (n_x, n_h, n_y) (a missing return?)"
    assert rows["linear_backward"].cause == "returned a tuple of 2, expected 3: (dA_prev, dW, db)"
    assert rows["predict (shallow)"].cause == f"did not return within {LIMIT:g} s (an endless loop?)"
    assert rows["sigmoid_backward"].cause.startswith("changes its input dA in place")
    broken = ("initialize_with_zeros", "layer_sizes", "linear_backward", "predict (shallow)",
              "sigmoid_backward")
    assert all(rows[n].verdict == "error" and rows[n].root and "\n" not in rows[n].cause for n in broken)
    # their callers follow from them; every other function is checked and agrees
    assert rows["linear_activation_backward"].follows_from == ("sigmoid_backward", "linear_backward")
    assert rows["L_model_backward"].follows_from == ("sigmoid_backward", "linear_backward")
    callers = ("linear_activation_backward", "L_model_backward")
    others = [f for f in report.functions
              if f.name not in (*broken, *callers) and f.verdict != "not provided"]
    assert len(others) == 14 and all(f.verdict == "ok" for f in others), [(f.name, f.cause) for f in others]
    assert f"each call limited to {LIMIT:g} s" in str(report)
    assert time.perf_counter() - began < 30         # one hung call, stopped at the limit


def test_a_call_that_hangs_outside_the_main_thread_is_stopped(tmp_path):
    """There no alarm signal can be used: the call runs in a thread of its own, waited for."""
    namespace = {"relu": lambda Z: time.sleep(3)}
    found = {}
    worker = threading.Thread(target=lambda: found.update(r=check_functions(namespace, time_limit=LIMIT)))
    worker.start()
    worker.join(30)
    (row,) = [f for f in found["r"].functions if f.name == "relu"]
    assert row.cause == f"did not return within {LIMIT:g} s (an endless loop?)"


def test_a_wrong_signature_is_named_and_a_missing_function_is_no_failure():
    def linear_forward(A, W):
        return W @ A, (A, W)

    report = check_functions({"linear_forward": linear_forward, "relu_backward": 3}, model=False)
    rows = {f.name: f for f in report.functions}
    assert rows["linear_forward"].verdict == "wrong signature"
    assert rows["linear_forward"].cause == "takes (A, W), expected linear_forward(A, W, b)"
    assert rows["relu_backward"].cause == "relu_backward is int, expected a function"
    assert not report.passed
    # only some of the functions: the rest are 'not provided' and the check passes
    from examples import course_functions as example
    partial = check_functions({"sigmoid": example.sigmoid, "propagate": example.propagate}, model=False)
    verdicts = {f.name: f.verdict for f in partial.functions}
    assert verdicts["sigmoid"] == verdicts["propagate"] == "ok"
    assert verdicts["optimize"] == verdicts["predict (logistic)"] == "not provided"
    assert partial.passed and "2 agree, 0 differ, 3 not provided" in str(partial)
