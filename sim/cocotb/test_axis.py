"""cocotb test of a bnngen `<model>_axis` wrapper with cocotbext-axi's AXI4-Stream source and
sink: random TVALID gaps on the input, random TREADY back-pressure on the output, every result
compared with the reference model's (computed by bnngen, read from BNNGEN_FRAMES), and the
stream rules checked on every cycle by a monitor.

Environment: BNNGEN_FRAMES (JSON: in_bytes, out_bytes, frames: [{pixels: [int], result: int}],
each int written as a decimal string, since a word may be wider than a JSON number carries
exactly), BNNGEN_SEED (random gaps and back-pressure).
"""

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


def pauses(rng, percent):
    """An endless pause pattern: True (pause) in `percent` % of cycles."""
    while True:
        yield rng.randrange(100) < percent


async def check_stream_rules(dut, prefix, errors):
    """AXI4-Stream rules on one stream, every cycle: once TVALID is high it stays high until
    the beat is taken, and TDATA and TLAST do not change meanwhile."""
    valid = getattr(dut, f"{prefix}_tvalid")
    ready = getattr(dut, f"{prefix}_tready")
    data = getattr(dut, f"{prefix}_tdata")
    last = getattr(dut, f"{prefix}_tlast")
    held = None
    while True:
        await RisingEdge(dut.aclk)
        await ReadOnly()
        if dut.aresetn.value == 0:
            held = None
            continue
        v = int(valid.value)
        if held is not None:
            if v != 1:
                errors.append(f"{prefix}: TVALID fell before the beat was taken")
            elif (int(data.value), int(last.value)) != held:
                errors.append(f"{prefix}: TDATA/TLAST changed while TVALID && !TREADY")
        held = (int(data.value), int(last.value)) if v == 1 and int(ready.value) == 0 else None


@cocotb.test()
async def frames_through_the_axis_wrapper(dut):
    spec = json.load(open(os.environ["BNNGEN_FRAMES"]))
    rng = random.Random(int(os.environ.get("BNNGEN_SEED", "1")))
    in_bytes, out_bytes = spec["in_bytes"], spec["out_bytes"]

    cocotb.start_soon(Clock(dut.aclk, 10, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk, dut.aresetn,
                             reset_active_level=False)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk, dut.aresetn,
                         reset_active_level=False)
    source.set_pause_generator(pauses(rng, 30))
    sink.set_pause_generator(pauses(rng, 40))
    errors = []
    cocotb.start_soon(check_stream_rules(dut, "m_axis", errors))
    cocotb.start_soon(check_stream_rules(dut, "s_axis", errors))

    # While aresetn is low the wrapper takes no pixel and offers no result (the core's own
    # s_axis_tready is high in reset).
    dut.aresetn.value = 0
    for _ in range(4):
        await RisingEdge(dut.aclk)
        await ReadOnly()
        assert int(dut.s_axis_tready.value) == 0, "s_axis_tready high during reset"
        assert int(dut.m_axis_tvalid.value) == 0, "m_axis_tvalid high during reset"
    await RisingEdge(dut.aclk)
    dut.aresetn.value = 1

    for frame in spec["frames"]:
        data = b"".join(int(p).to_bytes(in_bytes, "little") for p in frame["pixels"])
        await source.send(AxiStreamFrame(data))
    for i, frame in enumerate(spec["frames"]):
        got = await sink.recv()
        assert len(got.tdata) == out_bytes, f"frame {i}: {len(got.tdata)} bytes, one beat expected"
        word = int.from_bytes(bytes(got.tdata), "little")
        expected = int(frame["result"])
        assert word == expected, f"frame {i}: got {word:#x}, reference {expected:#x}"
    for _ in range(50):
        await RisingEdge(dut.aclk)
    assert sink.empty(), "a result beat more than frames sent"
    assert int(dut.frame_error.value) == 0, "frame_error set"
    assert not errors, "; ".join(errors[:5])
    dut._log.info("%d frames bit-exact through %s", len(spec["frames"]), dut._name)
