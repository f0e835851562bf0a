//! Verilator: lint generated RTL, build the co-simulation harness (`sim/harness.cpp`) against
//! it, and run it.
//!
//! Builds are cached by a hash of every generated file, the harness and the build options, so
//! repeated simulations of the same design (tests, `simulate` twice) skip the C++ compile.
//! [`build_observed`] reports the compile's progress (objects built, weighted by their C++
//! bytes, `super::progress`) to an observer while `make` runs.

use super::locate::{find, GXX, MAKE, VERILATOR};
use super::progress::{self, Event, Milestone, Observer, Stage};
use super::ToolError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The harness source, compiled into bnngen so the binary works from any directory.
pub const HARNESS: &str = include_str!("../../sim/harness.cpp");

pub fn verilator() -> Result<PathBuf, ToolError> {
    Ok(find(VERILATOR)?.path)
}

/// `verilator --lint-only -Wall` over `files.f` in `dir`; any warning is an error.
pub fn lint(dir: &Path, top: &str) -> Result<(), ToolError> {
    let v = verilator()?;
    let out = super::child::dies_with_bnngen(&mut Command::new(&v))
        .current_dir(dir)
        .args(["--lint-only", "-Wall", "-f", "files.f", "--top-module", top])
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() || text.contains("%Warning") || text.contains("%Error") {
        return Err(ToolError::Failed {
            tool: "verilator --lint-only",
            status: out.status.to_string(),
            log: dir.to_path_buf(),
            message: text,
        });
    }
    Ok(())
}

/// Verilator options every simulation build of bnngen uses (harness builds and the board
/// testbench), part of the build cache key.
///
/// `-fno-const-bit-op-tree` is a correctness fix, not a tuning knob: Verilator 5.006's
/// bit-op-tree folding loses a NOT when two XORs that share an operand are combined, e.g.
/// `y = (t ^ ~c) ^ ~(u ^ t)` is computed as the complement of `c ^ u` for every input
/// (upstream verilator#4059, #4857, fixed in 5.010 / 5.022). ABC writes exactly such XOR
/// trees into generic and Xilinx netlists, where it made the gate-level simulation of
/// `tiny` disagree with the reference although Yosys proves the netlist equivalent to the
/// RTL (`tests/sim_xor_fold.rs` holds the minimal case).
pub const SIM_FLAGS: [&str; 5] = [
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "-fno-const-bit-op-tree",
];

/// Build options that change the simulator binary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// The top has debug tap ports (`dbg_fire`, `dbg_data`).
    pub debug: bool,
    /// Compile VCD tracing in.
    pub trace: bool,
    /// The top has the SPRAM load bus (`wl_*`); the stimulus ends with the weight image.
    pub wload: bool,
}

/// [`SIM_FLAGS`] with every X given a value of its own and every register a random initial
/// value, drawn at run time from the seed passed to [`Simulator::run_seeded`]: a design whose
/// results depend on an uninitialized register or an X then differs between seeds.
pub const X_UNIQUE_FLAGS: [&str; 5] = [
    "--x-assign",
    "unique",
    "--x-initial",
    "unique",
    "-fno-const-bit-op-tree",
];

/// 64-bit FNV-1a, a stable hash for the build cache key.
fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= b as u64;
        *h = h.wrapping_mul(0x100000001b3);
    }
}

/// Where cached builds live: `$BNNGEN_SIM_CACHE`, else `<tmp>/bnngen-sim-cache`. The
/// variable must be an absolute path: an empty or relative one would build in (or under)
/// whatever folder the command runs in, so it is refused before any build starts.
pub fn cache_root() -> Result<PathBuf, ToolError> {
    match std::env::var_os("BNNGEN_SIM_CACHE") {
        None => Ok(std::env::temp_dir().join("bnngen-sim-cache")),
        Some(v) if Path::new(&v).is_absolute() => Ok(PathBuf::from(v)),
        Some(v) => Err(ToolError::Setting(format!(
            "$BNNGEN_SIM_CACHE must be an absolute path to the simulator build cache, \
                 found {}; set it to an absolute folder or unset it (default: {})",
            if v.is_empty() {
                "an empty value".to_string()
            } else {
                format!("{v:?}")
            },
            std::env::temp_dir().join("bnngen-sim-cache").display()
        ))),
    }
}

/// A built simulator: its directory (holding the RTL, memory files and `obj/Vdut`).
#[derive(Debug, Clone)]
pub struct Simulator {
    pub dir: PathBuf,
    /// Whether this build came from the cache.
    pub cached: bool,
}

/// Verilator and the C++ toolchain its `--build` / `--binary` runs call (g++ and make, which
/// the Debian package does not declare); returns Verilator's path. Every simulator bnngen
/// builds (co-simulation harness, gate-level netlists, board testbench) looks it up here.
pub fn toolchain() -> Result<PathBuf, ToolError> {
    let v = verilator()?;
    find(GXX)?;
    find(MAKE)?;
    Ok(v)
}

/// The versions of Verilator and the C++ compiler, part of the build cache key: a simulator
/// built by another Verilator or g++ is not reused. Asked once per process.
fn toolchain_versions(verilator: &Path) -> String {
    static VERSIONS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSIONS
        .get_or_init(|| {
            let first_line = |tool: &Path| {
                Command::new(tool)
                    .arg("--version")
                    .output()
                    .map(|o| {
                        String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string()
                    })
                    .unwrap_or_default()
            };
            let gxx = find(GXX).map(|t| first_line(&t.path)).unwrap_or_default();
            format!("{} | {gxx}", first_line(verilator))
        })
        .clone()
}

/// A number no other build of this process has used, for scratch folder names.
fn next_scratch() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Build (or reuse) the harness for these generated files.
pub fn build(
    files: &[(String, String)],
    top: &str,
    opts: BuildOptions,
) -> Result<Simulator, ToolError> {
    build_observed(files, top, opts, &progress::quiet)
}

/// [`build`] with [`X_UNIQUE_FLAGS`] instead of [`SIM_FLAGS`]; run it with
/// [`Simulator::run_seeded`].
pub fn build_x_unique(
    files: &[(String, String)],
    top: &str,
    opts: BuildOptions,
) -> Result<Simulator, ToolError> {
    build_with(files, top, opts, &X_UNIQUE_FLAGS, &progress::quiet)
}

/// [`build`], reporting to `observer`: `Started` (with the build log's path) and `Progress`
/// (verilating, then compiling: objects done weighted by their C++ bytes, then linking).
/// A cached build reports nothing.
pub fn build_observed(
    files: &[(String, String)],
    top: &str,
    opts: BuildOptions,
    observer: Observer,
) -> Result<Simulator, ToolError> {
    build_with(files, top, opts, &SIM_FLAGS, observer)
}

fn build_with(
    files: &[(String, String)],
    top: &str,
    opts: BuildOptions,
    flags: &[&str],
    observer: Observer,
) -> Result<Simulator, ToolError> {
    let root = cache_root()?;
    let v = toolchain()?;
    let mut h = 0xcbf29ce484222325u64;
    for (n, t) in files {
        fnv(&mut h, n.as_bytes());
        fnv(&mut h, &[0]);
        fnv(&mut h, t.as_bytes());
        fnv(&mut h, &[0]);
    }
    fnv(&mut h, HARNESS.as_bytes());
    fnv(&mut h, flags.join(" ").as_bytes());
    fnv(&mut h, toolchain_versions(&v).as_bytes());
    fnv(&mut h, format!("{top} {opts:?}").as_bytes());
    let dir = root.join(format!("{h:016x}"));
    if dir.join("obj").join("Vdut").is_file() {
        return Ok(Simulator { dir, cached: true });
    }
    std::fs::create_dir_all(&root)?;
    // Unique per build, not only per process: two threads of one test binary may build the
    // same design at once, and a shared scratch folder made one delete the other's files.
    let unique = format!("{}-{}", std::process::id(), next_scratch());
    let tmp = root.join(format!(".build-{h:016x}-{unique}"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    for (n, t) in files {
        std::fs::write(tmp.join(n), t)?;
    }
    std::fs::write(tmp.join("harness.cpp"), HARNESS)?;
    let build_log = tmp.join("build.log");
    observer(Event::Started {
        stage: Stage::VerilatorBuild,
        log: &build_log,
    });
    observer(Event::Progress {
        stage: Stage::VerilatorBuild,
        at: &Milestone {
            done: 0,
            total: 1,
            what: "verilating".into(),
        },
    });
    let fail = |what: &'static str, out: &std::process::Output| -> Result<(), ToolError> {
        if out.status.success() {
            return Ok(());
        }
        let log = tmp.join("build.log");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&log, &text)?;
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(ToolError::Failed {
            tool: what,
            status: out.status.to_string(),
            log,
            message: tail.join("\n"),
        })
    };
    // Step 1: verilate (C++ and a makefile, no compile yet).
    let mut cmd = Command::new(&v);
    super::child::dies_with_bnngen(&mut cmd);
    cmd.current_dir(&tmp).args([
        "--cc",
        "--exe",
        "--prefix",
        "Vdut",
        "--top-module",
        top,
        "-Mdir",
        "obj",
        "-f",
        "files.f",
        "harness.cpp",
        "-O1",
        "-CFLAGS",
        "-O1",
    ]);
    cmd.args(flags);
    if opts.debug {
        cmd.args(["-CFLAGS", "-DBNN_DEBUG"]);
    }
    if opts.trace {
        cmd.args(["--trace", "-CFLAGS", "-DBNN_TRACE"]);
    }
    if opts.wload {
        cmd.args(["-CFLAGS", "-DBNN_WLOAD"]);
    }
    fail("verilator", &cmd.output()?)?;
    // Step 2: reuse the Verilator runtime objects (the same for every design) from the cache,
    // which halves the build time of small designs.
    let mut runtime = vec!["verilated.o", "verilated_threads.o"];
    if opts.trace {
        runtime.push("verilated_vcd_c.o");
    }
    // Keyed by the Verilator install (its runtime headers change with it) and tracing.
    let stamp = std::fs::metadata(&v)
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let rt_dir = root.join(format!(
        "runtime-{}-{}",
        stamp.map_or(0, |d| d.as_secs()),
        if opts.trace { "trace" } else { "plain" }
    ));
    let have_rt = runtime.iter().all(|f| rt_dir.join(f).is_file());
    if have_rt {
        for f in &runtime {
            std::fs::copy(rt_dir.join(f), tmp.join("obj").join(f))?;
        }
    }
    // Step 3: compile and link, watching the objects appear.
    let mk = find(MAKE)?;
    let obj = tmp.join("obj");
    let classes = std::fs::read_to_string(obj.join("Vdut_classes.mk")).unwrap_or_default();
    let mut extra = vec!["harness"];
    if !have_rt {
        extra.extend(runtime.iter().map(|o| o.trim_end_matches(".o")));
    }
    let units = progress::verilator_units(&classes, "Vdut", &extra);
    let include = v
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("share/verilator/include"))
        .unwrap_or_default();
    let size = |s: &str| {
        [obj.join(s), tmp.join(s), include.join(s)]
            .iter()
            .find_map(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    };
    let built = |o: &str| obj.join(o).is_file();
    let mut last = None;
    let out = progress::while_watching(
        progress::POLL,
        || {
            let m = progress::compile_milestone(&units, &size, &built);
            if last.as_ref() != Some(&m) {
                observer(Event::Progress {
                    stage: Stage::VerilatorBuild,
                    at: &m,
                });
                last = Some(m);
            }
        },
        || {
            super::child::dies_with_bnngen(&mut Command::new(&mk.path))
                .current_dir(&obj)
                .args([
                    "-f",
                    "Vdut.mk",
                    "-j",
                    "2",
                    "OPT_FAST=-O1",
                    "OPT_SLOW=-O0",
                    "OPT_GLOBAL=-O1",
                    "Vdut",
                ])
                .output()
        },
    )?;
    fail("make (Verilator build)", &out)?;
    if !have_rt {
        let stage = root.join(format!(".rt-{unique}-{h:016x}"));
        std::fs::create_dir_all(&stage)?;
        for f in &runtime {
            std::fs::copy(tmp.join("obj").join(f), stage.join(f))?;
        }
        if std::fs::rename(&stage, &rt_dir).is_err() {
            let _ = std::fs::remove_dir_all(&stage);
        }
    }
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        Err(_) if dir.join("obj").join("Vdut").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Simulator { dir, cached: false })
}

impl Simulator {
    /// Run on a stimulus text; returns the results text. `trace` writes a VCD there.
    pub fn run(&self, stimulus: &str, trace: Option<&Path>) -> Result<String, ToolError> {
        self.run_with(stimulus, trace, &[])
    }

    /// Run a build made with `x_unique`, every register and X drawn at random from `seed`
    /// (`+verilator+seed+N +verilator+rand+reset+2`).
    pub fn run_seeded(&self, stimulus: &str, seed: u64) -> Result<String, ToolError> {
        self.run_with(
            stimulus,
            None,
            &[
                format!("+verilator+seed+{seed}"),
                "+verilator+rand+reset+2".to_string(),
            ],
        )
    }

    fn run_with(
        &self,
        stimulus: &str,
        trace: Option<&Path>,
        plusargs: &[String],
    ) -> Result<String, ToolError> {
        let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id())
            .replace(['(', ')'], "");
        let stim = self.dir.join(format!("stim-{tag}.txt"));
        let res = self.dir.join(format!("res-{tag}.txt"));
        std::fs::write(&stim, stimulus)?;
        let mut cmd = Command::new(self.dir.join("obj").join("Vdut"));
        super::child::dies_with_bnngen(&mut cmd);
        cmd.current_dir(&self.dir).arg(&stim).arg(&res);
        if let Some(t) = trace {
            cmd.arg(std::path::absolute(t)?);
        }
        cmd.args(plusargs);
        let out = cmd.output()?;
        let _ = std::fs::remove_file(&stim);
        if !out.status.success() {
            return Err(ToolError::Failed {
                tool: "simulator",
                status: out.status.to_string(),
                log: self.dir.clone(),
                message: String::from_utf8_lossy(&out.stderr).to_string(),
            });
        }
        let text = std::fs::read_to_string(&res)?;
        let _ = std::fs::remove_file(&res);
        Ok(text)
    }
}
