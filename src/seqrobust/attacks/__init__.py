"""Adversarial attacks on sequence classifiers.

Fixed-ε attacks (``FixedEpsilonAttack``: PGD, FGSM and the torchattacks-backed APGD/Square),
the nested ε-sweep engine that turns any of them into a robustness curve, and minimal-norm
attacks (DeepFool, FMN).
"""

from seqrobust.attacks._minimal import MinimalNormResult as MinimalNormResult
from seqrobust.attacks._minimal import boundary_search as boundary_search
from seqrobust.attacks.base import AttackResult as AttackResult
from seqrobust.attacks.base import Bounds as Bounds
from seqrobust.attacks.base import FixedEpsilonAttack as FixedEpsilonAttack
from seqrobust.attacks.base import RowSeeds as RowSeeds
from seqrobust.attacks.deepfool import deepfool as deepfool
from seqrobust.attacks.minimal_norm import MinimalL2Result as MinimalL2Result
from seqrobust.attacks.minimal_norm import fmn_l2 as fmn_l2
from seqrobust.attacks.minimal_norm import minimal_l2 as minimal_l2
from seqrobust.attacks.pgd import FGSM as FGSM
from seqrobust.attacks.pgd import L2PGD as L2PGD
from seqrobust.attacks.pgd import LinfPGD as LinfPGD
from seqrobust.attacks.pgd import pgd_linf as pgd_linf
from seqrobust.attacks.reliable import APGD as APGD
from seqrobust.attacks.reliable import MissingDependencyError as MissingDependencyError
from seqrobust.attacks.reliable import Square as Square
from seqrobust.attacks.sweep import SweepResult as SweepResult
from seqrobust.attacks.sweep import sweep as sweep

PGD = LinfPGD

__all__ = [
    # minimal-norm attacks
    "MinimalL2Result",
    "MinimalNormResult",
    "boundary_search",
    "deepfool",
    "fmn_l2",
    "minimal_l2",
    # fixed-ε attacks
    "APGD",
    "FGSM",
    "L2PGD",
    "LinfPGD",
    "PGD",
    "Square",
    "pgd_linf",
    # template and results
    "AttackResult",
    "Bounds",
    "FixedEpsilonAttack",
    "RowSeeds",
    "MissingDependencyError",
    "SweepResult",
    "sweep",
]
