//! Crash-safe file handling: private directories, atomic replace, no-clobber publish.
//!
//! Every file is first written in full to a uniquely named temporary file in the
//! destination directory, flushed to disk, and only then moved to its final name. A
//! crash at any point leaves either the old complete file or the new complete file
//! under the final name, never a truncated one (plus, at worst, a stray `.*.tmp` file).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// Permissions for private keys on unix.
pub(crate) const KEY_MODE: u32 = 0o600;
/// Permissions for certificates on unix.
pub(crate) const CERT_MODE: u32 = 0o644;
/// Permissions for a data directory this crate creates on unix.
const DIR_MODE: u32 = 0o700;

/// Creates `dir` and missing parents (0700 on unix). An existing directory is left as is.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    #[cfg(not(unix))]
    let _ = DIR_MODE;
    builder
        .create(dir)
        .map_err(|source| Error::io("create the directory", dir, source))?;
    if !dir.is_dir() {
        return Err(Error::io(
            "use as a directory",
            dir,
            io::Error::other("it exists but is not a directory"),
        ));
    }
    Ok(())
}

/// Whether `path` exists (a dangling symlink counts as existing: it is not ours to replace).
pub(crate) fn exists(path: &Path) -> Result<bool, Error> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::io("check for", path, source)),
    }
}

/// A fully written and flushed temporary file; removed on drop unless it was moved away.
pub(crate) struct TempFile {
    path: PathBuf,
    moved: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.moved {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes `contents` to a new temporary file next to `target` with permissions `mode`
/// (unix), and fsyncs it.
pub(crate) fn write_temp(target: &Path, contents: &[u8], mode: u32) -> Result<TempFile, Error> {
    let dir = parent(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wxemu".to_owned());
    let tag = crate::random_hex(6)?;
    let tmp_path = dir.join(format!(".{name}.{}.{tag}.tmp", std::process::id()));

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;

    let mut file = options
        .open(&tmp_path)
        .map_err(|source| Error::io("create the temporary file", &tmp_path, source))?;
    // From here on the guard removes the temporary file on any error.
    let tmp = TempFile {
        path: tmp_path,
        moved: false,
    };
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| Error::io("write", &tmp.path, source))?;
    Ok(tmp)
}

/// Atomically replaces `target` with `tmp` (rename).
pub(crate) fn replace(mut tmp: TempFile, target: &Path) -> Result<(), Error> {
    fs::rename(&tmp.path, target).map_err(|source| Error::io("replace", target, source))?;
    tmp.moved = true;
    Ok(())
}

/// Moves `tmp` to `target` only if `target` does not exist yet. Returns `false` (and
/// discards `tmp`) if something already exists there, e.g. because another wxemu process
/// won the race to create it.
pub(crate) fn publish_new(mut tmp: TempFile, target: &Path) -> Result<bool, Error> {
    // A hard link is an atomic "create if absent"; `tmp` is then unlinked by drop.
    match fs::hard_link(&tmp.path, target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // File systems without hard links (FAT, some network shares): check, then rename.
        Err(_) => {
            if exists(target)? {
                return Ok(false);
            }
            fs::rename(&tmp.path, target).map_err(|source| Error::io("create", target, source))?;
            tmp.moved = true;
            Ok(true)
        }
    }
}

/// Flushes directory entries (renames, links) to disk where the platform supports it.
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    {
        // Best effort: some file systems refuse to fsync directories.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The directory containing `path` (`.` for a bare file name).
pub(crate) fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
