"""Two-process gloo runs on CPU: DDP gradients, sharded training, and a failing rank.

In the default suite. What keeps them reliable on a loaded 2-core machine (they used to abort
about 1 run in 36 with SIGABRT, "terminate called without an active exception"):

- the spawned ranks meet through a file store in the test's own folder
  (``init_method=file://``), not through ``env://``: no TCPStore server thread in rank 0 that
  rank 1 still talks to while rank 0 exits, and no race for a "free" port that another process
  may take between ``bind(0)`` and the store's own bind;
- gloo is pinned to the loopback interface (``GLOO_SOCKET_IFNAME=lo``);
- every rank drops its DDP wrapper, then leaves through
  :func:`~seqrobust.training.distributed.teardown` (barrier, ``destroy_process_group``) before
  returning, so no gloo thread is alive when the interpreter finalises;
- the failing-rank check runs a real ``torchrun`` job (its agent stops the other rank), where
  rank 0 would otherwise wait in a collective until the timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from seqrobust.models import RecurrentClassifier
from seqrobust.models.classifier import Classifier
from seqrobust.training import TrainConfig, train
from seqrobust.training.checkpoint import load_file_tensors
from seqrobust.training.distributed import setup, teardown
from seqrobust.training.loop import StepLoss

WORLD = 2
LAMS = (0.0, 0.3)


def _join(rank: int, store: str) -> None:
    """Join the two-rank gloo group through the file ``store`` (see the module docstring)."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD),
        SEQROBUST_DIST_TIMEOUT="60",
        GLOO_SOCKET_IFNAME="lo",
    )
    dist.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD,
        timeout=timedelta(seconds=60),
    )


def _input_grad_penalty(forward, x, y, *, generator):
    """‖∇ₓ CE‖², a second-order term through the input gradient."""
    x = x.detach().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(forward(x), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x, create_graph=True)
    return grad.square().sum(dim=(1, 2)).mean()


def _problem():
    torch.manual_seed(5)
    model = RecurrentClassifier(input_size=3, num_classes=4, hidden_size=6).double()
    x = torch.randn(7, 5, 3, dtype=torch.float64)
    y = torch.randint(0, 4, (7,))
    return model, x, y


def _grad_worker(rank: int, store: str, out: str) -> None:
    _join(rank, store)
    ddp, _ = setup(torch.device("cpu"))
    for lam in LAMS:
        model, x, y = _problem()
        objective = torch.nn.parallel.DistributedDataParallel(
            StepLoss(Classifier(model, takes_lengths=False), penalty=_input_grad_penalty, lam=lam)
        )
        index = ddp.shard(torch.arange(len(x)))  # 4 and 3 inputs: uneven shards
        total, *_ = objective(x[index], y[index], None, None)
        (total * len(index) * ddp.world / len(x)).backward()
        if ddp.main:
            save_file({n: p.grad for n, p in model.named_parameters()}, f"{out}.{lam}")
        del objective
    teardown(ddp)


def test_two_process_gradients_equal_single_process(tmp_path):
    out = str(tmp_path / "grads")
    mp.spawn(_grad_worker, args=(str(tmp_path / "store"), out), nprocs=WORLD, join=True)
    for lam in LAMS:
        model, x, y = _problem()
        objective = StepLoss(Classifier(model, takes_lengths=False), penalty=_input_grad_penalty,
                             lam=lam)
        total, *_ = objective(x, y, None, None)
        total.backward()
        ddp_grads = load_file(f"{out}.{lam}")
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


def _train_worker(rank: int, store: str, run_dir: str) -> None:
    _join(rank, store)
    train(TrainConfig(**TINY), run_dir, progress=False)  # leaves the group itself


def test_two_process_training_matches_single_process(tmp_path):
    mp.spawn(
        _train_worker, args=(str(tmp_path / "store"), str(tmp_path / "ddp")), nprocs=WORLD,
        join=True,
    )
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


FAILING_JOB = """
import torch
import torch.distributed as dist

from seqrobust.training.distributed import setup

ddp, _ = setup(torch.device("cpu"))
if ddp.rank == 1:
    raise ValueError("rank 1 found a corrupt shard")
dist.barrier()  # rank 0 waits here until torchrun stops it
"""


def test_failing_rank_ends_the_torchrun_job_with_its_message(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(FAILING_JOB))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SEQROBUST_DIST_TIMEOUT": "300",
           "GLOO_SOCKET_IFNAME": "lo", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", str(WORLD), str(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "ValueError: rank 1 found a corrupt shard" in output
    assert "ChildFailedError" in output  # torchrun's own report of the failed rank
