"""A self-contained HTML page: inline CSS, images embedded as base64, no network access.

Every piece of free text goes through :func:`esc`; a table cell that is already HTML (a badge)
is wrapped in :class:`Markup` by the code that built it.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2rem auto;
max-width:1180px;color:#222;line-height:1.45;padding:0 1rem}
h1{border-bottom:2px solid #444;font-size:1.6rem;margin-bottom:.4rem}
h2{margin-top:2.4rem;border-bottom:1px solid #bbb}h3{margin:1.4rem 0 .4rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
td,th{border:1px solid #ccc;padding:.25rem .55rem;text-align:right;vertical-align:top}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd;margin:.3rem 0}
.missing{background:#fff6e0;border-left:4px solid #e0a800;padding:.5rem .8rem}
.note{color:#555;font-size:.88rem}
.gallery{display:flex;flex-wrap:wrap;gap:.6rem}.gallery figure{margin:0;width:100%}
.pictures{display:grid;grid-template-columns:1fr 1fr;gap:.8rem}
.pictures figure{margin:0}.pictures figure.wide{grid-column:1 / -1}
figcaption{font-size:.85rem;color:#555}code{background:#f4f4f4;padding:0 .2rem}
.headline{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:.5rem;
margin:.6rem 0}
.headline>div{border:1px solid #d5d9e0;border-radius:6px;padding:.45rem .7rem;background:#f8fafc}
.headline dt{font-size:.8rem;color:#555}.headline dd{margin:0;font-size:1.05rem}
.headline dd b{font-size:1.25rem}.headline .sub{font-size:.8rem;color:#666}
.badges{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0;padding:0;list-style:none}
.badges li{border-radius:6px;padding:.3rem .6rem;font-size:.84rem;max-width:360px;
border:1px solid}
.badge-pass{background:#e9f7ee;border-color:#7cc59a !important}
.badge-fail{background:#fdecec;border-color:#e06666 !important}
.badge-na{background:#f3f3f3;border-color:#bbb !important;color:#555}
.badges .why{display:block;font-size:.78rem;color:#444}
.alert{background:#fdecec;border-left:5px solid #c62828;padding:.5rem .8rem;margin:.5rem 0}
.status{font-weight:600;text-transform:uppercase;font-size:.75rem;margin-right:.3rem}
details{margin:.5rem 0}summary{cursor:pointer;color:#234}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto;font-size:.78rem;max-height:28rem}
.chips code{display:inline-block;margin:.1rem}
table.comparison td,table.comparison th{text-align:left}table.comparison small{color:#666}
table.comparison td:last-child{min-width:12rem}.scroll{overflow-x:auto}
table.comparison{font-size:.84rem}
"""
_CHECK_IMAGES = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-ok', ok ? 'yes' : 'no');
});
</script>"""


class Markup(str):
    """Text that is already HTML (built by this module's helpers): never escaped again."""


def esc(text: object) -> str:
    """HTML-escaped ``str(text)`` (quotes included); :class:`Markup` passes unchanged."""
    return text if isinstance(text, Markup) else html.escape(str(text))


def image(png: bytes, *, alt: str) -> Markup:
    """An ``<img>`` with the PNG bytes embedded as base64.

    Raises:
        ValueError: if ``png`` is not PNG data.
    """
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"image {alt!r} is not a PNG")
    encoded = base64.b64encode(png).decode()
    return Markup(f'<img alt="{esc(alt)}" src="data:image/png;base64,{encoded}">')


def figure(png: bytes, *, caption: str, wide: bool = False) -> Markup:
    """An embedded image with its caption (``wide``: spans both picture columns)."""
    cls = ' class="wide"' if wide else ""
    return Markup(f"<figure{cls}>{image(png, alt=caption)}<figcaption>{esc(caption)}"
                  "</figcaption></figure>")


def cell(value: object) -> str:
    """One table cell's HTML: floats with 4 significant digits, ``None`` as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return esc(f"{value:.4g}" if isinstance(value, float) else value)


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "") -> Markup:
    """A small HTML table (see :func:`cell`)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    attr = f' class="{esc(cls)}"' if cls else ""
    return Markup(f"<table{attr}><tr>{head}</tr>{body}</table>")


def missing(what: str, command: str) -> Markup:
    """A notice that a section has no data, and the command that produces it."""
    return Markup(f'<p class="missing">{esc(what)} Produce it with <code>{esc(command)}</code>.'
                  "</p>")


def note(text: str) -> Markup:
    """A short grey remark."""
    return Markup(f'<p class="note">{esc(text)}</p>')


def json_text(data: Any) -> str:
    """``data`` as indented JSON (NaN and infinities as strings, never invalid JSON)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(data), indent=1, default=str)


def details(title: str, inner: str) -> Markup:
    """A collapsed block the reader can open."""
    return Markup(f"<details><summary>{esc(title)}</summary>{inner}</details>")


def json_block(title: str, data: Any) -> Markup:
    """A collapsed block with ``data`` as escaped JSON."""
    return details(title, f"<pre>{esc(json_text(data))}</pre>")


def json_script(element_id: str, data: Any) -> Markup:
    """``data`` as a machine-readable ``<script type="application/json">`` (no ``<`` inside,
    so it can never close the script)."""
    text = json_text(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&",
                                                                                    "\\u0026")
    return Markup(f'<script type="application/json" id="{esc(element_id)}">{text}</script>')


def page(title: str, body: str) -> str:
    """The whole document."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style>{_CHECK_IMAGES}</head>"
        f"<body><h1>{esc(title)}</h1>{body}</body></html>"
    )


__all__ = ["Markup", "cell", "details", "esc", "figure", "image", "json_block", "json_script",
           "json_text", "missing", "note", "page", "table"]
