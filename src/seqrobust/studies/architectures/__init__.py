"""Which sequence architecture is most robust, and does curvature explain it
(``seqrobust reproduce architectures``)?"""

from seqrobust.studies.architectures.config import ArchitecturesConfig as ArchitecturesConfig
from seqrobust.studies.architectures.config import DataPlan as DataPlan
from seqrobust.studies.architectures.runner import run_architectures as run_architectures

__all__ = ["ArchitecturesConfig", "DataPlan", "run_architectures"]
