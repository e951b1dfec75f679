//! Web origins as browsers send them, normalised for comparison.

/// Normalizes an Origin (`"https://Example.com:443"` -> `"https://example.com"`).
/// None for anything that is not `scheme://host[:port]`.
pub fn parse_origin(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin).ok()?;
    let clean = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    let serialized = url.origin().ascii_serialization();
    (clean && url.has_host() && !origin.ends_with('/')).then_some(serialized)
}
