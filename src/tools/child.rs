//! Tool processes end with bnngen.
//!
//! Why: a `synth` or `flow` killed with SIGKILL (an out-of-memory kill, a CI timeout, `kill -9`
//! of bnngen's pid alone) cannot clean up, and the Yosys, nextpnr or simulator process it
//! started would run on for minutes, writing into a staging folder that the next run removes.
//! On Linux every tool is started with `PR_SET_PDEATHSIG`, so the kernel kills it with SIGKILL
//! as soon as the thread of bnngen that started it ends. bnngen waits for each tool in the
//! thread that spawned it, so that thread ends only when bnngen does (or the tool is done).
//! Elsewhere this does nothing.

use std::process::Command;

/// Have `cmd`'s process killed (SIGKILL) when the bnngen thread that spawns it ends.
pub fn dies_with_bnngen(cmd: &mut Command) -> &mut Command {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the forked child before exec and makes only
        // async-signal-safe calls (prctl, getppid, _exit); it touches no memory of the parent.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // bnngen died between fork and prctl: the child has been re-parented already.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    cmd
}
