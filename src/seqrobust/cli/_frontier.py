"""``seqrobust reproduce frontier``: the clean-accuracy vs robustness frontier study (issue 10)."""

from __future__ import annotations

from typing import Any

import typer

from seqrobust.cli._study import register_study, study_command


def _load() -> tuple[Any, Any]:
    from seqrobust.studies.frontier import FrontierConfig, run_frontier

    return FrontierConfig, run_frontier


frontier_cmd = study_command(
    "frontier", load=_load, quick_help="Small version (~7 CPU-minutes).", headline="## All points",
    doc="""Train every mode over its λ grid and seeds, attack each model and judge the frontier.

    Resumes: models with a record in RECORDS are never retrained; finished trainings and
    evaluations in OUT are reused, a killed training resumes from its checkpoint.
    """)


def register(app: typer.Typer) -> None:
    """Attach ``reproduce frontier`` to ``app``."""
    register_study(app, "frontier", frontier_cmd)
