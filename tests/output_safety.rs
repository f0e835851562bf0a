//! bnngen never deletes or overwrites what it did not write (issue: output safety).
//!
//! Every case runs the real binary inside its own temporary folder, with sentinel files whose
//! survival is asserted byte for byte; no `-o` ever points outside that folder, so a
//! regression cannot touch the machine that runs the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bnngen(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bnngen"));
    c.current_dir(cwd);
    c
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    bnngen(cwd).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch folder holding a copy of the tiny model and a user's sentinel file.
fn scratch() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml");
    std::fs::copy(model, t.path().join("tiny.toml")).unwrap();
    std::fs::write(t.path().join("sentinel.txt"), "the user's own file\n").unwrap();
    t
}

/// Everything below `dir`: relative path -> file bytes (None for a folder, the link target
/// for a symbolic link, "special" for a FIFO or socket). Links are not followed.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, Some(target.to_string_lossy().as_bytes().to_vec()));
            } else if m.is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else if m.is_file() {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            } else {
                out.insert(rel, Some(b"special".to_vec()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Assert a refusal: exit 2, the message names `what`, and the scratch folder is unchanged.
fn assert_refused(o: &Output, what: &str, before: &BTreeMap<PathBuf, Option<Vec<u8>>>, dir: &Path) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2: {e}");
    assert!(e.contains(what), "the error should name `{what}`: {e}");
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(&tree(dir), before, "the scratch folder changed: {e}");
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn generate_refuses_a_folder_that_holds_the_users_files() {
    let t = scratch();
    let d = t.path();
    std::fs::create_dir(d.join("proj")).unwrap();
    std::fs::write(d.join("proj/notes.md"), "mine").unwrap();
    std::fs::copy(d.join("tiny.toml"), d.join("proj/tiny.toml")).unwrap();
    let before = tree(d);
    // The folder holds the model itself: an input.
    let o = run(d, &["generate", "proj/tiny.toml", "-o", "proj"]);
    assert_refused(&o, "input", &before, d);
    // A folder of the user's, without the model in it.
    let o = run(d, &["generate", "tiny.toml", "-o", "proj"]);
    assert_refused(&o, "notes.md", &before, d);
    // The working directory (here the scratch folder, never the test's own).
    let o = run(d, &["generate", "tiny.toml", "-o", "."]);
    assert_refused(&o, "", &before, d);
    // An existing regular file.
    let o = run(d, &["generate", "tiny.toml", "-o", "sentinel.txt"]);
    assert_refused(&o, "sentinel.txt", &before, d);
}

#[test]
fn generate_writes_new_empty_and_its_own_folders_only() {
    let t = scratch();
    let d = t.path();
    let o = run(d, &["generate", "tiny.toml", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = std::fs::read_to_string(d.join("out/.bnngen-manifest")).unwrap();
    assert!(manifest.contains("files.f\n") && manifest.contains("tiny_top.v\n"));
    let first = tree(&d.join("out"));
    // Its own folder is replaced, with the same bytes (generation is deterministic).
    let o = run(d, &["generate", "tiny.toml", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(tree(&d.join("out")), first);
    // An empty folder is taken.
    std::fs::create_dir(d.join("empty")).unwrap();
    let o = run(d, &["generate", "tiny.toml", "-o", "empty"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("empty/files.f").is_file());
    // A user's file added to bnngen's folder, at the top or deeper, makes it the user's.
    std::fs::write(d.join("out/my-notes.txt"), "mine").unwrap();
    let before = tree(d);
    let o = run(d, &["generate", "tiny.toml", "-o", "out"]);
    assert_refused(&o, "my-notes.txt", &before, d);
    std::fs::remove_file(d.join("out/my-notes.txt")).unwrap();
    std::fs::create_dir(d.join("out/extra")).unwrap();
    let before = tree(d);
    let o = run(d, &["generate", "tiny.toml", "-o", "out"]);
    assert_refused(&o, "extra", &before, d);
    // A symbolic link to a folder is not followed.
    std::os::unix::fs::symlink(d.join("empty"), d.join("link")).unwrap();
    let before = tree(d);
    let o = run(d, &["generate", "tiny.toml", "-o", "link"]);
    assert_refused(&o, "symbolic link", &before, d);
    // No staging or set-aside folder is left anywhere.
    let names: Vec<String> = tree(d).keys().map(|p| p.display().to_string()).collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("bnngen-tmp") && !n.contains("bnngen-old")),
        "{names:?}"
    );
}

#[test]
fn a_failed_generate_leaves_the_old_folder_as_it_was() {
    let t = scratch();
    let d = t.path();
    let o = run(d, &["generate", "tiny.toml", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A hardware config that folds a layer the model does not have: it fails after the
    // output folder was accepted.
    std::fs::write(
        d.join("bad.hw.toml"),
        "[layers.no_such_layer]\npe = 1\nsimd = 1\n",
    )
    .unwrap();
    let before = tree(d);
    let o = run(
        d,
        &["generate", "tiny.toml", "--hw", "bad.hw.toml", "-o", "out"],
    );
    assert_refused(&o, "no_such_layer", &before, d);
}

#[test]
fn file_outputs_refuse_special_files_folders_links_and_inputs() {
    let t = scratch();
    let d = t.path();
    mkfifo(&d.join("fifo"));
    let _socket = std::os::unix::net::UnixListener::bind(d.join("socket")).unwrap();
    std::fs::create_dir(d.join("folder")).unwrap();
    std::os::unix::fs::symlink(d.join("sentinel.txt"), d.join("link")).unwrap();
    // A character device of our own, equal to /dev/null, so even a regression that wrote to
    // it would harm nothing. Making it needs root, which every machine of this project has.
    let ok = Command::new("mknod")
        .arg(d.join("device"))
        .args(["c", "1", "3"])
        .status()
        .unwrap()
        .success();
    assert!(
        ok,
        "mknod failed: this test needs root (CAP_MKNOD) to make a device node"
    );
    let before = tree(d);
    let commands: [&[&str]; 7] = [
        &["plan", "tiny.toml", "-o"],
        &["random-model", "--seed", "1", "-o"],
        &["simulate", "tiny.toml", "--random", "1", "--trace"],
        &["train", "--config", "tiny.toml", "-o"],
        &["export", "tiny.toml", "--qonnx", "-o"],
        &["import", "tiny.onnx", "-o"],
        &["weights", "tiny.toml", "-o"],
    ];
    for cmd in commands {
        for (out, what) in [
            ("fifo", "FIFO"),
            ("socket", "socket"),
            ("device", "device"),
            ("folder", "folder"),
            ("link", "symbolic link"),
            ("no/such/folder/x.toml", "does not exist"),
        ] {
            let mut args = cmd.to_vec();
            args.push(out);
            let o = run(d, &args);
            assert_refused(&o, what, &before, d);
        }
    }
    // An input of the same command.
    let o = run(d, &["plan", "tiny.toml", "-o", "tiny.toml"]);
    assert_refused(&o, "input", &before, d);
    let o = run(
        d,
        &[
            "simulate",
            "tiny.toml",
            "--random",
            "1",
            "--trace",
            "tiny.toml",
        ],
    );
    assert_refused(&o, "input", &before, d);
    let o = run(
        d,
        &["train", "--config", "sentinel.txt", "-o", "sentinel.txt"],
    );
    assert_refused(&o, "input", &before, d);
    let o = run(d, &["export", "tiny.toml", "--qonnx", "-o", "tiny.toml"]);
    assert_refused(&o, "input", &before, d);
    let o = run(d, &["import", "sentinel.txt", "-o", "sentinel.txt"]);
    assert_refused(&o, "input", &before, d);
    let o = run(d, &["weights", "tiny.toml", "-o", "tiny.toml"]);
    assert_refused(&o, "input", &before, d);
}

#[test]
fn file_outputs_replace_a_regular_file_whole() {
    let t = scratch();
    let d = t.path();
    std::fs::write(d.join("plan.toml"), "old").unwrap();
    let o = run(d, &["plan", "tiny.toml", "-o", "plan.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(d.join("plan.toml")).unwrap();
    assert!(text.contains("cycles_per_frame"), "{text}");
    let o = run(d, &["random-model", "--seed", "3", "-o", "r.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(d.join("r.toml"))
        .unwrap()
        .contains("format_version"));
    let names: Vec<String> = tree(d).keys().map(|p| p.display().to_string()).collect();
    assert!(names.iter().all(|n| !n.contains("bnngen-tmp")), "{names:?}");
}

#[test]
fn flow_checks_its_options_and_output_before_any_step() {
    let t = scratch();
    let d = t.path();
    std::fs::create_dir(d.join("proj")).unwrap();
    std::fs::copy(d.join("tiny.toml"), d.join("proj/tiny.toml")).unwrap();
    let before = tree(d);
    let cases: [(&[&str], &str); 6] = [
        (
            &["flow", "proj/tiny.toml", "-o", "proj", "--target", "none"],
            "input",
        ),
        (
            &["flow", "tiny.toml", "-o", "run", "--frames", "0"],
            "--frames",
        ),
        (
            &["flow", "tiny.toml", "-o", "run", "--target", "nonesuch"],
            "nonesuch",
        ),
        (
            &["flow", "tiny.toml", "-o", "run", "--hw", "missing.hw.toml"],
            "missing.hw.toml",
        ),
        (
            &["flow", "tiny.toml", "-o", "run", "--images", "missing.pgm"],
            "missing.pgm",
        ),
        (
            &[
                "flow",
                "tiny.toml",
                "-o",
                "sentinel.txt",
                "--target",
                "none",
            ],
            "sentinel.txt",
        ),
    ];
    for (args, what) in cases {
        let o = run(d, args);
        assert_refused(&o, what, &before, d);
        let e = stderr(&o);
        assert!(!e.contains("simulate:") && !e.contains("verilate:"), "{e}");
    }
}

#[test]
fn synth_and_report_add_to_bnngens_folders_only() {
    let t = scratch();
    let d = t.path();
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/keep.txt"), "mine").unwrap();
    let before = tree(d);
    let o = run(
        d,
        &["synth", "tiny.toml", "--target", "generic", "-o", "mine"],
    );
    assert_refused(&o, "keep.txt", &before, d);
    let o = run(d, &["report", "mine", "--model", "tiny.toml"]);
    assert_refused(&o, "keep.txt", &before, d);

    // Into a new folder: synth-generic/ is its own unit, listed in the run folder's manifest.
    let o = run(
        d,
        &["synth", "tiny.toml", "--target", "generic", "-o", "run"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let top = std::fs::read_to_string(d.join("run/.bnngen-manifest")).unwrap();
    assert!(top.contains("\nsynth-generic/\n"), "{top}");
    let inner = std::fs::read_to_string(d.join("run/synth-generic/.bnngen-manifest")).unwrap();
    assert!(
        inner.contains("\nreport.json\n") && inner.contains("\nrtl/files.f\n"),
        "{inner}"
    );
    let report = std::fs::read_to_string(d.join("run/synth-generic/report.md")).unwrap();
    assert!(
        !report.contains("bnngen-tmp"),
        "the report names staging paths: {report}"
    );
    // The report is added and listed; the run folder stays bnngen's.
    let o = run(d, &["report", "run", "--model", "tiny.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let top = std::fs::read_to_string(d.join("run/.bnngen-manifest")).unwrap();
    assert!(
        top.contains("\nreport.html\n") && top.contains("\nreport.json\n"),
        "{top}"
    );
    // A second synthesis replaces synth-generic/ whole.
    let o = run(
        d,
        &["synth", "tiny.toml", "--target", "generic", "-o", "run"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // And generate may replace the whole folder, since all of it is bnngen's.
    let o = run(d, &["generate", "tiny.toml", "-o", "run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!d.join("run/synth-generic").exists() && d.join("run/files.f").is_file());
    assert_eq!(
        std::fs::read(d.join("sentinel.txt")).unwrap(),
        b"the user's own file\n"
    );
}

/// A synthesis killed (SIGKILL to its process group, as a terminal's kill of the job sends,
/// so the tools it started stop too) while it writes `synth-generic/` leaves its staging
/// folder in the run folder; the next run into that folder removes it and succeeds, and
/// nothing of the user's is touched.
#[test]
fn a_killed_synthesis_does_not_block_the_next_run() {
    use std::os::unix::process::CommandExt;
    let t = scratch();
    let d = t.path();
    let args = ["synth", "tiny.toml", "--target", "generic", "-o", "run"];
    let o = run(d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let staging = || -> Vec<PathBuf> {
        std::fs::read_dir(d.join("run"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".synth-generic.bnngen-tmp."))
            .collect()
    };
    let mut child = bnngen(d)
        .args(args)
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while staging().is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "synth ended before its staging folder was seen"
        );
        assert!(
            start.elapsed().as_secs() < 60,
            "no staging folder after 60 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // SAFETY: kill(2) with the negated id of the group the child leads; no memory is shared.
    let killed = unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    assert_eq!(killed, 0, "kill of the synthesis's process group failed");
    child.wait().unwrap();
    let left = staging();
    assert_eq!(left.len(), 1, "the kill left {left:?}");
    let o = run(d, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(staging().is_empty(), "still there: {:?}", staging());
    let top = std::fs::read_to_string(d.join("run/.bnngen-manifest")).unwrap();
    assert!(!top.contains("bnngen-tmp"), "{top}");
    assert!(d.join("run/synth-generic/report.json").is_file());
    assert_eq!(
        std::fs::read(d.join("sentinel.txt")).unwrap(),
        b"the user's own file\n"
    );
}

/// The processes `pid` started: (pid, start time), from `/proc/<pid>/task/*/children`.
fn children_of(pid: u32) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let list = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for c in list
            .split_whitespace()
            .filter_map(|c| c.parse::<i32>().ok())
        {
            if let Some((_, start)) = proc_state(c) {
                out.push((c, start));
            }
        }
    }
    out
}

/// State letter and start time (field 22) of process `pid`, if it exists.
fn proc_state(pid: i32) -> Option<(char, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.first()?.chars().next()?, fields.get(19)?.to_string()))
}

/// bnngen killed alone (SIGKILL to its pid, not its group, as an out-of-memory kill or a
/// `kill -9 PID` does) takes the tool it was running with it: Yosys, mid-synthesis of a design
/// it needs about a minute for, is gone within seconds, not left to write on.
#[test]
fn a_tool_ends_when_bnngen_is_killed() {
    let t = scratch();
    let d = t.path();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/fashion-up5k-pruned.toml");
    std::fs::copy(model, d.join("m.toml")).unwrap();
    let mut child = bnngen(d)
        .args(["synth", "m.toml", "--target", "ice40-up5k", "-o", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    // Wait for Yosys at work (a child named yosys that is still running a second later), not
    // a short version probe that would end by itself.
    let is_yosys = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains("yosys"))
            .unwrap_or(false)
    };
    let tools = loop {
        let kids: Vec<_> = children_of(child.id())
            .into_iter()
            .filter(|(pid, _)| is_yosys(*pid))
            .collect();
        if !kids.is_empty() {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let still: Vec<_> = children_of(child.id())
                .into_iter()
                .filter(|k| kids.contains(k))
                .collect();
            if !still.is_empty() {
                break still;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "synth ended before it started a tool (is Yosys installed? scripts/setup.sh)"
        );
        assert!(start.elapsed().as_secs() < 60, "no tool started after 60 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    // SAFETY: kill(2) of the child's own pid; no memory is shared.
    let killed = unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    assert_eq!(killed, 0, "kill of bnngen failed");
    child.wait().unwrap();
    let alive = || -> Vec<i32> {
        tools
            .iter()
            .filter(|(pid, start)| {
                matches!(proc_state(*pid), Some((s, st)) if s != 'Z' && &st == start)
            })
            .map(|(pid, _)| *pid)
            .collect()
    };
    let killed_at = std::time::Instant::now();
    while !alive().is_empty() && killed_at.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let left = alive();
    for pid in &left {
        // SAFETY: as above; the test's own stray tool, so it does not run on.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    assert!(
        left.is_empty(),
        "tools still running 5 s after bnngen was killed: {left:?}"
    );
    assert_eq!(
        std::fs::read(d.join("sentinel.txt")).unwrap(),
        b"the user's own file\n"
    );
}
