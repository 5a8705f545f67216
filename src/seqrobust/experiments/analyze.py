"""``seqrobust analyze``: Theorem 1 (corrected) bounds against measured adversarial distances.

For every input of a trained run: the margins ``t_k`` to every competitor ``k`` (or to the
runner-up only), ``J_k = ∇F_k``, the top curvature ``v_k = λ_max(∇²(−F_k))`` by batched Lanczos
with its residual, the bounds (theory.md E2/E3; the lower bound uses ``v + residual``), their
minimum over competitors, the best witness, and the minimal L2 distance measured by DeepFool
and FMN (:func:`~seqrobust.attacks.minimal_l2`). The bounds are exact for the quadratic model
(E1) of the network, not for the network: the summary reports how often they bracket the
measured distance, without any tuning. Results go to ``rows.csv`` (one row per input, appended
per chunk, so a killed run resumes), ``profile.csv`` (per-time-step sensitivity),
``summary.json`` and plots.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor
from tqdm import tqdm

from seqrobust.attacks.base import Model
from seqrobust.attacks.minimal_norm import minimal_l2
from seqrobust.bounds.curvature import (
    curvature_lower_bound,
    curvature_upper_bound,
    witness_bound,
    witness_vector,
)
from seqrobust.experiments.analyze_summary import summarize, write_summary
from seqrobust.experiments.run_data import (
    attack_bounds,
    distance_unit,
    load_run_data,
    map_by_length,
)
from seqrobust.experiments.shards import (
    WHOLE,
    Shard,
    input_generator,
    input_normals,
    shard_indices,
    write_shard,
)
from seqrobust.geometry import (
    hvp_neg_margin,
    margin_gradient,
    margins,
    time_step_profile,
    top_curvature,
)
from seqrobust.models import twice_differentiable
from seqrobust.training.run import resolve_device
from seqrobust.types import ForwardFn

Competitors = Literal["all", "runner-up"]
ROWS, PROFILE = "rows.csv", "profile.csv"
COLUMNS = (
    "index", "label", "pred", "correct", "runner_up", "t", "j_norm", "v", "residual", "v_upper",
    "abs_j_dot_u", "lower_runner_up", "upper_runner_up", "lower", "upper", "best", "lower_class",
    "best_class", "witness_flips", "lanczos_rel_residual", "deepfool", "deepfool_refined", "fmn",
    "measured", "lower_ok", "upper_ok", "best_ok",
)  # fmt: skip


@dataclass(frozen=True)
class AnalyzeConfig:
    """Options of :func:`run_analyze`."""

    n: int = 1000
    """Number of test inputs (the first ``n``)."""
    batch_size: int = 100
    """Inputs per chunk (one chunk is appended to the CSV at a time)."""
    lanczos_iters: int = 30
    """Lanczos steps per input and competitor."""
    competitors: Competitors = "all"
    """``all`` (valid multi-class bounds) or ``runner-up`` (faster; lower bound not valid)."""
    fmn_steps: int = 100
    """Steps of each FMN run (one warm-started from DeepFool, one from the clean input)."""
    profile_n: int = 200
    """Inputs (the first ones) that also get the per-time-step block curvature."""
    split: str = "test"
    dataset: str | None = None
    """Dataset to evaluate on (``None``: the run's own); same features and classes needed."""
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("n", "batch_size", "lanczos_iters", "fmn_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.profile_n < 0:
            raise ValueError(f"profile_n must be >= 0, got {self.profile_n}")
        if self.competitors not in ("all", "runner-up"):
            raise ValueError(f"unknown competitors {self.competitors!r}; choose all or runner-up")
        if self.split not in ("test", "train"):
            raise ValueError(f"unknown split {self.split!r}; choose test or train")


def bound_columns(
    f: ForwardFn,
    x: Tensor,
    *,
    competitors: Competitors = "all",
    lanczos_iters: int = 30,
    generator: torch.Generator | None = None,
    input_generators: Sequence[torch.Generator] | None = None,
) -> dict[str, Tensor]:
    """Per-input bound columns (theory.md E2–E4, multi-class minimum) for a batch.

    Args:
        f: twice-differentiable forward ``(B, T, F) -> (B, L)``.
        x: ``(B, T, F)`` inputs.
        competitors: every class but the prediction, or the runner-up only.
        lanczos_iters: Lanczos steps.
        generator: Lanczos start vectors.
        input_generators: ``B`` per-input CPU generators to draw the start vectors from
            instead (each input's ``k`` starts, one per competitor), so an input's result
            does not depend on the rest of the batch.

    Returns:
        ``(B,)`` tensors named as in :data:`COLUMNS` (bounds and curvature), plus
        ``witness (B, T, F)`` (the best witness point, zeros where none) and
        ``grad_runner_up (B, T, F)`` (``J`` of the runner-up margin).
    """
    m = margins(f, x)
    batch, num = m.all.shape
    if competitors == "all":
        other = torch.stack([torch.arange(num, device=x.device)] * batch)
        other = other[other != m.pred[:, None]].reshape(batch, num - 1)
    else:
        other = m.runner_up[:, None]
    k = other.shape[1]
    xr, pred_r, other_r = x.repeat_interleave(k, 0), m.pred.repeat_interleave(k), other.reshape(-1)
    t, j = margin_gradient(f, xr, pred=pred_r, other=other_r)
    t = t.clamp_min(0.0)  # rounding: the prediction's margin is >= 0 by definition
    start = None
    if input_generators is not None:
        start = input_normals(input_generators, (k, *x.shape[1:]), like=x).reshape(xr.shape)
    top = top_curvature(
        f, xr, pred=pred_r, other=other_r, max_iter=lanczos_iters, generator=generator,
        start=start,
    )
    j_flat, u_flat = j.flatten(1), top.vector.flatten(1)
    j_norm, j_dot_u = j_flat.norm(dim=1), (j_flat * u_flat).sum(1)
    lower = curvature_lower_bound(t, j_norm, top.upper)
    upper = curvature_upper_bound(t, j_dot_u, top.value)
    w = torch.where(j_norm[:, None] > 0, -j_flat / j_norm.clamp_min(1e-30)[:, None], u_flat)
    c_w = w * hvp_neg_margin(f, xr, w.reshape(xr.shape), pred=pred_r, other=other_r).flatten(1)
    along_j = witness_bound(t, j_norm, c_w.sum(1))
    use_u = upper <= along_j
    best = torch.where(use_u, upper, along_j)
    witness = torch.where(
        use_u[:, None], witness_vector(upper, u_flat, j_flat), witness_vector(along_j, w, j_flat)
    )
    view = (batch, k)
    low_k, best_k = lower.reshape(view).min(1), best.reshape(view).min(1)
    pick = best_k.indices + torch.arange(batch, device=x.device) * k
    ru = (other_r == m.runner_up.repeat_interleave(k)).nonzero().squeeze(1)  # runner-up rows
    with torch.no_grad():
        flips = f(x + witness[pick].reshape(x.shape)).argmax(1) != m.pred
    return {
        "pred": m.pred,
        "runner_up": m.runner_up,
        "t": t[ru],
        "j_norm": j_norm[ru],
        "v": top.value[ru],
        "residual": top.residual[ru],
        "v_upper": top.upper[ru],
        "abs_j_dot_u": j_dot_u[ru].abs(),
        "lower_runner_up": lower[ru],
        "upper_runner_up": upper[ru],
        "lower": low_k.values,
        "upper": upper.reshape(view).min(1).values,
        "best": best_k.values,
        "lower_class": other.gather(1, low_k.indices[:, None])[:, 0],
        "best_class": other.gather(1, best_k.indices[:, None])[:, 0],
        "witness_flips": flips & torch.isfinite(best_k.values),
        "lanczos_rel_residual": (top.residual / top.value.abs().clamp_min(1e-30))
        .reshape(view)
        .max(1)
        .values,
        "witness": witness[pick].reshape(x.shape),
        "grad_runner_up": j[ru].reshape(x.shape),
    }


def analyze_group(
    model: Model,
    f: ForwardFn,
    x: Tensor,
    *,
    cfg: AnalyzeConfig,
    bounds: tuple[float, float],
    generators: Sequence[torch.Generator],
    profile: Tensor,
) -> dict[str, Tensor]:
    """Bound columns, measured distances and the time-step profile of one equal-length batch.

    Args:
        model: the classifier (attacked by :func:`~seqrobust.attacks.minimal_l2`).
        f: its twice-differentiable forward.
        x: ``(B, T, F)`` inputs, all ``T`` steps real.
        cfg: Lanczos, competitor and FMN options.
        bounds: the attacks' input range.
        generators: ``B`` per-input CPU generators: the Lanczos start vectors, then those of
            the per-step profile, are drawn from them (:func:`bound_columns`).
        profile: ``(B,)`` bool, inputs that also get the per-step block curvature.

    Returns:
        The ``(B,)`` columns of :func:`bound_columns`, ``deepfool``, ``deepfool_refined``,
        ``fmn``, ``measured`` and the per-step ``grad_t``/``curv_t`` ``(B, T)`` (``curv_t``
        NaN where not profiled).
    """
    cols = bound_columns(
        f, x, competitors=cfg.competitors, lanczos_iters=cfg.lanczos_iters,
        input_generators=generators,
    )
    att = minimal_l2(model, x, labels=cols["pred"], fmn_steps=cfg.fmn_steps, bounds=bounds)
    grad_t = cols["grad_runner_up"].norm(dim=2)
    curv_t = torch.full_like(grad_t, math.nan)
    sub = torch.nonzero(profile).squeeze(1)
    if sub.numel():
        start = input_normals([generators[i] for i in sub.tolist()], x.shape[1:], like=x)
        prof = time_step_profile(
            f, x[sub], pred=cols["pred"][sub], other=cols["runner_up"][sub], start=start
        )
        curv_t[sub] = prof.curvature.to(curv_t)
    return {
        **{k: v for k, v in cols.items() if v.dim() == 1},
        "deepfool": att.deepfool.norms,
        "deepfool_refined": att.deepfool_refined.norms,
        "fmn": att.fmn.norms,
        "measured": att.best.norms,
        "grad_t": grad_t,
        "curv_t": curv_t,
    }


def _done_indices(path: Path) -> set[int]:
    if not path.exists():
        return set()
    with open(path, newline="") as fh:
        return {int(row["index"]) for row in csv.DictReader(fh)}


def _append(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(header)
        writer.writerows(rows)


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    return value


def run_analyze(
    run: str | Path,
    out: str | Path,
    cfg: AnalyzeConfig,
    *,
    progress: bool = True,
    plots: bool = True,
    shard: Shard = WHOLE,
) -> dict[str, Any]:
    """Analyse ``cfg.n`` inputs of the run in ``run``; write CSVs, summary and (if ``plots``)
    the figures to ``out``.

    Resumable: inputs already in ``out/rows.csv`` are skipped (chunks are appended whole).
    Input ``i`` draws its start vectors from its own seed ``cfg.seed · 1_000_003 + i``.

    With a ``shard`` other than the whole job, only the chunks (of ``batch_size`` inputs)
    numbered ``≡ shard.index (mod shard.count)`` are analysed, into
    ``rows.shard-I-of-N.csv``/``profile.shard-I-of-N.csv`` plus the record
    ``analyze.shard-I-of-N.json``; ``seqrobust merge analyze OUT`` then writes what one process
    would have (:mod:`seqrobust.experiments.merge`).

    Returns:
        The summary (also written to ``out/summary.json``); for a shard,
        ``{"shard", "inputs", "file"}``.

    Raises:
        ValueError: on a missing or corrupt run, or bad options.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(cfg.device)
    model, _, data = load_run_data(
        run, dataset=cfg.dataset, split=cfg.split, limit=cfg.n, device=device
    )
    bounds = attack_bounds(data)
    f = twice_differentiable(model)
    rows_path, prof_path = out / ROWS, out / PROFILE
    if not shard.whole:
        rows_path, prof_path = (out / f"{s}.{shard.tag()}.csv" for s in ("rows", "profile"))
    done = _done_indices(rows_path)
    steps = data.seq_len
    prof_header = (
        ["index"] + [f"grad_{s}" for s in range(steps)] + [f"curv_{s}" for s in range(steps)]
    )
    started = time.perf_counter()
    starts = range(shard.index * cfg.batch_size, len(data), shard.count * cfg.batch_size)
    for start in tqdm(starts, desc="analyze", unit="chunk", disable=not progress):
        idx = [i for i in range(start, min(start + cfg.batch_size, len(data))) if i not in done]
        if not idx:
            continue
        gens = [input_generator(cfg.seed, i) for i in idx]
        profiled = torch.tensor([i < cfg.profile_n for i in idx], device=device)

        def group(
            xg: Tensor, rows: Tensor, gens: list[torch.Generator] = gens, prof: Tensor = profiled
        ) -> dict[str, Tensor]:
            chosen = [gens[r] for r in rows.tolist()]
            return analyze_group(
                model, f, xg, cfg=cfg, bounds=bounds, profile=prof[rows], generators=chosen
            )

        cols = map_by_length(
            group,
            data.inputs[idx].to(device),
            None if data.lengths is None else data.lengths[idx],
            per_step=("grad_t", "curv_t"),
        )
        grad_t, curv_t, measured = cols.pop("grad_t"), cols.pop("curv_t"), cols["measured"]
        labels = data.labels[idx].to(device)
        table = {
            **cols,
            "index": torch.tensor(idx),
            "label": labels,
            "correct": labels == cols["pred"],
            "lower_ok": cols["lower"] <= measured,
            "upper_ok": measured <= cols["upper"],
            "best_ok": measured <= cols["best"],
        }
        lists = {k: v.detach().cpu().tolist() for k, v in table.items()}
        rows = [[_fmt(lists[c][r]) for c in COLUMNS] for r in range(len(idx))]
        _append(rows_path, list(COLUMNS), rows)
        g, c = grad_t.cpu().tolist(), curv_t.cpu().tolist()
        _append(prof_path, prof_header, [[i, *g[r], *c[r]] for r, i in enumerate(idx)])
    if not shard.whole:
        chosen = shard_indices(len(data), shard, block=cfg.batch_size)
        config = {"run": str(run), **asdict(cfg), "total": len(data), "block": cfg.batch_size}
        payload = {
            "rows": rows_path.name, "profile": prof_path.name, "dataset": data.name,
            "unit": distance_unit(data), "seconds": time.perf_counter() - started,
        }
        path = write_shard(out, "analyze", shard, config=config, indices=chosen, payload=payload)
        return {"shard": str(shard), "inputs": len(chosen), "file": str(path)}
    summary = summarize(out / ROWS, out / PROFILE, n=cfg.n)
    summary["config"] = {"run": str(run), **asdict(cfg)}
    summary["dataset"], summary["unit"] = data.name, distance_unit(data)
    summary["seconds_this_call"] = time.perf_counter() - started
    write_summary(out, summary, plots=plots)
    return summary
