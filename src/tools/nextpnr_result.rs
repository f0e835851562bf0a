//! What a nextpnr run produced, read from its `--report` JSON (nextpnr-ice40 0.4,
//! nextpnr-ecp5 0.11): Fmax per clock, device utilization and the critical path. Kept apart
//! from the driver (`nextpnr.rs`) so that progress events (`progress.rs`) can carry a
//! finished run without the driver and the progress parser importing each other.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Fmax of one clock domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockFmax {
    pub clock: String,
    pub achieved_mhz: f64,
    pub target_mhz: f64,
    pub pass: bool,
}

/// One resource of the device: used of available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Utilization {
    pub used: u64,
    pub available: u64,
}

/// The worst register-to-register path, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPath {
    pub from_cell: String,
    pub to_cell: String,
    /// Cells the path passes through (LUT levels plus carry steps).
    pub logic_steps: usize,
    pub logic_ns: f64,
    pub routing_ns: f64,
    pub total_ns: f64,
}

/// Everything nextpnr reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PnrReport {
    pub fmax: Vec<ClockFmax>,
    pub utilization: BTreeMap<String, Utilization>,
    pub critical_path: Option<CriticalPath>,
}

impl PnrReport {
    /// The slowest clock domain, if any clock was constrained.
    pub fn worst_clock(&self) -> Option<&ClockFmax> {
        self.fmax
            .iter()
            .min_by(|a, b| a.achieved_mhz.total_cmp(&b.achieved_mhz))
    }
}

/// Parse nextpnr's `--report` JSON.
pub fn parse_report(text: &str) -> Result<PnrReport, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut fmax = Vec::new();
    if let Some(f) = v.get("fmax").and_then(|f| f.as_object()) {
        for (clock, c) in f {
            let achieved = c
                .get("achieved")
                .and_then(|x| x.as_f64())
                .ok_or_else(|| format!("fmax.{clock}.achieved missing"))?;
            let target = c.get("constraint").and_then(|x| x.as_f64()).unwrap_or(0.0);
            fmax.push(ClockFmax {
                clock: clock.clone(),
                achieved_mhz: achieved,
                target_mhz: target,
                pass: achieved >= target,
            });
        }
    }
    let mut utilization = BTreeMap::new();
    if let Some(u) = v.get("utilization").and_then(|u| u.as_object()) {
        for (k, x) in u {
            let used = x.get("used").and_then(|n| n.as_u64()).unwrap_or(0);
            let available = x.get("available").and_then(|n| n.as_u64()).unwrap_or(0);
            utilization.insert(k.clone(), Utilization { used, available });
        }
    } else {
        return Err("no utilization section in the report".into());
    }
    let critical_path = v
        .get("critical_paths")
        .and_then(|p| p.as_array())
        .and_then(|paths| {
            paths
                .iter()
                .filter(|p| {
                    let clocked = |k: &str| {
                        p.get(k)
                            .and_then(|s| s.as_str())
                            .is_some_and(|s| s != "<async>")
                    };
                    clocked("from") && clocked("to")
                })
                .filter_map(summarize_path)
                .max_by(|a, b| a.total_ns.total_cmp(&b.total_ns))
        });
    Ok(PnrReport {
        fmax,
        utilization,
        critical_path,
    })
}

fn summarize_path(p: &serde_json::Value) -> Option<CriticalPath> {
    let steps = p.get("path")?.as_array()?;
    let cell = |s: &serde_json::Value, end: &str| {
        s.get(end)
            .and_then(|e| e.get("cell"))
            .and_then(|c| c.as_str())
            .unwrap_or("?")
            .to_string()
    };
    let (mut logic, mut routing, mut n_logic) = (0.0, 0.0, 0);
    for s in steps {
        let d = s.get("delay").and_then(|d| d.as_f64()).unwrap_or(0.0);
        match s.get("type").and_then(|t| t.as_str()) {
            Some("routing") => routing += d,
            Some("logic") => {
                logic += d;
                n_logic += 1;
            }
            _ => logic += d,
        }
    }
    Some(CriticalPath {
        from_cell: cell(steps.first()?, "to"),
        to_cell: cell(steps.last()?, "to"),
        logic_steps: n_logic,
        logic_ns: logic,
        routing_ns: routing,
        total_ns: logic + routing,
    })
}

/// What one place-and-route run produced.
#[derive(Debug, Clone)]
pub struct PnrRun {
    pub report: PnrReport,
    pub log: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shape of a real nextpnr-ice40 0.4 report (cells shortened).
    const REPORT: &str = r#"{"critical_paths": [
      {"from": "posedge clk", "to": "posedge clk", "path": [
        {"delay": 1.39, "from": {"cell": "a_LC"}, "to": {"cell": "ar_DFFLC"}, "type": "clk-to-q"},
        {"delay": 2.95, "from": {"cell": "ar_DFFLC"}, "net": "n", "to": {"cell": "l1_LC"}, "type": "routing"},
        {"delay": 1.20, "from": {"cell": "l1_LC"}, "to": {"cell": "l1_LC"}, "type": "logic"},
        {"delay": 1.76, "from": {"cell": "l1_LC"}, "net": "m", "to": {"cell": "y_LC"}, "type": "routing"},
        {"delay": 1.15, "from": {"cell": "y_LC"}, "to": {"cell": "y_LC"}, "type": "setup"}]},
      {"from": "<async>", "to": "posedge clk", "path": [
        {"delay": 9.0, "from": {"cell": "io"}, "to": {"cell": "x"}, "type": "routing"}]}],
     "fmax": {"clk$glb_clk": {"achieved": 24.67, "constraint": 48}},
     "utilization": {"ICESTORM_LC": {"available": 5280, "used": 306}, "ICESTORM_RAM": {"available": 30, "used": 0}}}"#;

    #[test]
    fn report_fields() {
        let r = parse_report(REPORT).unwrap();
        assert_eq!(r.fmax.len(), 1);
        assert_eq!(r.fmax[0].achieved_mhz, 24.67);
        assert!(!r.fmax[0].pass);
        assert_eq!(
            r.utilization["ICESTORM_LC"],
            Utilization {
                used: 306,
                available: 5280
            }
        );
        let cp = r.critical_path.unwrap();
        assert_eq!(cp.from_cell, "ar_DFFLC");
        assert_eq!(cp.to_cell, "y_LC");
        assert_eq!(cp.logic_steps, 1);
        assert!((cp.total_ns - (1.39 + 2.95 + 1.20 + 1.76 + 1.15)).abs() < 1e-9);
    }

    #[test]
    fn report_without_utilization_is_an_error() {
        assert!(parse_report("{\"fmax\": {}}").is_err());
    }
}
