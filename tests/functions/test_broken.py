"""Each learner mistake of tests/functions/broken.py is caught, in the function where it was
made: that function listed first (the only root cause), the functions that call it said to
follow from it, and the likely cause given.

Each broken module is checked whole (every exercise, every function), without the
end-to-end model step, which runs only for models whose functions all agree.
"""

import pytest

from compare.functions import catalogue, check_functions
from tests.functions.broken import EXAMPLE, MISTAKES, broken_source


def test_the_mistakes_are_many_and_each_in_its_own_place():
    assert len(MISTAKES) >= 20
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)
    assert len({(m.old, m.new) for m in MISTAKES}) == len(MISTAKES)
    roots = {m.root for m in MISTAKES}
    assert len(roots) >= 20 and roots <= {c.key for c in catalogue.CONTRACTS}
    assert all(m.cause for m in MISTAKES)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_the_mistake_is_caught_and_named_at_its_root(mistake, tmp_path):
    path = tmp_path / "assignment.py"
    path.write_text(broken_source(mistake))
    report = check_functions(path, model=False)
    rows = report.rows()
    first = rows[0]
    assert not report.passed
    assert (first.name, first.root) == (mistake.root, True), [(f.name, f.verdict, f.cause) for f in rows]
    assert [f.name for f in rows if f.root] == [mistake.root], "another function blamed as a root"
    assert mistake.cause in first.cause
    following = {f.name: f.follows_from for f in rows if f.failed and not f.root}
    assert {name: following.get(name) for name in mistake.follows} == dict.fromkeys(mistake.follows,
                                                                                   (mistake.root,))
    # what the learner reads: the table's first row and the summary's 'fix first'
    table = str(report).splitlines()
    assert table[2].split()[0] == mistake.root.split()[0]
    assert f"(fix first: {mistake.root})" in str(report) and table[-1].endswith("FAIL")


def test_the_example_itself_is_not_broken():
    """So that each mistake above is the only thing wrong in its module."""
    report = check_functions(EXAMPLE, model=False)
    assert report.passed and not any(f.failed for f in report.functions)
