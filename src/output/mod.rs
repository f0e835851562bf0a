//! Where bnngen may write, and how: it never deletes or overwrites anything it did not write.
//!
//! Every command that writes goes through this module, so the rules live in one place:
//! - An output *folder* ([`Staged`], [`OutputDir`]) is new, empty, or one that bnngen wrote
//!   before. bnngen marks the folders it writes with a manifest ([`MANIFEST`]) that lists every
//!   file and folder it put there. Only a folder that holds nothing but what its manifest
//!   lists is replaced; anything else is refused (exit 2) with the first entry that is not
//!   bnngen's, and nothing is touched.
//! - A folder is written in a sibling staging folder and renamed into place when complete, so
//!   a failure (or a kill) leaves the old folder as it was and no partial output under the
//!   final name. The old folder is then emptied of exactly the paths its manifest lists; it is
//!   never removed recursively.
//! - An output *file* ([`write_file`], [`FileSlot`]) is a regular file or a new path, never a
//!   FIFO, device, folder, symbolic link or an input of the same command. It is written to a
//!   new temporary file beside it (created exclusively, so no other file is ever truncated)
//!   and renamed over it.
//!
//! This module sits below every other (it knows only `std`), so the model, plan, RTL,
//! synthesis, report and training layers all write the same way.

mod file;
mod manifest;
mod staged;

use std::path::{Path, PathBuf};

pub use file::{check_file, write_file, FileSlot};
pub use manifest::{Ownership, MANIFEST};
pub use staged::{OutputDir, Staged};

/// An output file or stream that could not be written: the one shape the CLI, the flow and
/// a synthesis job all report it in.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Why an output could not be written. [`OutputError::is_user_error`] separates a refusal
/// the user can act on (exit 2) from an I/O failure (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The folder holds something that bnngen did not write.
    #[error(
        "{}: refusing to write here: `{}` was not written by bnngen (bnngen writes only into a new or empty folder, or one it wrote before, which lists its files in {MANIFEST}); choose another output folder",
        dir.display(),
        first.display()
    )]
    Foreign { dir: PathBuf, first: PathBuf },
    /// The output path exists and is not the kind of thing bnngen writes there.
    #[error("{}: is {what}; bnngen writes {expected} only", path.display())]
    WrongKind {
        path: PathBuf,
        what: &'static str,
        expected: &'static str,
    },
    /// The output path is (or holds) an input of the same command.
    #[error("{}: is an input of this command ({}); choose another output", path.display(), input.display())]
    IsInput { path: PathBuf, input: PathBuf },
    /// The output folder is the working directory or one of its ancestors.
    #[error("{}: is the current directory or holds it; choose a folder below it", path.display())]
    HoldsCwd { path: PathBuf },
    /// The folder the output should go into does not exist.
    #[error("{}: folder {} does not exist", path.display(), parent.display())]
    NoParent { path: PathBuf, parent: PathBuf },
    /// The file system refused an operation.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl OutputError {
    /// True for refusals the user fixes by choosing another output (exit status 2).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, OutputError::Io { .. })
    }
}

/// Map an I/O error to [`OutputError::Io`] for `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What an existing path is, in words, for [`OutputError::WrongKind`].
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// The mark in the name of every temporary file and staging folder bnngen makes:
/// `.<target>.bnngen-tmp.<pid>.<n>` (`unique` gives `<pid>.<n>`).
const STAGING: &str = ".bnngen-tmp.";

/// A counter that makes temporary names unique within this process (threads of one test
/// binary write side by side).
fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The folder `path` goes into ("." for a bare name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Refuse `path` if it is, or (for a folder) holds, one of `inputs`.
fn check_not_input(path: &Path, inputs: &[&Path]) -> Result<(), OutputError> {
    let Ok(out) = std::fs::canonicalize(path) else {
        return Ok(()); // does not exist yet, so it is no input
    };
    for input in inputs {
        if let Ok(i) = std::fs::canonicalize(input) {
            if i.starts_with(&out) {
                return Err(OutputError::IsInput {
                    path: path.to_path_buf(),
                    input: input.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }

    /// A committed unit at `root/run` with a nested unit `sub/` and a plain folder `rtl/`.
    fn unit(root: &Path) -> PathBuf {
        let run = root.join("run");
        let s = Staged::begin(&run, &[]).unwrap();
        let out = OutputDir::open(s.path()).unwrap();
        touch(&s.path().join("a.txt"));
        touch(&s.path().join("rtl/top.v"));
        let inner = out.stage("sub", &[]).unwrap();
        touch(&inner.path().join("log"));
        inner.commit().unwrap();
        s.commit().unwrap();
        run
    }

    #[test]
    fn a_unit_lists_its_paths_and_nested_units_by_name() {
        let t = tempfile::tempdir().unwrap();
        let run = unit(t.path());
        let top = std::fs::read_to_string(run.join(MANIFEST)).unwrap();
        let lines: Vec<&str> = top.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, ["a.txt", "rtl/", "rtl/top.v", "sub/"]);
        let inner = std::fs::read_to_string(run.join("sub").join(MANIFEST)).unwrap();
        assert!(inner.lines().any(|l| l == "log"), "{inner}");
        assert_eq!(manifest::classify(&run).unwrap(), Ownership::Owned);
    }

    #[test]
    fn anything_unlisted_at_any_depth_makes_the_folder_foreign() {
        for extra in ["b.txt", "rtl/extra.v", "sub/notes", "sub/deeper/x"] {
            let t = tempfile::tempdir().unwrap();
            let run = unit(t.path());
            touch(&run.join(extra));
            match manifest::classify(&run) {
                Err(OutputError::Foreign { dir, first }) => {
                    assert_eq!(dir, run);
                    assert!(
                        extra.starts_with(first.to_str().unwrap()),
                        "{extra}: {first:?}"
                    );
                }
                other => panic!("{extra}: {other:?}"),
            }
        }
        let t = tempfile::tempdir().unwrap();
        let run = unit(t.path());
        std::os::unix::fs::symlink(t.path(), run.join("rtl/link")).unwrap();
        assert!(matches!(
            manifest::classify(&run),
            Err(OutputError::Foreign { .. })
        ));
    }

    #[test]
    fn removing_a_unit_spares_what_it_does_not_list() {
        let t = tempfile::tempdir().unwrap();
        let run = unit(t.path());
        touch(&run.join("rtl/users.v"));
        assert!(!manifest::remove_listed(&run).unwrap());
        assert!(run.join("rtl/users.v").is_file());
        assert!(!run.join("rtl/top.v").exists() && !run.join("a.txt").exists());
        assert!(!run.join("sub").exists());
        // Without the stray file, the unit goes entirely.
        let run = unit(&t.path().join("again"));
        assert!(manifest::remove_listed(&run).unwrap());
        assert!(!run.exists());
    }

    #[test]
    fn an_uncommitted_stage_leaves_the_old_folder_and_no_staging() {
        let t = tempfile::tempdir().unwrap();
        let run = unit(t.path());
        {
            let s = Staged::begin(&run, &[]).unwrap();
            touch(&s.path().join("half-written"));
        }
        assert!(run.join("a.txt").is_file() && !run.join("half-written").exists());
        let names: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["run"]);
    }

    fn listed(dir: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    /// The id of a process that has ended.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_nested_stage_is_listed_while_it_is_written_and_gone_after() {
        let t = tempfile::tempdir().unwrap();
        let run = unit(t.path());
        let out = OutputDir::open(&run).unwrap();
        let s = out.stage("synth-x", &[]).unwrap();
        let staging = s.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(listed(&run).contains(&format!("{staging}/")));
        assert_eq!(manifest::classify(&run).unwrap(), Ownership::Owned);
        touch(&s.path().join("log"));
        s.commit().unwrap();
        let lines = listed(&run);
        assert!(lines.contains(&"synth-x/".to_string()), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains(STAGING)), "{lines:?}");
        drop(out.stage("synth-y", &[]).unwrap());
        let lines = listed(&run);
        assert!(!lines.iter().any(|l| l.contains("synth-y")), "{lines:?}");
        assert_eq!(manifest::classify(&run).unwrap(), Ownership::Owned);
    }

    /// A run killed while it wrote a nested unit (its staging folder left behind, as
    /// `mem::forget` leaves it) does not block the run folder: the next run removes it, and
    /// only it.
    #[test]
    fn a_killed_runs_staging_folder_is_removed_by_the_next_run() {
        let t = tempfile::tempdir().unwrap();
        let run = unit(t.path());
        let out = OutputDir::open(&run).unwrap();
        let s = out.stage("synth-x", &[]).unwrap();
        touch(&s.path().join("deep/yosys.log"));
        let ours = s.path().to_path_buf();
        std::mem::forget(s);
        // The process that wrote it has ended: give the folder a dead process's id.
        let name = ours.file_name().unwrap().to_string_lossy().into_owned();
        let pid = std::process::id().to_string();
        let dead = name.replacen(&format!(".{pid}."), &format!(".{}.", dead_pid()), 1);
        std::fs::rename(&ours, run.join(&dead)).unwrap();
        manifest::replace_entry(&run, &format!("{name}/"), &format!("{dead}/")).unwrap();
        assert_eq!(manifest::classify(&run).unwrap(), Ownership::Owned);
        // A live process's staging folder stays; so does a staging-like folder not listed.
        let live = out.stage("synth-live", &[]).unwrap();
        let live_path = live.path().to_path_buf();
        std::mem::forget(live);
        OutputDir::open(&run).unwrap();
        assert!(!run.join(&dead).exists());
        assert!(live_path.join(".").is_dir());
        assert!(run.join("a.txt").is_file() && run.join("sub/log").is_file());
        let lines = listed(&run);
        assert!(!lines.contains(&format!("{dead}/")), "{lines:?}");
        let stray = run.join(format!(".other{}{}.0", STAGING, dead_pid()));
        touch(&stray.join("mine"));
        assert!(matches!(
            OutputDir::open(&run),
            Err(OutputError::Foreign { .. })
        ));
        assert!(stray.join("mine").is_file());
    }
}
