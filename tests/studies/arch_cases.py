"""Shared fixtures of the architecture study's tests: one :class:`ArchRow` with defaults."""

from __future__ import annotations

import math

from seqrobust.studies.architectures.evaluate import ArchRow


def arch_row(**kw: object) -> ArchRow:
    """A GunPoint gru plain row; ``kw`` overrides any field."""
    base = dict(dataset="GunPoint", arch="gru", mode="plain", lam=0.0, seed=0, clean=0.9,
                fgsm=0.5, bim=0.3, pgd=((0.05, 0.6), (0.1, 0.25)), worst=0.2, n_attack=150,
                v=(0.1, 0.2, 0.3), r=(1.0, 2.0, math.nan), j=(0.5, 0.6, 0.7), bracket=0.8,
                rho_inputs=-0.4,
                n_analyze=50, val=0.9, val_plain=0.9, train_seconds=12.0, eval_seconds=3.0)
    base.update(kw)
    return ArchRow(**base)  # type: ignore[arg-type]
