//! Who a person is to a website: openid (per person and app) and unionid
//! (per person and developer account), derived, not stored.
//!
//! Both are `o` + 27 characters of URL-safe base64 of a SHA-256 over a
//! domain-separated string, 28 characters like the real ones
//! (`oLVPpjqs9BhvzwPj5A-vTYAX3GLc`). They depend only on the account id and
//! the appid / owner, so they are the same across restarts and installs: a
//! site's test database keeps matching.

use ring::digest::{digest, SHA256};

use crate::config::WebsiteApp;

/// The person's id in `appid`.
pub fn openid(account_id: &str, appid: &str) -> String {
    derive("openid", account_id, appid)
}

/// The person's id across every app of `owner` (a developer account).
pub fn unionid(account_id: &str, owner: &str) -> String {
    derive("unionid", account_id, owner)
}

/// The developer account `app` belongs to: its `owner`, or the app itself
/// when none is set (so its unionid is its own).
pub fn owner(app: &WebsiteApp) -> &str {
    if app.owner.is_empty() {
        &app.appid
    } else {
        &app.owner
    }
}

fn derive(kind: &str, account_id: &str, scope: &str) -> String {
    // Lengths first, so ("a", "bc") and ("ab", "c") differ.
    let input = format!(
        "wxemu/{kind}/v1\0{}:{account_id}\0{}:{scope}",
        account_id.len(),
        scope.len()
    );
    let hash = digest(&SHA256, input.as_bytes());
    let encoded = data_encoding::BASE64URL_NOPAD.encode(hash.as_ref());
    format!("o{}", &encoded[..27])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_real_and_are_stable() {
        let id = openid("default", "wxa04304ceaedaf538");
        assert_eq!(id.len(), 28);
        assert!(id.starts_with('o'));
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        // Pinned: a change here changes every site's users.
        assert_eq!(id, "o8MsavOkFQU9Zi-BPfYAsZCC6ZVs");
        assert_ne!(id, openid("default", "wxother"));
        assert_ne!(id, openid("alice", "wxa04304ceaedaf538"));
        assert_ne!(id, unionid("default", "wxa04304ceaedaf538"));
        assert_ne!(openid("a", "bc"), openid("ab", "c"));
    }
}
