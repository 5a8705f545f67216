"""``seqrobust noise`` on a run folder or a foreign model: the noise study of
:mod:`seqrobust.measure.noise` on its test inputs, written as JSON/CSV/PNG (inside the output
folder, never through a symlink), with its provenance, and ``--shard`` records."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from seqrobust._safeio import write_text_atomic
from seqrobust.measure.noise import InputRecord, NoiseConfig
from seqrobust.measure.noise_bound import run_noise
from seqrobust.measure.noise_summary import summarise
from seqrobust.reporting.text import mpl_escape
from seqrobust.runs.load import ModelSource, as_source, load_source, require_inputs
from seqrobust.runs.outputs import check_targets, save_figure, write_json
from seqrobust.runs.shards import WHOLE, Shard, shard_file, shard_indices, write_shard

NOISE_FILES = ("noise.json", "noise.csv", "noise.png")

_PER_RADIUS = (
    "p_unclipped", "p_clipped", "p_quadratic", "bound_imhof", "bound_chernoff", "changed",
    "changed_q_positive", "changed_to_runner_up", "q_nonpositive", "q_nonpositive_unchanged",
)
_PER_INPUT = (
    "index", "label", "pred", "runner_up", "t", "jnorm", "lam_min", "lam_max", "mean_curvature",
    "r_linear", "r_lower", "r_star",
)


def write_noise(
    records: list[InputRecord], summary: dict[str, Any], cfg: NoiseConfig, out: Path, *,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write ``noise.json`` (config, summary, every record and the ``extra`` entries, e.g.
    provenance), ``noise.csv`` (one row per input and radius) and ``noise.png`` to ``out``."""
    from seqrobust.reporting.plots_noise import plot_noise

    check_targets(out, *NOISE_FILES)
    out.mkdir(parents=True, exist_ok=True)
    record = {"config": asdict(cfg), "summary": summary, "inputs": [asdict(r) for r in records],
              **(extra or {})}
    write_json(out, "noise.json", record)
    rho = sorted(cfg.radii)
    lines = [",".join(("rho", *_PER_INPUT, *_PER_RADIUS))]
    for r in records:
        fixed = [repr(getattr(r, k)) for k in _PER_INPUT]
        for i, rp in enumerate(rho):
            values = (repr(getattr(r, k)[i]) for k in _PER_RADIUS)
            lines.append(",".join([repr(rp), *fixed, *values]))
    write_text_atomic(out, "noise.csv", "\n".join(lines) + "\n")
    shown = {**summary, "run": mpl_escape(summary.get("run", ""))}
    save_figure(out, "noise.png", lambda path: plot_noise(shown, path))


def noise_experiment(
    run_dir: Path | ModelSource,
    cfg: NoiseConfig,
    out: Path,
    *,
    split: str = "test",
    progress: bool = False,
    shard: Shard = WHOLE,
    dataset: str | None = None,
    require_n: bool = False,
) -> dict[str, Any]:
    """Load the trained run (or a foreign model: a :class:`~seqrobust.runs.load.ModelSource`),
    measure the first ``cfg.n_inputs`` inputs of
    ``split`` and write the outputs to ``out``; returns the summary. The radius unit, its
    scale and the clipping range come from the data (``eps_scale``, ``eps_unit``,
    ``bounds``); ``dataset`` overrides the run's own (same features and classes). The default radii
    (:data:`~seqrobust.measure.noise.DEFAULT_RHO_PIXELS`) are fixed in model units (1 to
    257), so for other units they are rescaled. Variable-length inputs are trimmed to their
    real steps (``d = length · features``).

    With a ``shard`` other than the whole job, only the inputs ``i ≡ shard.index (mod
    shard.count)`` are measured and their records go to ``out/noise.shard-I-of-N.json``;
    ``seqrobust merge noise OUT`` then writes what one process would have (returns
    ``{"shard", "inputs", "file"}`` instead of the summary).

    With ``require_n`` (``seqrobust noise --n N``), data with fewer than ``cfg.n_inputs``
    inputs is an error; otherwise all of them are measured. The provenance (weights and data
    SHA-256) goes into ``noise.json`` and the shard records.

    Raises:
        ValueError: one line, if the run folder holds no trained model, on a bad foreign model
            or data, an unknown split, too few inputs (``require_n``) or a symlink (or a path
            outside ``out``) at an output name.
    """
    source = as_source(run_dir, dataset=dataset)
    out = Path(out)
    check_targets(out, *(NOISE_FILES if shard.whole else
                         (shard_file(out, "noise", shard).name,)))
    loaded = load_source(source, split=split, limit=cfg.n_inputs)
    if require_n:
        require_inputs(loaded.data, cfg.n_inputs)
    model, data = loaded.model, loaded.data
    cfg = cfg.for_data(data)
    if not shard.whole:
        chosen = shard_indices(len(data), shard).tolist()
        records = run_noise(
            model, data.inputs, data.labels, cfg, progress=progress, indices=chosen,
            lengths=data.lengths,
        )
        config = {"run": source.name, **asdict(cfg), "split": split, "dataset": source.dataset,
                  "total": len(data), **loaded.record}
        path = write_shard(
            out, "noise", shard, config={**config, "block": 1}, indices=chosen,
            payload={"records": [asdict(r) for r in records]},
        )
        return {"shard": str(shard), "inputs": len(chosen), "file": str(path)}
    records = run_noise(
        model, data.inputs, data.labels, cfg, progress=progress, lengths=data.lengths
    )
    summary = summarise(records, cfg, run=source.name)
    write_noise(records, summary, cfg, out, extra=loaded.record)
    return summary
