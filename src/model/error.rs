//! Diagnostics for model files: every problem names the file, the layer and the field.

use std::fmt;

use super::annotate::{self, Annotated, FileKind, Problem};

/// Which layer a diagnostic is about: its index in `layers` and its name when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    pub index: usize,
    pub name: Option<String>,
}

/// One problem in a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Section or layer the field belongs to: `input`, `front_end`, `meta`, or a layer.
    pub section: Section,
    /// Dotted field path inside the section, e.g. `weights` or `mask[1]`; empty for the
    /// section as a whole.
    pub field: String,
    /// What was expected and what was found.
    pub message: String,
    /// 1-based line of the field (or of its section when the field is not written, e.g.
    /// a missing one) in the file; `None` for the file as a whole.
    pub line: Option<usize>,
    /// Bytes of the file to underline (a syntax error's place); `None` to underline the
    /// field's `key = value` on `line`.
    pub span: Option<std::ops::Range<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// The file as a whole (syntax, version, top-level keys).
    File,
    Named(&'static str),
    Layer(LayerRef),
}

impl Diagnostic {
    /// Where the diagnostic points, as messages name it: `layers[0] (conv1).stride`,
    /// `input.height`, `format_version`; empty for the file as a whole.
    pub fn place(&self) -> String {
        let mut out = match &self.section {
            Section::File => String::new(),
            Section::Named(s) => s.to_string(),
            Section::Layer(l) => match &l.name {
                Some(n) => format!("layers[{}] ({n})", l.index),
                None => format!("layers[{}]", l.index),
            },
        };
        if !self.field.is_empty() {
            if self.section != Section::File {
                out.push('.');
            }
            out.push_str(&self.field);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = self.place();
        if !place.is_empty() {
            write!(f, "{place}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// All problems found in one model file. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelErrors {
    pub file: String,
    /// The file's text, for the source lines of [`ModelErrors::annotated`] (empty when the
    /// file could not be read).
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl ModelErrors {
    /// Every diagnostic with its code, source line, caret and help line, for a person.
    pub fn annotated(&self) -> Annotated {
        let source = (!self.text.is_empty()).then(|| annotate::source(&self.file, &self.text));
        let problems = self
            .diagnostics
            .iter()
            .map(|d| {
                let place = d.place();
                Annotated::problem(&Problem {
                    kind: FileKind::Model,
                    file: &self.file,
                    source: source.as_ref(),
                    line: d.line,
                    span: d.span.clone(),
                    key: last_key(if d.field.is_empty() {
                        section_key(&d.section)
                    } else {
                        &d.field
                    }),
                    place,
                    message: &d.message,
                })
            })
            .collect();
        Annotated::file(FileKind::Model, &self.file, problems)
    }
}

/// The last step of a dotted field path: `mask[1]` of `front_end.mask[1]`.
fn last_key(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// The key that names a section in the file (`input`), empty for a layer or the file.
fn section_key(s: &Section) -> &str {
    match s {
        Section::Named(n) => n,
        Section::File | Section::Layer(_) => "",
    }
}

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        writeln!(
            f,
            "{}: invalid model ({n} error{})",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            match d.line {
                Some(l) => writeln!(f, "  {}:{l}: {d}", self.file)?,
                None => writeln!(f, "  {}: {d}", self.file)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ModelErrors {}
