//! Crash-safe file handling for certificates and keys, through the one
//! atomic-write helper (`wxemu_core::fsutil`), with errors that say what was
//! being done to which file.

use std::fs;
use std::io;
use std::path::Path;

use crate::Error;

pub(crate) use wxemu_core::{parent_dir as parent, sync_dir};

/// Permissions for private keys on unix.
pub(crate) const KEY_MODE: u32 = 0o600;
/// Permissions for certificates on unix.
pub(crate) const CERT_MODE: u32 = 0o644;

/// A fully written and flushed temporary file beside its target; removed
/// on drop unless it was moved into place.
pub(crate) type TempFile = tempfile::NamedTempFile;

/// Creates `dir` and missing parents (0700 on unix). An existing directory is left as is.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), Error> {
    wxemu_core::create_private_dir(dir)
        .map_err(|source| Error::io("create the directory", dir, source))
}

/// Whether `path` exists (a dangling symlink counts as existing: it is not ours to replace).
pub(crate) fn exists(path: &Path) -> Result<bool, Error> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::io("check for", path, source)),
    }
}

/// Writes `contents` to a new temporary file next to `target` with
/// permissions `mode` (unix), and fsyncs it.
pub(crate) fn write_temp(target: &Path, contents: &[u8], mode: u32) -> Result<TempFile, Error> {
    #[cfg(unix)]
    let permissions = {
        use std::os::unix::fs::PermissionsExt;
        Some(fs::Permissions::from_mode(mode))
    };
    #[cfg(not(unix))]
    let permissions = {
        let _ = mode;
        None
    };
    wxemu_core::stage(target, contents, permissions)
        .map_err(|source| Error::io("write a temporary file for", target, source))
}

/// Atomically replaces `target` with `tmp` (rename).
pub(crate) fn replace(tmp: TempFile, target: &Path) -> Result<(), Error> {
    wxemu_core::persist(tmp, target).map_err(|source| Error::io("replace", target, source))
}

/// Moves `tmp` to `target` only if `target` does not exist yet. Returns `false` (and
/// discards `tmp`) if something already exists there.
pub(crate) fn publish_new(tmp: TempFile, target: &Path) -> Result<bool, Error> {
    wxemu_core::persist_new(tmp, target).map_err(|source| Error::io("create", target, source))
}
