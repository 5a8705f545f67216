"""The clean-accuracy vs robustness frontier study (``seqrobust reproduce frontier``)."""

from seqrobust.studies.frontier.config import FrontierConfig as FrontierConfig
from seqrobust.studies.frontier.config import Method as Method
from seqrobust.studies.frontier.config import run_name as run_name
from seqrobust.studies.frontier.runner import run_frontier as run_frontier

__all__ = ["FrontierConfig", "Method", "run_frontier", "run_name"]
