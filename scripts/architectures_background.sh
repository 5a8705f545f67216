#!/usr/bin/env bash
# Start (or resume) the full architecture study in the background on both cores: two workers,
# one thread each, no progress bars in the log (scripts/study_background.sh).
# Usage: bash scripts/architectures_background.sh [options]
exec bash "$(dirname "$0")/study_background.sh" architectures 2 --quiet "$@"
