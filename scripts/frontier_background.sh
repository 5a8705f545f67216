#!/usr/bin/env bash
# Start (or resume) the full frontier study in the background with two workers
# (scripts/study_background.sh). Usage: bash scripts/frontier_background.sh [options]
exec bash "$(dirname "$0")/study_background.sh" frontier 2 "$@"
