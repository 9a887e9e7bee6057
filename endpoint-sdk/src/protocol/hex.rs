//! Lowercase hex digits in and out of fixed-size buffers, without the formatting machinery: ids
//! (trace and span ids, job ids) are written and read on every call.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes the low `4 * out.len()` bits of `value` into `out`, most significant digit first.
pub(crate) fn write(out: &mut [u8], mut value: u128) {
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// Reads lowercase hex digits (at most 32); `None` for any other character.
pub(crate) fn read(digits: &[u8]) -> Option<u128> {
    if digits.len() > 32 {
        return None;
    }
    digits.iter().try_fold(0u128, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some((acc << 4) | u128::from(v))
    })
}

/// `value` as `N` hex digits, in a buffer that derefs to `str`.
pub(crate) struct Hex<const N: usize>([u8; N]);

impl<const N: usize> Hex<N> {
    pub(crate) fn new(value: u128) -> Self {
        let mut buf = [0u8; N];
        write(&mut buf, value);
        Hex(buf)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_lowercase_hex() {
        let v = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128;
        assert_eq!(
            Hex::<32>::new(v).as_str(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(Hex::<4>::new(0xabcdef).as_str(), "cdef");
        assert_eq!(read(b"4bf92f3577b34da6a3ce929d0e0e4736"), Some(v));
        assert_eq!(read(b"00f0"), Some(0xf0));
        assert_eq!(read(b"00F0"), None);
        assert_eq!(read(b"0x10"), None);
        assert_eq!(read(&[b'1'; 33]), None);
    }
}
