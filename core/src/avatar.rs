//! Avatars wxemu draws itself, so demos show faces with no network: an SVG
//! with the nickname's first letter on a colour picked by account id.

/// The part of [`PATH`] before the account id, spelled once for both
/// [`PATH`] and [`push_path`].
macro_rules! prefix {
    () => {
        "/avatar/"
    };
}

/// Where avatars are served, in the router's path syntax: mirrors the
/// shape of WeChat's `.../mmopen/<id>/132` URLs (SDKs rewrite the last
/// segment to pick a size).
pub const PATH: &str = concat!(prefix!(), "{id}/{size}");

/// The path of one account's avatar at one size, appended to `out`. Runs for every check-login reply: no
/// template walk, no formatting machinery (those cost more than the rest
/// of the reply's URL).
pub fn push_path(out: &mut String, id: &str, size: u32) {
    out.push_str(prefix!());
    out.push_str(id);
    out.push('/');
    out.push_str(itoa::Buffer::new().format(size));
}

/// WeChat's brand green and a few neighbours, picked by account id.
const COLOURS: [&str; 6] = [
    "#07C160", "#10AEFF", "#FA9D3B", "#FA5151", "#6467F0", "#2BAD81",
];

pub fn svg(id: &str, nickname: &str) -> String {
    let hash = id
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
    let colour = COLOURS[hash % COLOURS.len()];
    let initial: String = nickname
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="132" height="132" viewBox="0 0 132 132"><rect width="132" height="132" rx="12" fill="{colour}"/><text x="66" y="66" dy=".35em" text-anchor="middle" font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif" font-size="64" fill="#fff">{}</text></svg>"##,
        escape_xml(&initial)
    )
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_name_account_and_size() {
        let mut path = String::new();
        super::push_path(&mut path, "alice", 132);
        assert_eq!(path, "/avatar/alice/132");
    }

    #[test]
    fn draws_the_first_letter_escaped() {
        assert!(super::svg("a", "alice").contains(">A</text>"));
        assert!(super::svg("a", "<b>").contains(">&lt;</text>"));
        assert!(super::svg("a", "").contains("></text>"));
    }
}
