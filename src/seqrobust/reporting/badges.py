"""Trust badges: each sanity check of a model's measurements as ``pass``/``fail``/``n/a`` with a
one-line reason, and the alert that puts a failed check at the top of its section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from seqrobust.reporting.html import Markup, esc

Status = Literal["pass", "fail", "n/a"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "n/a")


@dataclass(frozen=True)
class Badge:
    """One check as the reader sees it.

    Attributes:
        label: what is checked, in words ("robust accuracy ≤ clean accuracy").
        status: ``"pass"``, ``"fail"`` or ``"n/a"`` (not applicable, or nothing to check on).
        reason: one line: the number behind the status, or why it does not apply.
    """

    label: str
    status: Status
    reason: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown badge status {self.status!r}; choose pass, fail or n/a")


def _css(status: Status) -> str:
    return "badge-na" if status == "n/a" else f"badge-{status}"


def badges_html(badges: Sequence[Badge]) -> Markup:
    """The badges as a list, failures first (each ``data-status`` for machines)."""
    order = sorted(badges, key=lambda b: STATUSES.index(b.status) if b.status != "fail" else -1)
    items = "".join(
        f'<li class="{_css(b.status)}" data-check="{esc(b.label)}" data-status="{b.status}">'
        f'<span class="status">{esc(b.status)}</span>{esc(b.label)}'
        f'<span class="why">{esc(b.reason)}</span></li>'
        for b in order
    )
    return Markup(f'<ul class="badges">{items}</ul>')


def alert_html(badges: Sequence[Badge]) -> Markup:
    """A red banner naming every failed check (empty when none failed)."""
    failed = [b for b in badges if b.status == "fail"]
    if not failed:
        return Markup("")
    lines = "".join(f"<li><b>{esc(b.label)}</b>: {esc(b.reason)}</li>" for b in failed)
    word = "check" if len(failed) == 1 else "checks"
    return Markup(f'<div class="alert" role="alert"><b>{len(failed)} sanity {word} failed'
                  f"</b> — read the numbers below with care.<ul>{lines}</ul></div>")


def tally(badges: Sequence[Badge]) -> Markup:
    """A short count for a comparison table cell, failures named."""
    failed = [b.label for b in badges if b.status == "fail"]
    passed = sum(b.status == "pass" for b in badges)
    text = f"{passed} pass"
    if failed:
        return Markup(f'<span class="badge-fail" data-failed="{len(failed)}">{esc(text)}, '
                      f'{len(failed)} fail: {esc("; ".join(failed))}</span>')
    return Markup(f'<span data-failed="0">{esc(text)}, 0 fail</span>')


__all__ = ["STATUSES", "Badge", "Status", "alert_html", "badges_html", "tally"]
