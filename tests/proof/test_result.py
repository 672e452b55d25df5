"""A report prints as the table nncompare prints, and renders as the same table in Jupyter."""

import html.parser

from compare import check_model
from compare.output import report as text_report
from compare.proof.result import HEADER, Reports
from scratch import LogisticRegression, ShallowNet, datasets

FLOWER = datasets.load("flower", seed=1)


def reports():
    return [check_model(LogisticRegression(2), FLOWER, lr=1.0, iterations=5, name="logistic"),
            check_model(ShallowNet(2, 3, seed=1), FLOWER, lr=1.0, iterations=5, name="shallow")]


class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])

    def handle_data(self, data):
        if self.tags and self.tags[-1] in ("td", "th", "pre"):
            self.rows[-1].append(data)

    def handle_endtag(self, tag):
        self.tags.pop()


def test_print_of_a_report_is_the_table_nncompare_prints():
    ours = reports()
    assert str(ours[0]) == text_report.table([ours[0]])
    assert str(Reports(ours)) == text_report.table(ours)
    lines = str(ours[0]).splitlines()
    assert lines[0].split()[:2] == ["model", "forward"] and lines[2].startswith("logistic  ok ")
    assert "  PASS: all checks agree" in lines


def test_a_report_renders_as_an_html_table_with_the_same_cells():
    ours = reports()
    parser = Cells()
    parser.feed(Reports(ours)._repr_html_())
    header, *rows = parser.rows
    assert header == list(HEADER)
    text_rows = [line.split("  ") for line in str(Reports(ours)).splitlines()[2:4]]
    assert [cells[0] for cells in rows[::2]] == ["logistic", "shallow"]
    assert [c.strip() for c in rows[0]] == [c.strip() for c in text_rows[0] if c.strip()]
    assert "PASS: all checks agree" in rows[1][0]


def test_html_escapes_what_a_model_names():
    r = check_model(LogisticRegression(2), FLOWER, lr=1.0, iterations=2, name="<b>mine</b>")
    assert "<b>mine</b>" not in r._repr_html_() and "&lt;b&gt;mine&lt;/b&gt;" in r._repr_html_()
