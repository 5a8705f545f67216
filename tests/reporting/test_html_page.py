"""The page helpers: PNG only, machine-readable JSON that cannot close its script, escaping."""

from __future__ import annotations

import json
import re

import pytest

from seqrobust.reporting import html


def test_images_must_be_png() -> None:
    with pytest.raises(ValueError, match="is not a PNG"):
        html.image(b"GIF89a", alt="x")
    tag = html.image(b"\x89PNG\r\n\x1a\n" + b"\0" * 8, alt='a "q"')
    assert tag.startswith('<img alt="a &quot;q&quot;" src="data:image/png;base64,')


def test_json_script_cannot_be_closed() -> None:
    data = {"label": "</script><script>alert(1)</script>", "x": float("nan")}
    tag = html.json_script("data", data)
    assert tag.count("</script>") == 1 and "<script>alert" not in tag
    body = re.search(r">(.*)</script>", tag, re.S).group(1)
    assert json.loads(body) == {"label": data["label"], "x": "nan"}


def test_markup_is_not_escaped_twice() -> None:
    cell = html.Markup("<b>1</b>")
    assert html.table(["a <b>"], [[cell, "<i>"]]) == (
        "<table><tr><th>a &lt;b&gt;</th></tr><tr><td><b>1</b></td><td>&lt;i&gt;</td></tr></table>")
    assert html.page("t <x>", "").count("<title>t &lt;x&gt;</title>") == 1
