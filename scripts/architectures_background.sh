#!/usr/bin/env bash
# Start (or resume) the full architecture study in the background with one worker
# (scripts/study_background.sh; the frontier study takes the other core).
# Usage: bash scripts/architectures_background.sh [options]
exec bash "$(dirname "$0")/study_background.sh" architectures 1 "$@"
