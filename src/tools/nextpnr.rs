//! nextpnr driver (iCE40 from Debian, ECP5 from the yowasp venv): place and route a Yosys
//! JSON netlist, and read Fmax per clock, device utilization and the critical path from the
//! `--report` JSON (`nextpnr_result.rs`).
//!
//! `--timing-allow-fail` is always passed: a design that misses its clock still gets placed
//! and reported, and the report says it fails, with the figure. All paths handed to the tool
//! are relative to its working directory, because the yowasp build cannot see absolute paths.

use super::locate::{find, Tool, ToolError, NEXTPNR_ECP5, NEXTPNR_ICE40};
pub use super::nextpnr_result::{
    parse_report, ClockFmax, CriticalPath, PnrReport, PnrRun, Utilization,
};
use super::progress::{self, NextpnrProgress, Observer, Stage};
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PnrFamily {
    Ice40,
    Ecp5,
}

/// What to place and route; every path is relative to the working directory.
#[derive(Debug, Clone)]
pub struct PnrJob {
    /// Device selection, e.g. `["--up5k"]` or `["--25k"]`.
    pub device: Vec<String>,
    pub package: String,
    /// Yosys JSON netlist.
    pub netlist: String,
    /// Pin constraints (`.pcf` for iCE40, `.lpf` for ECP5).
    pub constraints: String,
    /// Routed output (`.asc` for iCE40, textual config for ECP5).
    pub routed: String,
    /// Timing target in MHz.
    pub freq_mhz: f64,
    pub seed: u64,
    /// Base name of the log and report files.
    pub name: String,
}

/// A located nextpnr for one family.
#[derive(Debug, Clone)]
pub struct Nextpnr {
    pub tool: Tool,
    pub family: PnrFamily,
}

impl Nextpnr {
    pub fn find(family: PnrFamily) -> Result<Nextpnr, ToolError> {
        let spec = match family {
            PnrFamily::Ice40 => NEXTPNR_ICE40,
            PnrFamily::Ecp5 => NEXTPNR_ECP5,
        };
        Ok(Nextpnr {
            tool: find(spec)?,
            family,
        })
    }

    pub fn run(&self, cwd: &Path, job: &PnrJob) -> Result<PnrRun, ToolError> {
        self.run_observed(cwd, job, &progress::quiet)
    }

    /// [`Nextpnr::run`], reporting its phases (`progress::NextpnrProgress`) to `observer`.
    pub fn run_observed(
        &self,
        cwd: &Path,
        job: &PnrJob,
        observer: Observer,
    ) -> Result<PnrRun, ToolError> {
        let log = format!("{}.log", job.name);
        let report = format!("{}.report.json", job.name);
        let (cons_flag, out_flag) = match self.family {
            PnrFamily::Ice40 => ("--pcf", "--asc"),
            PnrFamily::Ecp5 => ("--lpf", "--textcfg"),
        };
        let mut args: Vec<String> = job.device.clone();
        for (k, v) in [
            ("--package", job.package.clone()),
            ("--json", job.netlist.clone()),
            (cons_flag, job.constraints.clone()),
            (out_flag, job.routed.clone()),
            ("--freq", format!("{}", job.freq_mhz)),
            ("--seed", job.seed.to_string()),
            ("--report", report.clone()),
            ("-l", log.clone()),
        ] {
            args.push(k.to_string());
            args.push(v);
        }
        args.push("--timing-allow-fail".into());
        progress::watch_log(
            Stage::PlaceRoute,
            &cwd.join(&log),
            observer,
            NextpnrProgress::default(),
            |p, l| p.line(l),
            |p| p.milestone(),
            || self.tool.run(cwd, &args, Path::new(&log)),
        )?;
        let rpath = cwd.join(&report);
        let text = std::fs::read_to_string(&rpath).map_err(|e| ToolError::Output {
            path: rpath.clone(),
            message: e.to_string(),
        })?;
        let report = parse_report(&text).map_err(|m| ToolError::Output {
            path: rpath,
            message: m,
        })?;
        Ok(PnrRun {
            report,
            log: cwd.join(log),
        })
    }
}
