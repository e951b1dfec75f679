//! Randomness from the operating system: CA name suffixes and serial numbers.

use rcgen::SerialNumber;
use ring::rand::{SecureRandom, SystemRandom};

use crate::encoding::hex;
use crate::Error;

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::Random)?;
    Ok(buf)
}

pub(crate) fn random_hex(len_bytes: usize) -> Result<String, Error> {
    let bytes: [u8; 16] = random_bytes()?;
    Ok(hex(&bytes[..len_bytes.min(16)]))
}

/// A positive 16-byte serial number with 126 random bits.
pub(crate) fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes: [u8; 16] = random_bytes()?;
    // Positive, and without a leading zero byte so the encoding is always 16 bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_random_and_positive() {
        let a = random_serial().expect("rng").to_bytes();
        let b = random_serial().expect("rng").to_bytes();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a[0] & 0xc0, 0x40);
    }
}
