//! Place and route over several seeds: run nextpnr with seeds `seed`, `seed + 1`, ... until
//! one meets every clock, and keep that run (or, when none does, the fastest).
//!
//! Why: on a full device the placement seed moves Fmax by several percent (fashion-up5k-pruned
//! at 48 MHz on the UP5K: 46.4 to 49.8 MHz over seeds 1-3, docs/benchmarks.md), more than most
//! changes to the RTL. A designer closes timing on such a device by trying seeds; `--tries N`
//! does it in one run and the report lists every seed it tried, so the spread stays visible.

use crate::tools::locate::ToolError;
use crate::tools::nextpnr::{Nextpnr, PnrJob, PnrRun};
use crate::tools::progress::{Event, Observer};
use serde::Serialize;
use std::path::Path;

/// One seed's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedTry {
    pub seed: u64,
    /// Fmax of the slowest clock, if nextpnr timed one.
    pub fmax_mhz: Option<f64>,
    pub pass: bool,
}

/// The kept run: its nextpnr result, the routed file to pack, and every seed tried in order.
pub struct Placed {
    pub run: PnrRun,
    pub routed: String,
    pub seed: u64,
    pub tries: Vec<SeedTry>,
}

/// Place and route `job` with up to `tries` seeds from `job.seed`. One try keeps the job's
/// file names; several name each run's log, report and routed file after its seed.
pub fn place_and_route(
    pnr: &Nextpnr,
    work: &Path,
    job: &PnrJob,
    tries: u32,
    observer: Observer,
) -> Result<Placed, ToolError> {
    assert!(tries >= 1, "at least one placement");
    // The kept run so far: (its result, routed file, seed, Fmax).
    let mut best: Option<(PnrRun, String, u64, f64)> = None;
    let mut seen = Vec::new();
    for k in 0..tries as u64 {
        let seed = job.seed + k;
        let this = match tries {
            1 => job.clone(),
            _ => PnrJob {
                seed,
                name: format!("{}-seed{seed}", job.name),
                routed: seeded(&job.routed, seed),
                ..job.clone()
            },
        };
        let run = pnr.run_observed(work, &this, observer)?;
        observer(Event::PlaceRouteDone(&run));
        let fmax = run.report.worst_clock().map(|c| c.achieved_mhz);
        let pass = fmax.is_some() && run.report.fmax.iter().all(|c| c.pass);
        seen.push(SeedTry {
            seed,
            fmax_mhz: fmax,
            pass,
        });
        let fmax = fmax.unwrap_or(0.0);
        if pass || best.as_ref().is_none_or(|b| fmax > b.3) {
            best = Some((run, this.routed, seed, fmax));
        }
        if pass {
            break;
        }
    }
    let (run, routed, seed, _) = best.expect("at least one placement ran");
    Ok(Placed {
        run,
        routed,
        seed,
        tries: seen,
    })
}

/// `routed.asc` -> `routed-seed2.asc`.
fn seeded(routed: &str, seed: u64) -> String {
    match routed.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}-seed{seed}.{ext}"),
        None => format!("{routed}-seed{seed}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_names_keep_the_extension() {
        assert_eq!(seeded("routed.asc", 2), "routed-seed2.asc");
        assert_eq!(seeded("routed.config", 13), "routed-seed13.config");
        assert_eq!(seeded("routed", 3), "routed-seed3");
    }
}
