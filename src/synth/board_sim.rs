//! Simulate a board top in Verilator: the host side of the UART protocol of
//! `constraints/common/bnngen_uart_bridge.v`, driven by `constraints/sim/bnngen_board_tb.v`.
//!
//! This proves the part RTL co-simulation of the bare accelerator cannot: that a frame sent
//! as bytes over the UART reaches the accelerator as pixels with `tlast` in the right place,
//! and that its result comes back as bytes the host can decode. Encoding and decoding live
//! here as plain functions so the host software and the tests share one definition.

use super::flash::image_bytes;
use super::flow::wload_defines;
use super::flow::{prepare, RtlDesign, SynthError};
use super::target::{BOARD_COMMON_FILES, FLASH_OFFSET, WLOAD_FILE};
use crate::tools::locate::{Tool, ToolError, ToolSpec, VERILATOR};
use crate::tools::verilator::{toolchain, SIM_FLAGS};
use std::path::{Path, PathBuf};

/// UART clocks per bit in simulation: fast, and still exercises mid-bit sampling.
pub const SIM_CLKS_PER_BIT: u64 = 8;

/// UART clocks per bit for `rtl` in simulation: [`SIM_CLKS_PER_BIT`], or slower for a design
/// whose frames take longer than the UART takes to send them (`RtlDesign::frame_cycles`). The
/// UART has no flow control, so the host may send a frame's bytes (at least 10 bits each) no
/// faster than the design takes them in; the bridge would drop a pixel and raise `error`.
pub fn clks_per_bit(rtl: &RtlDesign) -> u64 {
    let bytes = (rtl.pixels * bytes_for(rtl.input_width)).max(1) as u64;
    SIM_CLKS_PER_BIT.max(rtl.frame_cycles.div_ceil(10 * bytes) + 1)
}

/// Bytes a value of `width` bits takes on the wire.
pub fn bytes_for(width: u32) -> usize {
    width.div_ceil(8) as usize
}

/// The bytes of one `width`-bit word (bits LSB first), least significant byte first, pad
/// bits zero.
pub fn encode_word(bits: &[bool], width: u32) -> Vec<u8> {
    assert_eq!(bits.len(), width as usize);
    let mut out = vec![0u8; bytes_for(width)];
    for (i, &b) in bits.iter().enumerate() {
        if b {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    out
}

/// The inverse of [`encode_word`]; errors when a pad bit is set.
pub fn decode_word(bytes: &[u8], width: u32) -> Result<Vec<bool>, String> {
    if bytes.len() != bytes_for(width) {
        return Err(format!(
            "expected {} bytes, got {}",
            bytes_for(width),
            bytes.len()
        ));
    }
    let bit = |i: usize| bytes[i / 8] >> (i % 8) & 1 == 1;
    if (width as usize..8 * bytes.len()).any(bit) {
        return Err("pad bit set".into());
    }
    Ok((0..width as usize).map(bit).collect())
}

/// Send `frames` (each a list of `s_axis_tdata` words, bits LSB first) through the board
/// core in Verilator and return the decoded `m_axis_tdata` of every frame. `work` is a
/// scratch folder.
pub fn simulate(
    rtl: &RtlDesign,
    frames: &[Vec<Vec<bool>>],
    work: &Path,
) -> Result<Vec<Vec<bool>>, SynthError> {
    simulate_with_flash(rtl, frames, &[], work)
}

/// [`simulate`] for a design with weights in SPRAM: the behavioural SPI flash
/// (`constraints/sim/bnngen_spi_flash.v`) holds the weight image `flash` (16-bit words, any
/// model's of the same topology and plan) at `FLASH_OFFSET`, and the board core's loader
/// copies it into SPRAM before the accelerator leaves reset.
pub fn simulate_with_flash(
    rtl: &RtlDesign,
    frames: &[Vec<Vec<bool>>],
    flash: &[u16],
    work: &Path,
) -> Result<Vec<Vec<bool>>, SynthError> {
    assert_eq!(
        flash.len(),
        rtl.load_words,
        "the image fills the design's SPRAM stores"
    );
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SynthError::Io { path: p, source }
    };
    prepare(rtl, work)?;
    super::flow::write_board_file(work, "sim/bnngen_board_tb.v")?;
    super::flow::write_board_file(work, "sim/bnngen_spi_flash.v")?;
    let mut stim = String::new();
    let mut n_in = 0;
    for f in frames {
        assert_eq!(f.len(), rtl.pixels, "a frame has the design's pixel count");
        for px in f {
            for b in encode_word(px, rtl.input_width) {
                stim.push_str(&format!("{b:02x}\n"));
                n_in += 1;
            }
        }
    }
    let stim_path = work.join("board_stim.hex");
    std::fs::write(&stim_path, stim).map_err(io(&stim_path))?;
    let out_b = bytes_for(rtl.output_width);
    let n_out = out_b * frames.len();

    let verilator = Tool {
        spec: VERILATOR,
        path: toolchain()?,
        yowasp: false,
    };
    let mut args: Vec<String> = vec![
        "--binary".into(),
        "-Wno-fatal".into(),
        "-O2".into(),
        "--top-module".into(),
        "bnngen_board_tb".into(),
        "-Mdir".into(),
        "board_obj".into(),
        format!("-DBNNGEN_TOP={}", rtl.top),
        format!("-DBNNGEN_IN_W={}", rtl.input_width),
        format!("-DBNNGEN_OUT_W={}", rtl.output_width),
        format!("-DBNNGEN_PIXELS={}", rtl.pixels),
        format!("-DBNNGEN_CLKS_PER_BIT={}", clks_per_bit(rtl)),
    ];
    let mut run_extra = Vec::new();
    if rtl.load_words > 0 {
        args.extend(wload_defines(rtl.load_words, rtl.load_data_width));
        args.push(format!("board/{WLOAD_FILE}"));
        args.push("board/sim/bnngen_spi_flash.v".into());
        let bytes = image_bytes(flash);
        let text: String = bytes.iter().map(|b| format!("{b:02x}\n")).collect();
        let path = work.join("board_flash.hex");
        std::fs::write(&path, text).map_err(io(&path))?;
        run_extra = vec![
            "+flash=board_flash.hex".to_string(),
            format!("+flash_at={FLASH_OFFSET}"),
            format!("+flash_bytes={}", bytes.len()),
            // Two clocks per SPI bit, 16 bits a word, plus the commands and the wake-up gap.
            format!("+load_cycles={}", 40 * rtl.load_words + 4096),
        ];
    }
    args.extend(SIM_FLAGS.iter().map(|f| f.to_string()));
    for f in &rtl.sources {
        let name = Path::new(f).file_name().unwrap_or(f.as_ref());
        args.push(Path::new(name).display().to_string());
    }
    for f in BOARD_COMMON_FILES {
        args.push(format!("board/{f}"));
    }
    args.push("board/sim/bnngen_board_tb.v".into());
    verilator.run(work, &args, Path::new("board_build.log"))?;
    let exe = work.join("board_obj/Vbnngen_board_tb");
    let sim = Tool {
        spec: ToolSpec {
            name: "board simulation",
            ..VERILATOR
        },
        path: exe,
        yowasp: false,
    };
    let run_args = vec![
        "+stim=board_stim.hex".to_string(),
        "+out=board_out.hex".to_string(),
        format!("+n_in={n_in}"),
        format!("+n_out={n_out}"),
        // Twice the accelerator's own cycles, for a design slower than the UART.
        format!(
            "+compute_cycles={}",
            2 * rtl.frame_cycles * frames.len() as u64
        ),
    ];
    let run_args: Vec<String> = run_args.into_iter().chain(run_extra).collect();
    sim.run(work, &run_args, Path::new("board_sim.log"))?;
    // Verilator's $fatal exits non-zero, caught above; check the log for it anyway.
    let log = std::fs::read_to_string(work.join("board_sim.log")).unwrap_or_default();
    if log.contains("%Error") || log.contains("$fatal") || log.contains("%Fatal") {
        return Err(ToolError::Failed {
            tool: "board simulation",
            status: "fatal".into(),
            log: work.join("board_sim.log"),
            message: crate::tools::locate::error_lines(&log),
        }
        .into());
    }
    let out_path: PathBuf = work.join("board_out.hex");
    let text = std::fs::read_to_string(&out_path).map_err(io(&out_path))?;
    let bytes: Vec<u8> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| u8::from_str_radix(l.trim(), 16))
        .collect::<Result<_, _>>()
        .map_err(|e| ToolError::Output {
            path: out_path.clone(),
            message: e.to_string(),
        })?;
    if bytes.len() != n_out {
        return Err(ToolError::Output {
            path: out_path,
            message: format!("expected {n_out} bytes back, got {}", bytes.len()),
        }
        .into());
    }
    bytes
        .chunks(out_b)
        .map(|c| {
            decode_word(c, rtl.output_width).map_err(|m| {
                ToolError::Output {
                    path: out_path.clone(),
                    message: m,
                }
                .into()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_pad_bits_are_checked() {
        let bits: Vec<bool> = (0..13).map(|i| i % 3 == 0).collect();
        let b = encode_word(&bits, 13);
        assert_eq!(b, vec![0b0100_1001, 0b0001_0010]);
        assert_eq!(decode_word(&b, 13).unwrap(), bits);
        assert!(decode_word(&[0, 0x20], 13).is_err());
        assert!(decode_word(&[0], 13).is_err());
    }
}
