#!/usr/bin/env bash
# Gate-level bench: each shipped model's post-synthesis netlist, on its own default target,
# simulated on the first N Fashion-MNIST test images (default 200) with random input gaps and
# output back-pressure; every class and score must equal the reference model's as integers.
# Too long for CI on 2 cores, so it is a bench; the figures are in docs/benchmarks.md.
#
#   scripts/bench-gate.sh [N]          (BNNGEN=path/to/bnngen to use a given binary)
#
# Prints one table row per model: target, images, result, LUTs/FFs/BRAMs, wall seconds.
# Runs in a temporary folder (bnngen writes rtl-out/ there) and exits 1 on any mismatch.
# ECP5's DP16KD block RAM is simulated with bnngen's own model (src/rtl/ebr/DP16KD.v); a
# netlist with a cell that has no model at all is reported as not simulated.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-200}
IMAGES=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
[ -f "$IMAGES" ] || { echo "bench-gate: $IMAGES is missing: run scripts/setup.sh" >&2; exit 2; }
if [ -z "${BNNGEN:-}" ]; then
    cargo build --quiet
    BNNGEN=$ROOT/target/debug/bnngen
fi
BIN=$BNNGEN
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bnngen-bench-gate.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT

status=0
printf '| model | target | images | result | LUTs | FFs | BRAMs | wall s |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for row in "fashion-default ecp5-85k" "fashion-up5k-pruned ice40-up5k"; do
    set -- $row
    model=$1 target=$2
    start=$(date +%s)
    out=$(cd "$WORK" && "$BIN" simulate "$ROOT/models/$model.toml" --hw "$ROOT/models/$model.hw.toml" \
        --netlist "$target" --images "$IMAGES" --limit "$N" 2>&1) || true
    wall=$(($(date +%s) - start))
    line=$(printf '%s\n' "$out" | grep -m1 '^simulated' || true)
    cell=""
    if printf '%s' "$line" | grep -q 'all classes and scores match the reference'; then
        result="bit-exact"
    elif cell=$(printf '%s\n' "$out" | grep -o 'no simulation model for [A-Z0-9]*' | head -n1) && [ -n "$cell" ]; then
        # A cell without any simulation model: not simulated, and said so.
        result="not simulated: $cell"
    else
        result="FAILED"
        status=1
        printf '%s\n' "$out" >&2
    fi
    res=$(printf '%s' "$line" | sed -n 's/.*; \([0-9]*\) LUTs, \([0-9]*\) FFs, \([0-9]*\) BRAMs).*/\1 | \2 | \3/p')
    printf '| %s | %s | %s | %s | %s | %s |\n' "$model" "$target" "$N" "$result" "${res:-? | ? | ?}" "$wall"
done
exit $status
