"""``seqrobust reproduce architectures``: which sequence architecture is most robust, and does
curvature explain it (issue 16)?"""

from __future__ import annotations

from typing import Any

import typer

from seqrobust.cli._study import register_study, study_command


def _load() -> tuple[Any, Any]:
    from seqrobust.studies.architectures import ArchitecturesConfig, run_architectures

    return ArchitecturesConfig, run_architectures


architectures_cmd = study_command(
    "architectures", load=_load, headline="\n## Most robust",
    quick_help="Two small sets, three architectures, one seed (~14 CPU-minutes).",
    doc="""Train every architecture × defence on MNIST rows and real series (λ chosen on a
    validation split), attack each model, set it beside the published UCR benchmark and judge
    whether curvature explains robustness.

    Resumes: models with a record in RECORDS are never retrained; finished trainings and
    evaluations in OUT are reused, a killed training resumes from its checkpoint. Every
    (dataset, architecture) pair's selection and first seed run (one task per pair) before
    any further seed (one task per model); --shard splits the pairs.
    """)


def register(app: typer.Typer) -> None:
    """Attach ``reproduce architectures`` to ``app``."""
    register_study(app, "architectures", architectures_cmd)
