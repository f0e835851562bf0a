//! bnngen's own cell models (`bnngen::synth::cells`) against Yosys: a design whose memories
//! Yosys maps onto ECP5 DP16KD cells in every width (1 to 36 bits) and write mode it uses is
//! simulated twice in Icarus Verilog, as RTL and as the mapped netlist with Yosys' ECP5 cell
//! library plus bnngen's DP16KD model, on the same random stimulus. Every output bit of every
//! cycle must agree: the model reads back what Yosys packed into INITVAL and handles the
//! addressing, byte enables and read-during-write the way Yosys' mapping assumes.
//! Needs yosys, iverilog and vvp (scripts/setup.sh installs them); fails, never skips,
//! without them.

use bnngen::prng::SplitMix64;
use bnngen::synth::{cells, Target};
use bnngen::tools::locate::{find, IVERILOG, VVP, YOSYS};
use std::path::Path;
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cells");
const CYCLES: usize = 2000;

fn run(what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compile `sources` (paths relative to `dir`) with the testbench and run it.
fn simulate(dir: &Path, name: &str, sources: &[&str]) -> String {
    let iverilog = find(IVERILOG).unwrap_or_else(|e| panic!("{e}")).path;
    let vvp = find(VVP).unwrap_or_else(|e| panic!("{e}")).path;
    let define = format!("-DCYCLES={CYCLES}");
    let out = format!("{name}.vvp");
    let mut args = vec!["-g2005", "-s", "tb", define.as_str(), "-o", out.as_str()];
    args.push("-I/usr/share/yosys/ecp5");
    args.extend_from_slice(sources);
    args.push("tb.v");
    run(
        "iverilog",
        Command::new(iverilog).current_dir(dir).args(&args),
    );
    run("vvp", Command::new(vvp).current_dir(dir).args(["-n", &out]))
}

#[test]
fn dp16kd_model_matches_the_rtl_in_every_width_yosys_maps() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    // ROM contents, 36 bits of randomness per word cut to each ROM's width.
    let mut rng = SplitMix64::new(16);
    for (name, width, depth) in [
        ("rom1", 1, 16384),
        ("rom2", 2, 8192),
        ("rom4", 4, 4096),
        ("rom9", 9, 2048),
        ("rom18", 18, 1024),
        ("rom36", 36, 512),
    ] {
        let words: Vec<String> = (0..depth)
            .map(|_| format!("{:x}", rng.next_u64() & ((1u64 << width) - 1)))
            .collect();
        std::fs::write(work.join(format!("{name}.hex")), words.join("\n") + "\n").unwrap();
    }
    for (from, to) in [("dp16kd_memories.v", "memories.v"), ("dp16kd_tb.v", "tb.v")] {
        std::fs::copy(Path::new(FIXTURES).join(from), work.join(to)).unwrap();
    }

    let yosys = find(YOSYS).unwrap_or_else(|e| panic!("{e}")).path;
    let script = "read_verilog memories.v\nsynth_ecp5 -top memories -nodsp\n\
                  write_verilog -noattr netlist.v\n";
    std::fs::write(work.join("map.ys"), script).unwrap();
    run(
        "yosys",
        Command::new(yosys).current_dir(work).args(["-q", "map.ys"]),
    );
    let netlist = std::fs::read_to_string(work.join("netlist.v")).unwrap();

    // The netlist really exercises the model: every memory is a DP16KD, in every width.
    let cells = netlist.lines().filter(|l| l.trim() == "DP16KD #(").count();
    assert!(
        cells >= 9,
        "{cells} DP16KD cells; the memories went elsewhere"
    );
    for width in [1, 2, 4, 9, 18, 36] {
        let param = format!("(32'd{width})");
        assert!(
            netlist
                .lines()
                .any(|l| l.contains(".DATA_WIDTH_") && l.contains(&param)),
            "no DP16KD port of width {width} in the netlist"
        );
    }
    for mode in ["NORMAL", "READBEFOREWRITE"] {
        assert!(
            netlist.contains(&format!(".WRITEMODE_A(\"{mode}\")")),
            "no DP16KD in WRITEMODE {mode}"
        );
    }

    let (library, _) = Target::Ecp5_85k.cell_models().unwrap();
    let library = std::fs::read_to_string(library).unwrap();
    std::fs::write(
        work.join("cells.v"),
        cells::with_own_models(&library, Target::Ecp5_85k),
    )
    .unwrap();

    let rtl = simulate(work, "rtl", &["memories.v"]);
    let gates = simulate(work, "gates", &["netlist.v", "cells.v"]);
    let rtl: Vec<&str> = rtl.lines().collect();
    let gates: Vec<&str> = gates.lines().collect();
    assert_eq!(rtl.len(), CYCLES, "one RTL line per cycle");
    assert_eq!(gates.len(), CYCLES, "one netlist line per cycle");
    assert!(
        rtl.iter().all(|l| !l.contains(['x', 'X', 'z', 'Z'])),
        "the RTL outputs are all defined"
    );
    let distinct: std::collections::BTreeSet<_> = rtl.iter().map(|l| l.split(' ').nth(1)).collect();
    assert!(
        distinct.len() > CYCLES / 2,
        "the outputs change from cycle to cycle"
    );
    for (r, g) in rtl.iter().zip(&gates) {
        assert_eq!(r, g, "RTL and DP16KD netlist differ (cycle, output in hex)");
    }
}

/// The model's read-during-write rule, which RTL co-simulation leans on (`rtl_ecp5_cells`):
/// a port B read of the word port A writes at the same edge returns it inverted, while a read
/// of the other word of the same 18-bit row, or of the word after the write, is exact.
#[test]
fn dp16kd_model_inverts_a_read_of_the_word_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("DP16KD.v"), cells::DP16KD).unwrap();
    // Width 9: word w is half w % 2 of row w / 2, at ADx[13:3] = w.
    let row0: u32 = 0x2_a5a5;
    let (word0, word1) = (row0 & 0x1ff, row0 >> 9);
    let bus = |pin: &str, sig: &str, n: usize| -> Vec<String> {
        (0..n).map(|i| format!(".{pin}{i}({sig}[{i}])")).collect()
    };
    let mut ports = Vec::new();
    for (pin, sig, n) in [
        ("DIA", "dia", 18),
        ("ADA", "ada", 14),
        ("DOA", "doa", 18),
        ("DIB", "zero", 18),
        ("ADB", "adb", 14),
        ("DOB", "dob", 18),
    ] {
        ports.extend(bus(pin, sig, n));
    }
    for (pin, sig) in [
        ("CEA", "wea"),
        ("OCEA", "1'b0"),
        ("CLKA", "clk"),
        ("WEA", "wea"),
        ("RSTA", "1'b0"),
        ("CEB", "1'b1"),
        ("OCEB", "1'b0"),
        ("CLKB", "clk"),
        ("WEB", "1'b0"),
        ("RSTB", "1'b0"),
    ] {
        ports.push(format!(".{pin}({sig})"));
    }
    for cs in ["CSA2", "CSA1", "CSA0", "CSB2", "CSB1", "CSB0"] {
        ports.push(format!(".{cs}(1'b0)"));
    }
    // Each step: port A writes `data` at word `wa` (or nothing), port B reads word `rb`.
    let steps: [(Option<(u32, u32)>, u32); 4] = [
        (Some((0, 0x0f0)), 0),
        (None, 0),
        (Some((1, 0x055)), 0),
        (None, 1),
    ];
    let mut body = String::new();
    for (write, rb) in steps {
        let (we, wa, data) = write.map_or((0, 0, 0), |(wa, d)| (1, wa, d));
        body.push_str(&format!(
            "        wea = {we}; ada = {}; dia = 18'h{data:x}; adb = {};\n        \
             #1 clk = 1; #1 clk = 0; $display(\"%h\", dob[8:0]);\n",
            wa << 3,
            rb << 3
        ));
    }
    let tb = format!(
        "module tb;\n    reg clk = 0, wea = 0;\n    reg [13:0] ada = 0, adb = 0;\n    \
         reg [17:0] dia = 0;\n    wire [17:0] zero = 18'h0;\n    wire [17:0] doa, dob;\n    \
         DP16KD #(.DATA_WIDTH_A(9), .DATA_WIDTH_B(9), .INITVAL_00(320'h{row0:x})) c (\n        \
         {}\n    );\n    initial begin\n{body}        $finish;\n    end\nendmodule\n",
        ports.join(",\n        ")
    );
    std::fs::write(work.join("tb.v"), tb).unwrap();
    let out = simulate(work, "collide", &["DP16KD.v"]);
    let got: Vec<&str> = out.lines().collect();
    let want: Vec<String> = [!word0 & 0x1ff, 0x0f0, 0x0f0, 0x055]
        .iter()
        .map(|w| format!("{w:03x}"))
        .collect();
    assert_eq!(got, want, "port B reads (word1 was {word1:03x})");
}
