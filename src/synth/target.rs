//! Synthesis targets: one entry per supported device, saying which Yosys script maps to it,
//! how nextpnr selects it, which board (constraints + board top) it is placed on, and which
//! packer writes its bitstream. Adding a target means adding a variant here; every match
//! below then tells the compiler what else to fill in.

use crate::plan::cost::Capacity;
use crate::plan::device::Device;
use crate::plan::HwConfig;
use crate::tools::nextpnr::PnrFamily;
use crate::tools::pack::PackFamily;
use crate::tools::yosys::CellFamily;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Target {
    /// Lattice iCE40 UP5K (iCEBreaker board, SG48 package).
    Ice40Up5k,
    /// Lattice iCE40 HX8K (iCE40-HX8K breakout board, CT256 package).
    Ice40Hx8k,
    /// Lattice ECP5 LFE5U-25F (ULX3S board, CABGA381).
    Ecp5_25k,
    /// Lattice ECP5 LFE5U-85F (ULX3S board, CABGA381).
    Ecp5_85k,
    /// Xilinx 7-series via `synth_xilinx -flatten -nosrl`: resource counts only, no open P&R
    /// here.
    Xilinx,
    /// Yosys's generic `synth`: gate counts only.
    Generic,
}

/// The board a placeable target is constrained for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Board {
    pub name: &'static str,
    /// Board top module in `constraints/` (wraps the accelerator behind a UART).
    pub top_module: &'static str,
    /// Board top file, relative to `constraints/`.
    pub top_file: &'static str,
    /// Pin constraints file, relative to `constraints/`.
    pub constraints: &'static str,
    /// The board's oscillator in MHz (what the board top runs on without a PLL).
    pub clock_mhz: f64,
}

pub const ICEBREAKER: Board = Board {
    name: "iCEBreaker (iCE40UP5K-SG48)",
    top_module: "bnngen_icebreaker_top",
    top_file: "icebreaker/bnngen_icebreaker_top.v",
    constraints: "icebreaker/icebreaker.pcf",
    clock_mhz: 12.0,
};

pub const HX8K_BREAKOUT: Board = Board {
    name: "iCE40-HX8K breakout (iCE40HX8K-CT256)",
    top_module: "bnngen_hx8k_breakout_top",
    top_file: "hx8k-breakout/bnngen_hx8k_breakout_top.v",
    constraints: "hx8k-breakout/hx8k_breakout.pcf",
    clock_mhz: 12.0,
};

pub const ULX3S: Board = Board {
    name: "ULX3S (LFE5U CABGA381)",
    top_module: "bnngen_ulx3s_top",
    top_file: "ulx3s/bnngen_ulx3s_top.v",
    constraints: "ulx3s/ulx3s.lpf",
    clock_mhz: 25.0,
};

/// Files every board top needs (power-on reset, UART, bridge, board core), relative to
/// `constraints/`, in reading order.
pub const BOARD_COMMON_FILES: [&str; 5] = [
    "common/bnngen_por.v",
    "common/bnngen_uart_rx.v",
    "common/bnngen_uart_tx.v",
    "common/bnngen_uart_bridge.v",
    "common/bnngen_board_core.v",
];

/// The board file a design with weights in SPRAM adds: the SPI-flash loader.
pub const WLOAD_FILE: &str = "common/bnngen_spi_loader.v";

/// Flash byte address of the weight image: 1 MiB, after any iCE40 bitstream.
pub const FLASH_OFFSET: u32 = 0x10_0000;

impl Target {
    pub const ALL: [Target; 6] = [
        Target::Ice40Up5k,
        Target::Ice40Hx8k,
        Target::Ecp5_25k,
        Target::Ecp5_85k,
        Target::Xilinx,
        Target::Generic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "ice40-up5k",
            Target::Ice40Hx8k => "ice40-hx8k",
            Target::Ecp5_25k => "ecp5-25k",
            Target::Ecp5_85k => "ecp5-85k",
            Target::Xilinx => "xilinx",
            Target::Generic => "generic",
        }
    }

    /// Parse a target name; the error lists the valid names. (The command line parses
    /// `--target` through [`clap::ValueEnum`], below, with the same names.)
    pub fn parse(s: &str) -> Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                format!("unknown target `{s}`; expected one of {}", names.join(", "))
            })
    }

    /// The generator options this target's design is built with: its RAM family's banks, and
    /// on the ECP5 the block RAM as `DP16KD` cells with their output register
    /// (`rtl::ebr`), since Yosys does not infer that register. Every path that generates
    /// for a target (generate, simulate, synth, flow, gate-level) takes its options here, so
    /// the RTL simulated for a target is the RTL synthesized for it.
    pub fn gen_options(self) -> crate::rtl::GenOptions {
        crate::rtl::GenOptions {
            ram: self.ram_family(),
            ecp5_cells: self.cell_family() == CellFamily::Ecp5,
            ..Default::default()
        }
    }

    /// Block-RAM geometry that sizes the generated weight-ROM banks for this target.
    pub fn ram_family(self) -> crate::rtl::bank::RamFamily {
        match self.cell_family() {
            CellFamily::Ice40 => crate::rtl::bank::RamFamily::Ice40,
            _ => crate::rtl::bank::RamFamily::Ecp5,
        }
    }

    pub fn cell_family(self) -> CellFamily {
        match self {
            Target::Ice40Up5k | Target::Ice40Hx8k => CellFamily::Ice40,
            Target::Ecp5_25k | Target::Ecp5_85k => CellFamily::Ecp5,
            Target::Xilinx => CellFamily::Xilinx,
            Target::Generic => CellFamily::Generic,
        }
    }

    /// The Yosys command that maps `top` to this target and writes `json` (a Yosys JSON
    /// netlist for nextpnr, or, for count-only targets, just for inspection).
    ///
    /// Xilinx runs with `-nosrl`: Yosys 0.23's `xilinx_srl -fixed` turns a chain of three or
    /// more enabled FDRE flops into an SRL16E whose CE is tied high (it gives FDRE chains
    /// ENPOL 2, "no enable"; YosysHQ/yosys#6058, fixed upstream in #6059), so the shift
    /// register advances during stalls. The generated pipelines are such chains (stage
    /// registers enabled by the output FIFO's `s_ready`), and the gate-level simulation of
    /// `tiny` computed wrong classes under back-pressure until SRL inference was turned off.
    pub fn synth_command(self, top: &str, json: &str) -> String {
        match self {
            Target::Ice40Up5k => format!("synth_ice40 -top {top} -dsp -json {json}"),
            Target::Ice40Hx8k => format!("synth_ice40 -top {top} -json {json}"),
            Target::Ecp5_25k | Target::Ecp5_85k => format!("synth_ecp5 -top {top} -json {json}"),
            Target::Xilinx => format!("synth_xilinx -top {top} -flatten -nosrl\nwrite_json {json}"),
            Target::Generic => format!("synth -top {top} -flatten\nwrite_json {json}"),
        }
    }

    /// The Yosys command for gate-level simulation: as [`Target::synth_command`], except that
    /// ECP5 keeps multipliers in LUTs (`-nodsp`), because Yosys 0.23 ships no simulation
    /// model for MULT18X18D.
    pub fn netlist_synth_command(self, top: &str, json: &str) -> String {
        match self {
            Target::Ecp5_25k | Target::Ecp5_85k => {
                format!("synth_ecp5 -top {top} -nodsp -json {json}")
            }
            _ => self.synth_command(top, json),
        }
    }

    /// Place-and-route family, or None for count-only targets.
    pub fn pnr_family(self) -> Option<PnrFamily> {
        match self {
            Target::Ice40Up5k | Target::Ice40Hx8k => Some(PnrFamily::Ice40),
            Target::Ecp5_25k | Target::Ecp5_85k => Some(PnrFamily::Ecp5),
            Target::Xilinx | Target::Generic => None,
        }
    }

    pub fn pack_family(self) -> Option<PackFamily> {
        match self.pnr_family()? {
            PnrFamily::Ice40 => Some(PackFamily::Ice40),
            PnrFamily::Ecp5 => Some(PackFamily::Ecp5),
        }
    }

    /// nextpnr device flags and package.
    pub fn device(self) -> Option<(Vec<String>, &'static str)> {
        let d = |s: &str| vec![s.to_string()];
        match self {
            Target::Ice40Up5k => Some((d("--up5k"), "sg48")),
            Target::Ice40Hx8k => Some((d("--hx8k"), "ct256")),
            Target::Ecp5_25k => Some((d("--25k"), "CABGA381")),
            Target::Ecp5_85k => Some((d("--85k"), "CABGA381")),
            Target::Xilinx | Target::Generic => None,
        }
    }

    /// Human name of the device.
    pub fn device_name(self) -> &'static str {
        match self {
            Target::Ice40Up5k => "iCE40UP5K-SG48",
            Target::Ice40Hx8k => "iCE40HX8K-CT256",
            Target::Ecp5_25k => "LFE5U-25F-CABGA381",
            Target::Ecp5_85k => "LFE5U-85F-CABGA381",
            Target::Xilinx => "Xilinx 7-series (synth_xilinx, counts only)",
            Target::Generic => "generic gates (synth, counts only)",
        }
    }

    /// The board a placeable target is built for.
    pub fn board(self) -> Option<Board> {
        match self {
            Target::Ice40Up5k => Some(ICEBREAKER),
            Target::Ice40Hx8k => Some(HX8K_BREAKOUT),
            Target::Ecp5_25k | Target::Ecp5_85k => Some(ULX3S),
            Target::Xilinx | Target::Generic => None,
        }
    }

    /// Cell models for gate-level simulation of this family's netlists, with the defines
    /// they need. None when the target has no cell library (generic gates need none:
    /// `write_verilog` prints them as plain expressions).
    pub fn cell_models(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Target::Ice40Up5k | Target::Ice40Hx8k => Some((
                "/usr/share/yosys/ice40/cells_sim.v",
                &["NO_ICE40_DEFAULT_ASSIGNMENTS"],
            )),
            Target::Ecp5_25k | Target::Ecp5_85k => Some(("/usr/share/yosys/ecp5/cells_sim.v", &[])),
            Target::Xilinx => Some(("/usr/share/yosys/xilinx/cells_sim.v", &[])),
            Target::Generic => None,
        }
    }
}

impl Target {
    /// The device this target places on, the one a plan folds to; None for the count-only
    /// targets.
    pub fn plan_device(self) -> Option<Device> {
        match self {
            Target::Ice40Up5k => Some(Device::Ice40Up5k),
            Target::Ice40Hx8k => Some(Device::Ice40Hx8k),
            Target::Ecp5_25k => Some(Device::Ecp5_25k),
            Target::Ecp5_85k => Some(Device::Ecp5_85k),
            Target::Xilinx | Target::Generic => None,
        }
    }

    /// What the device holds (`Device::capacity`); None for the count-only targets.
    pub fn capacity(self) -> Option<Capacity> {
        self.plan_device().map(Device::capacity)
    }

    /// The timing goal when the user gives none: the device's (`Device::default_clock_mhz`),
    /// 100 MHz for the count-only targets.
    pub fn default_clock_mhz(self) -> f64 {
        self.plan_device().map_or(100.0, Device::default_clock_mhz)
    }

    /// The configuration of `synth` and `flow --target` without a hardware file: fold to the
    /// target's device (`plan::fit::device_config`), or for a count-only target the default
    /// configuration (one pixel per cycle).
    pub fn fold_config(self) -> HwConfig {
        match self.plan_device() {
            Some(d) => crate::plan::fit::device_config(d),
            None => HwConfig::default(),
        }
    }

    /// Cells of the family that Yosys' `cells_sim.v` declares without behaviour (parameters and
    /// ports only): a netlist that instantiates one cannot be simulated at gate level, since
    /// the cell would read as zeros. Yosys 0.23 and 0.70 ship no model for ECP5's DP16KD or
    /// for Xilinx's RAMB18E1/RAMB36E1 (block RAM); their LUT RAMs and iCE40's SB_RAM40_4K
    /// have one.
    pub fn cells_without_model(self) -> &'static [&'static str] {
        match self {
            Target::Ecp5_25k | Target::Ecp5_85k => &[],
            Target::Xilinx => &["RAMB18E1", "RAMB36E1", "DSP48A"],
            Target::Ice40Up5k | Target::Ice40Hx8k | Target::Generic => &[],
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `--target` on the command line: the same names as [`Target::name`], listed in `--help`.
impl clap::ValueEnum for Target {
    fn value_variants<'a>() -> &'a [Self] {
        &Target::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_all() {
        for t in Target::ALL {
            assert_eq!(Target::parse(t.name()), Ok(t));
        }
        let e = Target::parse("ice40").unwrap_err();
        assert!(e.contains("ice40-up5k") && e.contains("generic"), "{e}");
    }

    #[test]
    fn placeable_targets_have_boards_and_constraints_on_disk() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("constraints");
        for t in Target::ALL {
            assert_eq!(t.pnr_family().is_some(), t.board().is_some(), "{t}");
            if let Some(b) = t.board() {
                assert!(root.join(b.top_file).is_file(), "{t}: {}", b.top_file);
                assert!(root.join(b.constraints).is_file(), "{t}: {}", b.constraints);
            }
        }
        for f in BOARD_COMMON_FILES {
            assert!(root.join(f).is_file(), "{f}");
        }
    }
}
