//! The devices a plan can be folded to (`fit`): the placeable FPGAs, what each holds, and the
//! clock a folding aims at when the user gives none. A synthesis target names its device
//! (`synth::Target::plan_device`); the plan needs nothing else from synthesis.

use super::cost::{ram::RamFamily, Capacity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// Lattice iCE40 UP5K.
    Ice40Up5k,
    /// Lattice iCE40 HX8K.
    Ice40Hx8k,
    /// Lattice ECP5 LFE5U-25F.
    Ecp5_25k,
    /// Lattice ECP5 LFE5U-85F.
    Ecp5_85k,
}

impl Device {
    pub const ALL: [Device; 4] = [
        Device::Ice40Up5k,
        Device::Ice40Hx8k,
        Device::Ecp5_25k,
        Device::Ecp5_85k,
    ];

    /// The name in hardware files and on the command line (the synthesis target's name).
    pub fn name(self) -> &'static str {
        match self {
            Device::Ice40Up5k => "ice40-up5k",
            Device::Ice40Hx8k => "ice40-hx8k",
            Device::Ecp5_25k => "ecp5-25k",
            Device::Ecp5_85k => "ecp5-85k",
        }
    }

    /// A device by name; the count-only targets (`xilinx`, `generic`) have no capacity
    /// figures to fold to, and say so.
    pub fn parse(s: &str) -> Result<Device, String> {
        let names = || {
            let n: Vec<&str> = Device::ALL.iter().map(|d| d.name()).collect();
            n.join(", ")
        };
        if let Some(d) = Device::ALL.into_iter().find(|d| d.name() == s) {
            Ok(d)
        } else if s == "xilinx" || s == "generic" {
            Err(format!(
                "device `{s}`: no capacity figures (a count-only target); fold to {}",
                names()
            ))
        } else {
            Err(format!("unknown device `{s}`; expected one of {}", names()))
        }
    }

    /// What the device holds, to set a cost estimate beside. Figures from Lattice's data
    /// sheets: iCE40 UltraPlus (DS1056) and iCE40 LP/HX (DS1040) logic cells (each one LUT4,
    /// one flip-flop and one carry) and 4 Kbit EBR; ECP5 (FPGA-DS-02012) LUTs, flip-flops (one
    /// per LUT), CCU2C carry cells (one per two LUTs) and 18 Kbit EBR.
    pub fn capacity(self) -> Capacity {
        let (family, luts, bram) = match self {
            Device::Ice40Up5k => (RamFamily::Ice40, 5280, 30),
            Device::Ice40Hx8k => (RamFamily::Ice40, 7680, 32),
            Device::Ecp5_25k => (RamFamily::Ecp5, 24288, 56),
            Device::Ecp5_85k => (RamFamily::Ecp5, 83640, 208),
        };
        let carry = match family {
            RamFamily::Ice40 => luts,
            RamFamily::Ecp5 => luts / 2,
        };
        Capacity {
            family,
            luts,
            ffs: luts,
            carry,
            bram,
            // SB_SPRAM256KA (DS1056): only the UltraPlus parts have them.
            spram: if self == Device::Ice40Up5k {
                crate::plan::cost::spram::UP5K_SPRAMS as u64
            } else {
                0
            },
        }
    }

    /// Adder levels of a pop-count tree that one pipeline stage may hold at the device's
    /// default clock, when the fold chooses `popcount_stages` (`fit::popcount_stages_for`).
    /// Measured with nextpnr over three seeds (docs/hw-config.md, "Pop-count pipeline
    /// stages"): on the UP5K at 48 MHz, trees of 8 inputs in one stage met the clock
    /// (fashion-up5k-pruned folded to it) and 32-input trees in one stage did not (37.9-42.8
    /// MHz) but did in two (48.5 MHz); on the ECP5-85k at 125 MHz, fashion-default's 64-input
    /// trees meet it in three stages.
    pub fn popcount_levels_per_stage(self) -> u32 {
        match self {
            Device::Ice40Up5k | Device::Ice40Hx8k => 4,
            Device::Ecp5_25k | Device::Ecp5_85k => 2,
        }
    }

    /// The timing goal when the user gives none (`synth` without `--clock` or `--hw`, and
    /// folding to the device without `clock_mhz`).
    pub fn default_clock_mhz(self) -> f64 {
        match self {
            Device::Ice40Up5k | Device::Ice40Hx8k => 48.0,
            Device::Ecp5_25k | Device::Ecp5_85k => 125.0,
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `device = "..."` in a hardware file.
impl<'de> serde::Deserialize<'de> for Device {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Device, D::Error> {
        let s = String::deserialize(d)?;
        Device::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_count_only_targets_are_refused() {
        for d in Device::ALL {
            assert_eq!(Device::parse(d.name()), Ok(d));
        }
        assert!(Device::parse("generic")
            .unwrap_err()
            .contains("no capacity figures"));
        assert!(Device::parse("ice40").unwrap_err().contains("ice40-up5k"));
    }
}
