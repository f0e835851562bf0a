//! Single output files (`-o FILE`, `--trace FILE`, `--report FILE`): regular files only,
//! never an input of the same command, written whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{io, OutputError};

/// Check that `path` may be written as an output file: its folder exists, and it is new or a
/// regular file (not a FIFO, device, folder or symbolic link) that is none of `inputs`.
pub fn check_file(path: &Path, inputs: &[&Path]) -> Result<(), OutputError> {
    if path.file_name().is_none() {
        return Err(OutputError::WrongKind {
            path: path.to_path_buf(),
            what: "not a file name",
            expected: "regular files",
        });
    }
    let parent = super::parent_of(path);
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        _ => {
            return Err(OutputError::NoParent {
                path: path.to_path_buf(),
                parent: parent.to_path_buf(),
            })
        }
    }
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path)(e)),
        Ok(m) if !m.is_file() => {
            return Err(OutputError::WrongKind {
                path: path.to_path_buf(),
                what: super::kind_of(&m),
                expected: "regular files",
            })
        }
        Ok(_) => {}
    }
    super::check_not_input(path, inputs)
}

/// Write `bytes` to the output file `path` after [`check_file`].
pub fn write_file(path: &Path, bytes: &[u8], inputs: &[&Path]) -> Result<(), OutputError> {
    let slot = FileSlot::reserve(path, inputs)?;
    slot.write(bytes)?;
    slot.commit()
}

/// A checked output file being written: a new temporary file beside it, renamed over the
/// final path by [`FileSlot::commit`]; dropped uncommitted, it is removed. For outputs that
/// another program writes (a simulator's trace), hand it [`FileSlot::tmp`].
#[derive(Debug)]
pub struct FileSlot {
    path: PathBuf,
    tmp: PathBuf,
    done: bool,
}

impl FileSlot {
    /// Check `path` and create its temporary file.
    pub fn reserve(path: &Path, inputs: &[&Path]) -> Result<FileSlot, OutputError> {
        check_file(path, inputs)?;
        let (tmp, _) = create_tmp(path)?;
        Ok(FileSlot {
            path: path.to_path_buf(),
            tmp,
            done: false,
        })
    }

    /// The temporary file to write.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// Write `bytes` into the temporary file (replacing what it holds).
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        let f = std::fs::File::create(&self.tmp).map_err(io(&self.path))?;
        write_synced(f, bytes).map_err(io(&self.path))
    }

    /// Move the temporary file over the final path. The path is checked once more, so a FIFO
    /// or folder that appeared meanwhile is refused rather than replaced.
    pub fn commit(self) -> Result<(), OutputError> {
        check_file(&self.path, &[])?;
        self.rename_into_place()
    }

    /// Rename the temporary file over the final path, unchecked.
    fn rename_into_place(mut self) -> Result<(), OutputError> {
        std::fs::rename(&self.tmp, &self.path).map_err(io(&self.path))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for FileSlot {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Create a new, empty temporary file beside `path`. It is created exclusively (never an
/// existing file, which would be truncated) under a hidden name unique to this process.
fn create_tmp(path: &Path) -> Result<(PathBuf, std::fs::File), OutputError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    loop {
        let tmp = path.with_file_name(format!(".{name}{}{}", super::STAGING, super::unique()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(path)(e)),
        }
    }
}

/// Replace `path` inside a folder bnngen owns (a manifest, or a file the manifest lists):
/// the same temporary file and rename as [`FileSlot`], without the checks that guard a
/// user-given path (bnngen owns this one).
pub(super) fn replace_owned(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let (tmp, f) = create_tmp(path)?;
    let slot = FileSlot {
        path: path.to_path_buf(),
        tmp,
        done: false,
    };
    write_synced(f, bytes).map_err(io(path))?;
    slot.rename_into_place()
}

/// Write `bytes` to `f` and wait until they are on disk, so the rename that follows never
/// exposes a half-written file.
fn write_synced(mut f: std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
    f.write_all(bytes).and_then(|()| f.sync_all())
}
