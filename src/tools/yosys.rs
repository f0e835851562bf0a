//! Yosys driver: run a synthesis script with a log and read what it produced
//! (`yosys_result.rs`: cell counts into resource figures, warnings).
//!
//! The script always ends with `tee -q -o <stat.json> stat -json` (Yosys 0.23 supports it),
//! so counts come from JSON, not from scraping the log.

use super::locate::{find, Tool, ToolError, YOSYS};
use super::progress::{self, Observer, Stage, YosysProgress};
pub use super::yosys_result::{
    classify, parse_stat_json, warnings, CellFamily, Resources, SynthRun,
};
use std::path::Path;

/// A located Yosys.
#[derive(Debug, Clone)]
pub struct Yosys {
    pub tool: Tool,
}

impl Yosys {
    pub fn find() -> Result<Yosys, ToolError> {
        Ok(Yosys { tool: find(YOSYS)? })
    }

    /// Run `script` (Yosys commands, one per line) in `cwd`, writing `<name>.ys`, the log
    /// `<name>.log` and cell counts `<name>.stat.json` there; the script gets the `stat`
    /// command appended. Paths in the script must be valid from `cwd`.
    pub fn run(
        &self,
        cwd: &Path,
        name: &str,
        script: &str,
        family: CellFamily,
    ) -> Result<SynthRun, ToolError> {
        self.run_observed(cwd, name, script, family, &progress::quiet)
    }

    /// [`Yosys::run`], reporting the numbered steps of the log as they appear
    /// (`progress::YosysProgress`) to `observer`.
    pub fn run_observed(
        &self,
        cwd: &Path,
        name: &str,
        script: &str,
        family: CellFamily,
        observer: Observer,
    ) -> Result<SynthRun, ToolError> {
        let ys = format!("{name}.ys");
        let log = format!("{name}.log");
        let stat = format!("{name}.stat.json");
        let text = format!("{}\ntee -q -o {stat} stat -json\n", script.trim_end());
        let out_err = |p: &Path, e: std::io::Error| ToolError::Output {
            path: p.to_path_buf(),
            message: e.to_string(),
        };
        let ys_path = cwd.join(&ys);
        std::fs::write(&ys_path, text).map_err(|e| out_err(&ys_path, e))?;
        let args = vec![
            "-q".to_string(),
            "-l".to_string(),
            log.clone(),
            "-s".to_string(),
            ys,
        ];
        progress::watch_log(
            Stage::Synth,
            &cwd.join(&log),
            observer,
            YosysProgress::new(progress::yosys_expected_steps(script)),
            |p, l| p.line(l),
            |p| p.milestone(),
            || self.tool.run(cwd, &args, Path::new(&log)),
        )?;
        let stat_path = cwd.join(&stat);
        let json = std::fs::read_to_string(&stat_path).map_err(|e| out_err(&stat_path, e))?;
        let resources = parse_stat_json(&json, family).map_err(|m| ToolError::Output {
            path: stat_path.clone(),
            message: m,
        })?;
        let log_path = cwd.join(&log);
        let warnings = warnings(&std::fs::read_to_string(&log_path).unwrap_or_default());
        Ok(SynthRun {
            resources,
            log: log_path,
            warnings,
        })
    }
}
