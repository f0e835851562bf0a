#!/usr/bin/env bash
# The whole test suite, as CI runs it: install missing tools, then format, lint and test.
set -euo pipefail
cd "$(dirname "$0")/.."
BNNGEN_BROWSER=1 scripts/setup.sh
# Free disk, printed so a CI log shows it: a full build of the tests needs about 2 GB.
df -h . "${TMPDIR:-/tmp}" || true
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test
echo "== reference model again on the portable kernel (the fallback for CPUs without AVX)"
BNNGEN_KERNEL=portable cargo test --test reference_props
echo "== fuzzing: a bounded coverage-guided run on stable (scripts/fuzz.sh)"
scripts/fuzz.sh "${BNNGEN_FUZZ_SECONDS:-60}"
