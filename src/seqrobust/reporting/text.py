"""Free text (run names, labels, units, paths, notes) made safe where it is rendered: in
Markdown (:func:`md_escape`, :func:`md_code_block`) and in matplotlib text, whose mathtext
reads a pair of ``$`` as a formula (:func:`mpl_escape`); Markdown tables
(:func:`md_table`, :func:`md_row`).

>>> md_escape("a|b *c* [d](e)")
'a\\\\|b \\\\*c\\\\* \\\\[d\\\\](e)'
>>> mpl_escape("cost $5 or $6")
'cost \\\\$5 or \\\\$6'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_MD_SPECIAL = set("\\`*[]<>|~$&")
_LINE_START = re.compile(r"^\s*(?:(?P<mark>>|#+(?=\s|$)|[+=-](?=\s|$|[=-]))|\d+(?P<num>[.)])"
                         r"(?=\s|$))")


def md_escape(text: object) -> str:
    """``text`` as literal Markdown inline text (a table cell, a heading, a list item).

    Backslash-escapes every character that can start inline markup, a link, raw HTML, an
    entity, math or a table cell border (``\\ ` * [ ] < > | ~ $ &``), ``_`` unless it sits
    inside a word, and a leading block marker (``#``, ``>``, ``+``, ``-``, ``=``, ``1.``);
    line breaks become spaces.

    Args:
        text: anything; ``str(text)`` is escaped.

    Returns:
        The escaped text.
    """
    s = " ".join(str(text).splitlines())
    out = []
    for i, ch in enumerate(s):
        if ch in _MD_SPECIAL:
            out.append("\\" + ch)
        elif ch == "_" and not (0 < i < len(s) - 1 and s[i - 1].isalnum()
                                and s[i + 1].isalnum()):
            out.append("\\_")
        else:
            out.append(ch)
    escaped = "".join(out)
    match = _LINE_START.match(escaped)
    if match:
        cut = match.start("mark") if match.group("mark") else match.start("num")
        escaped = escaped[:cut] + "\\" + escaped[cut:]
    return escaped


def md_code_block(text: str, language: str = "") -> str:
    """``text`` in a fenced code block whose fence is longer than any backtick run inside it
    (so the text cannot close the block).

    Returns:
        The block, fences included, without a final newline.
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def mpl_escape(text: object) -> str:
    """``text`` as literal matplotlib text: every ``$`` escaped, so mathtext never reads a
    run name or unit as a formula; line breaks become spaces."""
    return " ".join(str(text).splitlines()).replace("$", r"\$")


def md_row(cells: Sequence[object]) -> str:
    """One Markdown table row, ``| a | b |`` (cells as given: escape free text first)."""
    return "| " + " | ".join(map(str, cells)) + " |"


def md_table(head: Sequence[object], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a Markdown table: the header ``head``, its rule, then one line per row.

    Cells are written as given (:func:`md_escape` free text first).

    Raises:
        ValueError: if a row has another number of cells than ``head`` (it would render
            shifted).
    """
    lines = [md_row(head), "|" + "---|" * len(head)]
    for row in rows:
        if len(row) != len(head):
            raise ValueError(f"a table row has {len(row)} cells, its header {len(head)}: "
                             f"{md_row(row)}")
        lines.append(md_row(row))
    return lines


__all__ = ["md_code_block", "md_escape", "md_row", "md_table", "mpl_escape"]
