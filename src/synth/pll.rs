//! PLL settings for the board tops: the divider values that turn a board's oscillator into
//! the accelerator clock, for the iCE40 `SB_PLL40` (SIMPLE feedback) and the ECP5 `EHXPLLL`
//! (feedback from CLKOP).
//!
//! Why here and not a call to `icepll` / `ecppll`: the flow needs the setting as numbers (the
//! board top takes them as defines, the UART divider and the timing target follow from the
//! achieved frequency), `ecppll` only ships in the PyPI venv, and the search is a few nested
//! loops over the ranges of the vendors' data sheets (Lattice TN1251 for iCE40, TN1263 for
//! ECP5). `tests/synth_pll.rs` checks that both searches pick the same frequency as the
//! icestorm and Trellis tools for a list of targets.

use serde::Serialize;
use std::fmt;

/// A PLL setting and the frequency it gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PllSetting {
    /// iCE40 `SB_PLL40_*`, FEEDBACK_PATH "SIMPLE":
    /// f_out = f_in * (DIVF + 1) / ((DIVR + 1) * 2^DIVQ).
    Ice40 {
        divr: u32,
        divf: u32,
        divq: u32,
        filter_range: u32,
        f_in_mhz: f64,
        f_out_mhz: f64,
        f_vco_mhz: f64,
    },
    /// ECP5 `EHXPLLL`, FEEDBK_PATH "CLKOP": f_out = f_in * CLKFB_DIV / CLKI_DIV, with the VCO
    /// at f_out * CLKOP_DIV.
    Ecp5 {
        clki_div: u32,
        clkfb_div: u32,
        clkop_div: u32,
        /// CLKOP_CPHASE for zero phase shift: CLKOP_DIV - 1.
        clkop_cphase: u32,
        f_in_mhz: f64,
        f_out_mhz: f64,
        f_vco_mhz: f64,
    },
}

/// Why no setting exists.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PllError {
    #[error("{family} PLL: input clock {f_in} MHz is outside {lo}-{hi} MHz")]
    Input {
        family: &'static str,
        f_in: f64,
        lo: f64,
        hi: f64,
    },
    #[error("{family} PLL: requested {f_out} MHz is outside the output range {lo}-{hi} MHz")]
    Output {
        family: &'static str,
        f_out: f64,
        lo: f64,
        hi: f64,
    },
    #[error("{family} PLL: no divider setting reaches {f_out} MHz from {f_in} MHz")]
    NoSetting {
        family: &'static str,
        f_in: f64,
        f_out: f64,
    },
}

impl PllSetting {
    pub fn f_out_mhz(&self) -> f64 {
        match *self {
            PllSetting::Ice40 { f_out_mhz, .. } | PllSetting::Ecp5 { f_out_mhz, .. } => f_out_mhz,
        }
    }

    /// The `read_verilog -D` defines the board tops read (`BNNGEN_PLL` and its dividers).
    pub fn defines(&self) -> Vec<String> {
        let dividers = match *self {
            PllSetting::Ice40 {
                divr,
                divf,
                divq,
                filter_range,
                ..
            } => [
                ("DIVR", divr),
                ("DIVF", divf),
                ("DIVQ", divq),
                ("FILTER_RANGE", filter_range),
            ],
            PllSetting::Ecp5 {
                clki_div,
                clkfb_div,
                clkop_div,
                clkop_cphase,
                ..
            } => [
                ("CLKI_DIV", clki_div),
                ("CLKFB_DIV", clkfb_div),
                ("CLKOP_DIV", clkop_div),
                ("CLKOP_CPHASE", clkop_cphase),
            ],
        };
        let mut d = vec!["-DBNNGEN_PLL".to_string()];
        d.extend(dividers.map(|(name, v)| format!("-DBNNGEN_PLL_{name}={v}")));
        d
    }
}

impl fmt::Display for PllSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PllSetting::Ice40 {
                divr,
                divf,
                divq,
                filter_range,
                f_in_mhz,
                f_out_mhz,
                f_vco_mhz,
            } => write!(
                f,
                "SB_PLL40 {f_in_mhz} -> {f_out_mhz:.3} MHz (DIVR {divr}, DIVF {divf}, DIVQ {divq}, FILTER_RANGE {filter_range}, VCO {f_vco_mhz:.1} MHz)"
            ),
            PllSetting::Ecp5 {
                clki_div,
                clkfb_div,
                clkop_div,
                clkop_cphase,
                f_in_mhz,
                f_out_mhz,
                f_vco_mhz,
            } => write!(
                f,
                "EHXPLLL {f_in_mhz} -> {f_out_mhz:.3} MHz (CLKI_DIV {clki_div}, CLKFB_DIV {clkfb_div}, CLKOP_DIV {clkop_div}, CLKOP_CPHASE {clkop_cphase}, VCO {f_vco_mhz:.1} MHz)"
            ),
        }
    }
}

/// The input and requested output frequencies against a family's data-sheet ranges.
fn check_range(
    family: &'static str,
    f_in: f64,
    (in_lo, in_hi): (f64, f64),
    f_out: f64,
    (out_lo, out_hi): (f64, f64),
) -> Result<(), PllError> {
    if !(in_lo..=in_hi).contains(&f_in) {
        return Err(PllError::Input {
            family,
            f_in,
            lo: in_lo,
            hi: in_hi,
        });
    }
    if !(out_lo..=out_hi).contains(&f_out) {
        return Err(PllError::Output {
            family,
            f_out,
            lo: out_lo,
            hi: out_hi,
        });
    }
    Ok(())
}

/// The iCE40 setting closest to `f_out` (first found on ties, scanning DIVR, DIVF, DIVQ
/// upwards). Ranges: input 10-133 MHz, phase detector 10-133 MHz, VCO 533-1066 MHz, output
/// 16-275 MHz; DIVR 0-15, DIVF 0-127, DIVQ 1-6.
pub fn ice40(f_in: f64, f_out: f64) -> Result<PllSetting, PllError> {
    const FAMILY: &str = "iCE40";
    check_range(FAMILY, f_in, (10.0, 133.0), f_out, (16.0, 275.0))?;
    let mut best: Option<(f64, PllSetting)> = None;
    for divr in 0..=15u32 {
        let f_pfd = f_in / (divr + 1) as f64;
        if !(10.0..=133.0).contains(&f_pfd) {
            continue;
        }
        for divf in 0..=127u32 {
            let f_vco = f_pfd * (divf + 1) as f64;
            if !(533.0..=1066.0).contains(&f_vco) {
                continue;
            }
            for divq in 1..=6u32 {
                let out = f_vco / (1u32 << divq) as f64;
                let err = (out - f_out).abs();
                if best.as_ref().is_none_or(|(e, _)| err < *e) {
                    best = Some((
                        err,
                        PllSetting::Ice40 {
                            divr,
                            divf,
                            divq,
                            filter_range: ice40_filter_range(f_pfd),
                            f_in_mhz: f_in,
                            f_out_mhz: out,
                            f_vco_mhz: f_vco,
                        },
                    ));
                }
            }
        }
    }
    best.map(|(_, s)| s).ok_or(PllError::NoSetting {
        family: FAMILY,
        f_in,
        f_out,
    })
}

/// The loop filter range for a phase-detector frequency (TN1251's table).
fn ice40_filter_range(f_pfd: f64) -> u32 {
    match f_pfd {
        f if f < 17.0 => 1,
        f if f < 26.0 => 2,
        f if f < 44.0 => 3,
        f if f < 66.0 => 4,
        f if f < 101.0 => 5,
        _ => 6,
    }
}

/// The ECP5 setting closest to `f_out`; among the output dividers of the best
/// (CLKI_DIV, CLKFB_DIV), the one that puts the VCO nearest the middle of its range.
/// Ranges: phase detector 3.125-400 MHz, VCO 400-800 MHz, output 3.125-400 MHz;
/// CLKI_DIV 1-128, CLKFB_DIV 1-80, CLKOP_DIV 1-128.
pub fn ecp5(f_in: f64, f_out: f64) -> Result<PllSetting, PllError> {
    const FAMILY: &str = "ECP5";
    check_range(FAMILY, f_in, (8.0, 400.0), f_out, (3.125, 400.0))?;
    const VCO_MID: f64 = 600.0;
    let mut best: Option<(f64, PllSetting)> = None;
    for clki_div in 1..=128u32 {
        let f_pfd = f_in / clki_div as f64;
        if !(3.125..=400.0).contains(&f_pfd) {
            continue;
        }
        for clkfb_div in 1..=80u32 {
            let out = f_pfd * clkfb_div as f64;
            let err = (out - f_out).abs();
            if best.as_ref().is_some_and(|(e, _)| err >= *e) {
                continue;
            }
            let od = (1..=128u32)
                .filter(|&d| (400.0..=800.0).contains(&(out * d as f64)))
                .min_by(|&a, &b| {
                    let da = (out * a as f64 - VCO_MID).abs();
                    let db = (out * b as f64 - VCO_MID).abs();
                    da.total_cmp(&db)
                });
            if let Some(clkop_div) = od {
                best = Some((
                    err,
                    PllSetting::Ecp5 {
                        clki_div,
                        clkfb_div,
                        clkop_div,
                        clkop_cphase: clkop_div - 1,
                        f_in_mhz: f_in,
                        f_out_mhz: out,
                        f_vco_mhz: out * clkop_div as f64,
                    },
                ));
            }
        }
    }
    best.map(|(_, s)| s).ok_or(PllError::NoSetting {
        family: FAMILY,
        f_in,
        f_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice40_12_to_48_is_the_documented_setting() {
        let s = ice40(12.0, 48.0).unwrap();
        assert_eq!(
            s,
            PllSetting::Ice40 {
                divr: 0,
                divf: 63,
                divq: 4,
                filter_range: 1,
                f_in_mhz: 12.0,
                f_out_mhz: 48.0,
                f_vco_mhz: 768.0
            }
        );
    }

    #[test]
    fn ecp5_25_to_125_is_the_documented_setting() {
        match ecp5(25.0, 125.0).unwrap() {
            PllSetting::Ecp5 {
                clki_div,
                clkfb_div,
                clkop_div,
                f_out_mhz,
                ..
            } => {
                assert_eq!((clki_div, clkfb_div, clkop_div), (1, 5, 5));
                assert_eq!(f_out_mhz, 125.0);
            }
            s => panic!("{s}"),
        }
    }

    #[test]
    fn impossible_requests_are_errors() {
        assert!(matches!(ice40(12.0, 300.0), Err(PllError::Output { .. })));
        assert!(matches!(ice40(12.0, 8.0), Err(PllError::Output { .. })));
        assert!(matches!(ice40(5.0, 48.0), Err(PllError::Input { .. })));
        assert!(matches!(ecp5(25.0, 500.0), Err(PllError::Output { .. })));
    }

    #[test]
    fn defines_name_every_divider() {
        // The settings the two tests above pin.
        let ice40_48 = ice40(12.0, 48.0).unwrap();
        assert_eq!(
            ice40_48.defines(),
            [
                "-DBNNGEN_PLL",
                "-DBNNGEN_PLL_DIVR=0",
                "-DBNNGEN_PLL_DIVF=63",
                "-DBNNGEN_PLL_DIVQ=4",
                "-DBNNGEN_PLL_FILTER_RANGE=1"
            ]
        );
        let ecp5_125 = ecp5(25.0, 125.0).unwrap();
        assert_eq!(
            ecp5_125.defines(),
            [
                "-DBNNGEN_PLL",
                "-DBNNGEN_PLL_CLKI_DIV=1",
                "-DBNNGEN_PLL_CLKFB_DIV=5",
                "-DBNNGEN_PLL_CLKOP_DIV=5",
                "-DBNNGEN_PLL_CLKOP_CPHASE=4"
            ]
        );
    }

    /// f_out recomputed from the dividers, and the VCO frequency, of a setting.
    fn recomputed(s: &PllSetting) -> (f64, f64) {
        match *s {
            PllSetting::Ice40 {
                divr,
                divf,
                divq,
                f_in_mhz,
                f_vco_mhz,
                ..
            } => (
                f_in_mhz * (divf + 1) as f64 / ((divr + 1) as f64 * (1 << divq) as f64),
                f_vco_mhz,
            ),
            PllSetting::Ecp5 {
                clki_div,
                clkfb_div,
                f_in_mhz,
                f_vco_mhz,
                ..
            } => (f_in_mhz * clkfb_div as f64 / clki_div as f64, f_vco_mhz),
        }
    }

    #[test]
    fn every_setting_is_inside_the_ranges_and_close() {
        /// A PLL family: its solver, a board's input clock, targets, VCO range and how close
        /// f_out must come.
        struct Family {
            solve: fn(f64, f64) -> Result<PllSetting, PllError>,
            f_in: f64,
            targets: &'static [f64],
            vco: std::ops::RangeInclusive<f64>,
            tolerance: f64,
        }
        let families = [
            Family {
                solve: ice40,
                f_in: 12.0,
                targets: &[
                    16.0, 20.0, 33.3, 48.0, 54.0, 75.0, 100.0, 133.0, 200.0, 275.0,
                ],
                vco: 533.0..=1066.0,
                tolerance: 0.02,
            },
            Family {
                solve: ecp5,
                f_in: 25.0,
                targets: &[30.0, 48.0, 62.5, 83.0, 100.0, 125.0, 150.0, 200.0],
                vco: 400.0..=800.0,
                tolerance: 0.03,
            },
        ];
        for Family {
            solve,
            f_in,
            targets,
            vco,
            tolerance,
        } in families
        {
            for &target in targets {
                let s = solve(f_in, target).unwrap();
                let (f_out, f_vco) = recomputed(&s);
                assert!(vco.contains(&f_vco), "{s}");
                assert!((f_out - s.f_out_mhz()).abs() < 1e-9, "{s}");
                assert!((f_out - target).abs() / target < tolerance, "{s}");
            }
        }
    }
}
