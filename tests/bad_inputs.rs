//! The corpus of malformed and extreme inputs (issue 14): every case in
//! `tests/bad_inputs/cases.toml`, plus `bnngen check` on every model in `tests/bad_models/`,
//! runs the real `bnngen` binary in its own temporary directory and must
//!
//! - exit with the status the case names, 0 or 2 (never 1, 101 or a signal),
//! - on exit 2, say on stderr what the case names (the file, and the field or option),
//! - print no panic,
//! - finish within 2 s and stay within 512 MB of resident memory.
//!
//! Memory is measured, not assumed: the child is reaped with `wait4`, whose `rusage` gives
//! that one process's peak resident set size (`ru_maxrss`, kB on Linux). An address-space
//! rlimit of 4 GB is set in the child only as a guard, so that a regression that tries to
//! allocate tens of gigabytes fails inside the test instead of taking the machine down; the
//! 512 MB bound itself is checked on the measured peak, which an rlimit could not give.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

const MAX_SECONDS: f64 = 2.0;
const MAX_RSS_KB: i64 = 512 * 1024;
/// The guard rlimit on the child's address space (see the module comment).
const GUARD_AS_BYTES: u64 = 4 << 30;
/// A child still running after this long is killed (and fails the time bound).
const KILL_AFTER: Duration = Duration::from_secs(20);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    args: Vec<String>,
    exit: i32,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
}

/// What one run of the binary did.
struct Outcome {
    /// Exit status, or `None` when a signal ended the process.
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
    seconds: f64,
    max_rss_kb: i64,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn resolve(arg: &str, tmp: &Path) -> String {
    if let Some(rest) = arg.strip_prefix("@@") {
        root().join(rest).display().to_string()
    } else if let Some(rest) = arg.strip_prefix('@') {
        root()
            .join("tests/bad_inputs")
            .join(rest)
            .display()
            .to_string()
    } else {
        arg.replace("{tmp}", &tmp.display().to_string())
    }
}

/// Run the binary with `args` in `dir`, measuring wall time and the peak RSS of the child.
fn run(args: &[String], env: &std::collections::BTreeMap<String, String>, dir: &Path) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bnngen"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("BNNGEN_SIM_CACHE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: setrlimit is async-signal-safe and touches only the child's limits.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: GUARD_AS_BYTES,
                rlim_max: GUARD_AS_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn bnngen");
    let mut err_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child; status and usage are valid for writing.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break;
        }
        if start.elapsed() > KILL_AFTER {
            // SAFETY: signalling our own child by its pid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let seconds = start.elapsed().as_secs_f64();
    // The child is reaped; std's handle must not wait for it again.
    std::mem::forget(child);
    let stderr = reader.join().unwrap();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Outcome {
        code,
        signal,
        stderr,
        seconds,
        max_rss_kb: usage.ru_maxrss,
    }
}

/// Every way a case can fail, in one message.
fn problems(case: &Case, o: &Outcome) -> Vec<String> {
    let mut p = Vec::new();
    match (o.code, o.signal) {
        (Some(c), _) if c == case.exit => {}
        (Some(c), _) => p.push(format!("exit status {c}, expected {}", case.exit)),
        (None, s) => p.push(format!("killed by signal {s:?}")),
    }
    if o.stderr.contains("panicked") || o.stderr.contains("RUST_BACKTRACE") {
        p.push("panic text on stderr".into());
    }
    if case.exit == 2 {
        for n in &case.names {
            if !o.stderr.contains(n.as_str()) {
                p.push(format!("stderr does not name {n:?}"));
            }
        }
    }
    if o.seconds > MAX_SECONDS {
        p.push(format!("took {:.2} s (limit {MAX_SECONDS} s)", o.seconds));
    }
    if o.max_rss_kb > MAX_RSS_KB {
        p.push(format!(
            "peak RSS {} MB (limit {} MB)",
            o.max_rss_kb / 1024,
            MAX_RSS_KB / 1024
        ));
    }
    p
}

fn all_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(root().join("tests/bad_inputs/cases.toml")).unwrap();
    let mut cases = toml::from_str::<Cases>(&text).unwrap().case;
    let mut models: Vec<PathBuf> = std::fs::read_dir(root().join("tests/bad_models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    models.sort();
    for m in models {
        let file = m.file_name().unwrap().to_string_lossy().into_owned();
        cases.push(Case {
            name: format!("check bad_models/{file}"),
            args: vec!["check".into(), m.display().to_string()],
            exit: 2,
            names: vec![file],
            env: Default::default(),
        });
    }
    cases
}

#[test]
fn every_bad_input_exits_0_or_2_quickly_in_bounded_memory_without_panic() {
    let cases = all_cases();
    assert!(cases.len() >= 60, "corpus too small: {} cases", cases.len());
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for case in &cases {
        assert!(
            case.exit == 0 || case.exit == 2,
            "{}: a bad input exits 0 or 2",
            case.name
        );
        assert!(
            case.exit == 0 || !case.names.is_empty(),
            "{}: an exit-2 case names what stderr must say",
            case.name
        );
        let tmp = tempfile::TempDir::new().unwrap();
        let args: Vec<String> = case.args.iter().map(|a| resolve(a, tmp.path())).collect();
        let o = run(&args, &case.env, tmp.path());
        report.push(format!(
            "{:<48} exit {:>4} {:>6.3} s {:>7} kB",
            case.name,
            o.code.map_or("sig".into(), |c| c.to_string()),
            o.seconds,
            o.max_rss_kb
        ));
        let p = problems(case, &o);
        if !p.is_empty() {
            failures.push(format!(
                "{}: {}\n  args: {args:?}\n  stderr: {}",
                case.name,
                p.join("; "),
                o.stderr.trim()
            ));
        }
    }
    eprintln!("{} cases:\n{}", cases.len(), report.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The runner itself must be able to fail: a process that exceeds the memory bound or is
/// killed by a signal is reported, so a passing corpus means something.
#[test]
fn the_runner_catches_memory_and_signals() {
    let case = Case {
        name: "probe".into(),
        args: vec![],
        exit: 2,
        names: vec!["never printed".into()],
        env: Default::default(),
    };
    let fat = Outcome {
        code: Some(2),
        signal: None,
        stderr: String::new(),
        seconds: 0.1,
        max_rss_kb: 600 * 1024,
    };
    let p = problems(&case, &fat);
    assert!(p.iter().any(|m| m.contains("peak RSS 600 MB")), "{p:?}");
    assert!(p.iter().any(|m| m.contains("does not name")), "{p:?}");
    let killed = Outcome {
        code: None,
        signal: Some(9),
        stderr: "thread 'main' panicked".into(),
        seconds: 3.0,
        max_rss_kb: 1,
    };
    let p = problems(&case, &killed);
    assert_eq!(p.len(), 4, "{p:?}");
    // And the measurement is real: a child that touches 64 MB shows at least that peak.
    let tmp = tempfile::TempDir::new().unwrap();
    let mut env = std::collections::BTreeMap::new();
    env.insert("X".to_string(), "1".to_string());
    let o = run(&["check".into(), "/dev/zero".into()], &env, tmp.path());
    assert!(
        o.max_rss_kb >= 64 * 1024,
        "reading /dev/zero up to the 64 MiB cap must show >= 64 MB peak, measured {} kB",
        o.max_rss_kb
    );
}
