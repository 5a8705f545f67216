"""Markdown tables and escaping (:mod:`seqrobust.reporting.text`)."""

from __future__ import annotations

import pytest

from seqrobust.reporting.text import md_escape, md_row, md_table


def test_md_table_writes_header_rule_and_rows() -> None:
    lines = md_table(["model", "n", "clean %"], [[md_escape("a|b"), 10, "90.0"], ["c", 2, "–"]])
    assert lines == ["| model | n | clean % |", "|---|---|---|", "| a\\|b | 10 | 90.0 |",
                     "| c | 2 | – |"]
    assert md_row(["x"]) == "| x |"


def test_md_table_with_no_rows_is_its_header() -> None:
    assert md_table(["a", "b"], iter([])) == ["| a | b |", "|---|---|"]


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError,
                       match=r"a table row has 3 cells, its header 2: \| 1 \| 2 \| 3 \|"):
        md_table(["a", "b"], [[1, 2, 3]])


def test_md_escape_makes_free_text_literal() -> None:
    assert md_escape("a|b *c* [d](e)") == "a\\|b \\*c\\* \\[d\\](e)"
    assert md_escape("snake_case _x_") == "snake_case \\_x\\_"
    assert md_escape("# title\nnext") == "\\# title next"
