//! Diagnostics for model files: every problem names the file, the layer and the field.

use std::fmt;

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// The file as a whole (syntax, version, top-level keys).
    File,
    Named(&'static str),
    Layer(LayerRef),
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.section {
            Section::File => {}
            Section::Named(s) => write!(f, "{s}")?,
            Section::Layer(l) => {
                write!(f, "layers[{}]", l.index)?;
                if let Some(n) = &l.name {
                    write!(f, " ({n})")?;
                }
            }
        }
        if !self.field.is_empty() {
            if self.section != Section::File {
                write!(f, ".")?;
            }
            write!(f, "{}", self.field)?;
        }
        if self.section != Section::File || !self.field.is_empty() {
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// All problems found in one model file. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelErrors {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
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
