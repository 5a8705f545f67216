#!/usr/bin/env bash
# Start (or resume) the full frontier study in the background: two worker processes with one
# thread each, run folders in runs/frontier, per-model records in docs/results/frontier/records
# (commit those as they appear: a fresh clone resumes from them). Log: runs/frontier.log.
# Usage: bash scripts/frontier_background.sh [extra reproduce-frontier options]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
OMP_NUM_THREADS=1 nohup .venv/bin/seqrobust reproduce frontier --out runs/frontier \
  --records docs/results/frontier/records --workers 2 --device cpu "$@" \
  >> runs/frontier.log 2>&1 &
echo "frontier study started (pid $!); log: runs/frontier.log"
