//! The synthesis report: one struct, written as `report.json` (machines; `format_version`)
//! and `report.md` (people). Both come from the same value, so they never disagree. Figures
//! are reported as measured: failing timing says FAIL with the achieved Fmax.

use super::placement::SeedTry;
use super::pll::PllSetting;
use crate::tools::nextpnr::{ClockFmax, CriticalPath, Utilization};
use crate::tools::yosys::Resources;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Version of `report.json`'s layout.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// Throughput figures from the plan, evaluated at the achieved Fmax.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Performance {
    pub cycles_per_frame: u64,
    /// Cycles from a frame's first pixel to its result, when the plan knows it.
    pub latency_cycles: Option<u64>,
    /// The clock these figures are evaluated at (achieved Fmax, or the target clock for
    /// targets without place and route).
    pub clock_mhz: f64,
    pub clock_source: String,
    pub frames_per_s: f64,
    pub latency_us: Option<f64>,
}

impl Performance {
    pub fn at(
        cycles_per_frame: u64,
        latency_cycles: Option<u64>,
        clock_mhz: f64,
        source: &str,
    ) -> Performance {
        let hz = clock_mhz * 1e6;
        Performance {
            cycles_per_frame,
            latency_cycles,
            clock_mhz,
            clock_source: source.to_string(),
            frames_per_s: if cycles_per_frame == 0 {
                0.0
            } else {
                hz / cycles_per_frame as f64
            },
            latency_us: latency_cycles.map(|c| c as f64 / clock_mhz),
        }
    }
}

/// Where the weights ended up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryPacking {
    /// Kept weight bits of the model (pruned tiles excluded).
    pub kept_weight_bits: u64,
    /// Weight bits held in memories the generator marked for block RAM.
    pub weight_bits_in_bram: u64,
    /// Weight bits held in the UP5K's SPRAM (`weights = "spram"`).
    pub weight_bits_in_spram: u64,
    /// `(weight_bits_in_bram + weight_bits_in_spram) / kept_weight_bits`.
    pub packing_efficiency: f64,
    /// Block RAM capacity the netlist uses, in bits.
    pub bram_capacity_bits: u64,
    /// `weight_bits_in_bram / bram_capacity_bits`.
    pub bram_fill: f64,
}

/// Timing result of the slowest clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    pub clocks: Vec<ClockFmax>,
    pub fmax_mhz: f64,
    pub target_mhz: f64,
    pub pass: bool,
    pub critical_path: Option<CriticalPath>,
    /// The placement seed of this result, and every seed tried (`--tries`), in order.
    pub seed: u64,
    pub tries: Vec<SeedTry>,
}

/// How a board top is clocked: its oscillator, and the PLL between it and the accelerator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardClock {
    pub oscillator_mhz: f64,
    /// The PLL between the oscillator and the accelerator, if `--pll` asked for one.
    pub pll: Option<PllSetting>,
    /// The clock the accelerator and the UART run on.
    pub accelerator_mhz: f64,
    pub uart_clks_per_bit: u64,
}

/// Everything `bnngen synth` measured for one target.
#[derive(Debug, Clone, Serialize)]
pub struct SynthReport {
    pub format_version: u32,
    pub model: String,
    pub target: String,
    pub device: String,
    pub board: Option<String>,
    /// The module that was synthesized (the board top when the target is placed).
    pub synth_top: String,
    pub accelerator_top: String,
    /// Digest of the RTL files synthesized (`bnngen::rtl::digest`), to compare with the
    /// co-simulation's.
    pub rtl_digest: String,
    pub target_clock_mhz: f64,
    /// How the board top is clocked (placeable targets).
    pub board_clock: Option<BoardClock>,
    pub resources: Resources,
    /// Device utilization after place and route (nextpnr's names).
    pub utilization: BTreeMap<String, Utilization>,
    pub timing: Option<Timing>,
    pub performance: Option<Performance>,
    pub memory: Option<MemoryPacking>,
    pub bitstream: Option<PathBuf>,
    /// Things the reader must know (skipped steps, wrapper overhead).
    pub notes: Vec<String>,
    pub yosys_warnings: usize,
    pub logs: BTreeMap<String, PathBuf>,
}

impl SynthReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes") + "\n"
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Synthesis report: {} on {}\n", self.model, self.target);
        let _ = writeln!(s, "- device: {}", self.device);
        if let Some(b) = &self.board {
            let _ = writeln!(s, "- board: {b}");
        }
        let _ = writeln!(
            s,
            "- synthesized top: `{}` (accelerator `{}`)",
            self.synth_top, self.accelerator_top
        );
        let _ = writeln!(s, "- RTL digest: `{}`", self.rtl_digest);
        let _ = writeln!(s, "- target clock: {:.2} MHz", self.target_clock_mhz);
        if let Some(c) = &self.board_clock {
            let _ = match &c.pll {
                Some(p) => writeln!(s, "- board clock: {p}"),
                None => writeln!(
                    s,
                    "- board clock: the {} MHz oscillator, no PLL",
                    c.oscillator_mhz
                ),
            };
        }
        let r = &self.resources;
        let _ = writeln!(s, "\n## Resources (Yosys)\n");
        let _ = writeln!(
            s,
            "| LUTs | FFs | carry | BRAM | BRAM bits | SPRAM | LUT RAM | DSP |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.luts, r.ffs, r.carry, r.bram, r.bram_bits, r.spram, r.lutram, r.dsp
        );
        if !self.utilization.is_empty() {
            let _ = writeln!(s, "\n## Device utilization (nextpnr)\n");
            let _ = writeln!(s, "| resource | used | available | % |");
            let _ = writeln!(s, "|---|---:|---:|---:|");
            for (k, u) in &self.utilization {
                if u.used == 0 {
                    continue;
                }
                let pct = if u.available == 0 {
                    0.0
                } else {
                    100.0 * u.used as f64 / u.available as f64
                };
                let _ = writeln!(s, "| {k} | {} | {} | {pct:.1} |", u.used, u.available);
            }
        }
        if let Some(t) = &self.timing {
            let _ = writeln!(s, "\n## Timing (nextpnr)\n");
            let verdict = if t.pass { "PASS" } else { "FAIL" };
            let _ = writeln!(
                s,
                "Fmax {:.2} MHz against a {:.2} MHz target: **{verdict}**\n",
                t.fmax_mhz, t.target_mhz
            );
            if t.tries.len() > 1 {
                let each: Vec<String> = (t.tries.iter())
                    .map(|x| {
                        let f = x.fmax_mhz.map_or("-".into(), |f| format!("{f:.2} MHz"));
                        let v = if x.pass { "PASS" } else { "FAIL" };
                        format!("seed {}: {f} {v}", x.seed)
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "- placement seed {} kept, of {} tried ({})",
                    t.seed,
                    t.tries.len(),
                    each.join("; ")
                );
            } else {
                let _ = writeln!(s, "- placement seed {}", t.seed);
            }
            for c in &t.clocks {
                let _ = writeln!(
                    s,
                    "- clock `{}`: {:.2} MHz (target {:.2})",
                    c.clock, c.achieved_mhz, c.target_mhz
                );
            }
            if let Some(p) = &t.critical_path {
                let _ = writeln!(
                    s,
                    "- critical path: `{}` -> `{}`, {:.2} ns ({} logic steps, {:.2} ns logic, {:.2} ns routing)",
                    p.from_cell, p.to_cell, p.total_ns, p.logic_steps, p.logic_ns, p.routing_ns
                );
            }
        }
        if let Some(p) = &self.performance {
            let _ = writeln!(
                s,
                "\n## Throughput (plan at {:.2} MHz, {})\n",
                p.clock_mhz, p.clock_source
            );
            let _ = writeln!(s, "- cycles per frame: {}", p.cycles_per_frame);
            let _ = writeln!(s, "- frames per second: {:.1}", p.frames_per_s);
            match (p.latency_cycles, p.latency_us) {
                (Some(c), Some(us)) => {
                    let _ = writeln!(s, "- latency: {c} cycles = {us:.2} us");
                }
                _ => {
                    let _ = writeln!(s, "- latency: not known from the plan");
                }
            }
            // What the board runs at: the clock the board top gives the accelerator (the
            // PLL's, or the oscillator's), not the Fmax the placed logic could reach.
            if let Some(c) = &self.board_clock {
                let fps = c.accelerator_mhz * 1e6 / p.cycles_per_frame.max(1) as f64;
                let reach = match &self.timing {
                    Some(t) if t.fmax_mhz < c.accelerator_mhz => {
                        ", which the placed logic does not reach"
                    }
                    _ => "",
                };
                let _ = writeln!(
                    s,
                    "- on the board: {fps:.1} frames per second at its {:.2} MHz{reach}",
                    c.accelerator_mhz
                );
            }
        }
        if let Some(m) = &self.memory {
            let _ = writeln!(s, "\n## Weight memory\n");
            let spram = match m.weight_bits_in_spram {
                0 => String::new(),
                n => format!("; in SPRAM: {n}"),
            };
            let _ = writeln!(
                s,
                "- kept weight bits: {}; in block-RAM memories: {}{spram} (packing {:.1}%)",
                m.kept_weight_bits,
                m.weight_bits_in_bram,
                100.0 * m.packing_efficiency
            );
            let _ = writeln!(
                s,
                "- block RAM capacity used: {} bits (filled {:.1}% with weights)",
                m.bram_capacity_bits,
                100.0 * m.bram_fill
            );
        }
        if let Some(b) = &self.bitstream {
            let _ = writeln!(s, "\n- bitstream: `{}`", b.display());
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\n## Notes\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        let _ = writeln!(s, "\n## Logs\n");
        let _ = writeln!(s, "- Yosys warnings: {}", self.yosys_warnings);
        for (k, p) in &self.logs {
            let _ = writeln!(s, "- {k}: `{}`", p.display());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn performance_at_fmax() {
        let p = Performance::at(1000, Some(1500), 50.0, "achieved Fmax");
        assert_eq!(p.frames_per_s, 50_000.0);
        assert_eq!(p.latency_us, Some(30.0));
    }
}
