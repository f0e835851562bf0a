//! Bitstream packers: icepack (iCE40 `.asc` -> `.bin`) and ecppack (ECP5 textual config ->
//! `.bit`, the yowasp build from the venv). Packing is the last step that proves the routed
//! design is a loadable bitstream; it reports only the file it wrote.

use super::locate::{find, Tool, ToolError, ECPPACK, ICEPACK};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackFamily {
    Ice40,
    Ecp5,
}

/// A located packer.
#[derive(Debug, Clone)]
pub struct Packer {
    pub tool: Tool,
    pub family: PackFamily,
}

impl Packer {
    pub fn find(family: PackFamily) -> Result<Packer, ToolError> {
        let spec = match family {
            PackFamily::Ice40 => ICEPACK,
            PackFamily::Ecp5 => ECPPACK,
        };
        Ok(Packer {
            tool: find(spec)?,
            family,
        })
    }

    /// Pack `routed` into `bitstream` (both relative to `cwd`); the console output goes to
    /// `<name>.log`. Returns the bitstream's path.
    pub fn run(
        &self,
        cwd: &Path,
        routed: &str,
        bitstream: &str,
        name: &str,
    ) -> Result<PathBuf, ToolError> {
        let log = format!("{name}.log");
        let args: Vec<String> = match self.family {
            PackFamily::Ice40 => vec![routed.into(), bitstream.into()],
            PackFamily::Ecp5 => vec![
                "--input".into(),
                routed.into(),
                "--bit".into(),
                bitstream.into(),
            ],
        };
        self.tool.run(cwd, &args, Path::new(&log))?;
        let out = cwd.join(bitstream);
        match std::fs::metadata(&out) {
            Ok(m) if m.len() > 0 => Ok(out),
            _ => Err(ToolError::Output {
                path: out,
                message: format!("{} wrote no bitstream (log: {log})", self.tool.spec.name),
            }),
        }
    }
}
