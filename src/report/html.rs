//! Lay the report out as one self-contained HTML page: inline SVG, inline CSS, the data as
//! embedded JSON, and no external resources, so the file can be mailed or archived alone.

use std::fmt::Write;

use super::data::*;
use super::plots;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn figure(out: &mut String, id: &str, svg: &str) {
    let _ = write!(
        out,
        "<figure class=\"plot\" data-plot=\"{}\">{svg}</figure>",
        esc(id)
    );
}

fn row(out: &mut String, k: &str, v: impl std::fmt::Display) {
    let _ = write!(
        out,
        "<tr><th>{}</th><td>{}</td></tr>",
        esc(k),
        esc(&v.to_string())
    );
}

fn not_run(out: &mut String, what: &str) {
    let _ = write!(
        out,
        "<p class=\"missing\">{} was not run for this report.</p>",
        esc(what)
    );
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}\
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}section{margin:2em 0}\
table{border-collapse:collapse}th,td{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}\
td.num{text-align:right}.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}\
.pass{color:#2e7d32;font-weight:bold}.fail{color:#c62828;font-weight:bold}.missing{color:#888}\
tr.slowest td,tr.this-run td{color:#c62828;font-weight:bold}";

/// The whole report page.
pub fn render_html(d: &ReportData) -> String {
    let m = &d.model;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>bnngen report: {name}</title><style>{STYLE}</style></head><body>\
         <h1>{name}</h1><p class=\"sub\">{desc}</p>",
        name = esc(&m.name),
        desc = esc(&m.description)
    );

    o.push_str("<section id=\"model\"><h2>Model</h2><table>");
    row(&mut o, "input", &m.input);
    row(
        &mut o,
        "front end",
        format!("{}, {} planes per channel", m.front_end, m.levels),
    );
    row(&mut o, "comparators", m.summary.comparators);
    row(
        &mut o,
        "stored weight bits (kept tiles)",
        m.summary.weight_bits_stored,
    );
    row(
        &mut o,
        "weight bits before pruning",
        m.summary.weight_bits_dense,
    );
    row(
        &mut o,
        "kept tiles",
        format!("{} of {}", m.summary.kept_tiles, m.summary.total_tiles),
    );
    row(
        &mut o,
        "binary MACs per frame (kept)",
        m.summary.binary_macs_per_frame,
    );
    o.push_str("</table></section>");

    o.push_str("<section id=\"front-end\"><h2>Front end</h2><div class=\"plots\">");
    figure(&mut o, "tone-curve", &plots::tone_curve(m));
    o.push_str("</div></section>");

    o.push_str("<section id=\"plan\"><h2>Pipeline</h2>");
    match &d.plan {
        None => not_run(&mut o, "Planning"),
        Some(p) => {
            let _ = write!(
                o,
                "<p>{:.1} frames/s and {:.1} &micro;s latency at {:.1} MHz.</p><div class=\"plots\">",
                p.frames_per_second, p.latency_us, p.clock_mhz
            );
            figure(
                &mut o,
                "lanes",
                &plots::stage_bars(p, "Lanes per stage", |s| s.lanes),
            );
            figure(
                &mut o,
                "cycles",
                &plots::stage_bars(p, "Cycles per frame (slowest in red)", |s| {
                    s.cycles_per_frame
                }),
            );
            figure(
                &mut o,
                "memory",
                &plots::stage_bars(p, "Memory bits per stage", |s| s.memory_bits),
            );
            o.push_str("</div><table><tr><th>stage</th><th>kind</th><th>lanes</th><th>cycles/frame</th><th>memory bits</th></tr>");
            let slowest = p.layers.iter().map(|s| s.cycles_per_frame).max();
            for s in &p.layers {
                let cls = if Some(s.cycles_per_frame) == slowest {
                    " class=\"slowest\""
                } else {
                    ""
                };
                let _ = write!(
                    o,
                    "<tr{cls}><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    esc(&s.name), esc(&s.kind), s.lanes, s.cycles_per_frame, s.memory_bits
                );
            }
            o.push_str("</table>");
        }
    }
    o.push_str("</section>");

    o.push_str("<section id=\"pruning\"><h2>Pruning map</h2><p>Tiles (out-block rows, in-block columns): green kept, grey pruned.</p><div class=\"plots\">");
    for t in &m.tiles {
        figure(&mut o, &format!("tiles-{}", t.layer), &plots::tile_map(t));
    }
    o.push_str("</div></section>");

    cost_section(&mut o, d);
    fold_section(&mut o, d);
    o.push_str("<section id=\"synthesis\"><h2>On the chip</h2>");
    match &d.synthesis {
        None => not_run(&mut o, "Synthesis"),
        Some(s) => {
            let timing = match s.fmax_mhz {
                Some(f) if s.timing_met => format!(
                    "<span class=\"pass\">timing met</span>: Fmax {f:.1} MHz, target {:.1} MHz",
                    s.target_mhz
                ),
                Some(f) => format!(
                    "<span class=\"fail\">timing FAILED</span>: Fmax {f:.1} MHz, target {:.1} MHz",
                    s.target_mhz
                ),
                None => "no place and route for this target: resource counts only".to_string(),
            };
            let _ = write!(
                o,
                "<p>{} ({}): {timing}</p><div class=\"plots\">",
                esc(&s.target),
                esc(&s.device)
            );
            figure(&mut o, "resources", &plots::resources(s));
            o.push_str("</div>");
        }
    }
    o.push_str("</section>");

    o.push_str("<section id=\"simulation\"><h2>Co-simulation</h2>");
    match &d.simulation {
        None => not_run(&mut o, "Co-simulation"),
        Some(s) => {
            let verdict = if s.mismatches == 0 {
                format!(
                    "<span class=\"pass\">bit-exact</span>: {} frames, 0 mismatches",
                    s.frames
                )
            } else {
                format!(
                    "<span class=\"fail\">{} mismatches</span> in {} frames",
                    s.mismatches, s.frames
                )
            };
            let _ = write!(o, "<p>{verdict}</p><table>");
            if let Some(c) = s.cycles_per_frame_measured {
                row(&mut o, "cycles per frame, measured", format!("{c:.0}"));
            }
            if let Some(c) = s.cycles_per_frame_planned {
                row(&mut o, "cycles per frame, planned", format!("{c:.0}"));
            }
            if let Some(c) = s.correct {
                let pct = 100.0 * c as f64 / s.frames.max(1) as f64;
                row(
                    &mut o,
                    "accuracy",
                    format!("{c} / {} ({pct:.2}%)", s.frames),
                );
            }
            o.push_str("</table>");
            if let Some(cm) = &s.confusion {
                o.push_str("<div class=\"plots\">");
                figure(&mut o, "confusion", &plots::confusion(cm, &m.classes));
                o.push_str("</div>");
            }
        }
    }
    o.push_str("</section>");

    // The data itself, for tools; `<` is escaped so the JSON cannot close the script element.
    let json = serde_json::to_string(d)
        .expect("report data serializes")
        .replace('<', "\\u003c");
    let _ = writeln!(
        o,
        "<script type=\"application/json\" id=\"report-data\">{json}</script>\
         <script>document.addEventListener('DOMContentLoaded',function(){{\
         var data=JSON.parse(document.getElementById('report-data').textContent);\
         var n=document.querySelectorAll('figure.plot svg').length;\
         document.body.setAttribute('data-plots',String(n));\
         document.body.setAttribute('data-model',data.model.name);}});</script></body></html>"
    );
    o
}

/// The cost model's estimate per part, beside the device's capacity, and energy per frame.
fn cost_section(o: &mut String, d: &ReportData) {
    o.push_str("<section id=\"cost\"><h2>Resource estimate</h2>");
    let Some(c) = &d.cost else {
        not_run(o, "The cost estimate");
        o.push_str("</section>");
        return;
    };
    let _ = write!(
        o,
        "<p>Estimated from the plan for {} (the accelerator alone, without a board top): block RAM exact; LUTs and flip-flops fitted to Yosys 0.23, typically within 15% (docs/benchmarks.md gives the measured error).</p>",
        esc(&c.family)
    );
    o.push_str("<table><tr><th>part</th><th>LUTs</th><th>flip-flops</th><th>carry</th><th>block RAM</th></tr>");
    for r in c.parts.iter().chain(&c.capacity) {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r.name), r.luts, r.ffs, r.carry, r.bram
        );
    }
    o.push_str("</table>");
    if let Some(total) = c.parts.last().filter(|t| t.spram > 0) {
        let _ = write!(
            o,
            "<p>Weights in SPRAM: {} SB_SPRAM256KA{}, loaded from flash after reset; the weight ROMs they hold are not in the block RAM column.</p>",
            total.spram,
            c.capacity.as_ref().map_or(String::new(), |k| format!(" of {}", k.spram))
        );
    }
    if let Some(e) = c.bram_efficiency {
        let _ = write!(
            o,
            "<p>Block RAM efficiency: {:.1}% of the allocated block bits hold weights or buffer bits.</p>",
            100.0 * e
        );
    }
    let _ = write!(
        o,
        "<p>Energy per frame as a 45 nm ASIC: {:.1} nJ ({}).</p></section>",
        c.energy_nj,
        esc(&c.energy_note)
    );
}

/// The fold sweep: a plot and a table of cycles per frame against the estimate, the run's own
/// plan marked.
fn fold_section(o: &mut String, d: &ReportData) {
    o.push_str("<section id=\"folds\"><h2>Frame rate against logic</h2>");
    let Some(f) = &d.folds else {
        not_run(o, "The fold sweep");
        o.push_str("</section>");
        return;
    };
    let _ = write!(
        o,
        "<p>Each row folds the model to half the cycle budget of the row above, from one XNOR lane per layer to the widest folding, at {:.1} MHz; LUTs, flip-flops and block RAMs are the {} estimate. The run's own plan is in red.</p><div class=\"plots\">",
        f.clock_mhz,
        esc(&f.family)
    );
    figure(o, "folds", &plots::fold_sweep(f));
    o.push_str("</div><table><tr><th>cycles/frame</th><th>frames/s</th><th>lanes</th><th>LUTs</th><th>flip-flops</th><th>block RAM</th></tr>");
    let mut rows: Vec<(&FoldPoint, bool)> =
        f.points.iter().map(|p| (p, *p == f.this_run)).collect();
    if !rows.iter().any(|r| r.1) {
        rows.push((&f.this_run, true));
        rows.sort_by_key(|r| std::cmp::Reverse(r.0.cycles_per_frame));
    }
    for (p, this) in rows {
        let cls = if this { " class=\"this-run\"" } else { "" };
        let _ = write!(
            o,
            "<tr{cls}><td class=\"num\">{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            p.cycles_per_frame, p.frames_per_second, p.lanes, p.luts, p.ffs, p.bram
        );
    }
    o.push_str("</table></section>");
}
