"""The correct course module passes: every function, in float64 and float32, on random network
shapes (no false alarm), as a .py file, a module and a notebook's globals(), and its models
assembled end to end.

The tolerances under test are the checker's own (compare.functions.judge.TOLERANCE: 1e-12
relative in float64, 1e-5 in float32, against roundoff bounds of ~1e4 u and ~170 u); a draw
that fails here is a false alarm of the checker, not a loose test.
"""

import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.functions import catalogue, check_functions
from compare.functions.problems import Shape
from tests.functions.broken import EXAMPLE

example = importlib.import_module("examples.course_functions")
PROVIDED = [name for name in catalogue.NAMES if hasattr(example, name)]
# the ci profile's 40 examples a test, a quarter of them per function: 10 x 21 = 210 draws
PER_FUNCTION = max(1, settings.default.max_examples // 4)


@st.composite
def shapes(draw):
    """Networks of 1 to 4 layers, inputs and hidden layers of 1 to 7 units, one sigmoid
    output, m = 1 to 12 samples."""
    hidden = draw(st.lists(st.integers(1, 7), min_size=1, max_size=4))
    return Shape((*hidden, 1), draw(st.integers(1, 12)))


def failures(report):
    return [f"{f.name}: {f.verdict} at {f.where}: {f.cause}" for f in report.functions if f.failed]


def test_every_course_function_of_the_catalogue_is_in_the_example():
    assert set(PROVIDED) == set(catalogue.NAMES) and len(PROVIDED) == 21


@pytest.mark.parametrize("name", PROVIDED)
@settings(max_examples=PER_FUNCTION)
@given(drawn=st.lists(shapes(), min_size=1, max_size=4), seed=st.integers(0, 2**32 - 1))
def test_each_function_agrees_on_random_shapes_in_both_dtypes(name, drawn, seed):
    """One function at a time (its callees are the example's own, through its module): every
    case of its contract, the three variants of each drawn shape, float64 and float32."""
    report = check_functions({name: getattr(example, name)}, shapes=drawn, seed=seed, model=False,
                             dtypes=("float64", "float32"))
    (checked,) = [f for f in report.functions if f.verdict != "not provided"]
    assert checked.verdict == "ok", failures(report)
    assert checked.cases > 0
    if checked.errors:                   # the initializers and labels have no error to measure
        assert set(checked.errors) == {"float64", "float32"}


def test_the_file_passes_with_its_three_models():
    report = check_functions(EXAMPLE, iterations=20)
    assert report.passed, failures(report) + report.model_notes
    assert sorted(f.verdict for f in report.functions) == ["not provided"] + ["ok"] * 21
    assert [m.model for m in report.models] == [f"{kind} (your functions)"
                                                for kind in ("logistic", "shallow", "deep")]
    assert all(m.passed for m in report.models)


def test_a_notebooks_globals_pass_and_are_left_as_they_were():
    """A notebook defines the functions in its globals (its __name__ is '__main__'); the check
    reads them there, and rebinds nothing for good (the reference stands in for a callee only
    while a composite is checked again)."""
    source = EXAMPLE.read_text().split('if __name__ == "__main__":')[0]
    notebook: dict = {"__name__": "__main__"}
    exec(compile(source, "notebook cell", "exec"), notebook)
    before = dict(notebook)
    report = check_functions(notebook, model=False)
    assert report.passed and report.source == "globals()", failures(report)
    # a wrong callee: L_model_forward is checked again with the reference linear_forward bound
    notebook["linear_forward"] = lambda A, W, b: (W @ A, (A, W, b))
    broken = check_functions(notebook, model=False, exercise="deep")
    rows = {f.name: f for f in broken.functions}
    assert broken.rows()[0].name == "linear_forward"
    assert rows["L_model_forward"].follows_from == ("linear_forward",)
    assert notebook.keys() == before.keys()
    assert all(notebook[k] is before[k] for k in before if k != "linear_forward")


def test_a_module_object_and_a_module_name_pass():
    """Both predicts cannot live in one module: the example's is the planar one, and the
    logistic one is 'not provided', saying why."""
    for target in (example, "examples.course_functions"):
        report = check_functions(target, model=False)
        assert report.passed and report.source == "module examples.course_functions", failures(report)
        verdicts = {f.name: f.verdict for f in report.functions}
        assert len(verdicts) == 22 and [k for k, v in verdicts.items() if v != "ok"] == ["predict (logistic)"]
        (missing,) = [f for f in report.functions if f.verdict == "not provided"]
        assert missing.note == "the name is taken by predict(parameters, X) (one hidden layer (planar data))"
