//! Where a field is written in TOML text: the line of a field path, and the field path at a
//! byte offset. Diagnostics about a value (a type error from serde, a semantic error found
//! after deserializing) use these to name the line and the field, since the deserialized
//! structs no longer know where their values came from. Used for model, hardware and plan
//! files alike.

use toml::de::{DeTable, DeValue};

/// One step of a field path: a table key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Line and column (1-based) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, col)
}

/// The 1-based line where `path` is written: the key's line for a table field, the element's
/// for an array index. `None` when the text does not parse or the path is not in it (a
/// field left to its default).
pub fn line_of(text: &str, path: &[Seg]) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    let mut value: Option<&DeValue> = None;
    let mut line = None;
    for seg in path {
        match *seg {
            Seg::Key(k) => {
                let t = table.or_else(|| value.and_then(|v| v.as_table()))?;
                let (key, v) = t.iter().find(|(key, _)| key.get_ref().as_ref() == k)?;
                line = Some(line_col(text, key.span().start).0);
                value = Some(v.get_ref());
            }
            Seg::Index(i) => {
                let a = value?.as_array()?;
                let v = a.get(i)?;
                line = Some(line_col(text, v.span().start).0);
                value = Some(v.get_ref());
            }
        }
        table = None;
    }
    line
}

/// The dotted path (`layers.conv2.pe`, `layers[3].simd`) of the innermost field whose value
/// holds byte `offset`, or `None` when no field does.
pub fn path_at(text: &str, offset: usize) -> Option<String> {
    let doc = DeTable::parse(text).ok()?;
    let mut path = String::new();
    find_in_table(doc.get_ref(), offset, &mut path).then_some(path)
}

fn find_in_table(t: &DeTable, offset: usize, path: &mut String) -> bool {
    for (key, v) in t.iter() {
        let span = v.span();
        let inside = span.contains(&offset) || key.span().contains(&offset);
        let nested = matches!(v.get_ref(), DeValue::Table(_) | DeValue::Array(_));
        if inside || nested {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key.get_ref());
            if find_in_value(v.get_ref(), offset, path) || inside {
                return true;
            }
            path.truncate(len);
        }
    }
    false
}

fn find_in_value(v: &DeValue, offset: usize, path: &mut String) -> bool {
    match v {
        DeValue::Table(t) => find_in_table(t, offset, path),
        DeValue::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if find_in_value(e.get_ref(), offset, path) || e.span().contains(&offset) {
                    return true;
                }
                path.truncate(len);
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "clock_mhz = 10.0\n\n[layers.conv2]\npe = 2\nsimd = \"x\"\n\n[[rows]]\na = 1\n[[rows]]\na = [1, 2.5]\n";

    #[test]
    fn lines_of_paths() {
        assert_eq!(line_of(TEXT, &[Seg::Key("clock_mhz")]), Some(1));
        let simd = [Seg::Key("layers"), Seg::Key("conv2"), Seg::Key("simd")];
        assert_eq!(line_of(TEXT, &simd), Some(5));
        let a = [Seg::Key("rows"), Seg::Index(1), Seg::Key("a")];
        assert_eq!(line_of(TEXT, &a), Some(10));
        assert_eq!(line_of(TEXT, &[Seg::Key("fps")]), None);
    }

    #[test]
    fn paths_at_offsets() {
        let at = |needle: &str| path_at(TEXT, TEXT.find(needle).unwrap());
        assert_eq!(at("\"x\"").as_deref(), Some("layers.conv2.simd"));
        assert_eq!(at("10.0").as_deref(), Some("clock_mhz"));
        assert_eq!(at("2.5").as_deref(), Some("rows[1].a[1]"));
    }
}
