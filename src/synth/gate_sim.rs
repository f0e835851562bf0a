//! Gate-level proof: synthesize the generated accelerator for a target, write the mapped
//! netlist back out as Verilog (`write_verilog`), and run it with the family's cell models
//! through the same Verilator harness, stimulus and comparison as RTL co-simulation.
//!
//! RTL simulation trusts that Yosys reads the RTL the way Verilator does; this checks what
//! synthesis actually produced (block RAM inference and initialization, ROM mapping, carry
//! chains, DSP inference), so a pass means the netlist computes the reference model bit for
//! bit on these images.

use super::flow::{prepare, RtlDesign, SynthError};
use super::Target;
use crate::input::Image;
use crate::model::Model;
use crate::plan::Plan;
use crate::rtl::{self, Design, GenOptions};
use crate::tools::verilator::{self, BuildOptions};
use crate::tools::yosys::{Resources, Yosys};
use crate::verify::{self, SimReport, Stress, VerifyError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GateSimError {
    #[error(transparent)]
    Synth(#[from] SynthError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("cannot generate RTL: {0}")]
    Generate(String),
    #[error(
        "the {target} netlist instantiates {count} {cell} cell(s), and Yosys ships no \
         simulation model for {cell} (its cells_sim.v declares the ports only), so this netlist \
         cannot be simulated at gate level; RTL co-simulation (bnngen simulate --target \
         {target}) covers the same RTL"
    )]
    NoCellModel {
        target: String,
        cell: &'static str,
        count: usize,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of a gate-level run.
#[derive(Debug, Clone)]
pub struct GateSim {
    pub report: SimReport,
    /// The simulated netlist (`write_verilog` output).
    pub netlist: PathBuf,
    /// What the netlist is made of.
    pub resources: Resources,
}

/// Files the generated design consists of, as an [`RtlDesign`] rooted at `dir`.
pub fn rtl_design(design: &Design, pixels: usize, dir: &Path) -> RtlDesign {
    RtlDesign {
        dir: dir.to_path_buf(),
        sources: design
            .modules
            .iter()
            .map(|m| format!("{}.v", m.name))
            .collect(),
        data: design.files.iter().map(|(n, _)| n.clone()).collect(),
        top: design.top.clone(),
        input_width: design.input_width,
        output_width: design.class_width + design.score_width * design.classes as u32,
        pixels,
        load_words: crate::plan::cost::spram::image_words(&design.spram),
        load_data_width: (design.spram.iter())
            .map(crate::rtl::window::spram::LoadBus::data_width)
            .max()
            .unwrap_or(16),
        frame_cycles: 0,
    }
}

/// Synthesize the bare accelerator (no board top) for `target` in `work` and write the
/// mapped netlist as `netlist.v`.
pub fn synthesize_netlist(
    design: &Design,
    pixels: usize,
    target: Target,
    work: &Path,
) -> Result<(PathBuf, Resources), GateSimError> {
    let rtl_dir = work.join("rtl");
    rtl::write_dir(design, &rtl_dir).map_err(|source| GateSimError::Io {
        path: rtl_dir.clone(),
        source,
    })?;
    let rtl = rtl_design(design, pixels, &rtl_dir);
    prepare(&rtl, work)?;
    let mut script = String::new();
    for f in &rtl.sources {
        script.push_str(&format!("read_verilog {f}\n"));
    }
    let cmd = target.netlist_synth_command(&rtl.top, "netlist.json");
    // Weights in SPRAM (`ram_style = "huge"`) map to SB_SPRAM256KA only with -spram.
    let cmd = match design.spram.is_empty() {
        true => cmd,
        false => cmd.replacen("synth_ice40 ", "synth_ice40 -spram ", 1),
    };
    script.push_str(&cmd);
    script.push_str("\nwrite_verilog -noattr netlist.v\n");
    let yosys = Yosys::find().map_err(SynthError::from)?;
    let run = yosys
        .run(work, "gate_synth", &script, target.cell_family())
        .map_err(SynthError::from)?;
    Ok((work.join("netlist.v"), run.resources))
}

/// The file name of the cell library (the family's `cells_sim.v` with bnngen's own models)
/// in a gate-level build: a name no family's library folder holds.
const CELL_LIBRARY: &str = "bnngen_cells.v";

/// Synthesize for `target`, then simulate the netlist on `images` against the reference.
/// With `debug`, the netlist keeps the per-layer tap ports and the first wrong bit is
/// localized as in RTL co-simulation.
pub fn simulate_netlist(
    model: &Model,
    plan: &Plan,
    target: Target,
    images: &[Image],
    stress: Stress,
    debug: bool,
    work: &Path,
) -> Result<GateSim, GateSimError> {
    let design = rtl::generate(
        model,
        plan,
        GenOptions {
            debug,
            ..target.gen_options()
        },
    )
    .map_err(|e| GateSimError::Generate(e.to_string()))?;
    simulate_design_netlist(model, plan, &design, target, images, stress, work)
}

/// [`simulate_netlist`] of a design generated already (with debug taps if its top has
/// them); a design with weights in SPRAM is simulated with Yosys's SB_SPRAM256KA model,
/// loaded over the load bus as in RTL co-simulation.
pub fn simulate_design_netlist(
    model: &Model,
    plan: &Plan,
    design: &Design,
    target: Target,
    images: &[Image],
    stress: Stress,
    work: &Path,
) -> Result<GateSim, GateSimError> {
    let debug = (design.modules.last()).is_some_and(|m| m.port("dbg_fire").is_some());
    let pixels = model.input.height * model.input.width;
    let (netlist, resources) = synthesize_netlist(design, pixels, target, work)?;
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| GateSimError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let text = read(&netlist)?;
    if let Some((cell, count)) = unmodelled_cell(target, &text) {
        return Err(GateSimError::NoCellModel {
            target: target.name().to_string(),
            cell,
            count,
        });
    }
    let mut files = vec![("netlist.v".to_string(), text)];
    // Cell models may warn under Verilator (they are not ours); the netlist itself is
    // Yosys output. Neither is held to the -Wall bar of generated RTL.
    let mut list = String::from("-Wno-fatal\n-Wno-lint\n-Wno-style\n");
    if let Some((cells, defines)) = target.cell_models() {
        for d in defines {
            list.push_str(&format!("+define+{d}\n"));
        }
        // The cell library may `include its siblings (ECP5: cells_ff.vh, ...).
        if let Some(dir) = Path::new(cells).parent() {
            list.push_str(&format!("-I{}\n", dir.display()));
        }
        let library = super::cells::with_own_models(&read(Path::new(cells))?, target);
        // Not `cells_sim.v`: Verilator looks a listed file up in the `-I` folders before
        // the build folder, so that name would read the family's original library, without
        // bnngen's models.
        files.push((CELL_LIBRARY.to_string(), library));
        list.push_str(CELL_LIBRARY);
        list.push('\n');
    }
    list.push_str("netlist.v\n");
    files.push(("files.f".to_string(), list));
    let sim = verilator::build(
        &files,
        &design.top,
        BuildOptions {
            debug,
            trace: false,
            wload: !design.spram.is_empty(),
        },
    )
    .map_err(VerifyError::from)?;
    let stim = verify::stimulus(model, design, plan.front_end, images, stress, debug);
    let text = sim.run(&stim, None).map_err(VerifyError::from)?;
    let report = verify::compare(model, design, images, &text, debug, sim.cached)?;
    Ok(GateSim {
        report,
        netlist,
        resources,
    })
}

/// The first cell of `target` without a simulation model that `netlist` (Yosys
/// `write_verilog` output) instantiates, with its instance count.
pub fn unmodelled_cell(target: Target, netlist: &str) -> Option<(&'static str, usize)> {
    target.cells_without_model().iter().find_map(|&cell| {
        let count = (netlist.lines())
            .filter(|l| {
                let t = l.trim_start();
                t.strip_prefix(cell)
                    .is_some_and(|rest| rest.starts_with(" #(") || rest.starts_with(" _"))
            })
            .count();
        (count > 0).then_some((cell, count))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list of model-less cells is what the installed Yosys ships, less the cells bnngen
    /// models itself: each such cell in `cells_sim.v` has no `always` or `assign`, and the
    /// family's other block RAM primitives used by the flows have one.
    #[test]
    fn cells_without_model_match_the_installed_cell_models() {
        let body = |file: &str, cell: &str| -> String {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            let start = text
                .find(&format!("module {cell}"))
                .unwrap_or_else(|| panic!("{cell} not in {file}"));
            let end = start + text[start..].find("endmodule").unwrap();
            text[start..end].to_string()
        };
        let behaves = |b: &str| b.contains("always") || b.contains("assign");
        for target in [Target::Ecp5_85k, Target::Xilinx] {
            let (file, _) = target.cell_models().unwrap();
            for cell in target.cells_without_model() {
                assert!(!behaves(&body(file, cell)), "{cell} has a model now");
            }
            for (cell, model) in super::super::cells::own_models(target) {
                assert!(!behaves(&body(file, cell)), "Yosys models {cell} now");
                assert!(behaves(model), "bnngen's {cell} model has behaviour");
            }
        }
        assert_eq!(Target::Ecp5_85k.cells_without_model(), &[] as &[&str]);
        let (ice40, _) = Target::Ice40Up5k.cell_models().unwrap();
        assert!(behaves(&body(ice40, "SB_RAM40_4K ")));
    }

    /// Regression: the cell library was written as `cells_sim.v`, and Verilator read the
    /// family's own `cells_sim.v` from the `-I` folder instead, without bnngen's DP16KD.
    /// No family's library folder may hold a file of the name the build uses.
    #[test]
    fn the_cell_library_name_is_not_shadowed_by_an_include_folder() {
        for target in [
            Target::Ice40Up5k,
            Target::Ice40Hx8k,
            Target::Ecp5_25k,
            Target::Ecp5_85k,
            Target::Xilinx,
        ] {
            let (file, _) = target.cell_models().unwrap();
            let dir = Path::new(file).parent().unwrap();
            assert!(dir.is_dir(), "{}: missing", dir.display());
            assert!(
                !dir.join(CELL_LIBRARY).exists(),
                "{} holds {CELL_LIBRARY}",
                dir.display()
            );
        }
    }

    #[test]
    fn a_netlist_with_an_unmodelled_cell_is_found() {
        let net = "module m;\n  RAMB18E1 #(\n    .DOA_REG(0)\n  ) _12_ (\n  );\n  LUT6 _13_ ();\n";
        assert_eq!(unmodelled_cell(Target::Xilinx, net), Some(("RAMB18E1", 1)));
        assert_eq!(unmodelled_cell(Target::Ice40Up5k, net), None);
        assert_eq!(unmodelled_cell(Target::Xilinx, "  LUT6 _1_ ();\n"), None);
        // bnngen models ECP5's block RAM itself.
        let ecp5 = "module m;\n  DP16KD #(\n    .CSDECODE_A(\"0b000\")\n  ) _12_ (\n  );\n";
        assert_eq!(unmodelled_cell(Target::Ecp5_85k, ecp5), None);
    }
}
