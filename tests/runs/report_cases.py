"""Tiny run folders with every result the report reads (imported by name; not a conftest):
a plain and a Hessian-regularised MNIST-subset RNN and a JapaneseVowels RNN, each through
``analyze``, ``attack`` (PGD and Square on the same inputs) and (vowels) ``noise``, built once
per test session through ``seqrobust.cli.main``."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqrobust.cli import main

MNIST_EPS = "2,8,16,30"
VOWELS_EPS = "0.1,0.25,0.5"
_TRAIN_MNIST = ["--dataset", "mnist-subset", "--epochs", "3", "--hidden", "20", "--train-limit",
                "1200", "--test-limit", "40", "--batch-size", "50", "--lr", "0.01"]
_TRAIN_VOWELS = ["--dataset", "JapaneseVowels", "--epochs", "2", "--hidden", "8", "--train-limit",
                 "120", "--test-limit", "30", "--batch-size", "10", "--lr", "0.02"]
_CACHE: dict[str, Path] = {}


def _run(args: list[str]) -> None:
    assert main([*args, "--quiet"]) == 0, args


def _measure(run: Path, eps: str, *, n: int, attacked: int, noise: bool) -> None:
    _run(["analyze", str(run), "--n", str(n), "--batch-size", "10", "--lanczos-iters", "10",
          "--fmn-steps", "15", "--profile-n", str(n), "--no-plots"])
    size = ["--n", str(attacked)]
    _run(["attack", str(run), "--attack", "pgd", "--eps", eps, "--steps", "5", *size])
    _run(["attack", str(run), "--attack", "square", "--eps", eps, "--queries", "20", *size])
    if noise:
        _run(["noise", str(run), "--n", "1", "--samples", "20"])


def report_runs(factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"mnist", "hessian", "vowels"}`` → run folder, built on first use (about 25 s)."""
    if not _CACHE:
        root = factory.mktemp("report-runs")
        hessian = [*_TRAIN_MNIST, "--reg", "hessian", "--lam", "0.01", "--reg-fraction", "0.5"]
        hessian[hessian.index("--epochs") + 1] = "2"
        builds = (("mnist", _TRAIN_MNIST, MNIST_EPS, 8, 40, False),
                  ("hessian", hessian, MNIST_EPS, 5, 40, False),
                  ("vowels", _TRAIN_VOWELS, VOWELS_EPS, 6, 30, True))
        for name, train, eps, n, attacked, noise in builds:
            run = root / name
            _run(["train", *train, "--out", str(run)])
            _measure(run, eps, n=n, attacked=attacked, noise=noise)
            _CACHE[name] = run
    return dict(_CACHE)
