"""Tables of already formatted cells, for a terminal (aligned columns) or for Markdown.

Every table nncompare prints or writes goes through these two functions: the run's
report, the experiments' results, the benchmark report.
"""

from __future__ import annotations

from collections.abc import Sequence


def aligned(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell, a rule of dashes under the header."""
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table (| escaped inside cells)."""
    def row(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    lines = [row(header), "|" + "|".join("---" for _ in header) + "|", *(row(r) for r in rows)]
    return "\n".join(lines)
