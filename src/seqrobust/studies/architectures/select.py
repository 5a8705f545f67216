"""The λ rule of the architecture study, on validation accuracy only."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

_SLACK = 1e-9


def choose_lam(plain: float, candidates: Mapping[float, float], *, tolerance: float
               ) -> tuple[float, bool]:
    """The largest λ whose validation accuracy is at least ``plain − tolerance``.

    Args:
        plain: the plain model's validation accuracy (fraction).
        candidates: validation accuracy of each λ (fractions).
        tolerance: accuracy a λ may cost (fraction, e.g. 0.01 = one point).

    Returns:
        ``(λ, within)``: ``within`` is False when every λ costs more than ``tolerance``; the
        smallest λ is returned then (the least harmful one tried).

    Raises:
        ValueError: on no candidates, a non-finite accuracy or a negative tolerance.
    """
    if not candidates:
        raise ValueError("choose_lam needs at least one candidate λ")
    if tolerance < 0 or not math.isfinite(tolerance):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    for acc in (plain, *candidates.values()):
        if not math.isfinite(acc):
            raise ValueError(f"validation accuracies must be finite, got {acc!r}")
    ok = [lam for lam, acc in candidates.items() if acc >= plain - tolerance - _SLACK]
    if ok:
        return max(ok), True
    return min(candidates), False


def scan_lams(plain: float, lams: Iterable[float], validate: Callable[[float], float], *,
              tolerance: float) -> dict[float, float]:
    """The validation accuracies :func:`choose_lam` needs, largest λ first: ``validate(λ)``
    is called down the grid until a λ passes (``acc ≥ plain − tolerance``). The largest
    passing λ is then the first one, so the smaller ones cannot change the choice; with no λ
    passing, every λ is validated.

    Returns:
        ``{λ: accuracy}`` of the λ validated; ``choose_lam(plain, result)`` equals
        ``choose_lam`` over the whole grid.
    """
    found: dict[float, float] = {}
    for lam in sorted(lams, reverse=True):
        found[lam] = validate(lam)
        if choose_lam(plain, {lam: found[lam]}, tolerance=tolerance)[1]:
            break
    return found


__all__ = ["choose_lam", "scan_lams"]
