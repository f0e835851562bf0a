//! The size limits of a model (docs/model-format.md, "Limits"), and the capped file read.
//!
//! Every size a later stage allocates from (tensors in the reference model, line buffers and
//! weight memories in the plan and the RTL, the simulator's stimulus) is derived from the
//! figures checked here, so validation rejects an oversized model before anything is
//! allocated from it, and no shape arithmetic downstream can wrap. The limits are far above
//! what an in-sensor accelerator needs and low enough that every figure fits in 64 bits with
//! room to spare.

use std::io::Read;
use std::path::Path;

/// Largest model file read, in bytes. A larger file (or a device such as `/dev/zero`) is
/// refused before it is read whole.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Largest image height or width, kernel height or width, padding and stride.
pub const MAX_SIDE: usize = 4096;

/// Largest number of input channels (`input.channels`).
pub const MAX_INPUT_CHANNELS: usize = 1024;

/// Largest channel count of any tensor: the front end's planes (C x P) and every layer's
/// `out_channels` / `out_features`.
pub const MAX_CHANNELS: usize = 65_536;

/// Largest binary tensor (height x width x channels bits) anywhere in the model: the front
/// end's output and every layer's output.
pub const MAX_TENSOR_BITS: usize = 1 << 24;

/// Largest unpruned weight count of one layer (out x kernel_h x kernel_w x in channels);
/// the stored (kept-tile) bits are at most this.
pub const MAX_LAYER_WEIGHTS: u64 = 1 << 32;

/// Largest number of (out-block, in-block) tiles of one layer (`in_blocks x out_blocks`).
pub const MAX_TILES: usize = 1 << 20;

/// Largest number of layers.
pub const MAX_LAYERS: usize = 4096;

/// Read a text file of at most `cap` bytes. A longer file or stream is an error after reading
/// `cap + 1` bytes at most, so neither a huge file nor an endless device is read whole.
pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    if let Ok(meta) = file.metadata() {
        if meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is a directory, not a file",
            ));
        }
        if meta.is_file() && meta.len() > cap {
            return Err(too_large(cap));
        }
    }
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn too_large(cap: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("larger than the {} MiB limit", cap >> 20),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_device_is_cut_at_the_cap() {
        let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("larger than the 1 MiB limit"), "{e}");
    }

    #[test]
    fn a_directory_is_refused() {
        let e = read_capped(Path::new("."), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }
}
