//! The manifest: the list, inside a folder bnngen wrote, of every path it put there.
//!
//! One relative path a line, folders with a trailing `/`, sorted. A folder that holds its own
//! manifest (a nested unit, such as a run folder's `synth-<target>/`) is listed by its name
//! alone and answers for its contents itself, so a command can replace it without rewriting
//! the whole tree's list. Ownership is decided from the manifest and the folder's contents
//! only: a path that is not listed, a listed path of the other kind (file against folder), or
//! a symbolic link (bnngen writes none) make the folder someone else's.

use super::STAGING;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{io, OutputError};

/// The manifest's file name, inside each folder bnngen writes.
pub const MANIFEST: &str = ".bnngen-manifest";

const HEADER: &str = "# Written by bnngen: every path below is a file or folder bnngen put here.\n\
# bnngen replaces this folder only while it holds nothing else.\n";

/// The process id in a staging folder's manifest line, if `entry` is one: a hidden folder
/// directly in the unit whose name carries [`STAGING`].
fn staging_pid(entry: &str) -> Option<u32> {
    let name = entry.strip_suffix('/')?;
    if !name.starts_with('.') || name.contains('/') {
        return None;
    }
    let (_, tail) = name.rsplit_once(STAGING)?;
    let (pid, n) = tail.split_once('.')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether process `pid` may still be running. Only where `/proc` shows processes can bnngen
/// tell that one is gone; elsewhere every process counts as running, so nothing is removed.
fn may_be_running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// Remove the staging folders `dir`'s manifest lists whose process has ended (a run killed
/// before it could clean up). bnngen listed each one before creating it, under a name no
/// user path has, and only bnngen and the tools it ran wrote into it, so removing it whole
/// removes nothing of the user's; a staging folder of a live process is left alone.
pub fn sweep_stale_staging(dir: &Path) -> Result<(), OutputError> {
    let Some(listing) = read_listing(dir)? else {
        return Ok(());
    };
    for entry in &listing {
        let Some(pid) = staging_pid(entry) else {
            continue;
        };
        if pid == std::process::id() || may_be_running(pid) {
            continue;
        }
        let path = dir.join(entry.trim_end_matches('/'));
        match std::fs::symlink_metadata(&path) {
            // A tool the killed run started may still be writing in it: then it stays listed
            // (so it blocks nothing) and a later run removes it.
            Ok(m) if m.is_dir() => {
                if std::fs::remove_dir_all(&path).is_err() {
                    continue;
                }
            }
            Ok(_) => continue, // not what bnngen made there: leave it (classify refuses it)
            Err(_) => {}
        }
        replace_entry(dir, entry, "")?;
    }
    Ok(())
}

/// What an output folder is, before bnngen writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Nothing at that path.
    Missing,
    /// An empty folder.
    Empty,
    /// A folder that holds only what its manifest lists.
    Owned,
}

/// Classify `dir`, refusing anything bnngen may not replace.
pub fn classify(dir: &Path) -> Result<Ownership, OutputError> {
    let meta = match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ownership::Missing),
        other => other.map_err(io(dir))?,
    };
    if !meta.is_dir() {
        return Err(OutputError::WrongKind {
            path: dir.to_path_buf(),
            what: super::kind_of(&meta),
            expected: "folders",
        });
    }
    let mut entries = std::fs::read_dir(dir).map_err(io(dir))?.peekable();
    if entries.peek().is_none() {
        return Ok(Ownership::Empty);
    }
    let Some(listing) = read_listing(dir)? else {
        // No manifest: report the first entry in name order, so the message is stable.
        let first = sorted_entries(dir)?.into_iter().next().unwrap_or_default();
        return Err(OutputError::Foreign {
            dir: dir.to_path_buf(),
            first: PathBuf::from(first),
        });
    };
    check_listed(dir, dir, "", &listing)?;
    Ok(Ownership::Owned)
}

/// The manifest's paths, or None when `dir` has no manifest.
fn read_listing(dir: &Path) -> Result<Option<BTreeSet<String>>, OutputError> {
    let path = dir.join(MANIFEST);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path)(e)),
        Ok(m) if !m.is_file() => return Ok(None),
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    Ok(Some(
        text.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
    ))
}

/// Entry names of `dir`, sorted, as strings (a name that is not UTF-8 is kept lossily: it
/// can never match a manifest line, so it makes the folder foreign, as it should).
fn sorted_entries(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Check that everything below `dir` (at `prefix` inside the unit `root`) is listed.
fn check_listed(
    root: &Path,
    dir: &Path,
    prefix: &str,
    listing: &BTreeSet<String>,
) -> Result<(), OutputError> {
    for name in sorted_entries(dir)? {
        if prefix.is_empty() && name == MANIFEST {
            continue;
        }
        let path = dir.join(&name);
        let rel = format!("{prefix}{name}");
        let foreign = || OutputError::Foreign {
            dir: root.to_path_buf(),
            first: PathBuf::from(&rel),
        };
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            if !listing.contains(&format!("{rel}/")) {
                return Err(foreign());
            }
            if prefix.is_empty() && staging_pid(&format!("{rel}/")).is_some() {
                // A nested unit being written, or left by a killed run: bnngen's as a whole.
                continue;
            }
            match read_listing(&path)? {
                // A nested unit answers for itself; name what it holds from the outer root.
                Some(inner) => check_listed(&path, &path, "", &inner).map_err(|e| match e {
                    OutputError::Foreign { first, .. } => OutputError::Foreign {
                        dir: root.to_path_buf(),
                        first: PathBuf::from(&rel).join(first),
                    },
                    other => other,
                })?,
                None => check_listed(root, &path, &format!("{rel}/"), listing)?,
            }
        } else if !(meta.is_file() && listing.contains(&rel)) {
            return Err(foreign());
        }
    }
    Ok(())
}

/// Every path below `dir` as manifest lines; a folder with its own manifest is listed by name
/// only. Symbolic links are not followed (bnngen writes none; a tool that made one would make
/// the folder foreign on the next run, which is the safe side).
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), OutputError> {
    for name in sorted_entries(dir)? {
        if prefix.is_empty() && name == MANIFEST {
            continue;
        }
        let path = dir.join(&name);
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        if meta.is_dir() {
            out.push(format!("{prefix}{name}/"));
            if !path.join(MANIFEST).is_file() {
                walk(&path, &format!("{prefix}{name}/"), out)?;
            }
        } else {
            out.push(format!("{prefix}{name}"));
        }
    }
    Ok(())
}

/// Write `dir`'s manifest listing everything in it now.
pub fn write_manifest(dir: &Path) -> Result<(), OutputError> {
    let mut lines = Vec::new();
    walk(dir, "", &mut lines)?;
    store(dir, lines.into_iter().collect())
}

/// Add `entry` (a file name, or a folder name with a trailing `/`) to `dir`'s manifest.
pub fn add_entry(dir: &Path, entry: &str) -> Result<(), OutputError> {
    let mut listing = read_listing(dir)?.unwrap_or_default();
    if listing.insert(entry.to_string()) {
        store(dir, listing)?;
    }
    Ok(())
}

/// Replace the line `old` of `dir`'s manifest by `new` (none if empty), in one write.
pub fn replace_entry(dir: &Path, old: &str, new: &str) -> Result<(), OutputError> {
    let mut listing = read_listing(dir)?.unwrap_or_default();
    let removed = listing.remove(old);
    let added = !new.is_empty() && listing.insert(new.to_string());
    if removed || added {
        store(dir, listing)?;
    }
    Ok(())
}

/// Write a listing as `dir`'s manifest (atomically, so a reader never sees half of it).
fn store(dir: &Path, listing: BTreeSet<String>) -> Result<(), OutputError> {
    let mut text = String::from(HEADER);
    for l in listing {
        text.push_str(&l);
        text.push('\n');
    }
    super::file::replace_owned(&dir.join(MANIFEST), text.as_bytes())
}

/// Remove from `dir` exactly what its manifest lists (nested units by their own manifests),
/// deepest first, then `dir` itself if that left it empty. Anything unlisted stays, and so
/// does its folder: bnngen never removes what it did not write. Returns whether `dir` is gone.
pub fn remove_listed(dir: &Path) -> Result<bool, OutputError> {
    let Some(listing) = read_listing(dir)? else {
        return Ok(false);
    };
    // Deepest paths first: a folder is emptied before it is removed.
    let mut paths: Vec<&String> = listing.iter().collect();
    paths.sort_by_key(|p| {
        std::cmp::Reverse(p.matches('/').count() + usize::from(!p.ends_with('/')))
    });
    for rel in paths {
        let path = dir.join(rel.trim_end_matches('/'));
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if rel.ends_with('/') && meta.is_dir() {
            if path.join(MANIFEST).is_file() {
                remove_listed(&path)?;
            } else {
                let _ = std::fs::remove_dir(&path); // only if empty
            }
        } else if !rel.ends_with('/') && meta.is_file() {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    let manifest = dir.join(MANIFEST);
    std::fs::remove_file(&manifest).map_err(io(&manifest))?;
    Ok(std::fs::remove_dir(dir).is_ok())
}
