//! Output folders: written whole in a staging folder, then renamed into place.

use std::path::{Path, PathBuf};

use super::manifest::{self, Ownership};
use super::{io, OutputError};

/// The file that marks a folder whose run failed, with the error in it.
pub const FAILED: &str = "FAILED";

/// An output folder being written. Everything goes into [`Staged::path`], a new sibling
/// folder; [`Staged::commit`] lists it in a manifest and renames it over the target. Dropped
/// uncommitted, the staging folder is removed and the target is as it was.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    tmp: PathBuf,
    /// The folder whose manifest gains the target's name on commit (a nested unit).
    register_in: Option<PathBuf>,
    done: bool,
}

impl Staged {
    /// Start writing the folder `target`, which must be new, empty or bnngen's, must not be
    /// the working directory or hold it, and must hold none of `inputs`. Missing parent
    /// folders are created (that removes nothing).
    pub fn begin(target: &Path, inputs: &[&Path]) -> Result<Staged, OutputError> {
        Staged::begin_in(target, inputs, None)
    }

    /// [`Staged::begin`] for a nested unit of the bnngen folder `register_in`: the staging
    /// folder is listed in that folder's manifest before it is created, so a run killed
    /// before it could clean up leaves a folder that the next run knows as bnngen's
    /// ([`OutputDir::open`] removes it) instead of one that blocks the run folder for good.
    fn begin_in(
        target: &Path,
        inputs: &[&Path],
        register_in: Option<&Path>,
    ) -> Result<Staged, OutputError> {
        super::check_not_input(target, inputs)?;
        check_not_cwd(target)?;
        manifest::classify(target)?;
        let parent = super::parent_of(target);
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let name = target
            .file_name()
            .map_or_else(|| "out".to_string(), |n| n.to_string_lossy().into_owned());
        let tmp = loop {
            let tmp_name = format!(".{name}{}{}", super::STAGING, super::unique());
            if let Some(dir) = register_in {
                manifest::add_entry(dir, &format!("{tmp_name}/"))?;
            }
            let tmp = parent.join(&tmp_name);
            let e = match std::fs::create_dir(&tmp) {
                Ok(()) => break tmp,
                Err(e) => e,
            };
            // Not created by this run: it must not stay listed as bnngen's.
            if let Some(dir) = register_in {
                manifest::replace_entry(dir, &format!("{tmp_name}/"), "")?;
            }
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(io(target)(e));
            }
        };
        Ok(Staged {
            target: target.to_path_buf(),
            tmp,
            register_in: register_in.map(Path::to_path_buf),
            done: false,
        })
    }

    /// The staging folder's manifest line in the folder it is registered in.
    fn staging_entry(&self) -> String {
        let name = self.tmp.file_name().unwrap_or_default().to_string_lossy();
        format!("{name}/")
    }

    /// Where to write now.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Where the folder will be once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// `text` (a message or path) with the staging folder's path replaced by the target's, so
    /// what the user reads names where the files will be.
    pub fn shown(&self, text: &str) -> String {
        text.replace(&*self.tmp.to_string_lossy(), &self.target.to_string_lossy())
    }

    /// Put the finished folder in place: write its manifest, then rename it over the target
    /// (an old bnngen folder is first moved aside and emptied of exactly what it lists).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        manifest::write_manifest(&self.tmp)?;
        match manifest::classify(&self.target)? {
            Ownership::Missing | Ownership::Empty => {
                std::fs::rename(&self.tmp, &self.target).map_err(io(&self.target))?
            }
            Ownership::Owned => self.swap()?,
        }
        self.done = true;
        if let Some(dir) = &self.register_in {
            let name = self
                .target
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            manifest::replace_entry(dir, &self.staging_entry(), &format!("{name}/"))?;
        }
        Ok(self.target.clone())
    }

    /// Put a failed run's folder in place, marked by a [`FAILED`] file holding `why`, so the
    /// logs it names can be read and nothing in it looks like a finished run.
    pub fn commit_failed(self, why: &str) -> Result<PathBuf, OutputError> {
        let path = self.tmp.join(FAILED);
        std::fs::write(&path, format!("{}\n", self.shown(why))).map_err(io(&path))?;
        self.commit()
    }

    /// Replace the old bnngen folder at the target with the staging folder.
    fn swap(&self) -> Result<(), OutputError> {
        let parent = super::parent_of(&self.target);
        let name = self
            .target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let old = parent.join(format!(".{name}.bnngen-old.{}", super::unique()));
        std::fs::rename(&self.target, &old).map_err(io(&self.target))?;
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            let _ = std::fs::rename(&old, &self.target);
            return Err(io(&self.target)(e));
        }
        // Whatever was added to the old folder since it was checked stays in `old`.
        manifest::remove_listed(&old)?;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            // The staging folder was created by `begin` (create_dir fails on an existing
            // path) under a name no user path has, and only bnngen and the tools it ran
            // wrote into it, so removing it whole removes nothing of the user's.
            debug_assert!(self.tmp.to_string_lossy().contains(super::STAGING));
            let _ = std::fs::remove_dir_all(&self.tmp);
            if let Some(dir) = &self.register_in {
                let _ = manifest::replace_entry(dir, &self.staging_entry(), "");
            }
        }
    }
}

/// Refuse a target that is the working directory or holds it: renaming it would leave the
/// process (and the user's shell) in a folder that no longer has a name.
fn check_not_cwd(target: &Path) -> Result<(), OutputError> {
    let (Ok(t), Ok(cwd)) = (
        std::fs::canonicalize(target),
        std::env::current_dir().and_then(std::fs::canonicalize),
    ) else {
        return Ok(());
    };
    if cwd.starts_with(&t) {
        return Err(OutputError::HoldsCwd {
            path: target.to_path_buf(),
        });
    }
    Ok(())
}

/// A folder bnngen adds to without replacing it whole: a run folder that gets a report, or
/// holds nested units such as `synth-<target>/`.
#[derive(Debug, Clone)]
pub struct OutputDir {
    path: PathBuf,
}

impl OutputDir {
    /// Open `dir`: created (with a manifest) if missing, else it must be empty or bnngen's.
    pub fn open(dir: &Path) -> Result<OutputDir, OutputError> {
        match manifest::classify(dir)? {
            Ownership::Missing => {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
                manifest::write_manifest(dir)?;
            }
            Ownership::Empty => manifest::write_manifest(dir)?,
            Ownership::Owned => manifest::sweep_stale_staging(dir)?,
        }
        Ok(OutputDir {
            path: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write the file `name` (replacing bnngen's earlier one) and list it in the manifest.
    pub fn write(
        &self,
        name: &str,
        bytes: &[u8],
        inputs: &[&Path],
    ) -> Result<PathBuf, OutputError> {
        let path = self.path.join(name);
        if let Ok(m) = std::fs::symlink_metadata(&path) {
            if !m.is_file() {
                return Err(OutputError::WrongKind {
                    path,
                    what: super::kind_of(&m),
                    expected: "regular files",
                });
            }
        }
        super::check_not_input(&path, inputs)?;
        super::file::replace_owned(&path, bytes)?;
        manifest::add_entry(&self.path, name)?;
        Ok(path)
    }

    /// Start writing the nested folder `name`, listed in this folder's manifest on commit.
    pub fn stage(&self, name: &str, inputs: &[&Path]) -> Result<Staged, OutputError> {
        Staged::begin_in(&self.path.join(name), inputs, Some(&self.path))
    }
}
