#!/usr/bin/env bash
# The main job on a model (default: the shipped Fashion-MNIST model): install missing tools,
# build bnngen, then check the model and classify the Fashion-MNIST test set with the
# reference model.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/fashion-default.toml}
scripts/setup.sh
cargo build --release --quiet
data=/usr/share/datasets/fashion-mnist
target/release/bnngen check "$model"
target/release/bnngen infer "$model" "$data/t10k-images-idx3-ubyte.gz" --labels "$data/t10k-labels-idx1-ubyte.gz"
