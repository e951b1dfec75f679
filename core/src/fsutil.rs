//! The one place files are written: every write of user data or keys (the
//! config, the control token, certificates, the hosts file) is staged in a
//! temporary file beside its target, fsynced, then renamed over it (or
//! linked, when the target must not exist yet), so a crash leaves the old
//! file or the new one, never a mix.

use std::io::Write;
use std::path::Path;

/// How staged temporary files are named; a crash can leave one behind, never
/// in place of the file it was for.
pub const TEMP_PREFIX: &str = ".wxemu-tmp-";

/// Replaces `path` with `bytes` so that readers (and a crash) see either the
/// old content or the new, never a mix: [`stage`] then [`persist`].
/// `mode` is the unix permission of the new file (0o600 for secrets).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    // Private whichever file is written first (control token, config,
    // journal, certificates): the data directory is created 0700.
    create_private_dir(parent_dir(path))?;
    #[cfg(unix)]
    let permissions = {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(mode))
    };
    // Windows has no mode bits: files in the per-user data directory inherit
    // its owner-only ACL.
    #[cfg(not(unix))]
    let permissions = {
        let _ = mode;
        None
    };
    persist(stage(path, bytes, permissions)?, path)
}

/// Writes `bytes` to a new temporary file beside `path` (owner-only until
/// `permissions`, if given, are applied) and fsyncs it, ready to [`persist`].
pub fn stage(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(parent_dir(path))?;
    tmp.write_all(bytes)?;
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Renames a [`stage`]d file over `path` and makes the rename durable.
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(parent_dir(path));
    Ok(())
}

/// Like [`persist`], but only when nothing exists at `path` yet: false
/// (and the staged file is discarded) when something does, e.g. because
/// another wxemu process won the race to create it.
pub fn persist_new(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<bool> {
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            sync_dir(parent_dir(path));
            Ok(true)
        }
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e.error),
    }
}

/// Creates `dir` and missing parents, owner-only (0700 on unix); an
/// existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    if !dir.is_dir() {
        return Err(std::io::Error::other("it exists but is not a directory"));
    }
    Ok(())
}

/// The directory containing `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Flushes a directory's entries (a rename) to disk; best effort, unix only.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) {
    // Best effort: makes the rename itself durable on filesystems that need it.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Flushes a directory's entries (a rename) to disk; best effort, unix only.
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f.txt");
        write_atomic(&path, b"one", 0o600).unwrap();
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "temp files left behind: {leftovers:?}");
    }
}
