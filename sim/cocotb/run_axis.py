"""Build a bnngen RTL folder with Icarus through cocotb's runner and run test_axis.py on its
`<model>_axis` wrapper. Exit status 0 when the test passed, 1 otherwise.

    python run_axis.py RTL_DIR TOP FRAMES_JSON SEED BUILD_DIR
"""

import os
import sys
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner


def main():
    rtl, top, frames, seed, build = sys.argv[1:6]
    rtl = Path(rtl).resolve()
    sources = [rtl / f for f in (rtl / "files.f").read_text().split()]
    runner = get_runner("icarus")
    runner.build(sources=sources, hdl_toplevel=top, build_dir=build, always=True,
                 timescale=("1ns", "1ps"))
    here = Path(__file__).resolve().parent
    xml = runner.test(hdl_toplevel=top, test_module="test_axis", test_dir=str(here),
                      build_dir=build, seed=int(seed),
                      extra_env={"BNNGEN_FRAMES": str(Path(frames).resolve()),
                                 "BNNGEN_SEED": seed},
                      results_xml=str(Path(build).resolve() / "results.xml"))
    total, failed = get_results(xml)
    print(f"cocotb: {total} tests, {failed} failed")
    sys.exit(1 if failed or total == 0 else 0)


if __name__ == "__main__":
    main()
