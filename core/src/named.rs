//! [`Named`]: enums whose values have one fixed name each, the same on the
//! wire, in config files and on the command line.

/// An enum with a fixed name per value. The CLI builds its argument parsers
/// from [`Named::ALL`], so the core needs no command-line library.
pub trait Named: Copy + Send + Sync + 'static {
    /// Every value, in the order help texts list them.
    const ALL: &'static [Self];

    fn name(self) -> &'static str;

    /// The value called `name` (ASCII case ignored).
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }
}
