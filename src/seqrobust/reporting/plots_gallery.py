"""One vulnerable input with its minimal adversarial: an image (MNIST rows), or every channel
overlaid with its adversarial, one row each, the perturbation shaded (series); and the
per-time-step sensitivity ‖J_t‖ and curvature as heat strips. Returns PNG bytes (Agg)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib import gridspec  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from seqrobust.reporting.plots_report import png, strip  # noqa: E402

FloatArray = NDArray[np.float64]
MAX_CHANNELS = 16


def _image(clean: FloatArray, adversarial: FloatArray, grad: FloatArray,
           curv: FloatArray | None, title: str) -> bytes:
    fig = plt.figure(figsize=(10, 2.9))
    cols = 5 if curv is not None else 4
    grid = gridspec.GridSpec(1, cols, width_ratios=[4, 4, 4, 1.1, 1.1][:cols], figure=fig)
    diff = adversarial - clean
    lim = float(np.abs(diff).max()) or 1.0
    for k, (arr, name, cmap, lo, hi) in enumerate((
        (clean, "clean", "gray", 0.0, 1.0), (adversarial, "minimal adversarial", "gray", 0.0, 1.0),
        (diff, "perturbation (red +, blue −)", "RdBu_r", -lim, lim),
    )):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(arr, cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for k, (values, name, cmap) in enumerate((
        (grad, "‖J_t‖", "viridis"), (curv, "curv.", "magma"),
    )):
        if values is None:
            continue
        ax = fig.add_subplot(grid[0, 3 + k])
        ax.imshow(values[:, None], aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_ylabel("row = time step", fontsize=7) if k == 0 else ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    return png(fig)


def _series(clean: FloatArray, adversarial: FloatArray, grad: FloatArray,
            curv: FloatArray | None, title: str) -> bytes:
    steps, features = clean.shape
    energy = ((adversarial - clean) ** 2).sum(axis=0)
    shown = sorted(np.argsort(-energy, kind="stable")[:MAX_CHANNELS].tolist())
    span = float(np.ptp(np.concatenate([clean[:, shown], adversarial[:, shown]]), axis=0).max())
    gap = 1.15 * (span or 1.0)
    strips = 1 if curv is None else 2
    fig = plt.figure(figsize=(10, 0.32 * len(shown) + 0.55 * strips + 1.3))
    grid = gridspec.GridSpec(1 + strips, 2, figure=fig, left=0.1, right=0.95, top=0.9,
                             bottom=0.08, hspace=0.35, wspace=0.02, width_ratios=[60, 1],
                             height_ratios=[0.32 * len(shown) + 0.4] + [0.55] * strips)
    ax = fig.add_subplot(grid[0, 0])
    t = np.arange(steps)
    for k, c in enumerate(shown):
        base = -k * gap  # one channel per row, top to bottom
        ax.plot(t, base + clean[:, c], color="k", lw=1.0, label="clean" if k == 0 else None)
        ax.plot(t, base + adversarial[:, c], color="tab:red", lw=0.9,
                label="minimal adversarial" if k == 0 else None)
        ax.fill_between(t, base + clean[:, c], base + adversarial[:, c], color="tab:red",
                        alpha=0.35, lw=0, label="perturbation" if k == 0 else None)
    ax.set_yticks([-k * gap for k in range(len(shown))], [f"ch {c}" for c in shown], fontsize=7)
    ax.set_xlim(-0.5, steps - 0.5)
    ax.set_xticks([])
    ax.legend(fontsize=7, loc="upper right", ncol=3, framealpha=0.8)
    for k, (values, name, cmap) in enumerate(((grad, "‖J_t‖", "viridis"),
                                              (curv, "curvature", "magma"))):
        if values is not None:
            ax = fig.add_subplot(grid[1 + k, 0])
            strip(ax, values, cmap=cmap, label=name, cax=fig.add_subplot(grid[1 + k, 1]))
    ax.set_xlabel("time step", fontsize=7)
    more = f" ({len(shown)} of {features} channels, most perturbed)" if len(shown) < features \
        else ""
    fig.suptitle(title + more, fontsize=9)
    return png(fig, tight=False)


def gallery_item(
    clean: FloatArray,
    adversarial: FloatArray,
    grad_t: FloatArray,
    *,
    curv_t: FloatArray | None = None,
    image_like: bool,
    title: str,
) -> bytes:
    """The figure of one input.

    Args:
        clean: ``(T, F)`` the input's real steps (model units).
        adversarial: ``(T, F)`` its minimal adversarial.
        grad_t: ``(T,)`` ‖J_t‖ per time step.
        curv_t: ``(T,)`` block curvature per time step (``None``: not profiled).
        image_like: draw ``(T, F)`` as an image (MNIST rows), else one line panel per channel.
        title: the figure title.

    Returns:
        PNG bytes.
    """
    if curv_t is not None and not np.isfinite(curv_t).any():
        curv_t = None
    draw = _image if image_like else _series
    return draw(clean, adversarial, grad_t, curv_t, title)


__all__ = ["MAX_CHANNELS", "gallery_item"]
