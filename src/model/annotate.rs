//! User errors in the files bnngen reads, as a person wants to read them: a code to look up,
//! the message (still naming the file, the line, the layer and the field, so logs can be
//! searched), the source line with a caret under the field, and a help line that says what to
//! change. [`Annotated`] is a `miette` diagnostic; the binary renders it (in colour on a
//! terminal, plain in a log). It lives with the model because model, hardware, plan and
//! training-config files all reuse it, and the model is the lowest layer they share.
//!
//! Codes and help lines come from the kind of problem ([`advice`]): the checks word their
//! messages in a few fixed shapes ("must be ..., found ...", "expected ..., found ...",
//! "unknown field `x`, expected one of ..."), so one table turns each shape into the change
//! that fixes it, and every check gets a help line without repeating one beside it.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

/// Which kind of file a diagnostic is about: its code prefix and the guide that documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Model,
    Hw,
    Plan,
    TrainConfig,
    Image,
}

impl FileKind {
    /// First part of the code, e.g. `model` in `bnngen::model::unknown_field`.
    fn code(self) -> &'static str {
        match self {
            FileKind::Model => "model",
            FileKind::Hw => "hw",
            FileKind::Plan => "plan",
            FileKind::TrainConfig => "train_config",
            FileKind::Image => "image",
        }
    }

    /// The user guide that describes the file's fields.
    fn guide(self) -> &'static str {
        match self {
            FileKind::Model => "docs/model-format.md",
            FileKind::Hw | FileKind::Plan => "docs/hw-config.md",
            FileKind::TrainConfig => "docs/training.md",
            FileKind::Image => "docs/model-format.md (\"Input images\")",
        }
    }

    /// What one file of this kind is called in a headline.
    fn noun(self) -> &'static str {
        match self {
            FileKind::Model => "model",
            FileKind::Hw => "hardware config",
            FileKind::Plan => "plan",
            FileKind::TrainConfig => "training config",
            FileKind::Image => "image file",
        }
    }
}

/// The text of a file, shared by every diagnostic about it.
pub type Source = NamedSource<Arc<String>>;

/// Name `text` as the file `path`, for [`Problem::source`].
pub fn source(path: &str, text: &str) -> Source {
    NamedSource::new(path, Arc::new(text.to_string()))
}

/// One problem in a file, before it is turned into an [`Annotated`].
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    pub kind: FileKind,
    pub file: &'a str,
    /// The file text, when the file could be read and is text.
    pub source: Option<&'a Source>,
    /// 1-based line of the field, when it is written in the file.
    pub line: Option<usize>,
    /// Byte range to underline; when `None`, the field's key on `line` is found.
    pub span: Option<Range<usize>>,
    /// Where the field sits, as the message names it (`layers[0] (conv1).stride`).
    pub place: String,
    /// The field's own key (`stride`, `mask[1]`), for the help line.
    pub key: &'a str,
    pub message: &'a str,
}

/// A user error with its code, message, source snippet and help; several problems in one
/// file are one headline with the problems as related diagnostics.
#[derive(Debug, Clone)]
pub struct Annotated {
    code: String,
    message: String,
    help: Option<String>,
    source: Option<Source>,
    span: Option<SourceSpan>,
    related: Vec<Annotated>,
}

impl Annotated {
    /// A diagnostic with a code and a message but no source (an image or I/O error).
    pub fn plain(kind: FileKind, what: &str, message: String, help: Option<String>) -> Annotated {
        Annotated {
            code: format!("bnngen::{}::{what}", kind.code()),
            message,
            help,
            source: None,
            span: None,
            related: Vec::new(),
        }
    }

    /// One problem: its code and help line from [`advice`], its caret on the field.
    pub fn problem(p: &Problem) -> Annotated {
        let (what, help) = advice(p.kind, p.key, p.message);
        let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        let place = if p.place.is_empty() {
            String::new()
        } else {
            format!("{}: ", p.place)
        };
        let span = p.span.clone().or_else(|| {
            let text = p.source?.inner();
            span_on_line(text, p.line?, p.key)
        });
        Annotated {
            code: format!("bnngen::{}::{what}", p.kind.code()),
            message: format!("{}{at}: {place}{}", p.file, p.message),
            help: Some(
                help.unwrap_or_else(|| format!("see {} for what this field takes", p.kind.guide())),
            ),
            source: p.source.filter(|_| span.is_some()).cloned(),
            span: span.map(|r| SourceSpan::from(r.start..r.end.max(r.start + 1))),
            related: Vec::new(),
        }
    }

    /// All problems of one file: the problem itself when there is one, else a headline
    /// (`FILE: invalid model (3 errors)`) with each problem below it.
    pub fn file(kind: FileKind, file: &str, mut problems: Vec<Annotated>) -> Annotated {
        if problems.len() == 1 {
            return problems.remove(0);
        }
        Annotated {
            code: format!("bnngen::{}::invalid", kind.code()),
            message: format!(
                "{file}: invalid {} ({} errors)",
                kind.noun(),
                problems.len()
            ),
            help: Some("fix each problem below; all of them were collected in one pass".into()),
            source: None,
            span: None,
            related: problems,
        }
    }
}

impl fmt::Display for Annotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Annotated {}

impl Diagnostic for Annotated {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some("here".into()),
            span,
        ))))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// The bytes of `key = value` on 1-based `line` (the value only up to the end of the line),
/// or of the line's text when the key is not written there (an array element, a section
/// header); `None` when the text has no such line.
pub fn span_on_line(text: &str, line: usize, key: &str) -> Option<Range<usize>> {
    let start = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum::<usize>();
    let row = text[start..].split('\n').next()?;
    let row = row.strip_suffix('\r').unwrap_or(row);
    let body = row.trim_end();
    let indent = row.len() - row.trim_start().len();
    let bare = key.split('[').next().unwrap_or(key);
    let at = (!bare.is_empty())
        .then(|| {
            row.match_indices(bare).map(|(i, _)| i).find(|&i| {
                let after = row[i + bare.len()..].trim_start();
                let before = row[..i].trim_end();
                (before.is_empty() || before.ends_with(['{', ',', '.']))
                    && (after.starts_with('=') || after.starts_with('.'))
            })
        })
        .flatten();
    let (from, to) = match at {
        Some(i) => (i, body.len()),
        None if body.len() > indent => (indent, body.len()),
        None => return None,
    };
    Some(start + from..start + to)
}

/// The code (after `bnngen::KIND::`) and the help line for a problem with `message` about the
/// field `key`; `None` help where no shape matches (the caller points to the guide).
pub fn advice(kind: FileKind, key: &str, message: &str) -> (&'static str, Option<String>) {
    let k = if key.is_empty() {
        "this value".to_string()
    } else {
        format!("`{key}`")
    };
    let m = message;
    schema_advice(kind, key, &k, m)
        .or_else(|| check_advice(kind, &k, m))
        .unwrap_or(("invalid", None))
}

/// Advice for what the parser and schema say: syntax, unknown and missing fields, types,
/// enum values.
fn schema_advice(
    kind: FileKind,
    key: &str,
    k: &str,
    m: &str,
) -> Option<(&'static str, Option<String>)> {
    if m.starts_with("TOML syntax error") || m.contains("TOML parse error") {
        return Some((
            "syntax",
            Some(
                "fix the TOML at the caret: quote strings, close brackets, one `key = value` \
                 per line"
                    .into(),
            ),
        ));
    }
    if m.starts_with("cannot read") {
        return Some((
            "unreadable",
            Some("check the path and that the file is readable".into()),
        ));
    }
    if let Some(rest) = m.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        let choices = rest.split_once("expected one of ").map(|(_, c)| c);
        let help = match choices {
            Some(c) => format!("remove `{name}`, or rename it to one of {c}"),
            None => format!("remove `{name}`; this table takes no fields"),
        };
        return Some(("unknown_field", Some(help)));
    }
    if let Some((_, choices)) = m.split_once("unknown top-level field; expected one of ") {
        return Some((
            "unknown_field",
            Some(format!("remove {k}, or rename it to one of {choices}")),
        ));
    }
    if let Some(rest) = m.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        return Some(("missing_field", Some(format!("add `{name} = ...` here"))));
    }
    if m == "missing section" {
        return Some((
            "missing_field",
            Some(format!("add a `[{key}]` section ({})", kind.guide())),
        ));
    }
    if let Some(expected) = m.strip_prefix("missing; expected ") {
        return Some(("missing_field", Some(format!("add `{key} = {expected}`"))));
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        return Some(("wrong_type", Some(format!("write {k} as {expected}"))));
    }
    if m.starts_with("unknown variant `") {
        let choices = m.split_once("expected ").map_or("", |(_, c)| c);
        return Some(("unknown_value", Some(format!("set {k} to {choices}"))));
    }
    None
}

/// Advice for what the checks after the schema say, one shape of message at a time.
fn check_advice(kind: FileKind, k: &str, m: &str) -> Option<(&'static str, Option<String>)> {
    if m.starts_with("unsupported version") {
        return Some((
            "version",
            Some(format!(
                "write the file in the version this build reads, or use the bnngen that \
                 wrote it ({})",
                kind.guide()
            )),
        ));
    }
    if m.contains("duplicate layer name") {
        return Some((
            "duplicate_name",
            Some("give every layer a name of its own".into()),
        ));
    }
    if m.starts_with("no layer is named") {
        return Some((
            "unknown_layer",
            Some(format!("set {k} to the name of an earlier layer")),
        ));
    }
    if m.starts_with("no such layer") {
        return Some((
            "unknown_layer",
            Some("rename the table to a layer of the model that has weights".into()),
        ));
    }
    if let Some((_, fix)) = m
        .split_once("not reachable")
        .and_then(|(_, r)| r.rsplit_once("; "))
    {
        return Some(("unreachable", Some(fix.to_string())));
    }
    if m.contains("does not come before") {
        return Some((
            "forward_reference",
            Some(format!("set {k} to a layer above this one")),
        ));
    }
    if m.starts_with("shape mismatch") {
        return Some((
            "shape_mismatch",
            Some(format!(
                "set {k} to a layer whose output has the current shape"
            )),
        ));
    }
    if m.contains("must be a classifier") || m.contains("must be the last layer") {
        return Some((
            "layer_order",
            Some("end `layers` with exactly one layer of `kind = \"classifier\"`".into()),
        ));
    }
    if m.contains("strictly increasing") {
        return Some((
            "order",
            Some(format!(
                "list {k} from smallest to largest, without repeats"
            )),
        ));
    }
    if m.contains("not divisible by") || m.contains("must divide") || m.contains("does not divide")
    {
        return Some((
            "not_divisor",
            Some(format!(
                "set {k} to a divisor of the count it splits (1 always works)"
            )),
        ));
    }
    if m.starts_with("bad hex digit") {
        return Some((
            "bad_hex",
            Some(format!("write {k} with hex digits 0-9 and a-f only")),
        ));
    }
    if m.contains("padding bits") && m.contains("must be zero") {
        return Some((
            "pad_bits",
            Some(format!(
                "clear the bits of {k}'s last hex digit that lie past the last weight bit"
            )),
        ));
    }
    if let Some(needed) = m.split_once(" needs exactly one of ").map(|(_, n)| n) {
        return Some(("conflict", Some(format!("keep exactly one of {needed}"))));
    }
    if m.contains("larger than") {
        return Some((
            "too_large",
            Some(format!("make {k} smaller, or the input larger")),
        ));
    }
    if m.starts_with("empty;") {
        let needs = m.split_once("needs ").map_or("an entry", |(_, n)| n);
        return Some(("empty", Some(format!("give {k} {needs}"))));
    }
    if m.contains("must not be empty") {
        return Some(("empty", Some(format!("give {k} a non-empty value"))));
    }
    if let Some((_, range)) = m.split_once(" outside ") {
        return Some((
            "out_of_range",
            Some(format!(
                "set {k} within {}",
                range.trim_start_matches("the ")
            )),
        ));
    }
    if let Some((_, rule)) = m.split_once("must be ") {
        let rule = rule.split([',', ';']).next().unwrap_or(rule);
        return Some(("out_of_range", Some(format!("set {k} to {rule}"))));
    }
    if let Some(rest) = m.strip_prefix("expected ") {
        let want = rest.split(", found").next().unwrap_or(rest);
        return Some(("count", Some(format!("give {k} {want}"))));
    }
    if let Some((_, want)) = m.split_once("; expected ") {
        return Some(("invalid", Some(format!("set {k} to {want}"))));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[input]\nheight = 0\n\n[[layers]]\nkernel = [3, 3]\n  \"0x\",\n";

    #[test]
    fn the_caret_goes_under_the_key_and_its_value() {
        let s = span_on_line(TEXT, 2, "height").unwrap();
        assert_eq!(&TEXT[s], "height = 0");
        let s = span_on_line(TEXT, 5, "kernel[1]").unwrap();
        assert_eq!(&TEXT[s], "kernel = [3, 3]");
    }

    #[test]
    fn without_the_key_the_caret_spans_the_line_text() {
        let s = span_on_line(TEXT, 6, "mask[1]").unwrap();
        assert_eq!(&TEXT[s], "\"0x\",");
        assert_eq!(span_on_line(TEXT, 3, "x"), None);
        assert_eq!(span_on_line(TEXT, 99, "x"), None);
        assert_eq!(span_on_line(TEXT, 0, "x"), None);
    }

    #[test]
    fn each_message_shape_gets_its_code_and_help() {
        let a = |m: &str| advice(FileKind::Model, "stride", m);
        assert_eq!(
            a("must be at least 1, found 0"),
            ("out_of_range", Some("set `stride` to at least 1".into()))
        );
        assert_eq!(
            a("expected 2 values (one per output), found 3"),
            (
                "count",
                Some("give `stride` 2 values (one per output)".into())
            )
        );
        assert_eq!(
            a("unknown field `x`, expected one of `a`, `b`").0,
            "unknown_field"
        );
        assert_eq!(a("something else entirely"), ("invalid", None));
    }
}
