//! The synthesis flow for one target, as a list of named steps: prepare the work folder,
//! synthesize with Yosys, place and route with nextpnr, pack the bitstream, write the report.
//!
//! Every tool runs inside the work folder with relative paths (the yowasp tools cannot see
//! absolute paths), so the flow first copies the RTL and the board files there. Placeable
//! targets synthesize the board top (UART bridge + accelerator), because the bare
//! accelerator's ports are far wider than the package; count-only targets synthesize the
//! accelerator alone.

use super::placement::place_and_route;
use super::pll::{self, PllError, PllSetting};
use super::report::{
    BoardClock, MemoryPacking, Performance, SynthReport, Timing, REPORT_FORMAT_VERSION,
};
use super::target::{Target, BOARD_COMMON_FILES, FLASH_OFFSET, WLOAD_FILE};
use crate::tools::locate::ToolError;
use crate::tools::nextpnr::PnrFamily;
use crate::tools::nextpnr::{Nextpnr, PnrJob};
use crate::tools::pack::Packer;
use crate::tools::progress::{self, Event, Observer, Stage};
use crate::tools::yosys::Yosys;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Generated RTL to synthesize, as files on disk.
#[derive(Debug, Clone)]
pub struct RtlDesign {
    /// Folder holding the generated files.
    pub dir: PathBuf,
    /// Verilog sources, relative to `dir`, in reading order.
    pub sources: Vec<String>,
    /// Other files the sources read (memory images), relative to `dir`.
    pub data: Vec<String>,
    pub top: String,
    /// Width of `s_axis_tdata`.
    pub input_width: u32,
    /// Width of `m_axis_tdata`.
    pub output_width: u32,
    /// Pixels per frame (the board bridge raises tlast on the last one).
    pub pixels: usize,
    /// 16-bit words of the weight image the board loads into SPRAM (0: no weights in SPRAM).
    pub load_words: usize,
    /// Width of the accelerator's `wl_data` (the low bits of an image word).
    pub load_data_width: u32,
    /// The accelerator's cycles per frame (the plan's), when the design, not the UART, bounds
    /// the frame rate: the board simulation then runs its UART slow enough for the design
    /// (`board_sim::clks_per_bit`), and its watchdog allows for these cycles; 0 where the
    /// UART bounds it.
    pub frame_cycles: u64,
}

/// Figures the flow takes from the plan and the model, for the report.
#[derive(Debug, Clone, Default)]
pub struct PlanFigures {
    pub model: String,
    pub cycles_per_frame: u64,
    pub latency_cycles: Option<u64>,
    pub kept_weight_bits: u64,
    /// Weight bits in memories the generator marked for block RAM.
    pub weight_bits_in_bram: u64,
    /// Weight bits in the UP5K's SPRAM (`weights = "spram"`), which the board's loader writes.
    pub weight_bits_in_spram: u64,
}

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub target: Target,
    /// Timing target for nextpnr, in MHz.
    pub clock_mhz: f64,
    /// Placement seed for nextpnr, and how many seeds from it to try until one meets the
    /// clock (`placement::place_and_route`; at least 1).
    pub seed: u64,
    pub tries: u32,
    /// Work folder (created; files in it are overwritten).
    pub work: PathBuf,
    /// Where the work folder will be once its run is published (a staging folder is renamed
    /// there), for the paths the report names; None: the work folder itself.
    pub shown_as: Option<PathBuf>,
    /// Clock the board top from a PLL set as close to `clock_mhz` as its dividers allow
    /// (placeable targets only); the timing target is then the PLL's exact frequency.
    pub pll: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("--pll: {0}")]
    Pll(#[from] PllError),
    #[error("--pll: target {0} has no board to put a PLL on (placeable targets only)")]
    NoBoard(&'static str),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The outcome: the report and where it was written.
#[derive(Debug, Clone)]
pub struct SynthOutcome {
    pub report: SynthReport,
    pub report_md: PathBuf,
    pub report_json: PathBuf,
}

/// Run the whole flow for `opts.target`.
pub fn run(
    rtl: &RtlDesign,
    figures: &PlanFigures,
    opts: &SynthOptions,
) -> Result<SynthOutcome, SynthError> {
    run_observed(rtl, figures, opts, &progress::quiet)
}

/// [`run`], reporting each tool's start, progress and result to `observer` (the command line
/// draws its progress bars from these events).
pub fn run_observed(
    rtl: &RtlDesign,
    figures: &PlanFigures,
    opts: &SynthOptions,
    observer: Observer,
) -> Result<SynthOutcome, SynthError> {
    let t = opts.target;
    let work = &opts.work;
    // Step 1: the board clock, then the work folder.
    let pll = if opts.pll {
        Some(pll_setting(t, opts.clock_mhz)?)
    } else {
        None
    };
    let timing_mhz = pll.map_or(opts.clock_mhz, |p| p.f_out_mhz());
    prepare(rtl, work)?;
    let rtl_digest = synthesized_digest(rtl, work)?;
    // Step 2: synthesize.
    let yosys = Yosys::find()?;
    let (script, synth_top) = synth_script(rtl, t, pll.as_ref());
    let synth = yosys.run_observed(work, "synth", &script, t.cell_family(), observer)?;
    observer(Event::SynthDone(&synth));
    let mut logs = BTreeMap::new();
    logs.insert("yosys".to_string(), synth.log.clone());
    let mut notes = Vec::new();
    let mut utilization = BTreeMap::new();
    let mut timing = None;
    let mut bitstream = None;
    // Step 3: place and route, Step 4: pack (placeable targets only).
    if let (Some(fam), Some((device, package)), Some(board)) =
        (t.pnr_family(), t.device(), t.board())
    {
        notes.push(format!(
            "Resources and timing are of the board top `{}` (UART bridge + accelerator); on iCE40 the bridge, UART and reset add about 95 LUTs and 80 flip-flops.",
            board.top_module
        ));
        notes.push(match &pll {
            Some(p) => format!("The board top clocks the accelerator from a PLL: {p}."),
            None => format!(
                "The board top has no PLL: it runs the accelerator at the {} MHz oscillator; the Fmax below is what the placed logic could reach. `--pll` clocks it from a PLL at the target clock (docs/synthesis.md, Clocks).",
                board.clock_mhz
            ),
        });
        let pnr = Nextpnr::find(fam)?;
        let routed = match fam {
            crate::tools::nextpnr::PnrFamily::Ice40 => "routed.asc",
            crate::tools::nextpnr::PnrFamily::Ecp5 => "routed.config",
        };
        let job = PnrJob {
            device,
            package: package.to_string(),
            netlist: "netlist.json".into(),
            constraints: format!("board/{}", board.constraints),
            routed: routed.into(),
            freq_mhz: timing_mhz,
            seed: opts.seed,
            name: "pnr".into(),
        };
        let placed = place_and_route(&pnr, work, &job, opts.tries, observer)?;
        let (routed, report) = (placed.routed.as_str(), &placed.run.report);
        logs.insert("nextpnr".to_string(), placed.run.log.clone());
        utilization = report.utilization.clone();
        if let Some(worst) = report.worst_clock() {
            timing = Some(Timing {
                clocks: report.fmax.clone(),
                fmax_mhz: worst.achieved_mhz,
                target_mhz: worst.target_mhz,
                pass: report.fmax.iter().all(|c| c.pass),
                critical_path: report.critical_path.clone(),
                seed: placed.seed,
                tries: placed.tries.clone(),
            });
        }
        if let Some(pf) = t.pack_family() {
            match Packer::find(pf) {
                Ok(p) => {
                    let ext = if routed.ends_with(".asc") {
                        "bin"
                    } else {
                        "bit"
                    };
                    observer(Event::Started {
                        stage: Stage::Pack,
                        log: &work.join("pack.log"),
                    });
                    let out = p.run(work, routed, &format!("bitstream.{ext}"), "pack")?;
                    logs.insert("pack".to_string(), work.join("pack.log"));
                    bitstream = Some(out);
                }
                Err(e) => notes.push(format!("no bitstream: {e}")),
            }
        }
    } else {
        notes.push(format!(
            "{} has no open place and route here: resource counts only, no Fmax.",
            t.name()
        ));
    }
    // Step 5: report.
    let (perf_clock, source) = match &timing {
        Some(tm) => (tm.fmax_mhz, "achieved Fmax"),
        None => (timing_mhz, "target clock, not timed"),
    };
    let performance = (figures.cycles_per_frame > 0).then(|| {
        Performance::at(
            figures.cycles_per_frame,
            figures.latency_cycles,
            perf_clock,
            source,
        )
    });
    let memory = (figures.kept_weight_bits > 0).then(|| {
        let r = &synth.resources;
        MemoryPacking {
            kept_weight_bits: figures.kept_weight_bits,
            weight_bits_in_bram: figures.weight_bits_in_bram,
            weight_bits_in_spram: figures.weight_bits_in_spram,
            packing_efficiency: (figures.weight_bits_in_bram + figures.weight_bits_in_spram) as f64
                / figures.kept_weight_bits as f64,
            bram_capacity_bits: r.bram_bits,
            bram_fill: if r.bram_bits == 0 {
                0.0
            } else {
                figures.weight_bits_in_bram as f64 / r.bram_bits as f64
            },
        }
    });
    let shown = |p: PathBuf| match (&opts.shown_as, p.strip_prefix(work)) {
        (Some(home), Ok(rel)) => home.join(rel),
        _ => p,
    };
    let bitstream = bitstream.map(shown);
    let logs = logs.into_iter().map(|(k, p)| (k, shown(p))).collect();
    let report = SynthReport {
        format_version: REPORT_FORMAT_VERSION,
        model: figures.model.clone(),
        target: t.name().to_string(),
        device: t.device_name().to_string(),
        board: t.board().map(|b| b.name.to_string()),
        synth_top,
        accelerator_top: rtl.top.clone(),
        rtl_digest,
        target_clock_mhz: timing_mhz,
        board_clock: t.board().map(|b| BoardClock {
            oscillator_mhz: b.clock_mhz,
            pll,
            accelerator_mhz: pll.map_or(b.clock_mhz, |p| p.f_out_mhz()),
            uart_clks_per_bit: clks_per_bit(pll.map_or(b.clock_mhz, |p| p.f_out_mhz())),
        }),
        resources: synth.resources,
        utilization,
        timing,
        performance,
        memory,
        bitstream,
        notes,
        yosys_warnings: synth.warnings.len(),
        logs,
    };
    let report_md = work.join("report.md");
    let report_json = work.join("report.json");
    std::fs::write(&report_md, report.to_markdown()).map_err(io(&report_md))?;
    std::fs::write(&report_json, report.to_json()).map_err(io(&report_json))?;
    Ok(SynthOutcome {
        report,
        report_md,
        report_json,
    })
}

/// The digest of the RTL files as Yosys reads them: the copies [`prepare`] put in `work`.
fn synthesized_digest(rtl: &RtlDesign, work: &Path) -> Result<String, SynthError> {
    let mut files = Vec::new();
    for f in rtl.sources.iter().chain(&rtl.data) {
        let name = Path::new(f).file_name().unwrap_or(f.as_ref());
        let path = work.join(name);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        files.push((name.to_string_lossy().into_owned(), bytes));
    }
    Ok(crate::rtl::digest(
        files.iter().map(|(n, b)| (n.as_str(), b.as_slice())),
    ))
}

/// Copy the RTL (flat, so memory images resolve from the working directory) and the board
/// files (under `board/`) into the work folder.
pub fn prepare(rtl: &RtlDesign, work: &Path) -> Result<(), SynthError> {
    std::fs::create_dir_all(work).map_err(io(work))?;
    for f in rtl.sources.iter().chain(&rtl.data) {
        let from = rtl.dir.join(f);
        let name = Path::new(f).file_name().unwrap_or(f.as_ref());
        let to = work.join(name);
        if from != to {
            std::fs::copy(&from, &to).map_err(io(&from))?;
        }
    }
    let mut board_files: Vec<&str> = BOARD_COMMON_FILES.to_vec();
    board_files.push(WLOAD_FILE);
    for t in Target::ALL {
        if let Some(b) = t.board() {
            board_files.push(b.top_file);
            board_files.push(b.constraints);
        }
    }
    for f in board_files {
        write_board_file(work, f)?;
    }
    Ok(())
}

/// Write the compiled-in board file `f` (relative to `constraints/`) under `work/board/`.
pub fn write_board_file(work: &Path, f: &str) -> Result<(), SynthError> {
    let text = super::board_files::board_file(f).expect("every board file is compiled in");
    let to = work.join("board").join(f);
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::write(&to, text).map_err(io(&to))
}

/// The PLL setting that brings `target`'s board oscillator closest to `mhz`.
pub fn pll_setting(target: Target, mhz: f64) -> Result<PllSetting, SynthError> {
    let (Some(board), Some(fam)) = (target.board(), target.pnr_family()) else {
        return Err(SynthError::NoBoard(target.name()));
    };
    Ok(match fam {
        PnrFamily::Ice40 => pll::ice40(board.clock_mhz, mhz)?,
        PnrFamily::Ecp5 => pll::ecp5(board.clock_mhz, mhz)?,
    })
}

/// UART clocks per bit for a board clock, at 115200 baud.
pub fn clks_per_bit(board_mhz: f64) -> u64 {
    (board_mhz * 1e6 / 115_200.0).round() as u64
}

/// The Yosys script for `target` (paths relative to the work folder), and the module it
/// synthesizes. With `pll`, the board top instantiates its PLL with that setting and the
/// UART divider follows the PLL's frequency.
pub fn synth_script(rtl: &RtlDesign, target: Target, pll: Option<&PllSetting>) -> (String, String) {
    let mut s = String::new();
    for f in &rtl.sources {
        let name = Path::new(f).file_name().unwrap_or(f.as_ref());
        s.push_str(&format!("read_verilog {}\n", Path::new(name).display()));
    }
    let top = match target.board() {
        Some(b) if target.pnr_family().is_some() => {
            let mut defs = format!(
                "-DBNNGEN_TOP={} -DBNNGEN_IN_W={} -DBNNGEN_OUT_W={} -DBNNGEN_PIXELS={} -DBNNGEN_CLKS_PER_BIT={}",
                rtl.top,
                rtl.input_width,
                rtl.output_width,
                rtl.pixels,
                clks_per_bit(pll.map_or(b.clock_mhz, |p| p.f_out_mhz()))
            );
            for d in pll.map(|p| p.defines()).unwrap_or_default() {
                defs.push(' ');
                defs.push_str(&d);
            }
            let mut files: Vec<&str> = BOARD_COMMON_FILES.to_vec();
            if rtl.load_words > 0 {
                defs.push(' ');
                defs.push_str(&wload_defines(rtl.load_words, rtl.load_data_width).join(" "));
                files.insert(0, WLOAD_FILE);
            }
            for f in files.iter().chain([&b.top_file]) {
                s.push_str(&format!("read_verilog {defs} board/{f}\n"));
            }
            b.top_module.to_string()
        }
        _ => rtl.top.clone(),
    };
    let cmd = target.synth_command(&top, "netlist.json");
    // SPRAM is mapped only when the design declares it (`ram_style = "huge"`).
    let cmd = match rtl.load_words {
        0 => cmd,
        _ => cmd.replacen("synth_ice40 ", "synth_ice40 -spram ", 1),
    };
    s.push_str(&cmd);
    s.push('\n');
    (s, top)
}

/// The defines that give a board core the SPI-flash weight loader for `words` image words.
pub fn wload_defines(words: usize, data_width: u32) -> Vec<String> {
    vec![
        "-DBNNGEN_WLOAD".into(),
        format!("-DBNNGEN_WLOAD_WORDS={words}"),
        format!("-DBNNGEN_WLOAD_DATA_W={data_width}"),
        format!("-DBNNGEN_FLASH_OFFSET={FLASH_OFFSET}"),
    ]
}
