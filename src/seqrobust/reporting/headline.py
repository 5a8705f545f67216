"""The numbers a reader wants first, as plain records, and their HTML: the headline block of one
model and the comparison table of several. Every figure carries its unit and n; every element
carries its raw value in ``data-*`` attributes for machines."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from seqrobust.reporting.html import Markup, esc

ATTACK_NAMES = {
    "pgd": "PGD (L∞)", "pgd-l2": "PGD (L2)", "fgsm": "FGSM", "apgd-ce": "APGD-CE",
    "apgd-dlr": "APGD-DLR", "square": "Square (black-box)",
}
REGULARISER_NAMES = {
    "none": "none (plain training)", "hessian": "Hessian penalty", "jacobian": "Jacobian penalty",
    "cure": "CURE", "pgd-at": "PGD adversarial training",
}


def attack_name(attack: str) -> str:
    """The attack's name in words (``"square"`` → ``"Square (black-box)"``)."""
    return ATTACK_NAMES.get(attack, attack)


def regulariser_name(reg: str) -> str:
    """The regulariser's name in words."""
    return REGULARISER_NAMES.get(reg, reg)


def unit_name(unit: str) -> str:
    """A perturbation unit as a reader says it (``"pixel (0-255)"`` → ``"pixels (0–255)"``)."""
    return "pixels (0–255)" if unit.startswith("pixel") else unit


def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage, or a dash."""
    return "–" if x is None or math.isnan(x) else f"{100 * x:.{digits}f} %"


def num(x: float | None) -> str:
    """A number with 3 significant digits, or a dash."""
    return "–" if x is None or math.isnan(x) else f"{x:.3g}"


def seconds(s: float | None) -> str:
    """A duration in words."""
    if s is None:
        return "–"
    return f"{s:.1f} s" if s < 120 else (f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h")


def in_other_unit(value: float, unit: str) -> str:
    """``value`` also in the unit a scaled unit names: ``"model units (= 255 x pixel (0-255))"``
    gives ``" = 90 pixels (0–255)"`` for 0.353; empty when the unit names no scale."""
    m = re.fullmatch(r"model units \(= ([0-9.eE+-]+) x (.+)\)", unit)
    if not m:
        return ""
    return f" = {value * float(m.group(1)):.3g} {unit_name(m.group(2))}"


def short_unit(unit: str) -> str:
    """A distance unit without its conversion note (``"model units (= ...)"`` → ``"model
    units"``)."""
    return unit.split(" (=", 1)[0]


@dataclass(frozen=True)
class RobustAt:
    """Robust accuracy at one radius (fractions; ``None``: not measured there)."""

    eps: float
    pgd: float | None
    pgd_n: int | None
    pgd_name: str
    worst: float | None
    worst_n: int | None
    attacks: tuple[str, ...]


@dataclass(frozen=True)
class Headline:
    """One model's headline numbers (``None``: not measured)."""

    clean: float | None = None
    clean_n: int | None = None
    clean_where: str = "test inputs"
    eps_unit: str = ""
    robust: tuple[RobustAt, ...] = ()
    distance: tuple[float, float, float] | None = None
    distance_unit: str = ""
    distance_n: int = 0
    bracket: float | None = None
    lower_ok: float | None = None
    bracket_n: int = 0
    curvature: float | None = None
    curvature_n: int = 0
    regulariser: str | None = None
    lam: float | None = None
    cost_seconds: float | None = None
    cost_detail: str = ""


def _item(key: str, title: str, shown: str, sub: str, **data: object) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{esc(v)}"' for k, v in data.items()
                    if v is not None)
    return (f'<div data-key="{key}"{attrs}><dt>{esc(title)}</dt><dd>{shown}'
            f'<div class="sub">{esc(sub)}</div></dd></div>')


def _robust_item(r: RobustAt, unit: str) -> str:
    main = (f"<b>{esc(pct(r.pgd))}</b> {esc(r.pgd_name)} <small>n={r.pgd_n}</small>"
            if r.pgd is not None else "<b>–</b>")
    if r.worst is not None:
        main += f" · <b>{esc(pct(r.worst))}</b> worst case <small>n={r.worst_n}</small>"
    subs = []
    if r.worst is not None:
        subs.append(f"worst case: an input counts only if none of {', '.join(r.attacks)} "
                    "fooled it")
    elif r.pgd is not None:
        subs.append("no worst case over attacks at this radius")
    return _item("robust", f"robust accuracy at ε = {r.eps:g} {unit_name(unit)}", main,
                 "; ".join(subs) or "not measured at this radius", eps=r.eps, pgd=r.pgd,
                 worst=r.worst, pgd_n=r.pgd_n, worst_n=r.worst_n)


def headline_html(h: Headline) -> Markup:
    """The headline block: clean and robust accuracy, distances, bounds, curvature, training."""
    items = [_item("clean", "clean accuracy", f"<b>{esc(pct(h.clean, 2))}</b>",
                   ("not measured" if h.clean is None else f"n={h.clean_n} {h.clean_where}"
                    if h.clean_n is not None else h.clean_where),
                   value=h.clean, n=h.clean_n)]
    items += [_robust_item(r, h.eps_unit) for r in h.robust]
    if not h.robust:
        items.append(_item("robust", "robust accuracy", "<b>–</b>", "no attack ran"))
    if h.distance is not None:
        q25, q50, q75 = h.distance
        items.append(_item(
            "distance", "median minimal L2 distance to the boundary",
            f"<b>{esc(num(q50))}</b> {esc(short_unit(h.distance_unit))}",
            f"quartiles {num(q25)}–{num(q75)}{in_other_unit(q50, h.distance_unit)}; "
            f"n={h.distance_n} inputs (DeepFool + FMN)", value=q50, q25=q25, q75=q75,
            n=h.distance_n))
        items.append(_item(
            "bracket", "Theorem-1 bounds",
            f"bracket the measured distance for <b>{esc(pct(h.bracket))}</b> of inputs "
            f"(lower ≤ measured: {esc(pct(h.lower_ok))})", f"n={h.bracket_n} attacked inputs",
            value=h.bracket, lower=h.lower_ok, n=h.bracket_n))
        items.append(_item(
            "curvature", "median top curvature λ_max(∇²(−F))",
            f"<b>{esc(num(h.curvature))}</b>",
            f"logit per ({short_unit(h.distance_unit)})²; n={h.curvature_n} inputs",
            value=h.curvature, n=h.curvature_n))
    else:
        items.append(_item("distance", "minimal L2 distance and Theorem-1 bounds", "<b>–</b>",
                           "not measured (no geometry analysis)"))
    reg = "–" if h.regulariser is None else h.regulariser
    lam = "" if h.lam is None or h.regulariser == regulariser_name("none") else f", λ = {h.lam:g}"
    items.append(_item("training", "regulariser and training cost",
                       f"<b>{esc(reg)}</b>{esc(lam)}",
                       "training time not recorded" if h.cost_seconds is None else
                       f"{seconds(h.cost_seconds)} of training{h.cost_detail}",
                       regulariser=h.regulariser, lam=h.lam, seconds=h.cost_seconds))
    return Markup(f'<dl class="headline">{"".join(items)}</dl>')


def comparison_html(
    rows: Sequence[tuple[str, Headline, Markup]], radii: Sequence[float]
) -> Markup:
    """One row per model: the headline numbers at the common ``radii`` and the checks' tally."""
    units = {h.eps_unit for _, h, _ in rows if h.eps_unit}
    unit = unit_name(units.pop()) if len(units) == 1 else ""
    head = ["model", "clean accuracy"]
    for e in radii:
        head += [f"PGD, ε = {e:g}", f"worst case, ε = {e:g}"]
    if not radii:
        head.append("robust accuracy, PGD / worst case (each model's own radii)")
    head += ["median minimal distance", "bounds bracket (lower ≤ measured)",
             "median top curvature", "regulariser", "training time", "sanity checks"]
    body = []
    for label, h, checks in rows:
        at = {r.eps: r for r in h.robust}
        n = "" if h.clean_n is None else f" <small>n={h.clean_n}</small>"
        cells = [esc(label), f"{esc(pct(h.clean, 2))}{n}"]
        for e in radii:
            r = at.get(e)
            cells.append("–" if r is None or r.pgd is None else
                         f"{esc(pct(r.pgd))} <small>n={r.pgd_n}</small>")
            cells.append("–" if r is None or r.worst is None else
                         f"{esc(pct(r.worst))} <small>n={r.worst_n}</small>")
        if not radii:
            cells.append("<br>".join(
                f"ε = {r.eps:g} {esc(unit_name(h.eps_unit))}: {esc(pct(r.pgd))} / "
                f"{esc(pct(r.worst))}" for r in h.robust) or "–")
        dist = "–" if h.distance is None else (
            f"{esc(num(h.distance[1]))} {esc(short_unit(h.distance_unit))} "
            f"<small>n={h.distance_n}</small>")
        cells += [dist, f"{esc(pct(h.bracket))} ({esc(pct(h.lower_ok))})",
                  esc(num(h.curvature)),
                  esc("–" if h.regulariser is None else h.regulariser)
                  + ("" if h.lam is None or not h.lam else f" λ = {h.lam:g}"),
                  esc(seconds(h.cost_seconds)), checks]
        body.append(f'<tr data-model="{esc(label)}">'
                    + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    note = (f'<p class="note">Robust accuracy at ε in {esc(unit)}; worst case: an input counts '
            "only if no attack fooled it; n: inputs.</p>" if radii and unit else "")
    return Markup(f'{note}<div class="scroll"><table class="comparison"><tr>{header}</tr>'
                  f'{"".join(body)}</table></div>')


__all__ = [
    "ATTACK_NAMES", "REGULARISER_NAMES", "Headline", "RobustAt", "attack_name",
    "comparison_html", "headline_html", "in_other_unit", "num", "pct", "regulariser_name",
    "seconds", "short_unit", "unit_name",
]
