"""Sanity checks that come with every robustness curve (each ``pass``/``fail``/``n/a``):

1. *robust ≤ clean* at every ε;
2. *non-increasing in ε* (guaranteed by the nested sweep; checks a hand-made curve);
3. *plain model broken at ε = 30*: an undefended model should be near 0 there (≤ 10 %);
4. *no gradient masking*: a black-box attack (Square) must not beat the white-box curve on the
   same inputs by more than the tolerance, else the gradients are misleading.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqrobust.measure.robustness import BROKEN_AT_30, RobustnessCurve


@dataclass(frozen=True)
class Check:
    """One sanity check: ``status`` is ``"pass"``, ``"fail"`` or ``"n/a"``."""

    name: str
    status: str
    detail: str


def sanity_checks(
    curve: RobustnessCurve,
    *,
    plain: bool | None = None,
    blackbox: RobustnessCurve | None = None,
    tolerance: float = 0.01,
) -> list[Check]:
    """The checks reported with every curve (see the module docstring).

    Args:
        curve: a white-box curve.
        plain: whether the model is undefended (``None``: unknown, check 3 is ``n/a``).
        blackbox: a black-box curve on the first inputs of the same data (``None``: ``n/a``).
        tolerance: how much lower (fraction) the black-box accuracy may be before masking is
            flagged.

    Returns:
        Four :class:`Check` records.
    """
    checks = []
    worst = max(a - curve.clean_accuracy for a in curve.accuracy)
    checks.append(Check(
        "robust <= clean", "pass" if worst <= 1e-12 else "fail",
        f"max(robust - clean) = {100 * worst:+.2f} points",
    ))
    acc = curve.accuracy
    rise = max((b - a for a, b in zip(acc[:-1], acc[1:], strict=True)), default=0.0)
    checks.append(Check(
        "non-increasing in eps", "pass" if rise <= 1e-12 else "fail",
        f"largest change between consecutive eps {100 * rise:+.2f} points",
    ))
    top = [(e, a) for e, a in zip(curve.eps, curve.accuracy, strict=True) if e >= 30 - 1e-9]
    if plain is None or not plain or not top:
        why = "model is regularised" if plain is False else (
            "no eps >= 30 on the curve" if plain else "unknown whether the model is plain")
        checks.append(Check("plain model near 0 at eps=30", "n/a", why))
    else:
        e, a = top[0]
        checks.append(Check(
            "plain model near 0 at eps=30", "pass" if a <= BROKEN_AT_30 else "fail",
            f"{100 * a:.2f} % at eps={e:g} (threshold {100 * BROKEN_AT_30:.0f} %)",
        ))
    if blackbox is None:
        checks.append(Check("no gradient masking (black-box >= white-box)", "n/a",
                            "no black-box curve"))
    else:
        white = curve.head(blackbox.n) if curve.n != blackbox.n else curve
        gaps = []
        for e, a in zip(blackbox.eps, blackbox.accuracy, strict=True):
            if any(abs(e - w) < 1e-9 for w in white.eps):
                gaps.append((white.at(e) - a, e))
        if not gaps:
            checks.append(Check("no gradient masking (black-box >= white-box)", "n/a",
                                "no common eps"))
        else:
            gap, e = max(gaps)
            status = "fail" if gap > tolerance else "pass"
            checks.append(Check(
                "no gradient masking (black-box >= white-box)", status,
                f"largest accuracy gap {curve.settings.attack} - {blackbox.settings.attack} "
                f"{100 * gap:+.2f} points at eps={e:g} (n={blackbox.n}; flagged above "
                f"+{100 * tolerance:.1f})",
            ))
    return checks


__all__ = ["Check", "sanity_checks"]
