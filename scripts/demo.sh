#!/usr/bin/env bash
# The main job on a model (default: the shipped Fashion-MNIST model): install missing tools,
# build bnngen, then run the whole flow (check, plan, generate, bit-exact co-simulation on the
# Fashion-MNIST test set, synthesis, report) into rtl-out/<model name>/.
#
# Usage: scripts/demo.sh [MODEL [HW]] ; extra flow options go in BNNGEN_FLOW_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/fashion-default.toml}
hw=${2:-models/fashion-default.hw.toml}
scripts/setup.sh
# The flow needs no training code, so leave out the `train` feature (burn) to build quickly.
cargo build --release --quiet --no-default-features
# shellcheck disable=SC2086
target/release/bnngen flow "$model" --hw "$hw" ${BNNGEN_FLOW_ARGS:-}
