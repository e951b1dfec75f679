//! Random tokens: every uuid, code, access token, ticket and sid wxemu
//! hands out. A leaf module, so every store can draw from it.

use rand::RngCore;

/// `len` characters of [0-9A-Za-z] from a CSPRNG (ChaCha seeded by the OS):
/// 16 characters carry 95 bits, 32 carry 190.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // Random bytes in blocks, each kept only below 248 (4 x 62) so every
    // character is equally likely: half the generator's output that
    // drawing a u32 per character used, and no per-character sampling.
    let mut rng = rand::thread_rng();
    let mut out = String::with_capacity(len);
    let mut block = [0u8; 32];
    while out.len() < len {
        rng.fill_bytes(&mut block);
        let wanted = len - out.len();
        out.extend(
            block
                .iter()
                .filter(|&&b| b < 248)
                .take(wanted)
                .map(|&b| ALPHABET[usize::from(b % 62)] as char),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::random_token;

    #[test]
    fn tokens_are_alphanumeric_and_distinct() {
        let a = random_token(32);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, random_token(32));
        assert_eq!(random_token(0), "");
        assert_eq!(random_token(100).len(), 100);
    }

    #[test]
    fn tokens_use_every_character() {
        // 6400 draws: the chance that one of the 62 characters never
        // appears is below 1e-40, unless the mapping skips some.
        let drawn: std::collections::HashSet<char> = (0..100)
            .flat_map(|_| random_token(64).chars().collect::<Vec<_>>())
            .collect();
        assert_eq!(drawn.len(), 62);
    }
}
