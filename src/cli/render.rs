//! How an error reaches the user: a user error in a file as a `miette` report (code, message,
//! source line with a caret, help line), anything else as one `error: ...` line. On a terminal
//! the report is drawn in colour with Unicode boxes (no colour under `NO_COLOR`); elsewhere (a
//! CI log, a pipe) it is plain ASCII without escape codes and without wrapped lines, so every
//! message stays one searchable line.

use std::io::IsTerminal;

use bnngen::model::annotate::Annotated;
use miette::{GraphicalReportHandler, GraphicalTheme};

use super::CliError;

/// The text `bnngen` prints on stderr for `e`.
pub fn render(e: &CliError) -> String {
    match e.annotated() {
        Some(a) => {
            let tty = std::io::stderr().is_terminal();
            let colour = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            render_annotated(&a, tty, colour)
        }
        None => format!("error: {}\n", e.to_string().trim_end()),
    }
}

/// Draw `a` for a terminal (`tty`, in colour when `colour`) or for a log.
pub fn render_annotated(a: &Annotated, tty: bool, colour: bool) -> String {
    let theme = match (tty, colour) {
        (true, true) => GraphicalTheme::unicode(),
        (true, false) => GraphicalTheme::unicode_nocolor(),
        (false, _) => GraphicalTheme::none(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_wrap_lines(tty)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, a).is_err() {
        // A report that cannot be drawn still says what is wrong.
        out = format!("error: {a}\n");
    }
    out
}
