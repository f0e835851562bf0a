#!/usr/bin/env bash
# A short, bounded coverage-guided fuzzing run of the `model_to_verilog` target (fuzz/) on the
# stable toolchain, as CI runs it after the tests: libFuzzer with its SanitizerCoverage
# instrumentation, without AddressSanitizer (`--sanitizer none`, which needs no -Z flag).
#
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
#
# The run starts from the model files the tests use (copied into a fresh temporary corpus, so
# nothing in the repository is written but fuzz/target and, on a crash, fuzz/artifacts). A
# crash, timeout or input over 512 MB fails with exit 1 and names the saved input under
# fuzz/artifacts/model_to_verilog/; replay it with the command printed, then add it to
# tests/fuzz_regressions/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

cargo fuzz --version >/dev/null 2>&1 ||
  { echo "fuzz: cargo-fuzz not found; run scripts/setup.sh (it installs the pinned version)" >&2; exit 1; }

corpus="$(mktemp -d "${TMPDIR:-/tmp}/bnngen-fuzz-corpus.XXXXXX")"
stamp="$(mktemp "${TMPDIR:-/tmp}/bnngen-fuzz-start.XXXXXX")"
trap 'rm -rf -- "$corpus"; rm -f -- "$stamp"' EXIT
n=0
for f in models/tiny.toml tests/fixtures/models/*.toml tests/bad_models/* \
  tests/bad_inputs/model_*.toml tests/fuzz_regressions/*; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  cp -- "$f" "$corpus/seed-$n"
done
echo "fuzz: $n seed inputs, ${seconds} s"

cd fuzz
set +e
cargo fuzz run --sanitizer none model_to_verilog "$corpus" -- \
  -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=512 -print_final_stats=1
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (exit $status): bnngen crashed, hung or ran out of memory on an input." >&2
  find artifacts/model_to_verilog -type f -newer "$stamp" 2>/dev/null | sort | while read -r a; do
    echo "fuzz: input saved at fuzz/$a" >&2
    echo "fuzz:   replay: (cd fuzz && cargo fuzz run --sanitizer none model_to_verilog $a)" >&2
  done
  echo "fuzz: fix the cause, then add the input to tests/fuzz_regressions/ (replayed by cargo test)." >&2
  exit 1
fi
echo "fuzz: no crash; corpus now $(find "$corpus" -type f | wc -l) inputs"
