//! Constant tensors of an ONNX file read as numbers, within bounds: the element count is the
//! product of the declared dims, computed with checked arithmetic and compared with the data
//! actually present before anything is allocated, so a file cannot make the importer
//! allocate more than it holds.

use super::proto::{data_type, TensorProto};

/// Largest element count of one constant tensor the importer reads (2^26, 256 MiB of f32,
/// above any tensor a 64 MiB file can hold).
pub const MAX_ELEMENTS: usize = 1 << 26;

/// Why a constant tensor cannot be read.
pub type TensorError = String;

/// Dims of `t` as sizes, and their product, checked.
pub fn dims(t: &TensorProto) -> Result<(Vec<usize>, usize), TensorError> {
    let mut n: usize = 1;
    let mut out = Vec::with_capacity(t.dims.len().min(8));
    if t.dims.len() > 8 {
        return Err(format!(
            "has {} dimensions; bnngen reads at most 8",
            t.dims.len()
        ));
    }
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| format!("has a negative dimension {d}"))?;
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| format!("declares more than {MAX_ELEMENTS} elements"))?;
        out.push(d);
    }
    Ok((out, n))
}

/// Shape, element count, element width in bytes, and the raw bytes (None when the values are
/// in the typed repeated field).
type Elements<'t> = (Vec<usize>, usize, usize, Option<&'t [u8]>);

/// The raw little-endian elements of `t` when its type has one of `widths` ((type, bytes)
/// pairs): (shape, element count, width, raw bytes or None for the typed repeated fields).
fn elements<'t>(
    t: &'t TensorProto,
    widths: &[(i32, usize)],
    expected: &str,
) -> Result<Elements<'t>, TensorError> {
    if t.data_location != 0 {
        return Err(
            "keeps its data in an external file; bnngen reads self-contained files only".into(),
        );
    }
    let (shape, n) = dims(t)?;
    let Some(&(_, width)) = widths.iter().find(|(ty, _)| *ty == t.data_type) else {
        return Err(format!(
            "has element type {}; expected {expected}",
            t.data_type
        ));
    };
    if t.raw_data.is_empty() {
        return Ok((shape, n, width, None));
    }
    if t.raw_data.len() != n * width {
        return Err(format!(
            "holds {} bytes of data for {n} elements of {width} bytes",
            t.raw_data.len()
        ));
    }
    Ok((shape, n, width, Some(&t.raw_data)))
}

/// Check that the typed repeated field held `n` values.
fn counted<T>(values: Vec<T>, n: usize) -> Result<Vec<T>, TensorError> {
    if values.len() != n {
        return Err(format!("holds {} values for {n} elements", values.len()));
    }
    Ok(values)
}

/// The elements of a float or double tensor as f64 (float32 values convert exactly).
pub fn floats(t: &TensorProto) -> Result<(Vec<usize>, Vec<f64>), TensorError> {
    let widths = [(data_type::FLOAT, 4), (data_type::DOUBLE, 8)];
    let (shape, n, width, raw) = elements(t, &widths, "float (1) or double (11)")?;
    let values = match (raw, width) {
        (Some(raw), 4) => raw
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        (Some(raw), _) => raw
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect(),
        (None, 4) => t.float_data.iter().map(|&v| f64::from(v)).collect(),
        (None, _) => t.double_data.clone(),
    };
    Ok((shape, counted(values, n)?))
}

/// The elements of an int64 or int32 tensor.
pub fn ints(t: &TensorProto) -> Result<(Vec<usize>, Vec<i64>), TensorError> {
    let widths = [(data_type::INT64, 8), (data_type::INT32, 4)];
    let (shape, n, width, raw) = elements(t, &widths, "int64 (7) or int32 (6)")?;
    let values = match (raw, width) {
        (Some(raw), 8) => raw
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect(),
        (Some(raw), _) => raw
            .chunks_exact(4)
            .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        (None, 8) => t.int64_data.clone(),
        (None, _) => t.int32_data.iter().map(|&v| i64::from(v)).collect(),
    };
    Ok((shape, counted(values, n)?))
}
