//! Arguments shared by several commands: the data directory, and clap
//! parsers for the core's named enums.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use wxemu_core::Named;

#[derive(Debug, Args)]
pub struct DataDirArg {
    /// Where the CA, keys and config live [default: the OS's per-user data directory].
    #[arg(long, env = "WXEMU_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

impl DataDirArg {
    pub fn resolve(&self) -> Result<PathBuf, String> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => wxemu::default_data_dir().ok_or_else(|| {
                "cannot find a home directory for the data directory; pass --data-dir or set WXEMU_DATA_DIR".to_owned()
            }),
        }
    }
}

/// A clap parser for a core enum: its names are the possible values (listed
/// in `--help`), so the core needs no command-line library.
pub(crate) fn named<T: Named + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.name()))
        .map(|name| T::from_name(&name).expect("clap only passes possible values"))
}
