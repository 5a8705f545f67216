"""A self-contained HTML page: inline CSS, images embedded as base64, no network access."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{border-bottom:2px solid #444}h2{margin-top:2.2rem;border-bottom:1px solid #bbb}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.25rem .55rem;text-align:right}th{background:#f2f2f2}
td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd;margin:.4rem 0}
.missing{background:#fff6e0;border-left:4px solid #e0a800;padding:.5rem .8rem}
.gallery{display:flex;flex-wrap:wrap;gap:.6rem}.gallery figure{margin:0;width:48%}
figcaption{font-size:.85rem;color:#555}code{background:#f4f4f4;padding:0 .2rem}
"""
_CHECK_IMAGES = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-ok', ok ? 'yes' : 'no');
});
</script>"""


def esc(text: object) -> str:
    """HTML-escaped ``str(text)``."""
    return html.escape(str(text))


def image(path_or_png: Path | bytes, *, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as base64."""
    data = path_or_png if isinstance(path_or_png, bytes) else path_or_png.read_bytes()
    encoded = base64.b64encode(data).decode()
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{encoded}">'


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A small HTML table; floats shown with 4 significant digits."""

    def cell(value: object) -> str:
        return esc(f"{value:.4g}" if isinstance(value, float) else value)

    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def missing(what: str, command: str) -> str:
    """A notice that a section has no data, and the command that produces it."""
    return f'<p class="missing">{esc(what)} Produce it with <code>{esc(command)}</code>.</p>'


def page(title: str, body: str) -> str:
    """The whole document."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style>{_CHECK_IMAGES}</head>"
        f"<body><h1>{esc(title)}</h1>{body}</body></html>"
    )
