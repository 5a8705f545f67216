"""Studies that combine models, data, bounds and attacks into tables and figures."""

from seqrobust.experiments.analyze import AnalyzeConfig as AnalyzeConfig
from seqrobust.experiments.analyze import bound_columns as bound_columns
from seqrobust.experiments.analyze import run_analyze as run_analyze
from seqrobust.experiments.figure5 import Figure5Config as Figure5Config
from seqrobust.experiments.figure5 import run_figure5 as run_figure5
from seqrobust.experiments.figure5 import write_figure5 as write_figure5
from seqrobust.experiments.figure7 import Figure7Config as Figure7Config
from seqrobust.experiments.figure7 import run_figure7 as run_figure7
from seqrobust.experiments.noise import NoiseConfig as NoiseConfig
from seqrobust.experiments.noise import run_noise as run_noise
from seqrobust.experiments.robustness import AttackSettings as AttackSettings
from seqrobust.experiments.robustness import RobustnessCurve as RobustnessCurve
from seqrobust.experiments.robustness import robustness_curve as robustness_curve
from seqrobust.experiments.robustness import sanity_checks as sanity_checks

__all__ = [
    # Theorem 1 analysis
    "AnalyzeConfig",
    "bound_columns",
    "run_analyze",
    # random noise (Theorem B)
    "Figure5Config",
    "NoiseConfig",
    "run_figure5",
    "run_noise",
    "write_figure5",
    # robustness curves (attacks)
    "AttackSettings",
    "Figure7Config",
    "RobustnessCurve",
    "robustness_curve",
    "run_figure7",
    "sanity_checks",
]
