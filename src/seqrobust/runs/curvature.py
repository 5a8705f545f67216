"""``seqrobust curvature`` on a run folder or a foreign model: R(x) over its test inputs, as
JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqrobust.measure.curvature import curvature
from seqrobust.runs.load import ModelSource, as_source, load_source
from seqrobust.training.loop import accuracy
from seqrobust.training.run import resolve_device


def curvature_run(
    run: Path | ModelSource, *, n: int = 1000, probes: int = 8, exact: bool = False,
    batch_size: int = 100, seed: int = 0, device: str = "auto", out: Path | None = None,
    progress: bool = True, dataset: str | None = None,
) -> dict[str, Any]:
    """Mean, standard error and median of R(x) over the first ``n`` test inputs of the run
    (or of a foreign model: a :class:`~seqrobust.runs.load.ModelSource`, its provenance then
    in the result), and its clean accuracy on them
    (:func:`~seqrobust.measure.curvature.curvature`); also written to ``out`` when given.
    ``dataset`` overrides a run folder's own.

    Raises:
        ValueError: on non-positive options, a missing run or a bad foreign model or data.
    """
    if n <= 0 or probes <= 0 or batch_size <= 0:
        raise ValueError("n, probes and batch-size must be positive")
    source = as_source(run, dataset=dataset)
    dev = resolve_device(device)
    loaded = load_source(source, split="test", limit=n, device=dev)
    model, data = loaded.model, loaded.data
    c = curvature(model, data, probes=probes, exact=exact, batch_size=batch_size, seed=seed,
                  progress=progress)
    s = c.summary()
    result = {"run": source.name, "n": c.n, "method": c.method,
              "accuracy": accuracy(model, data, device=dev), "mean_R": s["mean_R"],
              "se_R": s["se_R"], "median_R": s["median_R"], **loaded.record}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result) + "\n")
    return result


__all__ = ["curvature_run"]
