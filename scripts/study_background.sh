#!/usr/bin/env bash
# Start (or resume) a long study in the background: worker processes with one thread each,
# run folders in runs/STUDY, per-model records in docs/results/STUDY/records (commit those as
# they appear: a fresh clone resumes from them). Log: runs/STUDY.log.
#
# The study runs from a frozen copy of the code (a git worktree in ../STUDY-code, put first on
# PYTHONPATH), so that editing the working tree while it runs cannot change what the running
# study computes. The commit it runs is kept in docs/results/STUDY/code-commit (commit it
# with the records): a new machine builds its worktree from that commit, not from HEAD, and
# so continues the study with the code that wrote its records. To move the study to a newer
# commit (with it stopped): git -C ../STUDY-code checkout --detach COMMIT; the next start
# records it.
# Progress at any time (seconds, trains nothing): .venv/bin/seqrobust reproduce STUDY
# --report-only --out /tmp/STUDY --records docs/results/STUDY/records (its first line).
# Stop: kill the PID printed below (its workers exit within seconds).
# Usage: bash scripts/study_background.sh frontier|architectures [WORKERS] [extra options]
set -euo pipefail
cd "$(dirname "$0")/.."
STUDY=${1:?usage: study_background.sh frontier|architectures [WORKERS] [options]}
WORKERS=${2:-1}
case $WORKERS in ''|*[!0-9]*) echo "error: WORKERS must be a positive integer, got '$WORKERS'" >&2; exit 2;; esac
shift $(( $# >= 2 ? 2 : 1 ))
ROOT=$(pwd)
CODE=${STUDY_CODE:-$ROOT/../$STUDY-code}
PIN="docs/results/$STUDY/code-commit"
if [ ! -d "$CODE/src/seqrobust" ]; then
  COMMIT=$(cat "$PIN" 2>/dev/null || git rev-parse HEAD)
  git worktree add -f --detach "$CODE" "$COMMIT"
fi
mkdir -p "$(dirname "$PIN")"
git -C "$CODE" rev-parse HEAD > "$PIN"
mkdir -p runs
OMP_NUM_THREADS=1 PYTHONPATH="$CODE/src" nohup .venv/bin/python -m seqrobust reproduce "$STUDY" \
  --out "runs/$STUDY" --records "docs/results/$STUDY/records" --workers "$WORKERS" --device cpu \
  "$@" >> "runs/$STUDY.log" 2>&1 &
echo "$STUDY study started (pid $!) from the code in $CODE" \
  "(commit $(git -C "$CODE" rev-parse --short HEAD)); log: runs/$STUDY.log"
