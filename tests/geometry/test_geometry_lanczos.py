"""Batched Lanczos (T11): top eigenpairs against ``torch.linalg.eigh`` in float64."""

from __future__ import annotations

import pytest
import torch
from geometry_cases import CELLS, dense_neg_margin, random_symmetric, tiny_case
from hypothesis import given, settings
from hypothesis import strategies as st

from seqrobust.geometry import hvp_neg_margin, lanczos, top_curvature


def _matvec(matrices: torch.Tensor):  # noqa: ANN202
    return lambda v: torch.einsum("bij,bj->bi", matrices, v)


def _spectra(dim: int) -> list[torch.Tensor]:
    d = torch.float64
    return [
        torch.linspace(-1.0, 1.0, dim, dtype=d) ** 3 * 5,  # generic, both signs
        torch.linspace(-10.0, 3.0, dim, dtype=d),  # |λ_min| > λ_max: power iteration fails
        torch.cat([torch.full((4,), 2.0, dtype=d), torch.linspace(-6.0, 1.5, dim - 4, dtype=d)]),
        torch.cat([torch.tensor([0.5, 0.49], dtype=d), torch.linspace(-9, 0.3, dim - 2, dtype=d)]),
        -torch.linspace(0.5, 4.0, dim, dtype=d),  # negative definite
    ]


@pytest.mark.parametrize("dim", [60, 5])
def test_top_eigenpair_matches_eigh(dim: int) -> None:
    g = torch.Generator().manual_seed(1)
    spectra = _spectra(dim)
    mats = torch.stack([random_symmetric(s, generator=g)[0] for s in spectra])
    v0 = torch.randn(len(spectra), dim, dtype=torch.float64, generator=g)
    result = lanczos(_matvec(mats), v0, max_iter=60, tol=1e-9)
    evals, evecs = torch.linalg.eigh(mats)
    top = evals[:, -1]
    torch.testing.assert_close(result.value, top, rtol=1e-6, atol=0)
    assert bool(result.converged.all())
    assert bool((result.steps <= dim).all())
    norms = torch.linalg.vector_norm(result.vector, dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms))
    recomputed = torch.linalg.vector_norm(
        torch.einsum("bij,bj->bi", mats, result.vector) - result.value[:, None] * result.vector,
        dim=1,
    )
    torch.testing.assert_close(result.residual, recomputed, rtol=1e-8, atol=1e-14)
    for b, spectrum in enumerate(spectra):
        eigenspace = evecs[b][:, evals[b] > top[b] - 1e-9]  # degenerate tops: whole eigenspace
        weight = torch.linalg.vector_norm(eigenspace.T @ result.vector[b])
        gap = (top[b] - evals[b][evals[b] <= top[b] - 1e-9].max()).item()
        # Davis–Kahan: sin∠(u, eigenspace) ≤ residual / gap
        sin = (1 - weight.clamp(max=1) ** 2).clamp_min(0).sqrt().item()
        assert sin <= result.residual[b].item() / gap + 1e-7, (b, spectrum[:3])
    assert bool((result.value + result.residual >= top - 1e-12).all())


def test_per_sample_convergence_and_default_tolerance() -> None:
    g = torch.Generator().manual_seed(2)
    dim = 80
    easy = torch.cat([torch.tensor([100.0]), torch.linspace(-1, 1, dim - 1)]).double()
    hard = torch.linspace(-20.0, 1.0, dim, dtype=torch.float64)
    mats = torch.stack([random_symmetric(s, generator=g)[0] for s in (easy, hard)])
    result = lanczos(_matvec(mats), torch.randn(2, dim, dtype=torch.float64, generator=g))
    assert result.steps[0] < result.steps[1] <= 30
    assert result.num_matvecs == int(result.steps.max()) + 1
    torch.testing.assert_close(result.value[0], torch.tensor(100.0, dtype=torch.float64))
    assert result.residual[0] <= 1e-6 * 100
    lam = torch.linalg.eigvalsh(mats)[:, -1]
    assert bool(result.converged[0]) and not bool(result.converged[1])  # 30 steps are too few
    assert result.steps[1] == 30 and result.value[1] < lam[1]  # a Ritz value under-estimates
    assert result.value[1] + result.residual[1] >= lam[1]  # the inflated value does not


def test_breakdown_in_invariant_subspace_and_zero_operator() -> None:
    g = torch.Generator().manual_seed(3)
    spectrum = torch.tensor([-7.0, -1.0, 0.5, 2.0, 3.0, 9.0], dtype=torch.float64)
    mat, q = random_symmetric(spectrum, generator=g)
    v0 = (q[:, 1] + 2 * q[:, 3])[None]  # start in span of the eigenvectors of −1 and 2
    mats = torch.stack([mat, torch.zeros_like(mat)])
    result = lanczos(_matvec(mats), torch.cat([v0, torch.ones(1, 6, dtype=torch.float64)]))
    assert result.steps.tolist() == [2, 1]
    assert bool(result.converged.all())
    torch.testing.assert_close(result.value, torch.tensor([2.0, 0.0], dtype=torch.float64))
    assert bool(torch.isfinite(result.vector).all()) and result.residual.max() < 1e-12


@settings(max_examples=25, deadline=None)
@given(
    dim=st.integers(min_value=1, max_value=8),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_property_full_krylov_space_is_exact(dim: int, seed: int, scale: float) -> None:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(2, dim, dim, dtype=torch.float64, generator=g) * scale
    mats = (a + a.mT) / 2
    result = lanczos(_matvec(mats), torch.randn(2, dim, dtype=torch.float64, generator=g))
    top = torch.linalg.eigvalsh(mats)[:, -1]
    norm = torch.linalg.matrix_norm(mats, ord=2)
    assert bool(((result.value - top).abs() <= 1e-10 * norm).all())
    assert bool((result.value <= top + 1e-12 * norm).all())


@pytest.mark.parametrize("cell", CELLS)
def test_top_curvature_of_tiny_models(cell: str) -> None:
    case = tiny_case(cell)
    dense = dense_neg_margin(cell)
    evals, evecs = torch.linalg.eigh(dense)
    gen = torch.Generator().manual_seed(0)
    top = top_curvature(case.f, case.x, pred=case.pred, other=case.other, generator=gen)
    torch.testing.assert_close(top.value, evals[:, -1], rtol=1e-6, atol=0)
    u = top.vector.flatten(1)
    alignment = (u * evecs[:, :, -1]).sum(1).abs()
    torch.testing.assert_close(alignment, torch.ones_like(alignment), rtol=0, atol=1e-6)
    image = hvp_neg_margin(case.f, case.x, top.vector, pred=case.pred, other=case.other)
    recomputed = torch.linalg.vector_norm(
        (image - top.value[:, None, None] * top.vector).flatten(1), dim=1
    )
    torch.testing.assert_close(top.residual, recomputed, rtol=1e-6, atol=1e-13)
    torch.testing.assert_close(top.upper, top.value + top.residual)
    assert bool((top.upper >= evals[:, -1] - 1e-12).all())
    assert 1 <= top.iterations <= 12  # D = 12: a full Krylov space at most
    again = top_curvature(
        case.f, case.x, pred=case.pred, other=case.other, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(again.value, top.value)


@pytest.mark.slow
def test_top_curvature_on_trained_mnist_rnn() -> None:
    """Real-sized check (D = 784) on ``runs/rnn-default`` in float64, if that run exists."""
    import json
    from pathlib import Path

    from seqrobust.data import load_dataset
    from seqrobust.geometry import dense_hessian_neg_margin, margins
    from seqrobust.models import RecurrentClassifier, differentiable_forward
    from seqrobust.training import load_checkpoint

    run = Path(__file__).resolve().parents[2] / "runs" / "rnn-default"
    if not (run / "model.json").exists():
        pytest.skip("runs/rnn-default has not been trained")
    config = json.loads((run / "model.json").read_text())["meta"]["model"]
    model = RecurrentClassifier(**config)
    load_checkpoint(run / "model", model=model)
    f = differentiable_forward(model.double().eval(), functional=True)
    x = load_dataset("mnist-subset", split="test", limit=3).inputs.double()  # no cache in tests
    m = margins(f, x)
    dense = dense_hessian_neg_margin(f, x, pred=m.pred, other=m.runner_up)
    evals = torch.linalg.eigvalsh(dense)
    gen = torch.Generator().manual_seed(0)
    top = top_curvature(f, x, pred=m.pred, other=m.runner_up, max_iter=60, tol=1e-9, generator=gen)
    torch.testing.assert_close(top.value, evals[:, -1], rtol=1e-6, atol=0)
    assert bool((top.upper >= evals[:, -1] - 1e-9).all())
