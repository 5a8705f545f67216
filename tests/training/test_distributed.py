"""Two-process gloo runs on CPU: DDP gradients, sharded training, and a failing rank.

Marked ``slow`` (run with ``pytest -m slow tests/training/test_distributed.py``): about 1 run in
36 of the spawned pair aborts inside gloo (SIGABRT, "terminate called without an active
exception") on this 2-core machine under load; until that is understood they stay out of the
default suite so CI is not flaky.
"""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from seqrobust.models import RecurrentClassifier
from seqrobust.training import TrainConfig, train
from seqrobust.training.checkpoint import load_file_tensors
from seqrobust.training.distributed import setup, teardown
from seqrobust.training.loop import StepLoss

WORLD = 2
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(rank: int, port: int) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD),
        SEQROBUST_DIST_TIMEOUT="60",
    )


def _input_grad_penalty(model, x, y, generator):
    """‖∇ₓ CE‖², a second-order term through the input gradient."""
    x = x.detach().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(
        model.forward_twice_differentiable(x), y, reduction="sum"
    )
    (grad,) = torch.autograd.grad(loss, x, create_graph=True)
    return grad.square().sum(dim=(1, 2)).mean()


def _problem():
    torch.manual_seed(5)
    model = RecurrentClassifier(input_size=3, num_classes=4, hidden_size=6).double()
    x = torch.randn(7, 5, 3, dtype=torch.float64)
    y = torch.randint(0, 4, (7,))
    return model, x, y


def _grad_worker(rank: int, port: int, out: str, lam: float) -> None:
    _env(rank, port)
    ddp, device = setup(torch.device("cpu"))
    model, x, y = _problem()
    objective = torch.nn.parallel.DistributedDataParallel(
        StepLoss(model, penalty=_input_grad_penalty, lam=lam)
    )
    index = ddp.shard(torch.arange(len(x)))
    total, *_ = objective(x[index], y[index], None, None)
    (total * len(index) * ddp.world / len(x)).backward()
    if ddp.main:
        save_file({n: p.grad for n, p in model.named_parameters()}, out)
    teardown(ddp)


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_two_process_gradients_equal_single_process(tmp_path, lam):
    out = str(tmp_path / "grads.safetensors")
    mp.spawn(_grad_worker, args=(_free_port(), out, lam), nprocs=WORLD, join=True)
    model, x, y = _problem()
    total, *_ = StepLoss(model, penalty=_input_grad_penalty, lam=lam)(x, y, None, None)
    total.backward()
    ddp_grads = load_file(out)
    for name, param in model.named_parameters():
        torch.testing.assert_close(ddp_grads[name], param.grad, rtol=1e-10, atol=1e-12)


TINY = dict(
    dataset="mnist-subset",
    hidden=8,
    epochs=1,
    batch_size=101,
    train_limit=500,
    test_limit=101,
    seed=2,
    log_every=2,
)


def _train_worker(rank: int, port: int, run_dir: str) -> None:
    _env(rank, port)
    train(TrainConfig(**TINY), run_dir, progress=False)  # leaves the group itself


def test_two_process_training_matches_single_process(tmp_path):
    mp.spawn(_train_worker, args=(_free_port(), str(tmp_path / "ddp")), nprocs=WORLD, join=True)
    single = train(TrainConfig(**TINY), tmp_path / "single", progress=False)
    a, b = (
        load_file_tensors(tmp_path / "ddp" / "model"),
        load_file_tensors(tmp_path / "single" / "model"),
    )
    for key in a:
        if key.startswith("model::"):
            torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)
    lines = (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == len((tmp_path / "single" / "metrics.jsonl").read_text().splitlines())
    assert single.completed


def _failing_worker(rank: int, port: int) -> None:
    _env(rank, port)
    setup(torch.device("cpu"))
    if rank == 1:
        raise ValueError("rank 1 found a corrupt shard")
    dist.barrier()


def test_failing_rank_ends_the_job_with_its_message():
    with pytest.raises(Exception, match="rank 1 found a corrupt shard"):
        mp.spawn(_failing_worker, args=(_free_port(),), nprocs=WORLD, join=True)
