//! `bnngen plan`: fold each layer onto PE x SIMD lanes and report cycles, memory and speed.

use std::path::{Path, PathBuf};

use bnngen::model::annotate::FileKind;
use bnngen::model;
use bnngen::plan::cost::{self, Cells, DesignCost};
use bnngen::plan::device::Device;
use bnngen::plan::{self, fit, HwConfig, Plan};
use bnngen::synth::Target;

use super::CliError;

/// Fold the model onto hardware and print the plan.
///
/// For each layer: lanes (PE x SIMD), cycles per frame from the kept work only, weight and
/// buffer bits; then frames/s and latency at the target clock; then the estimated LUTs,
/// flip-flops, carry cells and block RAMs on iCE40 and ECP5 beside each device's capacity,
/// and the estimated energy per frame of the same design as a 45 nm ASIC. With --hw, the hardware
/// configuration (docs/hw-config.md) sets the target clock and fps or explicit folds. With
/// --device (or `device` in the --hw file), the folding is the fastest whose estimate fits the
/// device within the logic and block-RAM budgets, at the device's default clock unless the hw
/// file sets one; when none fits, the command says what does not fit and exits with status 2.
/// The TOML written by -o is a plan you can edit and feed back with `generate --plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub files: ModelFiles,
    /// Print the plan as JSON (with format_version).
    #[arg(long)]
    pub json: bool,
    /// Also write the plan as an editable TOML file here.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Fold to this device: the fastest folding whose estimate fits it (ice40-up5k,
    /// ice40-hx8k, ecp5-25k, ecp5-85k). With --hw, write `device = "..."` in the file instead.
    #[arg(long, conflicts_with = "hw")]
    pub device: Option<Target>,
    /// With --device: most logic the estimate may use, in percent of the device's logic cells
    /// (iCE40) or LUTs (ECP5).
    #[arg(long, requires = "device", default_value_t = fit::DEFAULT_MAX_LOGIC_PERCENT)]
    pub max_logic_percent: f64,
    /// With --device: most block RAMs the estimate may use, in percent of the device's.
    #[arg(long, requires = "device", default_value_t = fit::DEFAULT_MAX_BRAM_PERCENT)]
    pub max_bram_percent: f64,
}

/// The model and its hardware configuration, the first arguments of `plan`, `generate` and
/// `simulate`.
#[derive(Debug, clap::Args)]
pub struct ModelFiles {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Hardware configuration file (TOML).
    #[arg(long)]
    pub hw: Option<PathBuf>,
}

impl ModelFiles {
    /// The files given, which no output may replace.
    pub fn paths(&self) -> Vec<&Path> {
        std::iter::once(self.model.as_path())
            .chain(self.hw.as_deref())
            .collect()
    }
}

/// The hardware configuration of `--device` without `--hw`: the device's default clock and
/// the budgets given.
fn device_config(args: &Args) -> Result<Option<HwConfig>, CliError> {
    let Some(target) = args.device else {
        return Ok(None);
    };
    let device = Device::parse(target.name()).map_err(CliError::Usage)?;
    for (flag, v) in [
        ("--max-logic-percent", args.max_logic_percent),
        ("--max-bram-percent", args.max_bram_percent),
    ] {
        if !(v.is_finite() && v > 0.0 && v <= 100.0) {
            return Err(CliError::Usage(format!(
                "{flag} {v}: expected a percentage above 0 and at most 100"
            )));
        }
    }
    Ok(Some(HwConfig {
        max_logic_percent: args.max_logic_percent,
        max_bram_percent: args.max_bram_percent,
        ..fit::device_config(device)
    }))
}

/// Load the hardware config (or the default) and fold the model; shared by the RTL commands.
/// The plan `generate` and `simulate` build: a plan file as written, an hw file folded, or,
/// without either, the folding `synth --target T` and `flow --target T` choose for the same
/// target (the fastest that fits its device), so what is simulated is what those commands
/// synthesize.
pub fn make_plan(
    m: &model::Model,
    files: &ModelFiles,
    plan_file: Option<&PathBuf>,
    target: Option<Target>,
) -> Result<Plan, CliError> {
    if let Some(p) = plan_file {
        return plan::load_plan(m, p).map_err(|error| CliError::Config {
            kind: FileKind::Plan,
            error,
        });
    }
    match &files.hw {
        Some(p) => Ok(plan::fold_hw_file(m, p).map_err(CliError::hw)?.1),
        None => match target {
            Some(t) => fit::fold(m, &t.fold_config()).map_err(CliError::hw),
            None => plan::set_folding(m, &HwConfig::default()).map_err(CliError::hw),
        },
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let inputs = args.files.paths();
    if let Some(out) = &args.output {
        bnngen::output::check_file(out, &inputs)?;
    }
    let m = model::load(&args.files.model)?;
    let (hw, p) = match (device_config(&args)?, &args.files.hw) {
        (Some(hw), _) => {
            let p = fit::fold(&m, &hw).map_err(CliError::hw)?;
            (hw, p)
        }
        (None, Some(path)) => plan::fold_hw_file(&m, path).map_err(CliError::hw)?,
        (None, None) => {
            let hw = HwConfig::default();
            let p = plan::set_folding(&m, &hw).map_err(CliError::hw)?;
            (hw, p)
        }
    };
    if let Some(out) = &args.output {
        let text = toml::to_string(&p).map_err(|e| CliError::Internal(e.to_string()))?;
        super::write_output(out, text.as_bytes(), &inputs)?;
    }
    let c = cost::estimate(&m, &p);
    if args.json {
        let device_use = hw.device.map(|d| DeviceFit {
            device: d.name(),
            max_logic_percent: hw.max_logic_percent,
            max_bram_percent: hw.max_bram_percent,
            usage: fit::device_use(&c, &d.capacity(), &hw),
        });
        return super::print_json(&PlanWithCost {
            plan: &p,
            cost: &c,
            capacity: capacities(),
            device_use,
        });
    }
    let fitted = hw.device.map(|d| fit_line(d, &c, &hw, &p)).unwrap_or_default();
    super::print(&format!("{}{}{fitted}", table(&p), cost_table(&c)))
}

/// What the folding found for `device` takes of it, under the budgets.
fn fit_line(device: Device, c: &DesignCost, hw: &HwConfig, p: &Plan) -> String {
    let cap = device.capacity();
    let u = fit::device_use(c, &cap, hw);
    let spram = match u.spram {
        0 => String::new(),
        n => format!(", {n} of {} SPRAM", u.spram_capacity),
    };
    format!(
        "folded to {device} (board top included): {:.1} frames/s at {} MHz, hand-off {}, \
         {} pop-count stage{}; {} of {} {} (limit {} at {}%), {} of {} {} (limit {} at {}%){spram}\n",
        p.fps,
        p.clock_mhz,
        fit::handoff_name(p.handoff),
        p.popcount_stages,
        if p.popcount_stages == 1 { "" } else { "s" },
        u.logic,
        u.logic_capacity,
        u.logic_unit,
        u.logic_limit,
        hw.max_logic_percent,
        u.bram,
        u.bram_capacity,
        u.bram_unit,
        u.bram_limit,
        hw.max_bram_percent,
    )
}

/// `plan --json`: the plan's fields, then the estimate and the devices' capacities.
#[derive(serde::Serialize)]
struct PlanWithCost<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    cost: &'a DesignCost,
    capacity: Vec<(&'static str, cost::Capacity)>,
    /// With --device (or `device` in the hw file): what the folding takes of that device.
    #[serde(skip_serializing_if = "Option::is_none")]
    device_use: Option<DeviceFit>,
}

/// The device folded to, its budgets, and the estimate's use of it (board top included).
#[derive(serde::Serialize)]
struct DeviceFit {
    device: &'static str,
    max_logic_percent: f64,
    max_bram_percent: f64,
    #[serde(flatten)]
    usage: fit::DeviceUse,
}

/// Capacity of every placeable target, by name.
fn capacities() -> Vec<(&'static str, cost::Capacity)> {
    Target::ALL
        .iter()
        .filter_map(|t| t.capacity().map(|c| (t.name(), c)))
        .collect()
}

/// Bits held in block RAM per bit allocated, on each family.
fn bram_efficiency_line(total: &cost::PartCost) -> String {
    use cost::ram::RamFamily;
    let one = |name: &str, c: &Cells, fam: RamFamily| match c.bram_efficiency(fam) {
        Some(e) => format!(
            "{name} {} of {} bits ({:.1}%)",
            c.bram_bits,
            c.bram * fam.block_bits(),
            100.0 * e
        ),
        None => format!("{name} no blocks"),
    };
    format!(
        "block RAM efficiency (bits held / block bits allocated): {}, {}\n",
        one("iCE40", &total.ice40, RamFamily::Ice40),
        one("ECP5", &total.ecp5, RamFamily::Ecp5)
    )
}

/// The cost estimate as a text table, then each device's use and the energy per frame.
pub fn cost_table(c: &DesignCost) -> String {
    let mut s = String::from(
        "resource estimate (block RAM exact; LUTs and flip-flops fitted to Yosys 0.23, see docs/benchmarks.md)\n",
    );
    s.push_str(&format!(
        "{:<16} | {:>6} {:>6} {:>5} {:>5} | {:>6} {:>6} {:>5} {:>6} {:>6}\n",
        "part", "iCE40", "FF", "carry", "RAM4K", "ECP5", "FF", "carry", "DP16KD", "LUTRAM"
    ));
    let row = |name: &str, i: &Cells, e: &Cells| {
        format!(
            "{:<16} | {:>6} {:>6} {:>5} {:>5} | {:>6} {:>6} {:>5} {:>6} {:>6}\n",
            name, i.luts, i.ffs, i.carry, i.bram, e.luts, e.ffs, e.carry, e.bram, e.lutram
        )
    };
    for p in c.parts.iter().chain([&c.total]) {
        s.push_str(&row(&p.name, &p.ice40, &p.ecp5));
    }
    if c.total.ice40.spram > 0 {
        s.push_str(&format!(
            "iCE40 UP5K SPRAM (weights = \"spram\"): {} SB_SPRAM256KA, not counted in RAM4K\n",
            c.total.ice40.spram
        ));
    }
    s.push_str(&format!(
        "generic: {} memories marked for block RAM, {} bits\n",
        c.total.generic.block_memories, c.total.generic.block_bits
    ));
    s.push_str(&bram_efficiency_line(&c.total));
    for (name, cap) in capacities() {
        let e = match cap.family {
            cost::ram::RamFamily::Ice40 => &c.total.ice40,
            cost::ram::RamFamily::Ecp5 => &c.total.ecp5,
        };
        let pct = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
        // At the full device: iCE40 logic cells and the board top counted, as in folding.
        let full = HwConfig {
            max_logic_percent: 100.0,
            max_bram_percent: 100.0,
            ..HwConfig::default()
        };
        let fits = fit::device_use(c, &cap, &full).fits() && e.ffs <= cap.ffs;
        let spram = match e.spram {
            0 => String::new(),
            n => format!(", SPRAM {n}/{}", cap.spram),
        };
        s.push_str(&format!(
            "{name:<11} LUT {}/{} ({:.0}%), FF {}/{} ({:.0}%), block RAM {}/{} ({:.0}%){spram}{}\n",
            e.luts,
            cap.luts,
            pct(e.luts, cap.luts),
            e.ffs,
            cap.ffs,
            pct(e.ffs, cap.ffs),
            e.bram,
            cap.bram,
            pct(e.bram, cap.bram),
            if fits { "" } else { "  <- does not fit" }
        ));
    }
    let en = &c.energy;
    let n = &en.counts;
    s.push_str(&format!(
        "energy per frame {:.1} nJ ({}): XNOR-popcount {} ops {:.1} nJ, add/compare {:.1} nJ, \
         memory {} bits read + {} written {:.1} nJ, {} register bits clocked {:.1} nJ\n",
        en.total_pj / 1000.0,
        en.note,
        n.xnor_popcount,
        en.xnor_popcount_pj / 1000.0,
        en.arithmetic_pj / 1000.0,
        n.memory_bits_read,
        n.memory_bits_written,
        en.memory_pj / 1000.0,
        n.register_bits,
        en.register_pj / 1000.0,
    ));
    s
}

/// The plan as a text table.
pub fn table(p: &Plan) -> String {
    let mut s = format!(
        "plan for `{}` at {} MHz, front end {:?}\n",
        p.model, p.clock_mhz, p.front_end
    );
    s.push_str(&format!(
        "{:<16} {:<10} {:>4} {:>5} {:>4} {:>6} {:>12} {:>12} {:>12}\n",
        "layer", "kind", "pe", "simd", "taps", "lanes", "cycles/frame", "weight bits", "buffer bits"
    ));
    for l in &p.layers {
        let mut mark = if l.cycles_per_frame == p.cycles_per_frame {
            " <- slowest".to_string()
        } else {
            String::new()
        };
        if l.weights_in_logic {
            mark.push_str(" (weights in logic)");
        }
        if l.out_words > 1 {
            mark.push_str(&format!(" (output in {} words)", l.out_words));
        }
        s.push_str(&format!(
            "{:<16} {:<10} {:>4} {:>5} {:>4} {:>6} {:>12} {:>12} {:>12}{mark}\n",
            l.name,
            l.kind,
            l.pe,
            l.simd,
            l.taps,
            l.lanes,
            l.cycles_per_frame,
            l.weight_bits,
            l.buffer_bits
        ));
    }
    s.push_str(&format!(
        "cycles/frame {} | {:.1} frames/s | latency <= {:.2} us | weight bits {} | buffer bits {}\n",
        p.cycles_per_frame, p.fps, p.latency_us, p.weight_bits, p.buffer_bits
    ));
    s
}
