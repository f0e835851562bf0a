//! Where a model diagnostic points: the field a serde message is about (serde names the
//! offending value or type but, inside tagged layer tables, not always its key) and the line
//! of a diagnostic's field in the file.

use super::error::{Diagnostic, Section};
use super::toml_lines::{line_of, Seg};

/// Pull the field name out of serde messages such as "unknown field `foo`, expected ...".
pub(super) fn field_in_message(msg: &str) -> Option<String> {
    let start = msg.find("field `")? + "field `".len();
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_string())
}

/// serde names the offending value but not its key for bad enum variants and wrong types
/// ("unknown variant `lstm`", "invalid type: string \"2\""); find the key in the table that
/// holds that value so the diagnostic still names the field.
pub(super) fn field_by_value(table: &toml::Value, msg: &str) -> Option<String> {
    let found = if let Some(rest) = msg.strip_prefix("unknown variant `") {
        toml::Value::String(rest[..rest.find('`')?].to_string())
    } else if let Some(rest) = msg.strip_prefix("invalid type: string \"") {
        toml::Value::String(rest[..rest.find('"')?].to_string())
    } else if let Some(rest) = msg.strip_prefix("invalid type: integer `") {
        toml::Value::Integer(rest[..rest.find('`')?].parse().ok()?)
    } else if let Some(rest) = msg.strip_prefix("invalid type: boolean `") {
        toml::Value::Boolean(rest[..rest.find('`')?].parse().ok()?)
    } else if let Some(rest) = msg.strip_prefix("invalid type: floating point `") {
        toml::Value::Float(rest[..rest.find('`')?].parse().ok()?)
    } else if msg.starts_with("invalid type: sequence") {
        return only_key(table, |v| v.is_array());
    } else if msg.starts_with("invalid type: map") {
        return only_key(table, |v| v.is_table());
    } else {
        return None;
    };
    only_key(table, |v| *v == found)
}

/// The one key of `table` whose value satisfies `pick`; `None` when none or several do, so
/// a field is only named when the value identifies it unambiguously.
fn only_key(table: &toml::Value, pick: impl Fn(&toml::Value) -> bool) -> Option<String> {
    let mut keys = table
        .as_table()?
        .iter()
        .filter(|(_, v)| pick(v))
        .map(|(k, _)| k);
    let key = keys.next()?;
    keys.next().is_none().then(|| key.clone())
}

/// Say "an integer" where serde names a Rust type.
pub(super) fn plain_types(msg: &str) -> String {
    msg.replace("expected i64", "expected an integer")
        .replace("expected usize", "expected a non-negative integer")
        .replace("expected u32", "expected a non-negative integer")
}

/// The line of a diagnostic's field, else of the nearest enclosing part that is written
/// (`mask[1]`, then `mask`, then the layer).
pub(super) fn line_of_diagnostic(text: &str, d: &Diagnostic) -> Option<usize> {
    let mut path: Vec<Seg> = match &d.section {
        Section::File => Vec::new(),
        Section::Named(s) => vec![Seg::Key(s)],
        Section::Layer(l) => vec![Seg::Key("layers"), Seg::Index(l.index)],
    };
    for part in d.field.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        path.push(Seg::Key(key));
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                path.push(Seg::Index(i));
            }
        }
    }
    (1..=path.len())
        .rev()
        .find_map(|n| line_of(text, &path[..n]))
}
