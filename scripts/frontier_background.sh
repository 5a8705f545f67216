#!/usr/bin/env bash
# Start (or resume) the full frontier study in the background: two worker processes with one
# thread each, run folders in runs/frontier, per-model records in docs/results/frontier/records
# (commit those as they appear: a fresh clone resumes from them). Log: runs/frontier.log.
#
# The study runs from a frozen copy of the code (a git worktree of the current commit in
# ../frontier-code, put first on PYTHONPATH), so that editing the working tree while it runs
# cannot change what the running study computes.
# Usage: bash scripts/frontier_background.sh [extra reproduce-frontier options]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CODE=${FRONTIER_CODE:-$ROOT/../frontier-code}
if [ ! -d "$CODE/src/seqrobust" ]; then
  git worktree add -f --detach "$CODE" HEAD
fi
mkdir -p runs
cd "$ROOT"
OMP_NUM_THREADS=1 PYTHONPATH="$CODE/src" nohup .venv/bin/python -m seqrobust reproduce frontier \
  --out runs/frontier --records docs/results/frontier/records --workers 2 --device cpu "$@" \
  >> runs/frontier.log 2>&1 &
echo "frontier study started (pid $!) from the code in $CODE; log: runs/frontier.log"
