//! Simulation models of vendor cells that Yosys declares without behaviour.
//!
//! A gate-level run simulates Yosys' own `cells_sim.v` for the family, so that the check does
//! not rest on bnngen's reading of the cells. Where that library declares a cell with ports
//! and parameters only (ECP5's DP16KD block RAM), the netlist would read zeros from it; bnngen
//! ships its own behavioural model (for DP16KD the one `rtl::ebr` writes beside the RTL) and
//! swaps it in for the empty declaration.
//! Each model follows the semantics Yosys assumes when it maps memories onto the cell, and
//! `tests/synth_cell_models.rs` checks it: a design with every width and write mode Yosys
//! uses gives the same outputs, cycle for cycle, as RTL and as the mapped netlist with the
//! model.
//!
//! `gate_sim` swaps the models in for every gate-level run, so an ECP5 netlist with block RAM
//! is simulated whole (`tests/synth_gate.rs`).

use super::Target;

/// bnngen's model of the ECP5 DP16KD (and of PDPW16KD, which Yosys maps onto it): the one
/// that RTL co-simulation runs too, so the two checks rest on one reading of the cell.
pub const DP16KD: &str = crate::rtl::ebr::SIM_MODEL;

/// The cells of `target` that bnngen models itself: (cell name, Verilog source).
pub fn own_models(target: Target) -> &'static [(&'static str, &'static str)] {
    match target {
        Target::Ecp5_25k | Target::Ecp5_85k => &[("DP16KD", DP16KD)],
        _ => &[],
    }
}

/// `library` (a family's `cells_sim.v`) with the declaration of every cell that bnngen models
/// itself taken out and bnngen's model appended. A cell the library does not declare is
/// simply appended.
pub fn with_own_models(library: &str, target: Target) -> String {
    let mut text = library.to_string();
    for (cell, model) in own_models(target) {
        if let Some((start, end)) = module_span(&text, cell) {
            text.replace_range(start..end, "");
        }
        text.push('\n');
        text.push_str(model);
    }
    text
}

/// Byte range of `module NAME ... endmodule` in `text`, if declared there.
fn module_span(text: &str, name: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(at) = text[from..].find("module ") {
        let start = from + at;
        let rest = &text[start + "module ".len()..];
        let named = rest.starts_with(name)
            && rest[name.len()..].starts_with(|c: char| c == '(' || c == '#' || c.is_whitespace());
        let line_start = start == 0 || text[..start].ends_with('\n');
        if named && line_start {
            let end = start + text[start..].find("endmodule")? + "endmodule".len();
            return Some((with_attributes(text, start), end));
        }
        from = start + "module ".len();
    }
    None
}

/// `start` moved back over the attribute lines (`(* blackbox *)`) just above it, which belong
/// to the module declared there and would otherwise attach to whatever follows.
fn with_attributes(text: &str, mut start: usize) -> usize {
    while let Some(prev) = text[..start].strip_suffix('\n') {
        let line_start = prev.rfind('\n').map_or(0, |i| i + 1);
        let line = prev[line_start..].trim();
        if !(line.starts_with("(*") && line.ends_with("*)")) {
            break;
        }
        start = line_start;
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_declaration_is_replaced_by_the_model() {
        let lib = "module LUT4(input A, output Z);\nassign Z = A;\nendmodule\n\
                   (* blackbox *)\nmodule DP16KD(\n input CLKA\n);\n parameter X = 1;\nendmodule\n\
                   module DP16KD_OTHER(input A);\nendmodule\n";
        let out = with_own_models(lib, Target::Ecp5_85k);
        assert_eq!(
            out.matches("module DP16KD (").count(),
            1,
            "bnngen's model once"
        );
        assert!(
            !out.contains("parameter X = 1;") && !out.contains("blackbox"),
            "Yosys' declaration and its attribute are gone"
        );
        assert!(out.contains("module LUT4(") && out.contains("module DP16KD_OTHER("));
        assert_eq!(with_own_models(lib, Target::Ice40Up5k), lib);
    }

    #[test]
    fn the_model_declares_every_parameter_yosys_sets_on_the_cell() {
        // What techlibs/ecp5/brams_map.v passes to DP16KD; a parameter the model lacks would
        // stop Verilator.
        let mut params: Vec<String> = [
            "DATA_WIDTH_A",
            "DATA_WIDTH_B",
            "REGMODE_A",
            "REGMODE_B",
            "RESETMODE",
            "ASYNC_RESET_RELEASE",
            "CSDECODE_A",
            "CSDECODE_B",
            "CLKAMUX",
            "CLKBMUX",
            "WRITEMODE_A",
            "WRITEMODE_B",
            "GSR",
        ]
        .map(String::from)
        .to_vec();
        params.extend((0..64).map(|k| format!("INITVAL_{k:02X}")));
        for p in params {
            assert!(
                DP16KD.contains(&format!("parameter {p} = ")),
                "the DP16KD model has no parameter {p}"
            );
        }
    }
}
