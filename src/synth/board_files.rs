//! The board files (board tops, UART bridge, pin constraints, board testbench) compiled into
//! the binary, so an installed bnngen synthesizes and simulates boards from any directory
//! without the source tree. The files live in `constraints/`; a test checks that every file
//! there is in this table and equal to it.

/// (path relative to `constraints/`, contents) of every board file.
pub const BOARD_FILES: &[(&str, &str)] = &[
    (
        "common/bnngen_board_core.v",
        include_str!("../../constraints/common/bnngen_board_core.v"),
    ),
    (
        "common/bnngen_por.v",
        include_str!("../../constraints/common/bnngen_por.v"),
    ),
    (
        "common/bnngen_spi_loader.v",
        include_str!("../../constraints/common/bnngen_spi_loader.v"),
    ),
    (
        "common/bnngen_uart_bridge.v",
        include_str!("../../constraints/common/bnngen_uart_bridge.v"),
    ),
    (
        "common/bnngen_uart_rx.v",
        include_str!("../../constraints/common/bnngen_uart_rx.v"),
    ),
    (
        "common/bnngen_uart_tx.v",
        include_str!("../../constraints/common/bnngen_uart_tx.v"),
    ),
    (
        "hx8k-breakout/bnngen_hx8k_breakout_top.v",
        include_str!("../../constraints/hx8k-breakout/bnngen_hx8k_breakout_top.v"),
    ),
    (
        "hx8k-breakout/hx8k_breakout.pcf",
        include_str!("../../constraints/hx8k-breakout/hx8k_breakout.pcf"),
    ),
    (
        "icebreaker/bnngen_icebreaker_top.v",
        include_str!("../../constraints/icebreaker/bnngen_icebreaker_top.v"),
    ),
    (
        "icebreaker/icebreaker.pcf",
        include_str!("../../constraints/icebreaker/icebreaker.pcf"),
    ),
    (
        "sim/bnngen_spi_flash.v",
        include_str!("../../constraints/sim/bnngen_spi_flash.v"),
    ),
    (
        "sim/bnngen_board_tb.v",
        include_str!("../../constraints/sim/bnngen_board_tb.v"),
    ),
    (
        "ulx3s/bnngen_ulx3s_top.v",
        include_str!("../../constraints/ulx3s/bnngen_ulx3s_top.v"),
    ),
    (
        "ulx3s/ulx3s.lpf",
        include_str!("../../constraints/ulx3s/ulx3s.lpf"),
    ),
];

/// The contents of the board file at `path` (relative to `constraints/`).
pub fn board_file(path: &str) -> Option<&'static str> {
    BOARD_FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_constraints_is_compiled_in_as_it_is() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("constraints");
        let mut on_disk = Vec::new();
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                let rel = f
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                assert_eq!(
                    board_file(&rel),
                    Some(std::fs::read_to_string(&f).unwrap().as_str()),
                    "{rel}: add it to BOARD_FILES"
                );
                on_disk.push(rel);
            }
        }
        assert_eq!(on_disk.len(), BOARD_FILES.len());
    }
}
