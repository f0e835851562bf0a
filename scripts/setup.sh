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
have yosys || need_apt+=(yosys)
have nextpnr-ice40 || need_apt+=(nextpnr-ice40)
have icepack || need_apt+=(fpga-icestorm)
dpkg -s fpga-icestorm-chipdb >/dev/null 2>&1 || need_apt+=(fpga-icestorm-chipdb)
have g++ || need_apt+=(g++)
have make || need_apt+=(make)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
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

have cargo || { echo "setup: cargo not found; install a Rust toolchain (rustup) first" >&2; exit 1; }
echo "setup: tools ready ($(verilator --version | head -n1); $(yosys -V))"
