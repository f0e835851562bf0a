#!/usr/bin/env bash
# Rerun the whole results study of docs/results.md ("The study") from scratch, then print its
# table of means and spreads. Every row of study/rows.txt is trained again with a release
# fast-train build of HEAD and tested on all 10,000 test images; the new runs.csv can be
# compared line by line with docs/study/runs.csv (the same commands, seeds and configs).
#
#   scripts/reproduce-results.sh DIR     DIR must be new or empty; it receives the binary
#                                        (DIR/bin), the per-run files (DIR/out) and the CSV
#                                        (DIR/runs.csv)
#
# Machine time: about 11-12 hours on a 2-core machine (docs/study/README.md, "Cost"; the
# measured total is in docs/benchmarks.md). It resumes like scripts/study.sh: run it again
# with the same DIR (after removing nothing) and finished rows are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-}
[ -n "$DIR" ] || { echo "usage: scripts/reproduce-results.sh DIR" >&2; exit 2; }
if [ -e "$DIR" ] && [ ! -f "$DIR/runs.csv" ] && [ -n "$(ls -A "$DIR")" ]; then
    echo "reproduce-results.sh: $DIR is not empty and holds no earlier run (no runs.csv)" >&2
    exit 2
fi
mkdir -p "$DIR"
DIR=$(realpath "$DIR")
BIN=$(STUDY_BIN_DIR="$DIR/bin" scripts/study.sh build)
STUDY_CSV="$DIR/runs.csv" STUDY_OUT="$DIR/out" scripts/study.sh run "$BIN"
scripts/study-summary.sh "$DIR/runs.csv"
