"""The report reads the same as text, as HTML (Jupyter) and as JSON: the rows in the order to
fix them, the causes and the follows-from, the summary."""

import json
import math
from html.parser import HTMLParser

import pytest

from compare.functions import check_functions
from compare.functions.report import HEADER
from tests.functions.broken import MISTAKES, broken_source
from tests.functions.test_correct import EXAMPLE


class Cells(HTMLParser):
    """The text of every <th>/<td> row, of every <pre> and <p>."""

    def __init__(self):
        super().__init__()
        self.rows, self.pre, self.paragraphs, self.tag, self.text = [], [], [], None, ""

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("th", "td", "pre", "p"):
            self.tag, self.text = tag, ""

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.rows[-1].append(self.text)
        elif tag == "pre":
            self.pre.append(self.text)
        elif tag == "p":
            self.paragraphs.append(self.text)
        self.tag = None

    def handle_data(self, data):
        if self.tag:
            self.text += data


def text_table(text):
    """The aligned table at the top of `text`, cut into cells by its line of dashes."""
    lines = text.split("\n\n")[0].splitlines()
    spans, at = [], 0
    for dashes in lines[1].split("  "):
        spans.append((at, at + len(dashes)))
        at += len(dashes) + 2
    spans[-1] = (spans[-1][0], None)
    return [[line[a:b].strip() for a, b in spans] for line in (lines[0], *lines[2:])]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A passing report with its models, and a failing one with causes and follows-from."""
    path = tmp_path_factory.mktemp("broken") / "assignment.py"
    mistake = next(m for m in MISTAKES if m.name == "sigmoid-sign")
    path.write_text(broken_source(mistake))
    return check_functions(EXAMPLE, iterations=10), check_functions(path, iterations=10)


def test_the_html_holds_what_the_text_holds(reports):
    for report in reports:
        text, parsed = str(report), Cells()
        parsed.feed(report._repr_html_())
        assert parsed.rows == text_table(text)
        assert parsed.rows[0] == list(HEADER)
        assert parsed.paragraphs == report.summary() == text.splitlines()[-len(report.summary()):]
        if report.models:
            assert len(parsed.pre) == 1 and parsed.pre[0] in text
        else:
            assert parsed.pre == [] and "compare.check_model" not in text


def test_the_failing_report_reads_root_first(reports):
    _, failing = reports
    table = text_table(str(failing))
    assert table[1][:3] == ["sigmoid", "logistic, deep", "differs"]
    assert table[1][-1] == "computes sigmoid(-z) = 1 - sigmoid(z): the sign of the exponent"
    follows = [row for row in table[2:] if row[-1] == "follows from sigmoid"]
    assert {row[0] for row in follows} >= set(next(m for m in MISTAKES if m.name == "sigmoid-sign").follows)
    assert not failing.models and any("was not assembled" in line for line in failing.summary())


def strict(text):
    """JSON without NaN or Infinity, which other readers refuse."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))


def test_the_json_shape(reports):
    passing, failing = reports
    for report in reports:
        data = strict(json.dumps(report.to_dict()))
        assert set(data) == {"schema", "passed", "source", "exercises", "tolerances", "time_limit_s",
                             "seconds", "functions", "models", "model_notes", "logs"}
        assert data["schema"] == 1 and data["passed"] is report.passed
        assert data["tolerances"] == {"float64": 1e-12, "float32": 1e-5} and data["time_limit_s"] == 10
        assert [f["function"] for f in data["functions"]] == [f.name for f in report.rows()]
        for f in data["functions"]:
            assert set(f) == {"function", "exercise", "signature", "verdict", "passed", "root",
                              "follows_from", "max_rel_err", "tolerance", "max_rel_err_by_dtype",
                              "where", "cause", "note", "cases"}
            assert f["passed"] is (f["verdict"] in ("ok", "not provided"))
            assert f["max_rel_err"] is None or math.isfinite(f["max_rel_err"])
    assert len(strict(json.dumps(passing.to_dict()))["models"]) == 3
    first = strict(json.dumps(failing.to_dict()))["functions"][0]
    assert (first["function"], first["root"], first["passed"]) == ("sigmoid", True, False)
    assert first["cause"].endswith("the sign of the exponent")
