//! The identifiers and secrets of a Web WeChat login, in the shapes real
//! clients expect (protocol.md section 3): clients match some with regexes
//! and put others into URLs unencoded, so every alphabet here is URL-safe.

use rand::distributions::Uniform;
use rand::Rng;

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// A QR login uuid: ten URL-safe characters and `==`, like `Qe3PDEPf1Q==`.
/// It may begin with `-` (the control API and `wxemu ctl` accept that).
pub fn login_uuid() -> String {
    let mut rng = rand::thread_rng();
    let mut uuid: String = (0..10)
        .map(|_| URL_SAFE[rng.gen_range(0..URL_SAFE.len())] as char)
        .collect();
    uuid.push_str("==");
    uuid
}

/// Whether `s` has the shape of `login_uuid` (bounded, URL-safe).
pub fn is_login_uuid(s: &str) -> bool {
    (4..=64).contains(&s.len()) && s.bytes().all(|b| URL_SAFE.contains(&b) || b == b'=')
}

/// The single-use login ticket of `redirect_uri` (`...@qrticket_0` as the
/// real one ends).
pub fn login_ticket() -> String {
    format!("{}@qrticket_0", url_safe(28))
}

/// `wxsid`: 16 characters. Real sids may hold `+` and `/`, which clients
/// put into queries unencoded; wxemu's stay alphanumeric so a bot's bugs
/// are not mistaken for the emulator's.
pub fn sid() -> String {
    crate::random::random_token(16)
}

/// `skey`: `@crypt_` + 8 hex + `_` + 32 hex.
pub fn skey() -> String {
    format!("@crypt_{}_{}", hex(8), hex(32))
}

/// `pass_ticket` (64) and the data/auth ticket cookies.
pub fn ticket(len: usize) -> String {
    crate::random::random_token(len)
}

/// A contact's per-login UserName: `@` + 32 hex (friends, official
/// accounts, group members), `@` + 64 hex (the logged-in user), `@@` + 64
/// hex (groups). Lowercase: itchat matches members with `@[0-9a-z]*`.
pub fn user_name(prefix: &str, hex_len: usize) -> String {
    format!("{prefix}{}", hex(hex_len))
}

/// A message id: decimal digits, below 2^53 so JavaScript clients that
/// parse it as a number keep it exact.
pub fn msg_id() -> u64 {
    rand::thread_rng().gen_range(1_000_000_000_000_000..(1u64 << 53))
}

/// The uin of an account: ten decimal digits, stable for the account id
/// (a re-login, or a restart of wxemu, gives the same uin), as the real
/// uin is the account's own number.
pub fn uin_for(account_id: &str) -> u64 {
    // FNV-1a: stable across runs and Rust versions (std's hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account_id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    1_000_000_000 + hash % 3_000_000_000
}

fn hex(len: usize) -> String {
    let digits = Uniform::new(0u8, 16);
    rand::thread_rng()
        .sample_iter(digits)
        .take(len)
        .map(|d| char::from_digit(u32::from(d), 16).unwrap_or('0'))
        .collect()
}

fn url_safe(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| URL_SAFE[rng.gen_range(0..URL_SAFE.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for _ in 0..200 {
            let uuid = login_uuid();
            assert_eq!(uuid.len(), 12);
            assert!(uuid.ends_with("=="));
            assert!(is_login_uuid(&uuid));
            assert!(!uuid.contains(['+', '/']));
            let skey = skey();
            assert!(skey.starts_with("@crypt_") && skey.len() == 48, "{skey}");
            assert!(msg_id() < 1 << 53);
            assert!(user_name("@@", 64).len() == 66);
        }
        assert!(!is_login_uuid("a/b=="));
        assert!(!is_login_uuid(""));
    }

    #[test]
    fn uin_is_stable_ten_digits_and_differs_per_account() {
        assert_eq!(uin_for("default"), uin_for("default"));
        assert_ne!(uin_for("default"), uin_for("alice"));
        for id in ["", "default", "alice", "a-very-long-account-id-0123456789"] {
            let uin = uin_for(id);
            assert_eq!(uin.to_string().len(), 10, "{uin}");
            assert!(
                uin <= u64::from(u32::MAX),
                "fits the clients' 32-bit parsers"
            );
        }
    }
}
