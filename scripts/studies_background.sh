#!/usr/bin/env bash
# Both long studies on this machine's two cores, one after the other: the frontier study with
# two workers now and, once it has ended (at once if its records are complete), the
# architecture study with two workers (scripts/study_background.sh each).
# Usage: bash scripts/studies_background.sh
set -euo pipefail
cd "$(dirname "$0")/.."
line=$(bash scripts/study_background.sh frontier 2)
echo "$line"
pid=$(echo "$line" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
mkdir -p runs
nohup bash -c "while kill -0 $pid 2>/dev/null; do sleep 60; done
bash scripts/study_background.sh architectures 2 --quiet" >> runs/studies-chain.log 2>&1 &
echo "architectures study queued after pid $pid (two workers); log: runs/architectures.log"
