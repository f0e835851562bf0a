//! RTL-vs-reference verification: make seeded stimulus (pixels, input gaps, output
//! back-pressure), run the Verilator harness, and compare every class and score with the
//! reference model as integers. With debug taps, localize the first wrong bit to
//! (layer, frame, pixel, channel) using `reference::trace`.

pub mod icarus;

use crate::input::Image;
use crate::model::Model;
use crate::plan::{Placement, Plan};
use crate::prng::SplitMix64;
use crate::reference::{self, Prediction};
use crate::rtl::window::spram::LoadBus;
use crate::rtl::{self, Design, GenOptions};
use crate::tools::verilator::{self, BuildOptions};
use crate::tools::ToolError;
use serde::Serialize;
use std::path::Path;

/// How hard the stimulus pushes on the handshakes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stress {
    pub seed: u64,
    /// Probability (percent) that a pixel is preceded by an idle gap of 1..=max_gap cycles.
    pub gap_percent: u64,
    pub max_gap: u64,
    /// Probability (percent) that `m_axis_tready` is low in a given cycle.
    pub stall_percent: u64,
}

impl Stress {
    /// No gaps, no back-pressure: for measuring throughput.
    pub fn none() -> Stress {
        Stress {
            seed: 0,
            gap_percent: 0,
            max_gap: 0,
            stall_percent: 0,
        }
    }
    /// Random gaps and back-pressure from a seed.
    pub fn random(seed: u64) -> Stress {
        Stress {
            seed,
            gap_percent: 30,
            max_gap: 5,
            stall_percent: 40,
        }
    }
}

/// One frame's result as the RTL produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RtlResult {
    pub class: usize,
    pub scores: Vec<i64>,
    /// Cycle (after reset) at which the result beat was accepted.
    pub cycle: u64,
}

/// The first wrong bit of a tapped stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TapMismatch {
    /// `front_end` or the layer's name.
    pub layer: String,
    pub frame: usize,
    pub y: usize,
    pub x: usize,
    pub channel: usize,
    pub expected: bool,
}

/// A frame whose class or scores differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub frame: usize,
    pub expected: Prediction,
    pub got_class: Option<usize>,
    pub got_scores: Option<Vec<i64>>,
}

/// Outcome of one co-simulation run.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    pub frames: usize,
    pub results: Vec<RtlResult>,
    pub mismatches: Vec<Mismatch>,
    pub first_tap_mismatch: Option<TapMismatch>,
    /// The harness gave up before every frame came out (a hang).
    pub timeout: bool,
    pub cycles: u64,
    /// Cycles per frame in steady state (`steady_interval`): None for one frame, or when
    /// the intervals between results had not settled by the end of the run.
    pub measured_cycles_per_frame: Option<u64>,
    pub build_cached: bool,
}

impl SimReport {
    pub fn passed(&self) -> bool {
        !self.timeout
            && self.mismatches.is_empty()
            && self.results.len() == self.frames
            && self.first_tap_mismatch.is_none()
    }

    /// What a failed run shows first, in one line for a test's assertion message: the
    /// frames out of those sent, a hang, the first differing frame and the first differing tap.
    pub fn failure(&self) -> String {
        format!(
            "{} of {} frames out, timeout={}, first mismatch={:?}, first tap mismatch={:?}",
            self.results.len(),
            self.frames,
            self.timeout,
            self.mismatches.first(),
            self.first_tap_mismatch
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("image {index} is {got}, the model takes {want}")]
    Image {
        index: usize,
        got: String,
        want: String,
    },
    #[error("unreadable simulator output: {0}")]
    Output(String),
    #[error("cannot generate RTL: {0}")]
    Generate(String),
}

/// The `s_axis_tdata` words (32-bit, LSW first) of one pixel.
pub fn pixel_words(
    model: &Model,
    place: Placement,
    img: &Image,
    y: usize,
    x: usize,
    words: usize,
) -> Vec<u32> {
    let mut w = vec![0u32; words];
    let mut set = |bit: usize| w[bit / 32] |= 1 << (bit % 32);
    let i = &model.input;
    match place {
        Placement::Digital => {
            for c in 0..i.channels {
                let v = img.pixel(y, x, c) as u32;
                for k in 0..i.bits as usize {
                    if (v >> k) & 1 == 1 {
                        set(c * i.bits as usize + k);
                    }
                }
            }
        }
        Placement::Sensor => {
            let m = model.front_end.planes_per_channel(i);
            for c in 0..i.channels {
                for k in 0..m {
                    if model.front_end.plane(i, c, k, img.pixel(y, x, c) as u32) {
                        set(c * m + k);
                    }
                }
            }
        }
    }
    w
}

/// Stimulus text for the harness (format in `sim/harness.cpp`).
pub fn stimulus(
    model: &Model,
    design: &Design,
    place: Placement,
    images: &[Image],
    stress: Stress,
    debug: bool,
) -> String {
    let mut r = SplitMix64::new(stress.seed ^ 0x5715_0001);
    let pixels = model.input.height * model.input.width;
    let words = (design.input_width as usize).div_ceil(32);
    let plen = 997;
    let pattern: Vec<u8> = (0..plen)
        .map(|_| u8::from(r.below(100) >= stress.stall_percent))
        .collect();
    let pattern = if pattern.iter().all(|&b| b == 0) {
        vec![1]
    } else {
        pattern
    };
    let timeout = 200_000 + 400 * (images.len() as u64 + 2) * plan_bound(model);
    let mut s = format!(
        "frames {} pixels {} in_words {} timeout {} debug {}\nready {}",
        images.len(),
        pixels,
        words,
        timeout,
        u8::from(debug),
        pattern.len()
    );
    for b in &pattern {
        s.push_str(if *b == 1 { " 1" } else { " 0" });
    }
    s.push('\n');
    for img in images {
        for y in 0..model.input.height {
            for x in 0..model.input.width {
                let gap = if stress.gap_percent > 0 && r.below(100) < stress.gap_percent {
                    1 + r.below(stress.max_gap.max(1))
                } else {
                    0
                };
                s.push_str(&gap.to_string());
                for w in pixel_words(model, place, img, y, x, words) {
                    s.push_str(&format!(" {w:x}"));
                }
                s.push('\n');
            }
        }
    }
    if !design.spram.is_empty() {
        let image = design.load_image();
        let data_w = design
            .spram
            .iter()
            .map(LoadBus::data_width)
            .max()
            .unwrap_or(16);
        s.push_str(&format!("wload {} {data_w}\n", image.len()));
        for w in image {
            s.push_str(&format!("{w:x}\n"));
        }
    }
    s
}

/// A generous bound on the cycles one frame can take, for the harness timeout.
fn plan_bound(model: &Model) -> u64 {
    model
        .layers
        .iter()
        .map(|l| Model::layer_macs(l) + (l.input.height * l.input.width * 16) as u64)
        .sum::<u64>()
        + 1000
}

fn bits_of(words: &[u32], lo: usize, n: usize) -> u64 {
    (0..n)
        .map(|i| ((words.get((lo + i) / 32).copied().unwrap_or(0) >> ((lo + i) % 32)) & 1) as u64)
        .enumerate()
        .map(|(i, b)| b << i)
        .sum()
}

fn bit_of(words: &[u32], i: usize) -> bool {
    (words.get(i / 32).copied().unwrap_or(0) >> (i % 32)) & 1 == 1
}

fn hex_words(it: &mut dyn Iterator<Item = &str>, n: usize) -> Result<Vec<u32>, VerifyError> {
    (0..n)
        .map(|_| {
            let t = it
                .next()
                .ok_or_else(|| VerifyError::Output("short line".into()))?;
            u32::from_str_radix(t, 16).map_err(|e| VerifyError::Output(e.to_string()))
        })
        .collect()
}

/// Generate, build, run and compare. `images` must match the model input.
pub fn cosimulate(
    model: &Model,
    plan: &Plan,
    images: &[Image],
    stress: Stress,
    debug: bool,
    trace: Option<&Path>,
) -> Result<SimReport, VerifyError> {
    let opts = GenOptions {
        debug,
        ..Default::default()
    };
    cosimulate_opts(model, plan, images, stress, opts, trace)
}

/// `cosimulate` with explicit generator options (e.g. another family's weight-ROM banks).
pub fn cosimulate_opts(
    model: &Model,
    plan: &Plan,
    images: &[Image],
    stress: Stress,
    opts: GenOptions,
    trace: Option<&Path>,
) -> Result<SimReport, VerifyError> {
    let debug = opts.debug;
    let want = format!(
        "{}x{}x{}",
        model.input.height, model.input.width, model.input.channels
    );
    for (index, img) in images.iter().enumerate() {
        if (img.height, img.width, img.channels)
            != (model.input.height, model.input.width, model.input.channels)
        {
            return Err(VerifyError::Image {
                index,
                got: format!("{}x{}x{}", img.height, img.width, img.channels),
                want,
            });
        }
    }
    let design =
        rtl::generate(model, plan, opts).map_err(|e| VerifyError::Generate(e.to_string()))?;
    let files = rtl::render(&design);
    let sim = verilator::build(
        &files,
        &design.top,
        BuildOptions {
            debug,
            trace: trace.is_some(),
            wload: !design.spram.is_empty(),
        },
    )?;
    let stim = stimulus(model, &design, plan.front_end, images, stress, debug);
    let text = sim.run(&stim, trace)?;
    compare(model, &design, images, &text, debug, sim.cached)
}

/// Co-simulate with every register starting at a random value and every X a value of its own
/// (`verilator::build_x_unique`), once per seed; one report per seed. A result that depends on
/// an uninitialized register or an X shows up as a mismatch under some seed.
pub fn cosimulate_x_unique(
    model: &Model,
    plan: &Plan,
    images: &[Image],
    stress: Stress,
    seeds: &[u64],
) -> Result<Vec<SimReport>, VerifyError> {
    let design = rtl::generate(model, plan, GenOptions::default())
        .map_err(|e| VerifyError::Generate(e.to_string()))?;
    let files = rtl::render(&design);
    let opts = BuildOptions {
        wload: !design.spram.is_empty(),
        ..BuildOptions::default()
    };
    let sim = verilator::build_x_unique(&files, &design.top, opts)?;
    let stim = stimulus(model, &design, plan.front_end, images, stress, false);
    seeds
        .iter()
        .map(|&seed| {
            let text = sim.run_seeded(&stim, seed)?;
            compare(model, &design, images, &text, false, sim.cached)
        })
        .collect()
}

/// Parse the harness output and compare with the reference model.
pub fn compare(
    model: &Model,
    design: &Design,
    images: &[Image],
    text: &str,
    debug: bool,
    cached: bool,
) -> Result<SimReport, VerifyError> {
    let (cw, sw, k) = (
        design.class_width as usize,
        design.score_width as usize,
        design.classes,
    );
    let out_words = (cw + sw * k).div_ceil(32);
    let traces: Vec<reference::Trace> = images.iter().map(|i| reference::trace(model, i)).collect();
    let mut results = Vec::new();
    let mut timeout = false;
    let mut cycles = 0;
    let ntaps = design.tap_widths.len();
    let tap_total: usize = design.tap_widths.iter().map(|&w| w as usize).sum();
    let mut tap_count = vec![0usize; ntaps];
    let mut first_tap: Option<(u64, TapMismatch)> = None;
    for line in text.lines() {
        let mut it = line.split_whitespace();
        match it.next() {
            Some("R") => {
                let cycle: u64 = it
                    .next()
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| VerifyError::Output(line.into()))?;
                let w = hex_words(&mut it, out_words)?;
                let class = bits_of(&w, 0, cw) as usize;
                let scores = (0..k)
                    .map(|i| {
                        let raw = bits_of(&w, cw + i * sw, sw);
                        let shift = 64 - sw as u32;
                        ((raw << shift) as i64) >> shift
                    })
                    .collect();
                results.push(RtlResult {
                    class,
                    scores,
                    cycle,
                });
            }
            Some("D") if debug => {
                let cycle: u64 = it
                    .next()
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| VerifyError::Output(line.into()))?;
                let fire = hex_words(&mut it, ntaps.div_ceil(32))?;
                let data = hex_words(&mut it, tap_total.div_ceil(32))?;
                let mut off = 0;
                #[allow(clippy::needless_range_loop)]
                for t in 0..ntaps {
                    let width = design.tap_widths[t] as usize;
                    if bit_of(&fire, t) {
                        let n = tap_count[t];
                        tap_count[t] += 1;
                        if let Some(m) = check_tap(model, &traces, (t, width), n, &data, off) {
                            if first_tap.as_ref().is_none_or(|(c, _)| cycle < *c) {
                                first_tap = Some((cycle, m));
                            }
                        }
                    }
                    off += width;
                }
            }
            Some("D") => {}
            Some("END") => cycles = it.next().and_then(|c| c.parse().ok()).unwrap_or(0),
            Some("TIMEOUT") => {
                timeout = true;
                cycles = it.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            }
            _ => return Err(VerifyError::Output(format!("unexpected line `{line}`"))),
        }
    }
    let mut mismatches = Vec::new();
    for (f, tr) in traces.iter().enumerate() {
        let got = results.get(f);
        if got.is_none_or(|g| g.class != tr.prediction.class || g.scores != tr.prediction.scores) {
            mismatches.push(Mismatch {
                frame: f,
                expected: tr.prediction.clone(),
                got_class: got.map(|g| g.class),
                got_scores: got.map(|g| g.scores.clone()),
            });
        }
    }
    let measured = steady_interval(&results);
    Ok(SimReport {
        frames: images.len(),
        results,
        mismatches,
        first_tap_mismatch: first_tap.map(|(_, m)| m),
        timeout,
        cycles,
        measured_cycles_per_frame: measured,
        build_cached: cached,
    })
}

/// Compare the `n`-th beat of tap `t`, a word of `width` bits, with the reference trace.
fn check_tap(
    model: &Model,
    traces: &[reference::Trace],
    (t, width): (usize, usize),
    n: usize,
    data: &[u32],
    off: usize,
) -> Option<TapMismatch> {
    let name = if t == 0 {
        "front_end".to_string()
    } else {
        model.layers[t - 1].name.clone()
    };
    let shape = if t == 0 {
        model.front_end_shape()
    } else {
        model.layers[t - 1].output
    };
    // A dense layer may hand its pixel on in words of `width` channels (`plan::words`).
    let words = (shape.channels / width.max(1)).max(1);
    let per_frame = shape.height * shape.width * words;
    let (frame, beat) = (n / per_frame, n % per_frame);
    let (p, word) = (beat / words, beat % words);
    let tr = traces.get(frame)?;
    let ten = if t == 0 {
        &tr.front_end
    } else {
        &tr.layers[t - 1]
    };
    let first = word * width;
    for c in first..(first + width).min(shape.channels) {
        let want = ten.bits.get(p * shape.channels + c);
        if bit_of(data, off + c - first) != want {
            return Some(TapMismatch {
                layer: name,
                frame,
                y: p / shape.width,
                x: p % shape.width,
                channel: c,
                expected: want,
            });
        }
    }
    None
}

/// Frames a clean run needs so that `steady_interval` has a settled half to look at: a
/// pipeline of tiny stages may take a few frames to fill its line-buffer rings.
pub const STEADY_FRAMES: usize = 12;

/// The interval between consecutive results once the pipeline is full: the last half of the
/// intervals (at least one) must all be equal, and that value is returned. The first frames
/// may take longer while the stages' buffers fill; a run whose late intervals still differ
/// has no steady state to report (None), and neither has a run of one frame.
pub fn steady_interval(results: &[RtlResult]) -> Option<u64> {
    let deltas = intervals(results);
    let late = &deltas[deltas.len() / 2..];
    let first = *late.first()?;
    late.iter().all(|&d| d == first).then_some(first)
}

/// Cycles between consecutive results.
pub fn intervals(results: &[RtlResult]) -> Vec<u64> {
    (results.windows(2))
        .map(|w| w[1].cycle - w[0].cycle)
        .collect()
}
