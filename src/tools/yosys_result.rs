//! What a Yosys run produced, and how it is read from the files Yosys leaves: the
//! `stat -json` cell counts classified into family-aware resource figures (LUTs, flip-flops,
//! carry cells, block RAMs, DSPs) and the warnings of the log.
//!
//! Which cell types are LUTs, FFs, ... depends on the family's technology library, so the
//! classification lives here, next to the parser, in one table per family. Kept apart from
//! the driver (`yosys.rs`) so that progress events (`progress.rs`) can carry a finished run
//! without the driver and the progress parser importing each other.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The technology library a netlist was mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellFamily {
    Ice40,
    Ecp5,
    Xilinx,
    /// Yosys's internal gate library (`synth` without a technology mapping).
    Generic,
}

/// Resource figures of one synthesized design.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resources {
    /// Logic LUTs (LUT4 on iCE40/ECP5, LUT1..LUT6 on Xilinx; gate cells for generic).
    pub luts: u64,
    /// Flip-flops.
    pub ffs: u64,
    /// Carry cells (SB_CARRY, CCU2C = 2 bits, CARRY4/CARRY8).
    pub carry: u64,
    /// Block RAM primitives.
    pub bram: u64,
    /// Bits of capacity in those block RAM primitives.
    pub bram_bits: u64,
    /// Single-port large RAMs (iCE40 UP SPRAM).
    pub spram: u64,
    /// LUT-based RAM cells (ECP5 DPR16X4, Xilinx RAM32/64).
    pub lutram: u64,
    /// Multiplier / DSP blocks.
    pub dsp: u64,
    /// All cells, by type, as Yosys counted them.
    pub cells: BTreeMap<String, u64>,
}

/// Parse the output of `stat -json` (whole-design totals).
pub fn parse_stat_json(text: &str, family: CellFamily) -> Result<Resources, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let by_type = v
        .get("design")
        .and_then(|d| d.get("num_cells_by_type"))
        .or_else(|| {
            // A single-module design without a "design" section: take the only module.
            let mods = v.get("modules")?.as_object()?;
            if mods.len() == 1 {
                mods.values().next()?.get("num_cells_by_type")
            } else {
                None
            }
        })
        .and_then(|c| c.as_object())
        .ok_or("no design.num_cells_by_type in stat -json output")?;
    let mut cells = BTreeMap::new();
    for (k, n) in by_type {
        let n = n
            .as_u64()
            .ok_or_else(|| format!("cell count of {k} is not an integer"))?;
        cells.insert(k.trim_start_matches('\\').to_string(), n);
    }
    Ok(classify(family, cells))
}

/// Sort cell counts into resource classes for `family`.
pub fn classify(family: CellFamily, cells: BTreeMap<String, u64>) -> Resources {
    let mut r = Resources::default();
    for (t, &n) in &cells {
        let t = t.as_str();
        match family {
            CellFamily::Ice40 => match t {
                "SB_LUT4" => r.luts += n,
                "SB_CARRY" => r.carry += n,
                "SB_MAC16" => r.dsp += n,
                "SB_SPRAM256KA" => r.spram += n,
                _ if t.starts_with("SB_RAM40_4K") => {
                    r.bram += n;
                    r.bram_bits += 4096 * n;
                }
                _ if t.starts_with("SB_DFF") => r.ffs += n,
                _ => {}
            },
            CellFamily::Ecp5 => match t {
                "LUT4" => r.luts += n,
                "CCU2C" => r.carry += n,
                "TRELLIS_FF" => r.ffs += n,
                "TRELLIS_DPR16X4" => r.lutram += n,
                "DP16KD" | "PDPW16KD" => {
                    r.bram += n;
                    r.bram_bits += 18432 * n;
                }
                "MULT18X18D" | "ALU54B" => r.dsp += n,
                _ => {}
            },
            CellFamily::Xilinx => match t {
                "CARRY4" | "CARRY8" => r.carry += n,
                "RAMB18E1" | "RAMB18E2" => {
                    r.bram += n;
                    r.bram_bits += 18432 * n;
                }
                "RAMB36E1" | "RAMB36E2" => {
                    r.bram += n;
                    r.bram_bits += 36864 * n;
                }
                _ if t.starts_with("DSP48") => r.dsp += n,
                _ if t.starts_with("LUT") && t[3..].parse::<u32>().is_ok() => r.luts += n,
                _ if t.starts_with("FD") => r.ffs += n,
                _ if t.starts_with("RAM") && (t.contains('X') || t.ends_with('M')) => r.lutram += n,
                _ => {}
            },
            CellFamily::Generic => {
                if t.contains("DFF") || t.contains("_DLATCH") {
                    r.ffs += n;
                } else if t.starts_with("$_") {
                    r.luts += n;
                } else if t.starts_with("$mem") {
                    r.bram += n;
                }
            }
        }
    }
    r.cells = cells;
    r
}

/// What one Yosys run produced.
#[derive(Debug, Clone)]
pub struct SynthRun {
    pub resources: Resources,
    /// Yosys's log (`-l`).
    pub log: PathBuf,
    /// Warnings from the log (lines starting with `Warning:`), deduplicated, in order.
    pub warnings: Vec<String>,
}

/// Distinct `Warning:` lines of a Yosys log, in first-seen order.
pub fn warnings(log: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for l in log.lines() {
        if let Some(w) = l.strip_prefix("Warning: ") {
            if seen.insert(w.to_string()) {
                out.push(w.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = r#"{
   "creator": "Yosys 0.23 (git sha1 7ce5011c24b)",
   "modules": { "\\top": { "num_cells": 318, "num_cells_by_type": { "SB_CARRY": 12, "SB_DFF": 130, "SB_DFFE": 4, "SB_LUT4": 172 } } },
   "design": { "num_cells": 318, "num_cells_by_type": { "SB_CARRY": 12, "SB_DFF": 130, "SB_DFFE": 4, "SB_LUT4": 172, "SB_RAM40_4K": 2 } }
}"#;

    #[test]
    fn ice40_stat_is_classified() {
        let r = parse_stat_json(STAT, CellFamily::Ice40).unwrap();
        assert_eq!(
            (r.luts, r.ffs, r.carry, r.bram, r.dsp),
            (172, 134, 12, 2, 0)
        );
        assert_eq!(r.bram_bits, 8192);
        assert_eq!(r.cells["SB_DFFE"], 4);
    }

    #[test]
    fn xilinx_and_ecp5_tables() {
        let cells: BTreeMap<String, u64> = [
            ("LUT2", 3),
            ("LUT6", 4),
            ("FDRE", 5),
            ("CARRY4", 1),
            ("RAMB36E1", 1),
            ("RAM64M", 2),
            ("DSP48E1", 1),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
        let r = classify(CellFamily::Xilinx, cells);
        assert_eq!(
            (r.luts, r.ffs, r.carry, r.bram, r.lutram, r.dsp),
            (7, 5, 1, 1, 2, 1)
        );
        let cells: BTreeMap<String, u64> =
            [("LUT4", 9), ("CCU2C", 3), ("TRELLIS_FF", 7), ("DP16KD", 1)]
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect();
        let r = classify(CellFamily::Ecp5, cells);
        assert_eq!(
            (r.luts, r.ffs, r.carry, r.bram, r.bram_bits),
            (9, 7, 3, 1, 18432)
        );
    }

    #[test]
    fn bad_stat_is_an_error() {
        assert!(parse_stat_json("{}", CellFamily::Ice40).is_err());
        assert!(parse_stat_json("nope", CellFamily::Ice40).is_err());
    }
}
