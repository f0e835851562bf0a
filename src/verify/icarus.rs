//! The second simulator: Icarus Verilog runs the generated RTL with its own plain-Verilog
//! testbench (`sim/icarus_tb.v`, not the Verilator C++ harness), and the result beats are
//! compared with the reference model by the same integer comparison as Verilator's.
//!
//! Icarus is 4-state and evaluates in its own order, so a pass also shows that no result
//! depends on an uninitialized register or on Verilator's 2-state choices; the testbench ends
//! the run at the first X or Z on an output. It is about 200 times slower than Verilator, so
//! it is for small models and a few frames.

use super::{compare, SimReport, Stress, VerifyError};
use crate::input::Image;
use crate::model::Model;
use crate::plan::Plan;
use crate::prng::SplitMix64;
use crate::rtl::{self, GenOptions};
use crate::tools::child::dies_with_bnngen;
use crate::tools::locate::{find, IVERILOG, VVP};
use crate::tools::ToolError;
use std::path::Path;
use std::process::Command;

/// The testbench source, compiled into bnngen so the binary works from any directory.
pub const TESTBENCH: &str = include_str!("../../sim/icarus_tb.v");

/// What the testbench is compiled for: the top and its port widths, and the run's size.
#[derive(Debug, Clone)]
pub struct Bench {
    pub top: String,
    pub in_width: u32,
    pub out_width: u32,
    pub pixels: usize,
    pub frames: usize,
    pub timeout: u64,
}

/// Stimulus memory images (`stim_pix.hex`, `stim_gap.hex`, `stim_rdy.hex`, see
/// `sim/icarus_tb.v`) and the ready pattern's length.
#[derive(Debug, Clone)]
pub struct Stimulus {
    pub pixels: String,
    pub gaps: String,
    pub ready: String,
    pub ready_len: usize,
}

/// Generate the RTL into `dir` (which must be empty or absent), write the testbench and its
/// stimulus beside it, run Icarus there and compare every result with the reference model.
pub fn cosimulate(
    model: &Model,
    plan: &Plan,
    images: &[Image],
    stress: Stress,
    dir: &Path,
) -> Result<SimReport, VerifyError> {
    let design = generate(model, plan)?;
    let (bench, stim) = bench_for(model, plan, &design, images, stress);
    let results = run_bench(dir, &rtl::render(&design), &bench, &stim)?;
    compare(model, &design, images, &results, false, false)
}

/// Simulate the RTL folder `rtl_dir` as written (by `bnngen generate`), with Icarus started in
/// another folder, `work`: the sources are named by absolute path, so this shows that the
/// RTL needs nothing from the simulator's working directory (its ROMs are in the modules).
pub fn cosimulate_written(
    model: &Model,
    plan: &Plan,
    images: &[Image],
    stress: Stress,
    rtl_dir: &Path,
    work: &Path,
) -> Result<SimReport, VerifyError> {
    let design = generate(model, plan)?;
    let (bench, stim) = bench_for(model, plan, &design, images, stress);
    let rtl_dir = std::path::absolute(rtl_dir).map_err(ToolError::from)?;
    let list = std::fs::read_to_string(rtl_dir.join("files.f")).map_err(ToolError::from)?;
    let sources: String = (list.lines().filter(|l| !l.trim().is_empty()))
        .map(|f| format!("{}\n", rtl_dir.join(f).display()))
        .collect();
    let results = run_bench(work, &[("files.f".to_string(), sources)], &bench, &stim)?;
    compare(model, &design, images, &results, false, false)
}

fn generate(model: &Model, plan: &Plan) -> Result<rtl::Design, VerifyError> {
    rtl::generate(model, plan, GenOptions::default())
        .map_err(|e| VerifyError::Generate(e.to_string()))
}

/// The testbench's parameters and stimulus for `images` through `design`.
fn bench_for(
    model: &Model,
    plan: &Plan,
    design: &rtl::Design,
    images: &[Image],
    stress: Stress,
) -> (Bench, Stimulus) {
    let bench = Bench {
        top: design.top.clone(),
        in_width: design.input_width,
        out_width: design.class_width + design.score_width * design.classes as u32,
        pixels: model.input.height * model.input.width,
        frames: images.len(),
        timeout: 200_000 + 400 * (images.len() as u64 + 2) * (plan.cycles_per_frame + 1000),
    };
    (bench, stimulus(model, plan, design, images, stress))
}

/// Write `files` (with their `files.f`), the testbench and `stim` into `dir`, compile with
/// iverilog and run with vvp there; returns the result lines (`R`, then `END` or `TIMEOUT`).
/// An X or Z on an output is an error.
pub fn run_bench(
    dir: &Path,
    files: &[(String, String)],
    bench: &Bench,
    stim: &Stimulus,
) -> Result<String, VerifyError> {
    let iverilog = find(IVERILOG)?.path;
    let vvp = find(VVP)?.path;
    std::fs::create_dir_all(dir).map_err(ToolError::from)?;
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(ToolError::from)?;
    }
    std::fs::write(dir.join("icarus_tb.v"), TESTBENCH).map_err(ToolError::from)?;
    for (name, text) in [
        ("stim_pix.hex", &stim.pixels),
        ("stim_gap.hex", &stim.gaps),
        ("stim_rdy.hex", &stim.ready),
    ] {
        std::fs::write(dir.join(name), text).map_err(ToolError::from)?;
    }
    let defines = [
        format!("-DDUT={}", bench.top),
        format!("-DIN_W={}", bench.in_width),
        format!("-DOUT_W={}", bench.out_width),
        format!("-DPIXELS={}", bench.pixels),
        format!("-DFRAMES={}", bench.frames),
        format!("-DPLEN={}", stim.ready_len),
        format!("-DTIMEOUT={}", bench.timeout),
    ];
    let run = |tool: &'static str, cmd: &mut Command| -> Result<String, VerifyError> {
        let out = cmd.current_dir(dir).output().map_err(ToolError::from)?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if !out.status.success() || err.contains("error") || err.contains("ERROR") {
            return Err(ToolError::Failed {
                tool,
                status: out.status.to_string(),
                log: dir.to_path_buf(),
                message: format!("{text}{err}"),
            }
            .into());
        }
        Ok(text)
    };
    run(
        "iverilog",
        dies_with_bnngen(&mut Command::new(&iverilog))
            .args(["-g2005", "-o", "tb.vvp", "-s", "tb"])
            .args(&defines)
            .args(["-c", "files.f", "icarus_tb.v"]),
    )?;
    let text = run(
        "vvp",
        dies_with_bnngen(&mut Command::new(&vvp)).args(["-n", "tb.vvp"]),
    )?;
    if let Some(line) = text.lines().find(|l| l.starts_with("XZ ")) {
        return Err(VerifyError::Output(format!(
            "Icarus saw an X or Z on an output: {line}"
        )));
    }
    Ok(text
        .lines()
        .filter(|l| l.starts_with("R ") || l.starts_with("END") || l.starts_with("TIMEOUT"))
        .map(|l| format!("{l}\n"))
        .collect())
}

/// Memory images for the testbench: pixel words, idle gaps, and the ready pattern, drawn from
/// the stress seed.
fn stimulus(
    model: &Model,
    plan: &Plan,
    design: &rtl::Design,
    images: &[Image],
    stress: Stress,
) -> Stimulus {
    let mut r = SplitMix64::new(stress.seed ^ 0x1ca2_0001);
    let words = (design.input_width as usize).div_ceil(32);
    let digits = (design.input_width as usize).div_ceil(4);
    let (mut pix, mut gaps) = (String::new(), String::new());
    for img in images {
        for y in 0..model.input.height {
            for x in 0..model.input.width {
                let w = super::pixel_words(model, plan.front_end, img, y, x, words);
                let hex: String = w.iter().rev().map(|v| format!("{v:08x}")).collect();
                pix.push_str(&hex[hex.len() - digits..]);
                pix.push('\n');
                let gap = if stress.gap_percent > 0 && r.below(100) < stress.gap_percent {
                    1 + r.below(stress.max_gap.max(1))
                } else {
                    0
                };
                gaps.push_str(&format!("{:02x}\n", gap.min(255)));
            }
        }
    }
    let pattern: Vec<bool> = (0..61)
        .map(|_| r.below(100) >= stress.stall_percent)
        .collect();
    let pattern = if pattern.iter().any(|&b| b) {
        pattern
    } else {
        vec![true]
    };
    let rdy: String = pattern
        .iter()
        .map(|&b| if b { "1\n" } else { "0\n" })
        .collect();
    Stimulus {
        pixels: pix,
        gaps,
        ready: rdy,
        ready_len: pattern.len(),
    }
}
