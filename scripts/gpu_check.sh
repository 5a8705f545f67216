#!/usr/bin/env bash
# The device checks, in one run on a lent GPU machine (about 5 minutes on an H200):
#   1. the CUDA tests (pytest -m gpu: the forward chooser on cuDNN, native CUDA RNN kernels,
#      fused attention and packed sequences against float64 CPU references; training
#      objectives in train mode; analyze and the PGD curve on the device);
#   2. benchmarks/bench_first_order_path.py and bench_training_paths.py on cuda.
# Everything lands in $OUT (default benchmarks/results): gpu-tests.log, the benchmark JSON
# and gpu-check.log. Copy the JSON into benchmarks/results/ and commit it.
#
# Usage (device tool, from the repository root): bash scripts/gpu_check.sh
# Check the script itself on a CPU machine: SEQROBUST_TEST_DEVICE=cpu DEVICE=cpu bash ...
set -uo pipefail
OUT=${OUT:-benchmarks/results}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH=src PYTHONUNBUFFERED=1
checks() {
  local status=0
  date -u
  nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  $PY -m pytest -q -m gpu -p no:cacheprovider tests 2>&1 | tee "$OUT/gpu-tests.log" || status=1
  $PY benchmarks/bench_first_order_path.py --device "$DEVICE" --rounds 5 \
    --out "$OUT/first_order_path-$DEVICE.json" || status=1
  $PY benchmarks/bench_training_paths.py --device "$DEVICE" --rounds 5 || status=1
  cp "benchmarks/results/training_paths-$DEVICE.json" "$OUT/" 2>/dev/null || true
  echo "gpu_check: exit $status"
  return $status
}
checks 2>&1 | tee "$OUT/gpu-check.log"
exit "${PIPESTATUS[0]}"
