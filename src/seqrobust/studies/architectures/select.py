"""The λ rule of the architecture study, on validation accuracy only."""

from __future__ import annotations

import math
from collections.abc import Mapping

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


__all__ = ["choose_lam"]
