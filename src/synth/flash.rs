//! The weight image as the board's SPI flash holds it, for designs with weights in SPRAM.
//!
//! Why a file of its own: `bnngen synth` writes it beside the bitstream, the board-top
//! simulation loads it into the behavioural flash, and the loader
//! (`constraints/common/bnngen_spi_loader.v`) reads it back; all three must agree on one byte
//! order. Words are little-endian (the first byte is bits 7:0 of word 0), at flash byte
//! address `target::FLASH_OFFSET`.

/// The flash bytes of `words`.
pub fn image_bytes(words: &[u16]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_are_little_endian() {
        assert_eq!(
            super::image_bytes(&[0x1234, 0xabcd]),
            vec![0x34, 0x12, 0xcd, 0xab]
        );
    }
}
