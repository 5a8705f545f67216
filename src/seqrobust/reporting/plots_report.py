"""Figures that only the run report draws: training curves and the adversarial gallery.
Each returns PNG bytes (matplotlib Agg)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from numpy.typing import NDArray  # noqa: E402


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def training_curves(records: list[dict[str, Any]]) -> bytes:
    """Loss, train accuracy and test accuracy against the step (from ``metrics.jsonl``)."""
    steps = [r for r in records if "loss" in r]
    tests = [r for r in records if "test_acc" in r]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot([r["step"] for r in steps], [r["loss"] for r in steps], label="loss")
    if any("reg" in r for r in steps):
        left.plot([r["step"] for r in steps], [r.get("reg", np.nan) for r in steps], label="reg")
    left.set_yscale("log")
    left.set_xlabel("step")
    left.legend()
    right.plot([r["step"] for r in steps], [100 * r["train_acc"] for r in steps], label="train")
    right.plot([r["step"] for r in tests], [100 * r["test_acc"] for r in tests], "o-", label="test")
    right.set_xlabel("step")
    right.set_ylabel("accuracy (%)")
    right.legend()
    return _png(fig)


def gallery_item(
    clean: NDArray[np.float64],
    adversarial: NDArray[np.float64],
    step_sensitivity: NDArray[np.float64],
    *,
    image_like: bool,
    title: str,
) -> bytes:
    """Clean input, its minimal adversarial, their difference and ‖J_t‖ per time step.

    ``clean``/``adversarial`` are ``(T, F)``; rows of an image when ``image_like``, else
    channels over time."""
    fig, axes = plt.subplots(1, 4, figsize=(11, 2.6))
    diff = adversarial - clean
    if image_like:
        for ax, arr, name, cmap in (
            (axes[0], clean, "clean", "gray"),
            (axes[1], adversarial, "adversarial", "gray"),
        ):
            ax.imshow(arr, cmap=cmap, vmin=0, vmax=1)
            ax.set_title(name, fontsize=9)
        lim = float(np.abs(diff).max()) or 1.0
        axes[2].imshow(diff, cmap="RdBu", vmin=-lim, vmax=lim)
        for ax in axes[:3]:
            ax.set_xticks([])
            ax.set_yticks([])
    else:
        axes[0].plot(clean)
        axes[1].plot(adversarial)
        axes[2].plot(diff)
        for ax, name in zip(axes[:3], ("clean", "adversarial", "difference"), strict=True):
            ax.set_title(name, fontsize=9)
    axes[2].set_title("difference", fontsize=9)
    axes[3].bar(np.arange(len(step_sensitivity)), step_sensitivity, color="tab:red")
    axes[3].set_title("‖J_t‖ per time step", fontsize=9)
    axes[3].set_xlabel("step")
    fig.suptitle(title, fontsize=9)
    return _png(fig)
