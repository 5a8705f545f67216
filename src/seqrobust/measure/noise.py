r"""Random noise on a trained classifier against Theorem B (theory.md §4) — ``seqrobust noise``.

Per input ``x`` (predicted class k̂, runner-up k′, margin ``F = f_k̂ − f_k′``):

- Monte Carlo: the fraction of ``samples`` uniform directions ``θ`` (shared by every radius)
  for which the prediction at ``x + ρθ`` differs from k̂, unclipped and with ``x + ρθ``
  clipped to ``[0, 1]``;
- the quadratic model :math:`q(\rho\theta)=t+\rho J^\top\theta+\tfrac12\rho^2\theta^\top A\theta`
  from the dense Hessian :math:`A=\nabla^2F` (float64), and Theorem B (E17) from ``t``, ``|J|``
  and ``A``'s spectrum with Imhof (E13) and Chernoff (E14) :math:`\beta`;
- assumption (H1), "prediction changed ⇒ q ≤ 0", checked direction by direction;
- the radius where the unclipped probability reaches ½, against the adversarial radius
  estimated by the linear (DeepFool) step ``t/|J|`` and by the quadratic model's exact distance
  ``r*`` (§3), to compare with the :math:`\sqrt d` law.

Radii are given in the data's perturbation unit (pixels on the 0–255 scale for MNIST, L2); the
model sees ``ρ · eps_scale`` (``ρ/255``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor, nn

from seqrobust.bounds.beta import beta_chernoff, beta_imhof
from seqrobust.bounds.curvature import curvature_lower_bound
from seqrobust.bounds.quadratic import exact_distance
from seqrobust.bounds.random_noise import kappa_grid, theorem_b
from seqrobust.data.dataset import SequenceData
from seqrobust.geometry.input_grad import margin_gradient
from seqrobust.geometry.input_hessian import dense_hessian_neg_margin
from seqrobust.geometry.margin import margins
from seqrobust.measure.montecarlo import FloatArray
from seqrobust.models.classifier import differentiable_forward
from seqrobust.types import ForwardFn

DEFAULT_RHO_PIXELS: tuple[float, ...] = tuple(float(2 ** (k / 2)) for k in range(16, 33))
"""256 … 65536 pixel units (1 … 257 in model units), half-octave steps."""


@dataclass(frozen=True)
class NoiseConfig:
    """Options of the trained-network noise experiment."""

    n_inputs: int = 100
    """Test inputs (the first ``n_inputs`` of the split)."""
    rho: tuple[float, ...] | None = None
    """Noise radii (L2) in the data's perturbation unit; ``None``: :data:`DEFAULT_RHO_PIXELS`
    for pixel data, the same radii in model units (1/255 … 257/255) otherwise
    (:meth:`for_data`)."""
    eps_scale: float = 1.0
    """Model units per perturbation unit (the data's ``eps_scale``; :meth:`for_data`)."""
    unit: str = "model units"
    bounds: tuple[float, float] | None = None
    """Valid input range for the clipped variant (``None``: no clipping, clipped = unclipped;
    :meth:`for_data` takes the data's)."""
    samples: int = 200
    """Uniform directions per input, shared by all radii (common random numbers)."""
    num_kappa: int = 50
    """Curvature grid size for Theorem B (half of it where the curvature concentrates)."""
    seed: int = 0
    batch_size: int = 4096
    """Forward passes per batch in the Monte Carlo."""
    union: bool = False
    """Also model every competitor class: union bound and multi-class H1 (about 10x slower)."""

    def __post_init__(self) -> None:
        if self.n_inputs < 1 or self.samples < 1 or self.num_kappa < 2 or self.batch_size < 1:
            raise ValueError("n_inputs, samples, batch_size must be >= 1 and num_kappa >= 2")
        if self.rho is not None and (
                not self.rho or any(not (r > 0 and math.isfinite(r)) for r in self.rho)):
            raise ValueError(f"rho must be positive finite radii, got {self.rho!r}")
        if not (self.eps_scale > 0 and math.isfinite(self.eps_scale)):
            raise ValueError(f"eps_scale must be a positive number, got {self.eps_scale!r}")

    def for_data(self, data: SequenceData) -> NoiseConfig:
        """This configuration in ``data``'s units and bounds, the default radii resolved."""
        rho = self.rho
        if rho is None:
            pixel = 1.0 / 255.0
            rho = DEFAULT_RHO_PIXELS if data.eps_scale == pixel else tuple(
                r * pixel / data.eps_scale for r in DEFAULT_RHO_PIXELS)
        return replace(self, rho=rho, eps_scale=float(data.eps_scale), unit=data.eps_unit,
                       bounds=data.bounds)

    @property
    def radii(self) -> tuple[float, ...]:
        """The radii in perturbation units (:data:`DEFAULT_RHO_PIXELS` when unresolved)."""
        return self.rho if self.rho is not None else DEFAULT_RHO_PIXELS

    def rho_model(self) -> FloatArray:
        """Radii in model units ``(R,)``, ascending."""
        return np.sort(np.asarray(self.radii, dtype=np.float64)) * self.eps_scale


@dataclass
class InputRecord:
    """Everything measured on one input (per-radius lists follow ``sorted(rho)``; radii and
    distances such as ``r_linear`` are in model units)."""

    index: int
    d: int
    label: int
    pred: int
    runner_up: int
    t: float
    jnorm: float
    lam_min: float
    lam_max: float
    mean_curvature: float
    r_linear: float
    r_lower: float
    r_star: float
    p_unclipped: list[float]
    p_clipped: list[float]
    p_quadratic: list[float]
    bound_imhof: list[float]
    bound_chernoff: list[float]
    changed: list[int]
    changed_q_positive: list[int]
    changed_to_runner_up: list[int]
    q_nonpositive: list[int]
    q_nonpositive_unchanged: list[int]
    rho_half_unclipped: float
    rho_half_clipped: float
    rho_half_bound: float
    bound_union: list[float] | None = None
    """Union bound over all competitors (only with ``union``)."""
    changed_all_q_positive: list[int] | None = None
    """Changed predictions with every competitor's :math:`q_k>0` (multi-class H1 fails)."""


def crossing_radius(rho: FloatArray, p: FloatArray, level: float = 0.5) -> float:
    """First radius where ``p`` reaches ``level``, log-linearly interpolated; ``inf`` if never.

    Args:
        rho: ``(R,)`` ascending radii.
        p: ``(R,)`` probabilities at those radii.
        level: the level to reach.
    """
    hit = np.nonzero(p >= level)[0]
    if hit.size == 0:
        return math.inf
    i = int(hit[0])
    if i == 0:
        return float(rho[0])
    lo, hi = float(p[i - 1]), float(p[i])
    w = (level - lo) / (hi - lo)
    return float(math.exp((1 - w) * math.log(rho[i - 1]) + w * math.log(rho[i])))


def _predictions(forward: ForwardFn, x: Tensor, batch_size: int) -> Tensor:
    with torch.no_grad():
        out = [forward(x[i : i + batch_size]).argmax(-1) for i in range(0, len(x), batch_size)]
    return torch.cat(out)


def analyse_input(
    model: nn.Module | ForwardFn,
    x: Tensor,
    *,
    index: int,
    label: int,
    cfg: NoiseConfig,
    generator: torch.Generator,
    model64: nn.Module | ForwardFn | None = None,
    dtype: torch.dtype | None = None,
) -> InputRecord:
    """Measure one input ``x`` of shape ``(1, T, F)`` (model units) — see the module docstring.

    Args:
        model: the classifier; its own dtype is used for the Monte-Carlo predictions.
        x: the input, ``(1, T, F)``.
        index: its position in the dataset (recorded).
        label: its true class (recorded).
        cfg: radii, sample counts and the curvature grid size.
        generator: source of the random directions.
        model64: a float64 copy of ``model`` for margin, gradient and Hessian (made if absent).
        dtype: the dtype of the Monte-Carlo inputs (default: ``model``'s parameters').
    """
    rho = cfg.rho_model()
    x64 = x.detach().to(torch.float64)
    f64 = differentiable_forward(model64 if model64 is not None else _as_float64(model),
                                 functional=True)
    mg = margins(f64, x64)
    pred, other = mg.pred, mg.runner_up
    t_tensor, grad = margin_gradient(f64, x64, pred=pred, other=other)
    t, j = float(t_tensor[0]), grad.reshape(-1).numpy()
    a = -dense_hessian_neg_margin(f64, x64, pred=pred, other=other)[0].numpy()
    a = 0.5 * (a + a.T)
    lam = np.linalg.eigvalsh(a)
    d, jnorm = j.size, float(np.linalg.norm(j))

    theta = torch.randn(cfg.samples, d, generator=generator, dtype=torch.float64)
    theta /= theta.norm(dim=1, keepdim=True)
    th = theta.numpy()
    lin = th @ j  # J^T theta
    quad = 0.5 * np.einsum("si,ij,sj->s", th, a, th)  # 1/2 theta^T A theta
    q = t + rho[:, None] * lin[None, :] + (rho**2)[:, None] * quad[None, :]  # (R, S)

    dtype = dtype if dtype is not None else _param_dtype(model)
    forward = differentiable_forward(model)
    noisy = x.reshape(1, -1).to(dtype) + torch.as_tensor(rho, dtype=dtype)[:, None, None] * (
        theta.to(dtype)[None]
    )
    noisy = noisy.reshape(-1, *x.shape[1:])
    k_hat = int(pred[0])
    labels = _predictions(forward, noisy, cfg.batch_size).reshape(rho.size, -1).numpy()
    changed = labels != k_hat
    if cfg.bounds is not None:
        noisy = noisy.clamp(*cfg.bounds)
    clipped = _predictions(forward, noisy, cfg.batch_size)
    changed_c = (clipped != k_hat).reshape(rho.size, -1).numpy()

    kappa = kappa_grid(lam, num=cfg.num_kappa, concentrate=True)
    b_i = theorem_b(d, rho, t=t, jnorm=jnorm, kappa=kappa, beta=beta_imhof(lam, kappa))
    b_c = theorem_b(d, rho, t=t, jnorm=jnorm, kappa=kappa, beta=beta_chernoff(lam, kappa))
    p_u, p_c = changed.mean(axis=1), changed_c.mean(axis=1)
    qneg = q <= 0
    b_union, changed_all_pos = None, None
    if cfg.union:
        from seqrobust.measure.noise_union import union_terms

        union, some_neg = union_terms(
            f64, x64, k_hat=k_hat, theta=th, rho=rho, num_kappa=cfg.num_kappa
        )
        b_union = union.tolist()
        changed_all_pos = (changed & ~some_neg).sum(axis=1).tolist()
    return InputRecord(
        index=index, d=d, label=label, pred=k_hat, runner_up=int(other[0]), t=t, jnorm=jnorm,
        lam_min=float(lam[0]), lam_max=float(lam[-1]), mean_curvature=float(lam.mean()),
        r_linear=t / jnorm if jnorm > 0 else math.inf,
        r_lower=float(curvature_lower_bound(t, jnorm, float(-lam[0]))),
        r_star=exact_distance(t, j, a).radius,
        p_unclipped=p_u.tolist(), p_clipped=p_c.tolist(), p_quadratic=qneg.mean(axis=1).tolist(),
        bound_imhof=b_i.tolist(), bound_chernoff=b_c.tolist(),
        changed=changed.sum(axis=1).tolist(),
        changed_q_positive=(changed & ~qneg).sum(axis=1).tolist(),
        changed_to_runner_up=(labels == int(other[0])).sum(axis=1).tolist(),
        q_nonpositive=qneg.sum(axis=1).tolist(),
        q_nonpositive_unchanged=(qneg & ~changed).sum(axis=1).tolist(),
        rho_half_unclipped=crossing_radius(rho, p_u), rho_half_clipped=crossing_radius(rho, p_c),
        rho_half_bound=crossing_radius(rho, b_i),
        bound_union=b_union, changed_all_q_positive=changed_all_pos,
    )


def _param_dtype(model: nn.Module | ForwardFn) -> torch.dtype:
    if isinstance(model, nn.Module):
        for p in model.parameters():
            return p.dtype
    return torch.float32


def _as_float64(model: nn.Module | ForwardFn) -> nn.Module | ForwardFn:
    if isinstance(model, nn.Module):
        import copy

        return copy.deepcopy(model).double().eval()
    return model


