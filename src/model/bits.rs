//! Packed bit vectors and the hex text form used for weights in model files.
//!
//! The hex form reads left to right in stream order: each hex digit carries four consecutive
//! bits, the first of them in the digit's most significant position ("8" is 1,0,0,0). That
//! keeps a weight row readable in the file and makes the order independent of word size.

/// A fixed-length vector of bits packed into `u64` words, bit `i` at word `i / 64`, position
/// `i % 64`. Bits past `len` in the last word are always zero.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl std::fmt::Debug for Bits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bits({}: {})", self.len, self.to_hex())
    }
}

/// Why a hex string could not be read as a bit stream of the expected length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HexError {
    /// A character other than 0-9, a-f, A-F, whitespace or `_` at this digit position.
    BadDigit { position: usize, found: char },
    /// The number of hex digits differs from `ceil(expected_bits / 4)`.
    Length {
        expected_digits: usize,
        found_digits: usize,
    },
    /// The padding bits after the last stream bit in the final digit are not zero.
    NonZeroPadding,
}

impl std::fmt::Display for HexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HexError::BadDigit { position, found } => {
                write!(
                    f,
                    "bad hex digit {found:?} at digit {} (counting from 1)",
                    position + 1
                )
            }
            HexError::Length {
                expected_digits,
                found_digits,
            } => write!(
                f,
                "expected {expected_digits} hex digits, found {found_digits}"
            ),
            HexError::NonZeroPadding => {
                write!(f, "the padding bits after the last weight bit must be zero")
            }
        }
    }
}

impl Bits {
    /// Make `len` zero bits.
    pub fn zeros(len: usize) -> Self {
        Bits {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Make a vector from booleans, in order.
    pub fn from_bools(bools: impl IntoIterator<Item = bool>) -> Self {
        let mut b = Bits::default();
        for v in bools {
            b.push(v);
        }
        b
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packed words; bits past `len` are zero.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit {i} out of range {}", self.len);
        (self.words[i / 64] >> (i % 64)) & 1 == 1
    }

    pub fn set(&mut self, i: usize, v: bool) {
        assert!(i < self.len, "bit {i} out of range {}", self.len);
        let m = 1u64 << (i % 64);
        if v {
            self.words[i / 64] |= m;
        } else {
            self.words[i / 64] &= !m;
        }
    }

    pub fn push(&mut self, v: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, v);
    }

    /// Number of one bits.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }

    /// Copy of bits `start..start + len`.
    pub fn slice(&self, start: usize, len: usize) -> Bits {
        assert!(start + len <= self.len);
        Bits::from_bools((start..start + len).map(|i| self.get(i)))
    }

    /// Hex text in stream order (see the module doc), without separators.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(self.len.div_ceil(4));
        for d in 0..self.len.div_ceil(4) {
            let mut v = 0usize;
            for k in 0..4 {
                let i = d * 4 + k;
                v = (v << 1) | usize::from(i < self.len && self.get(i));
            }
            s.push(DIGITS[v] as char);
        }
        s
    }

    /// Read hex text of exactly `ceil(len / 4)` digits; whitespace and `_` are ignored so long
    /// rows may be broken in the file.
    pub fn from_hex(text: &str, len: usize) -> Result<Bits, HexError> {
        let mut digits = Vec::with_capacity(text.len());
        for ch in text.chars() {
            if ch.is_whitespace() || ch == '_' {
                continue;
            }
            match ch.to_digit(16) {
                Some(v) => digits.push(v as u8),
                None => {
                    return Err(HexError::BadDigit {
                        position: digits.len(),
                        found: ch,
                    });
                }
            }
        }
        let expected = len.div_ceil(4);
        if digits.len() != expected {
            return Err(HexError::Length {
                expected_digits: expected,
                found_digits: digits.len(),
            });
        }
        let mut b = Bits::zeros(len);
        for (d, v) in digits.iter().enumerate() {
            for k in 0..4 {
                let bit = (v >> (3 - k)) & 1 == 1;
                let i = d * 4 + k;
                if i < len {
                    b.set(i, bit);
                } else if bit {
                    return Err(HexError::NonZeroPadding);
                }
            }
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_stream_order_msb_first() {
        let b = Bits::from_bools([true, false, false, false, true, true]);
        assert_eq!(b.to_hex(), "8c");
        assert_eq!(Bits::from_hex("8c", 6).unwrap(), b);
    }

    #[test]
    fn hex_rejects_padding_length_and_digits() {
        assert_eq!(Bits::from_hex("8d", 6), Err(HexError::NonZeroPadding));
        assert_eq!(
            Bits::from_hex("8", 6),
            Err(HexError::Length {
                expected_digits: 2,
                found_digits: 1
            })
        );
        assert_eq!(
            Bits::from_hex("8g", 6),
            Err(HexError::BadDigit {
                position: 1,
                found: 'g'
            })
        );
        assert_eq!(Bits::from_hex("8_c\n", 6).unwrap().to_hex(), "8c");
    }

    #[test]
    fn round_trip_long() {
        let b = Bits::from_bools((0..200).map(|i| (i * 7 + i / 3) % 5 < 2));
        assert_eq!(Bits::from_hex(&b.to_hex(), 200).unwrap(), b);
        assert_eq!(b.count_ones(), b.iter().filter(|&x| x).count());
    }
}
