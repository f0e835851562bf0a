//! Progress of the long tool runs (Verilator's C++ build, Yosys, nextpnr), read from the
//! evidence each tool leaves while it runs, so a progress bar and its ETA rest on facts.
//!
//! - Yosys numbers its passes in the log (`22.13. Executing OPT pass`). A synthesis script
//!   runs one top-level pass per command and, inside the family's `synth_*` pass, a number of
//!   second-level steps that depends only on the family and its flags (measured on Yosys 0.23
//!   logs of this project, [`yosys_expected_steps`]). Deeper levels vary with the design and
//!   are not counted. When a log has more steps than expected, the length grows.
//! - nextpnr goes through packing, initial placement, the analytic (HeAP) placer, annealing
//!   refinement and routing; each phase owns a slice of one bar, and the router's "remaining
//!   arcs" column moves the last slice.
//! - Verilator's makefile compiles one object per C++ class group (`Vdut_classes.mk`); an
//!   object counts as done when its `.o` exists, weighted by the bytes of C++ it compiles.
//!
//! The parsers are small state machines fed one log line at a time (pure, unit-tested on
//! trimmed real logs in tests/fixtures/progress); [`LogTail`] reads the new complete lines of
//! a growing log and [`while_watching`] polls while a tool runs. Nothing here draws a bar: the
//! library reports [`Event`]s to an observer and the command line draws.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Where a tool run stands: `done` of `total` units, and what it is doing now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Milestone {
    pub done: u64,
    pub total: u64,
    pub what: String,
}

/// The long-running tool steps bnngen drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Verilator: verilate, then compile and link the co-simulation model.
    VerilatorBuild,
    /// Yosys synthesis.
    Synth,
    /// nextpnr placement and routing.
    PlaceRoute,
    /// Bitstream packing (icepack, ecppack).
    Pack,
}

/// What a library call reports while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A tool started; it writes its log to `log`.
    Started { stage: Stage, log: &'a Path },
    /// The tool moved on.
    Progress { stage: Stage, at: &'a Milestone },
    /// Yosys finished.
    SynthDone(&'a super::yosys_result::SynthRun),
    /// nextpnr finished.
    PlaceRouteDone(&'a super::nextpnr_result::PnrRun),
}

/// Receives [`Event`]s; called from the caller's thread and from the log watcher's thread.
pub type Observer<'a> = &'a (dyn Fn(Event) + Sync);

/// An observer that ignores everything.
pub fn quiet(_: Event) {}

/// The number of Yosys numbered steps a script produces that [`YosysProgress`] counts: one
/// top-level header per command (the quiet `tee -q` excepted) plus the second-level steps of
/// the `synth_*` pass (Yosys 0.23; counted in this project's logs).
pub fn yosys_expected_steps(script: &str) -> u64 {
    let mut n = 0;
    for line in script.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with("tee -q") {
            continue;
        }
        n += 1;
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let has = |flag: &str| line.split_whitespace().any(|w| w == flag);
        n += match cmd {
            "synth_ice40" if has("-dsp") => 55,
            "synth_ice40" => 49,
            "synth_ecp5" => 49,
            "synth_xilinx" => 48,
            "synth" => 27,
            _ => 0,
        };
    }
    n
}

/// Split a Yosys step header `22.13. Executing OPT pass ...` into its number parts and text.
fn yosys_header(line: &str) -> Option<(Vec<&str>, &str)> {
    let (num, text) = line.split_once(". ")?;
    let parts: Vec<&str> = num.split('.').collect();
    if parts.is_empty()
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some((parts, text))
}

/// A short name for what a Yosys step does: the pass name in lower case (`abc`, `techmap`),
/// or `reading FILE` for a frontend.
fn yosys_pass_name(text: &str) -> Option<String> {
    let rest = text.strip_prefix("Executing ")?;
    if let Some((_, file)) = rest.split_once(" frontend: ") {
        return Some(format!("reading {}", file.trim()));
    }
    let first = rest.split([' ', '.', ':']).next()?;
    (!first.is_empty()).then(|| first.to_ascii_lowercase())
}

/// Yosys progress from its log lines.
#[derive(Debug, Clone)]
pub struct YosysProgress {
    expected: u64,
    done: u64,
    synth_pass: Option<String>,
    what: String,
    finished: bool,
}

impl YosysProgress {
    pub fn new(expected: u64) -> YosysProgress {
        YosysProgress {
            expected,
            done: 0,
            synth_pass: None,
            what: "starting".into(),
            finished: false,
        }
    }

    pub fn line(&mut self, line: &str) {
        if line.starts_with("End of script.") {
            self.finished = true;
            self.what = "done".into();
            return;
        }
        let Some((parts, text)) = yosys_header(line) else {
            return;
        };
        let counted = match parts.len() {
            1 => {
                if text.starts_with("Executing SYNTH") {
                    self.synth_pass = Some(parts[0].to_string());
                }
                true
            }
            2 => self.synth_pass.as_deref() == Some(parts[0]),
            _ => false,
        };
        if counted {
            self.done += 1;
        }
        if let Some(name) = yosys_pass_name(text) {
            self.what = name;
        }
    }

    /// Done of total steps; the total grows past the expected count instead of showing 100%
    /// while Yosys still runs.
    pub fn milestone(&self) -> Milestone {
        let total = if self.finished {
            self.done.max(1)
        } else {
            self.expected.max(self.done + 1)
        };
        Milestone {
            done: self.done.min(total),
            total,
            what: self.what.clone(),
        }
    }
}

/// Units of the nextpnr bar, and where each phase starts. The slices follow the time nextpnr
/// spent in each phase on this project's designs (HeAP / annealing / routing, seconds from
/// their logs): fashion-default on the ECP5-85k 485 / 216 / 113, fm6 on the ECP5-25k
/// 7.7 / 10.8 / 6.9, fm6 on the UP5K 2.8 / 8.5 / 2.2.
const PNR_TOTAL: u64 = 1000;
const PNR_PACK: u64 = 20;
const PNR_PACKED: u64 = 40;
const PNR_INITIAL: u64 = 50;
const PNR_HEAP: u64 = 100;
const PNR_SA: u64 = 500;
const PNR_ROUTE: u64 = 850;
const PNR_ROUTED: u64 = 980;
/// Initial-placer iterations nextpnr runs before HeAP (iter 0..3 in every log seen).
const PNR_INITIAL_ITERS: u64 = 4;
/// HeAP gives up after this many iterations without a better legal placement.
const HEAP_STALL: u64 = 5;

/// nextpnr progress (iCE40 0.4, ECP5 0.11; both run HeAP, annealing refinement, router1).
#[derive(Debug, Clone)]
pub struct NextpnrProgress {
    at: u64,
    what: String,
    best_legal: Option<u64>,
    stalled: u64,
    sa_iters: u64,
    arcs: Option<u64>,
    finished: bool,
}

impl Default for NextpnrProgress {
    fn default() -> Self {
        NextpnrProgress {
            at: 0,
            what: "loading the device".into(),
            best_legal: None,
            stalled: 0,
            sa_iters: 0,
            arcs: None,
            finished: false,
        }
    }
}

/// The number after `key` in `text` (`wirelen solved = 489,` -> 489 for key `solved = `).
fn number_after(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

impl NextpnrProgress {
    fn reach(&mut self, at: u64, what: impl Into<String>) {
        self.at = self.at.max(at.min(PNR_TOTAL));
        self.what = what.into();
    }

    pub fn line(&mut self, line: &str) {
        let Some(l) = line.strip_prefix("Info: ") else {
            return;
        };
        let t = l.trim_start();
        if t.starts_with("Packing") {
            self.reach(PNR_PACK, "packing");
        } else if t.starts_with("Device utilisation") {
            self.reach(PNR_PACKED, "packed");
        } else if t.starts_with("Creating initial analytic placement") {
            self.reach(PNR_INITIAL, "initial placement");
        } else if t.starts_with("at initial placer iter") {
            let k = number_after(t, "iter").unwrap_or(0) + 1;
            let span = PNR_HEAP - PNR_INITIAL;
            self.reach(
                PNR_INITIAL + span * k.min(PNR_INITIAL_ITERS) / PNR_INITIAL_ITERS,
                format!("initial placement, iteration {k}"),
            );
        } else if t.starts_with("Running main analytical placer") {
            self.reach(PNR_HEAP, "analytic placement (HeAP)");
        } else if t.starts_with("at iteration #") && t.contains("wirelen solved") {
            // HeAP stops when the solved wirelength comes within 80% of the legal one, or
            // after HEAP_STALL iterations without a better legal placement.
            let n = number_after(t, "#").unwrap_or(0);
            let solved = number_after(t, "solved =").unwrap_or(0);
            let legal = number_after(t, "legal =").unwrap_or(0);
            match self.best_legal {
                Some(b) if legal >= b => self.stalled += 1,
                _ => {
                    self.best_legal = Some(legal);
                    self.stalled = 0;
                }
            }
            let converge = if legal == 0 {
                0.0
            } else {
                solved as f64 / (0.8 * legal as f64)
            };
            let frac = converge
                .max(self.stalled as f64 / HEAP_STALL as f64)
                .clamp(0.0, 1.0);
            let span = (PNR_SA - PNR_HEAP) as f64;
            self.reach(
                PNR_HEAP + (span * frac) as u64,
                format!("analytic placement (HeAP), iteration {n}, legal wirelength {legal}"),
            );
        } else if t.starts_with("HeAP Placer Time")
            || t.starts_with("Running simulated annealing placer")
        {
            self.reach(PNR_SA, "annealing refinement");
        } else if t.starts_with("at iteration #") && t.contains("temp =") {
            // Annealing stops when it no longer improves: no count is known in advance, so
            // its slice always keeps room for a few more report lines (one per 5 iterations).
            self.sa_iters += 1;
            let expected = (self.sa_iters + 3).max(10);
            let span = PNR_ROUTE - PNR_SA;
            let n = number_after(t, "#").unwrap_or(0);
            let wl = number_after(t, "wirelen =").unwrap_or(0);
            self.reach(
                PNR_SA + span * self.sa_iters / expected,
                format!("annealing refinement, iteration {n}, wirelength {wl}"),
            );
        } else if t.starts_with("Routing globals") || t.starts_with("Routing..") {
            self.reach(PNR_ROUTE, "routing");
        } else if t.starts_with("Routing ") && t.ends_with(" arcs.") {
            self.arcs = number_after(t, "Routing ");
            self.reach(
                PNR_ROUTE,
                format!("routing {} arcs", self.arcs.unwrap_or(0)),
            );
        } else if let (Some(arcs), Some(remaining)) = (self.arcs, router_remaining(t)) {
            let routed = arcs.saturating_sub(remaining);
            let span = PNR_ROUTED - PNR_ROUTE;
            self.reach(
                PNR_ROUTE + span * routed / arcs.max(1),
                format!("routing, {remaining} of {arcs} arcs left"),
            );
        } else if t.starts_with("Routing complete") {
            self.reach(PNR_ROUTED, "timing analysis, writing the result");
        } else if t.starts_with("Program finished normally") {
            self.finished = true;
            self.reach(PNR_TOTAL, "done");
        }
    }

    pub fn milestone(&self) -> Milestone {
        Milestone {
            done: if self.finished {
                PNR_TOTAL
            } else {
                self.at.min(PNR_TOTAL - 1)
            },
            total: PNR_TOTAL,
            what: self.what.clone(),
        }
    }
}

/// The "remaining arcs" column of a router1 progress row
/// (`   1000 |  181  818 |  181  818 |  12144|  0.97  0.97|`).
fn router_remaining(t: &str) -> Option<u64> {
    let cols: Vec<&str> = t.split('|').map(str::trim).collect();
    if cols.len() < 5 || !cols[0].bytes().all(|b| b.is_ascii_digit()) || cols[0].is_empty() {
        return None;
    }
    cols[3].parse().ok()
}

/// One object Verilator's makefile compiles, and the C++ files it is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileUnit {
    pub object: String,
    pub sources: Vec<String>,
}

/// The names listed under `var +=` in a Verilator makefile fragment.
fn mk_list(mk: &str, var: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in mk.lines() {
        let t = line.trim();
        if !inside {
            if let Some(rest) = t.strip_prefix(var) {
                if rest.trim_start().starts_with("+=") || rest.trim_start().starts_with('=') {
                    inside = rest.trim_end().ends_with('\\');
                    let after = rest
                        .trim_start()
                        .trim_start_matches('+')
                        .trim_start_matches('=');
                    out.extend(
                        after
                            .split_whitespace()
                            .filter(|w| *w != "\\")
                            .map(str::to_string),
                    );
                }
            }
            continue;
        }
        inside = t.ends_with('\\');
        out.extend(
            t.split_whitespace()
                .filter(|w| *w != "\\")
                .map(str::to_string),
        );
    }
    out
}

/// The objects `make -f Vdut.mk` compiles for the model, from `Vdut_classes.mk`: one per
/// class file with parallel builds, else one `Vdut__ALL.o` holding them all; plus `extra`
/// objects (the harness, and the Verilator runtime unless it is reused).
pub fn verilator_units(classes_mk: &str, prefix: &str, extra: &[&str]) -> Vec<CompileUnit> {
    let parallel = classes_mk
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["VM_PARALLEL_BUILDS", "=", "1"]);
    let classes: Vec<String> = [
        "VM_CLASSES_FAST",
        "VM_CLASSES_SLOW",
        "VM_SUPPORT_FAST",
        "VM_SUPPORT_SLOW",
    ]
    .iter()
    .flat_map(|v| mk_list(classes_mk, v))
    .collect();
    let mut units: Vec<CompileUnit> = if parallel {
        classes
            .iter()
            .map(|c| CompileUnit {
                object: format!("{c}.o"),
                sources: vec![format!("{c}.cpp")],
            })
            .collect()
    } else {
        vec![CompileUnit {
            object: format!("{prefix}__ALL.o"),
            sources: classes.iter().map(|c| format!("{c}.cpp")).collect(),
        }]
    };
    for e in extra {
        units.push(CompileUnit {
            object: format!("{e}.o"),
            sources: vec![format!("{e}.cpp")],
        });
    }
    units
}

/// What compiling one object costs beyond its own source, in bytes of C++: every Verilator
/// translation unit parses the same runtime headers (`verilated.h` and what it includes) before
/// its own code, which on this machine takes about as long as 64 KB of generated C++.
pub const OBJECT_OVERHEAD: u64 = 64 * 1024;

/// Compile progress in bytes of C++: `size(source)` for each source file (0 when unknown)
/// plus [`OBJECT_OVERHEAD`] per object, and whether each object exists yet.
pub fn compile_milestone(
    units: &[CompileUnit],
    size: &dyn Fn(&str) -> u64,
    built: &dyn Fn(&str) -> bool,
) -> Milestone {
    let (mut done, mut total, mut n_built) = (0u64, 0u64, 0usize);
    for u in units {
        let w = u.sources.iter().map(|s| size(s)).sum::<u64>() + OBJECT_OVERHEAD;
        total += w;
        if built(&u.object) {
            done += w;
            n_built += 1;
        }
    }
    let what = if n_built == units.len() {
        "linking".to_string()
    } else {
        format!("compiling C++, {n_built} of {} objects", units.len())
    };
    Milestone {
        done: done.min(total),
        total: total.max(1),
        what,
    }
}

/// The new complete lines of a growing log file.
#[derive(Debug)]
pub struct LogTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl LogTail {
    pub fn new(path: impl Into<PathBuf>) -> LogTail {
        LogTail {
            path: path.into(),
            offset: 0,
            partial: Vec::new(),
        }
    }

    /// Lines completed since the last call (none while the file does not exist).
    pub fn new_lines(&mut self) -> Vec<String> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            // The file was replaced: start over.
            self.offset = 0;
            self.partial.clear();
        }
        if f.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return Vec::new();
        }
        self.offset += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let Some(last_nl) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let rest = self.partial.split_off(last_nl + 1);
        let text = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial = rest;
        text.lines().map(str::to_string).collect()
    }
}

/// Run `work` while a watcher thread calls `tick` every `every` (and once more after `work`
/// returns, so the last state is reported).
pub fn while_watching<T>(
    every: Duration,
    mut tick: impl FnMut() + Send,
    work: impl FnOnce() -> T,
) -> T {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                tick();
                std::thread::park_timeout(every);
            }
            tick();
        });
        let out = work();
        stop.store(true, Ordering::Relaxed);
        watcher.thread().unpark();
        let _ = watcher.join();
        out
    })
}

/// How often watchers look at the logs.
pub const POLL: Duration = Duration::from_millis(250);

/// Run `work` (a tool writing `log`) while feeding the log's new lines to `parse` and
/// reporting its milestones for `stage` to `observer` whenever they change.
pub fn watch_log<T, P: Send>(
    stage: Stage,
    log: &Path,
    observer: Observer,
    mut parser: P,
    feed: impl Fn(&mut P, &str) + Send + Sync,
    milestone: impl Fn(&P) -> Milestone + Send + Sync,
    work: impl FnOnce() -> T,
) -> T {
    // An earlier run's log at the same path would be read as this run's progress until the
    // tool truncates it; the tool writes a new one anyway.
    let _ = std::fs::remove_file(log);
    observer(Event::Started { stage, log });
    let mut tail = LogTail::new(log);
    let mut last: Option<Milestone> = None;
    while_watching(
        POLL,
        || {
            for l in tail.new_lines() {
                feed(&mut parser, &l);
            }
            let m = milestone(&parser);
            if last.as_ref() != Some(&m) {
                observer(Event::Progress { stage, at: &m });
                last = Some(m);
            }
        },
        work,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/progress")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn yosys_run(log: &str, script: &str) -> (YosysProgress, Vec<Milestone>) {
        let mut p = YosysProgress::new(yosys_expected_steps(script));
        let mut seen = Vec::new();
        for l in log.lines() {
            p.line(l);
            seen.push(p.milestone());
        }
        (p, seen)
    }

    /// The script a fixture log came from: `n` read_verilog lines and the synth command.
    fn script(reads: usize, synth: &str) -> String {
        let mut s = "read_verilog x.v\n".repeat(reads);
        s.push_str(synth);
        s.push('\n');
        s
    }

    #[test]
    fn yosys_ecp5_log_counts_exactly_the_expected_steps() {
        // fashion-default on ECP5: 21 sources, synth_ecp5 with -json.
        let log = fixture("yosys-ecp5.log");
        let s = script(21, "synth_ecp5 -top bnngen_ulx3s_top -json netlist.json");
        let (p, seen) = yosys_run(&log, &s);
        let m = p.milestone();
        assert_eq!(m.done, m.total, "{m:?}");
        assert_eq!(m.total, yosys_expected_steps(&s));
        assert_eq!(m.what, "done");
        // Never beyond the expected length before the end, always monotone.
        for w in seen.windows(2) {
            assert!(w[1].done >= w[0].done, "{w:?}");
        }
        let before_end = &seen[seen.len() - 2];
        assert!(before_end.done < before_end.total, "{before_end:?}");
        assert!(seen.iter().any(|m| m.what == "abc"));
        assert!(seen.iter().any(|m| m.what == "techmap"));
        assert!(seen.iter().any(|m| m.what.starts_with("reading ")));
    }

    #[test]
    fn yosys_ice40_dsp_and_generic_logs_match_their_tables() {
        let log = fixture("yosys-ice40-up5k.log");
        let s = script(
            19,
            "synth_ice40 -top bnngen_icebreaker_top -dsp -json netlist.json",
        );
        let (p, _) = yosys_run(&log, &s);
        let m = p.milestone();
        assert_eq!((m.done, m.total), (yosys_expected_steps(&s), m.done));
        let log = fixture("yosys-generic.log");
        let s = script(1, "synth -top tiny_top -flatten\nwrite_json netlist.json");
        let (p, _) = yosys_run(&log, &s);
        let m = p.milestone();
        assert_eq!(m.done, yosys_expected_steps(&s), "{m:?}");
    }

    #[test]
    fn yosys_length_grows_past_a_wrong_expectation() {
        let log = fixture("yosys-ecp5.log");
        let mut p = YosysProgress::new(10);
        for l in log.lines().take_while(|l| !l.starts_with("End of script")) {
            p.line(l);
        }
        let m = p.milestone();
        assert!(m.total > m.done && m.done > 10, "{m:?}");
    }

    #[test]
    fn yosys_headers_and_names() {
        assert_eq!(
            yosys_header("22.13. Executing OPT pass (performing simple optimizations)."),
            Some((
                vec!["22", "13"],
                "Executing OPT pass (performing simple optimizations)."
            ))
        );
        assert_eq!(yosys_header("Number of cells: 12. x"), None);
        assert_eq!(yosys_header("   12. x"), None);
        assert_eq!(
            yosys_pass_name("Executing ABC pass (technology mapping using ABC)."),
            Some("abc".into())
        );
        assert_eq!(
            yosys_pass_name("Executing Verilog-2005 frontend: board/common/bnngen_por.v"),
            Some("reading board/common/bnngen_por.v".into())
        );
        assert_eq!(yosys_pass_name("Analyzing design hierarchy.."), None);
    }

    fn pnr_run(log: &str) -> Vec<Milestone> {
        let mut p = NextpnrProgress::default();
        log.lines()
            .map(|l| {
                p.line(l);
                p.milestone()
            })
            .collect()
    }

    #[test]
    fn nextpnr_phases_move_one_bar_monotonically_to_the_end() {
        for f in ["nextpnr-ecp5.log", "nextpnr-ice40.log"] {
            let seen = pnr_run(&fixture(f));
            for w in seen.windows(2) {
                assert!(w[1].done >= w[0].done, "{f}: {w:?}");
            }
            let last = seen.last().unwrap();
            assert_eq!((last.done, last.total), (PNR_TOTAL, PNR_TOTAL), "{f}");
            for (phase, lo, hi) in [
                ("initial placement", PNR_INITIAL, PNR_HEAP),
                ("analytic placement (HeAP), iteration", PNR_HEAP, PNR_SA),
                ("annealing refinement, iteration", PNR_SA, PNR_ROUTE),
                ("routing, ", PNR_ROUTE, PNR_ROUTED),
            ] {
                let m = seen
                    .iter()
                    .find(|m| m.what.starts_with(phase))
                    .unwrap_or_else(|| panic!("{f}: no `{phase}` milestone"));
                assert!(m.done >= lo && m.done <= hi, "{f}: {m:?}");
            }
            // Routing advances with the router's remaining-arc count.
            let routing: Vec<_> = seen
                .iter()
                .filter(|m| m.what.starts_with("routing, "))
                .collect();
            assert!(routing.len() >= 5, "{f}");
            assert!(routing.last().unwrap().what.starts_with("routing, 0 of"));
            assert_eq!(routing.last().unwrap().done, PNR_ROUTED, "{f}");
        }
    }

    #[test]
    fn nextpnr_unfinished_log_never_shows_done() {
        let log = fixture("nextpnr-ecp5.log");
        let cut: Vec<&str> = log
            .lines()
            .take_while(|l| !l.contains("Program finished"))
            .collect();
        let seen = pnr_run(&cut.join("\n"));
        let m = seen.last().unwrap();
        assert!(m.done < m.total, "{m:?}");
    }

    #[test]
    fn router_rows() {
        assert_eq!(
            router_remaining(
                "     1000 |      181        818 |  181   818 |     12144|       0.97       0.97|"
            ),
            Some(12144)
        );
        assert_eq!(
            router_remaining(
                "   IterCnt |  w/ripup   wo/ripup |  w/r  wo/r |      arcs| batch(sec) total(sec)|"
            ),
            None
        );
    }

    #[test]
    fn verilator_units_follow_the_classes_makefile() {
        let mk = fixture("Vdut_classes.mk");
        let units = verilator_units(&mk, "Vdut", &["harness"]);
        let objs: Vec<&str> = units.iter().map(|u| u.object.as_str()).collect();
        assert_eq!(
            objs,
            [
                "Vdut.o",
                "Vdut___024root__DepSet_h96d12fb6__0.o",
                "Vdut___024root__DepSet_h5056ad81__0.o",
                "Vdut___024root__DepSet_h5056ad81__1.o",
                "Vdut__ConstPool_0.o",
                "Vdut___024root__Slow.o",
                "Vdut___024root__DepSet_h96d12fb6__0__Slow.o",
                "Vdut___024root__DepSet_h5056ad81__0__Slow.o",
                "Vdut__Syms.o",
                "harness.o",
            ]
        );
        let serial = mk.replace("VM_PARALLEL_BUILDS = 1", "VM_PARALLEL_BUILDS = 0");
        let units = verilator_units(&serial, "Vdut", &["harness"]);
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].object, "Vdut__ALL.o");
        assert_eq!(units[0].sources.len(), 9);
    }

    #[test]
    fn compile_progress_is_weighted_by_source_bytes() {
        let units = vec![
            CompileUnit {
                object: "big.o".into(),
                sources: vec!["big.cpp".into()],
            },
            CompileUnit {
                object: "small.o".into(),
                sources: vec!["small.cpp".into()],
            },
        ];
        let size = |s: &str| if s == "big.cpp" { 900_000 } else { 100_000 };
        let m = compile_milestone(&units, &size, &|o| o == "small.o");
        let o = OBJECT_OVERHEAD;
        assert_eq!((m.done, m.total), (100_000 + o, 1_000_000 + 2 * o));
        assert_eq!(m.what, "compiling C++, 1 of 2 objects");
        let m = compile_milestone(&units, &size, &|_| true);
        assert_eq!(
            (m.done, m.total, m.what.as_str()),
            (1_000_000 + 2 * o, 1_000_000 + 2 * o, "linking")
        );
    }

    #[test]
    fn log_tail_returns_only_complete_new_lines() {
        let dir = std::env::temp_dir().join(format!("bnngen-logtail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.log");
        let mut t = LogTail::new(&p);
        assert!(t.new_lines().is_empty());
        std::fs::write(&p, "a\nb").unwrap();
        assert_eq!(t.new_lines(), ["a"]);
        std::fs::write(&p, "a\nbc\nd\n").unwrap();
        assert_eq!(t.new_lines(), ["bc", "d"]);
        assert!(t.new_lines().is_empty());
        std::fs::write(&p, "new\n").unwrap();
        assert_eq!(t.new_lines(), ["new"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn watcher_reports_the_final_state() {
        let dir = std::env::temp_dir().join(format!("bnngen-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("synth.log");
        // A previous run's longer log must not count.
        std::fs::write(&log, "1. a\n2. b\n3. c\n4. d\n5. e\n6. f\n").unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let obs = |e: Event| {
            if let Event::Progress { at, .. } = e {
                seen.lock().unwrap().push(at.clone());
            }
        };
        watch_log(
            Stage::Synth,
            &log,
            &obs,
            YosysProgress::new(3),
            |p, l| p.line(l),
            |p| p.milestone(),
            || {
                // Let the watcher look before the tool writes (it would see an old log).
                std::thread::sleep(POLL * 2);
                std::fs::write(
                    &log,
                    "1. Executing Verilog-2005 frontend: a.v\n2. Executing SYNTH pass.\nEnd of script.\n",
                )
                .unwrap()
            },
        );
        let seen = seen.into_inner().unwrap();
        assert!(seen.iter().all(|m| m.done <= 2), "{seen:?}");
        let last = seen.last().unwrap();
        assert_eq!((last.done, last.total, last.what.as_str()), (2, 2, "done"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
