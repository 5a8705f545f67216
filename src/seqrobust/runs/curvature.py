"""``seqrobust curvature`` on a run folder or a foreign model: R(x) over its test inputs, as
JSON with its settings and provenance (written atomically, never through a symlink)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqrobust.measure.curvature import curvature
from seqrobust.runs.load import ModelSource, as_source, load_source, require_inputs
from seqrobust.runs.outputs import check_targets, write_json
from seqrobust.training.loop import accuracy
from seqrobust.training.run import resolve_device

DEFAULT_N = 1000
"""Test inputs measured when ``n`` is not given (all of them if the data has fewer)."""


def curvature_run(
    run: Path | ModelSource, *, n: int | None = None, probes: int = 8, exact: bool = False,
    batch_size: int = 100, seed: int = 0, device: str = "auto", out: Path | None = None,
    progress: bool = True, dataset: str | None = None,
) -> dict[str, Any]:
    """Mean, standard error and median of R(x) over the first ``n`` test inputs of the run
    (or of a foreign model: a :class:`~seqrobust.runs.load.ModelSource`), and its clean
    accuracy on them (:func:`~seqrobust.measure.curvature.curvature`), with the provenance
    (weights and data SHA-256) and settings; also written to the file ``out`` when given.
    ``n`` ``None``: the first :data:`DEFAULT_N`, or all if fewer. ``dataset`` overrides a run
    folder's own.

    Raises:
        ValueError: one line, on non-positive options, ``n`` beyond the data, a missing run, a
            bad foreign model or data, or a symlink at ``out``.
    """
    if (n is not None and n <= 0) or probes <= 0 or batch_size <= 0:
        raise ValueError("n, probes and batch-size must be positive")
    source = as_source(run, dataset=dataset)
    if out is not None:
        check_targets(out.parent, out.name)
    dev = resolve_device(device)
    loaded = load_source(source, split="test", limit=DEFAULT_N if n is None else n, device=dev)
    if n is not None:
        require_inputs(loaded.data, n)
    model, data = loaded.model, loaded.data
    c = curvature(model, data, probes=probes, exact=exact, batch_size=batch_size, seed=seed,
                  progress=progress)
    s = c.summary()
    result = {"run": source.name, "n": c.n, "method": c.method,
              "accuracy": accuracy(model, data, device=dev), "mean_R": s["mean_R"],
              "se_R": s["se_R"], "median_R": s["median_R"]}
    settings = {"n": len(data), "probes": probes, "exact": exact, "batch_size": batch_size,
                "seed": seed, "dataset": dataset}
    result["provenance"] = {**loaded.provenance, "settings": settings}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(out.parent, out.name, result, indent=None)
    return result


__all__ = ["curvature_run"]
