//! Regression for the gate-level mismatch of the `generic` target (issue 4): Verilator 5.006
//! folds `y = (t ^ ~c) ^ ~(u ^ t)` into the complement of the right answer (its
//! const-bit-op-tree pass loses a NOT when two XORs sharing an operand are merged; upstream
//! verilator#4059 and #4857). ABC emits exactly this shape into generic netlists. Every
//! simulator bnngen builds uses `tools::verilator::SIM_FLAGS`; this test builds the minimal
//! case with them and checks all 32 input combinations. Needs verilator, g++ and make
//! (scripts/setup.sh); fails, never skips, without them.

use bnngen::tools::verilator::{verilator, SIM_FLAGS};
use std::path::Path;
use std::process::Command;

const XOR_FOLD: &str = "module xor_fold;
  reg [4:0] in;
  wire a = in[0], b = in[1], c = in[2], d = in[3], e = in[4];
  wire t = a & ~b;
  wire x1 = t ^ ~c;
  wire u = d & ~e;
  wire x2 = ~(u ^ t);
  wire y = x1 ^ x2;
  integer i, bad;
  initial begin
    bad = 0;
    for (i = 0; i < 32; i = i + 1) begin
      in = i[4:0];
      #1;
      if (y !== (c ^ u)) bad = bad + 1;
    end
    $display(\"bad=%0d\", bad);
    $finish;
  end
endmodule
";

#[test]
fn shared_flags_keep_the_not_in_xor_trees() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xor-fold");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("xor_fold.v"), XOR_FOLD).unwrap();
    let v = verilator().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(v)
        .current_dir(&dir)
        .args(["--binary", "-Wno-fatal", "-Wno-lint", "-Mdir", "obj"])
        .args(SIM_FLAGS)
        .arg("xor_fold.v")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verilator --binary failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("obj/Vxor_fold")).output().unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("bad=0"), "XOR tree miscomputed: {text}");
}
