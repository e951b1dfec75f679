//! `wxemu hosts add | remove | status`: a hosts-file line mapping `localhost.weixin.qq.com`
//! to 127.0.0.1.
//!
//! The name resolves to 127.0.0.1 through public DNS, which an offline laptop cannot
//! reach. One marked line in the hosts file fixes that:
//!
//! ```text
//! 127.0.0.1 localhost.weixin.qq.com # added by wxemu
//! ```
//!
//! `hosts add --intercept` writes a second, separately marked line for hosts mode
//! (`serve --intercept-port 443`): the intercepted WeChat names, so that software which
//! cannot use a proxy reaches wxemu as those hosts:
//!
//! ```text
//! 127.0.0.1 open.weixin.qq.com lp.open.weixin.qq.com ... # added by wxemu (intercept)
//! ```
//!
//! Editing keeps every other byte of the file as it was (line endings, comments, a
//! missing final newline): `add` then `remove` gives back the original file exactly. The
//! new content is written to a temporary file next to the hosts file and renamed over it,
//! so a crash or kill leaves either the old or the new file, never half of one. The
//! permissions of the original are kept; a symlinked hosts file (macOS: `/etc` →
//! `/private/etc`) is edited at its target.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use wxemu_core::CANONICAL_HOST;

/// Marks the line as ours, so `remove` deletes nothing else.
pub const MARKER: &str = "# added by wxemu";
/// Marks the interception line (hosts mode); never confused with [`MARKER`]'s line.
pub const INTERCEPT_MARKER: &str = "# added by wxemu (intercept)";

/// One marked line: which names it maps to 127.0.0.1, and its marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub names: Vec<String>,
    pub marker: &'static str,
}

impl Mapping {
    /// `localhost.weixin.qq.com` (what plain `wxemu hosts` manages).
    pub fn fast_login() -> Mapping {
        Mapping {
            names: vec![CANONICAL_HOST.to_owned()],
            marker: MARKER,
        }
    }

    /// The intercepted names, for hosts mode (`hosts ... --intercept`).
    pub fn intercept(names: &[String]) -> Mapping {
        Mapping {
            names: names.to_vec(),
            marker: INTERCEPT_MARKER,
        }
    }

    /// The line `add` writes (without a line ending).
    pub fn entry(&self) -> String {
        format!("127.0.0.1 {} {}", self.names.join(" "), self.marker)
    }

    fn is_ours(&self, line: &[u8]) -> bool {
        let text = String::from_utf8_lossy(strip_eol(line));
        let text = text.trim_end();
        match self.marker {
            // Any line with this marker, whatever names it lists: the config's list
            // may have changed since it was added.
            INTERCEPT_MARKER => text.ends_with(INTERCEPT_MARKER),
            marker => {
                text.ends_with(marker) && self.names.iter().any(|n| text.contains(n.as_str()))
            }
        }
    }

    /// The address a line maps one of our names to, and which name, if it does.
    fn mapped_by(&self, line: &[u8]) -> Option<(String, String)> {
        let text = String::from_utf8_lossy(strip_eol(line));
        let data = text.split('#').next().unwrap_or("");
        let mut fields = data.split_whitespace();
        let ip = fields.next()?;
        fields.find_map(|field| {
            let field = field.trim_end_matches('.');
            self.names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(field))
                .map(|n| (ip.to_owned(), n.clone()))
        })
    }
}

/// The line `add` writes (without a line ending).
pub fn entry() -> String {
    Mapping::fast_login().entry()
}

/// The hosts file of this OS.
pub fn default_path() -> PathBuf {
    if cfg!(windows) {
        let root = std::env::var_os("SystemRoot")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
        root.join(r"System32\drivers\etc\hosts")
    } else {
        PathBuf::from("/etc/hosts")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}{}", .path.display(), privilege_hint(.source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} line {line} maps {name} to {ip}, not to loopback; wxemu will not override it: fix or remove that line", .path.display())]
    Conflict {
        path: PathBuf,
        line: usize,
        ip: String,
        name: String,
    },
}

fn privilege_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied if cfg!(windows) => {
            " (the hosts file needs an Administrator prompt)"
        }
        std::io::ErrorKind::PermissionDenied => {
            " (the hosts file belongs to root: run `sudo wxemu hosts ...`)"
        }
        std::io::ErrorKind::ResourceBusy => {
            " (it is a bind mount, as in containers: it cannot be replaced atomically; edit it by hand)"
        }
        _ => "",
    }
}

/// What the hosts file says about our name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostsStatus {
    /// 1-based numbers of our marked lines.
    pub ours: Vec<usize>,
    /// Other lines mapping the name: (1-based line number, address).
    pub others: Vec<(usize, String)>,
    /// The name each of [`HostsStatus::others`] maps (for messages).
    pub other_names: Vec<String>,
}

impl HostsStatus {
    /// Whether the file makes the name resolve to loopback (first mapping wins, as in
    /// glibc, macOS and Windows).
    pub fn resolves_to_loopback(&self) -> Option<bool> {
        let first_other = self.others.first();
        let first_ours = self.ours.first();
        match (first_ours, first_other) {
            (Some(o), Some((n, ip))) if n < o => Some(is_loopback(ip)),
            (Some(_), _) => Some(true),
            (None, Some((_, ip))) => Some(is_loopback(ip)),
            (None, None) => None,
        }
    }
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The lines of `content` with their line endings (the last one may have none).
fn lines(content: &[u8]) -> Vec<&[u8]> {
    content.split_inclusive(|&b| b == b'\n').collect()
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads what `content` says about our name.
pub fn inspect(content: &[u8]) -> HostsStatus {
    inspect_for(&Mapping::fast_login(), content)
}

/// Reads what `content` says about `mapping`'s names.
pub fn inspect_for(mapping: &Mapping, content: &[u8]) -> HostsStatus {
    let mut status = HostsStatus::default();
    for (i, line) in lines(content).into_iter().enumerate() {
        if mapping.is_ours(line) {
            status.ours.push(i + 1);
        } else if let Some((ip, name)) = mapping.mapped_by(line) {
            status.others.push((i + 1, ip));
            status.other_names.push(name);
        }
    }
    status
}

/// `content` with our line appended, in the file's line-ending style. A file without a
/// final newline keeps having none, so that [`without_entry`] restores it exactly.
pub fn with_entry(content: &[u8]) -> Vec<u8> {
    with_entry_for(&Mapping::fast_login(), content)
}

/// [`with_entry`] for `mapping`.
pub fn with_entry_for(mapping: &Mapping, content: &[u8]) -> Vec<u8> {
    let entry = mapping.entry();
    let eol: &[u8] = if content.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut out = content.to_vec();
    if content.is_empty() || content.ends_with(b"\n") {
        out.extend_from_slice(entry.as_bytes());
        out.extend_from_slice(eol);
    } else {
        out.extend_from_slice(eol);
        out.extend_from_slice(entry.as_bytes());
    }
    out
}

/// `content` without our marked lines; everything else byte for byte.
pub fn without_entry(content: &[u8]) -> Vec<u8> {
    without_entry_for(&Mapping::fast_login(), content)
}

/// [`without_entry`] for `mapping`.
pub fn without_entry_for(mapping: &Mapping, content: &[u8]) -> Vec<u8> {
    let lines = lines(content);
    let mut kept: Vec<&[u8]> = Vec::with_capacity(lines.len());
    for line in lines {
        if !mapping.is_ours(line) {
            kept.push(line);
            continue;
        }
        // Our line was the unterminated last one: the separator before it was ours too.
        // It was "\n" or "\r\n"; take off the one `with_entry` would have added, so a
        // last line that really ended in "\r" keeps it.
        if !line.ends_with(b"\n") {
            if let Some(prev) = kept.pop() {
                let before = kept.concat();
                let lf_only = prev.strip_suffix(b"\n").unwrap_or(prev);
                let original = [lf_only, strip_eol(prev)]
                    .into_iter()
                    .find(|candidate| {
                        let restored = [&before[..], candidate].concat();
                        with_entry_for(mapping, &restored) == [&before[..], prev, line].concat()
                    })
                    .unwrap_or(lf_only);
                kept.push(original);
            }
        }
    }
    kept.concat()
}

/// What `add` or `remove` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The file was rewritten.
    Done,
    /// Nothing to do; the text says why.
    Already(String),
}

/// Adds our line unless the name is already mapped to loopback.
pub fn add(path: &Path) -> Result<Change, HostsError> {
    add_for(&Mapping::fast_login(), path)
}

/// [`add`] for `mapping`: refused if any of its names is mapped elsewhere.
pub fn add_for(mapping: &Mapping, path: &Path) -> Result<Change, HostsError> {
    let (path, content) = read(path)?;
    let status = inspect_for(mapping, &content);
    // A mapping elsewhere wins over ours wherever it is (resolvers differ on which of
    // several lines counts), so it is refused first.
    if let Some(i) = status.others.iter().position(|(_, ip)| !is_loopback(ip)) {
        let (line, ip) = &status.others[i];
        return Err(HostsError::Conflict {
            path,
            line: *line,
            ip: ip.clone(),
            name: status.other_names[i].clone(),
        });
    }
    if let Some(&line) = status.ours.first() {
        let current = lines(&content)
            .get(line - 1)
            .map(|l| String::from_utf8_lossy(strip_eol(l)).trim_end().to_owned());
        // The interception line follows the config: a changed host list replaces it.
        if mapping.marker == MARKER || current.as_deref() == Some(mapping.entry().as_str()) {
            return Ok(Change::Already(format!("line {line} is ours")));
        }
        let updated = with_entry_for(mapping, &without_entry_for(mapping, &content));
        write_preserving(&path, &updated)?;
        return Ok(Change::Done);
    }
    let unmapped = mapping
        .names
        .iter()
        .any(|name| !status.other_names.contains(name));
    if let (false, Some((line, ip))) = (unmapped, status.others.first()) {
        return Ok(Change::Already(format!(
            "line {line} maps it to {ip} already (not ours; left alone)"
        )));
    }
    write_preserving(&path, &with_entry_for(mapping, &content))?;
    Ok(Change::Done)
}

/// Removes our marked lines (and nothing else).
pub fn remove(path: &Path) -> Result<Change, HostsError> {
    remove_for(&Mapping::fast_login(), path)
}

/// [`remove`] for `mapping`.
pub fn remove_for(mapping: &Mapping, path: &Path) -> Result<Change, HostsError> {
    let (path, content) = read(path)?;
    if inspect_for(mapping, &content).ours.is_empty() {
        return Ok(Change::Already("no line of ours".to_owned()));
    }
    write_preserving(&path, &without_entry_for(mapping, &content))?;
    Ok(Change::Done)
}

/// What the file says, for `status` and `doctor`.
pub fn status(path: &Path) -> Result<HostsStatus, HostsError> {
    status_for(&Mapping::fast_login(), path)
}

/// [`status`] for `mapping`.
pub fn status_for(mapping: &Mapping, path: &Path) -> Result<HostsStatus, HostsError> {
    read(path).map(|(_, content)| inspect_for(mapping, &content))
}

/// The real file behind `path` (following symlinks) and its bytes.
fn read(path: &Path) -> Result<(PathBuf, Vec<u8>), HostsError> {
    let err = |source| HostsError::Read {
        path: path.to_owned(),
        source,
    };
    let real = std::fs::canonicalize(path).map_err(err)?;
    let content = std::fs::read(&real).map_err(err)?;
    Ok((real, content))
}

/// Milliseconds to pause between writing the new content and renaming it into place
/// (tests only).
pub const WRITE_DELAY_ENV: &str = "WXEMU_TEST_HOSTS_WRITE_DELAY_MS";

/// Replaces `path` atomically with `bytes`, keeping its permissions.
fn write_preserving(path: &Path, bytes: &[u8]) -> Result<(), HostsError> {
    let err = |source| HostsError::Write {
        path: path.to_owned(),
        source,
    };
    let permissions = std::fs::metadata(path).map_err(err)?.permissions();
    let tmp = wxemu_core::stage(path, bytes, Some(permissions)).map_err(err)?;
    // Test hook: widens the window between writing and renaming so the kill-in-the-middle
    // test demonstrably lands inside it.
    if let Some(ms) = std::env::var(WRITE_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(1_000)));
    }
    wxemu_core::persist(tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHOLOGICAL: &[&[u8]] = &[
        b"",
        b"127.0.0.1 localhost",
        b"127.0.0.1 localhost\n",
        b"# comment only\r\n127.0.0.1\tlocalhost\r\n::1 localhost ip6-localhost\r\n",
        b"# CRLF, no final newline\r\n127.0.0.1 localhost",
        b"\n\n# blank lines\n\n",
        b"10.0.0.1 other # trailing comment\n\xff\xfe not utf-8\n",
        b"ends in a bare CR\r",
        b"a\r\nb\r",
        b"\r\n",
    ];

    #[test]
    fn add_then_remove_restores_every_byte() {
        for original in PATHOLOGICAL {
            let added = with_entry(original);
            assert!(added.starts_with(original), "{original:?}");
            let status = inspect(&added);
            assert_eq!(
                status.ours.len(),
                1,
                "{:?}",
                String::from_utf8_lossy(&added)
            );
            assert_eq!(status.resolves_to_loopback(), Some(true));
            assert_eq!(without_entry(&added), *original, "{original:?}");
            assert_eq!(without_entry(original), *original);
        }
    }

    #[test]
    fn keeps_the_files_line_endings() {
        let added = with_entry(b"a\r\nb\r\n");
        assert_eq!(added, format!("a\r\nb\r\n{}\r\n", entry()).as_bytes());
        let added = with_entry(b"a\r\nb");
        assert_eq!(added, format!("a\r\nb\r\n{}", entry()).as_bytes());
        assert_eq!(with_entry(b""), format!("{}\n", entry()).as_bytes());
    }

    #[test]
    fn removes_only_marked_lines_wherever_they_are() {
        let text = format!(
            "1.2.3.4 a\n{}\n# {CANONICAL_HOST} mentioned in a comment\n127.0.0.1 {CANONICAL_HOST}\n{}\r\nend",
            entry(),
            entry()
        );
        assert_eq!(
            without_entry(text.as_bytes()),
            format!("1.2.3.4 a\n# {CANONICAL_HOST} mentioned in a comment\n127.0.0.1 {CANONICAL_HOST}\nend").as_bytes()
        );
    }

    #[test]
    fn reads_other_mappings() {
        let s =
            inspect(b"# 10.0.0.9 localhost.weixin.qq.com\n10.0.0.9 x LOCALHOST.weixin.qq.com.\n");
        assert_eq!(s.ours, Vec::<usize>::new());
        assert_eq!(s.others, [(2, "10.0.0.9".to_owned())]);
        assert_eq!(s.resolves_to_loopback(), Some(false));
        assert_eq!(
            inspect(b"127.0.0.1 localhost\n").resolves_to_loopback(),
            None
        );
    }

    #[test]
    fn file_round_trip_keeps_mode_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(&path, b"# x\r\n127.0.0.1 localhost").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        assert_eq!(add(&path).unwrap(), Change::Done);
        assert!(matches!(add(&path).unwrap(), Change::Already(_)));
        assert_eq!(status(&path).unwrap().ours, [3]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        assert_eq!(remove(&path).unwrap(), Change::Done);
        assert!(matches!(remove(&path).unwrap(), Change::Already(_)));
        assert_eq!(std::fs::read(&path).unwrap(), b"# x\r\n127.0.0.1 localhost");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        std::fs::write(&path, format!("192.168.1.5 {CANONICAL_HOST}\n")).unwrap();
        assert!(matches!(
            add(&path),
            Err(HostsError::Conflict { line: 1, .. })
        ));
        std::fs::write(&path, format!("127.0.0.1 {CANONICAL_HOST}\n")).unwrap();
        assert!(matches!(add(&path).unwrap(), Change::Already(_)));
        std::fs::write(&path, format!("{}\n10.0.0.1 {CANONICAL_HOST}\n", entry())).unwrap();
        assert!(matches!(
            add(&path),
            Err(HostsError::Conflict { line: 2, .. })
        ));
        assert!(add(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn the_interception_line_lives_beside_the_fast_login_line() {
        let names: Vec<String> = ["open.weixin.qq.com", "api.weixin.qq.com"]
            .map(String::from)
            .to_vec();
        let intercept = Mapping::intercept(&names);
        assert_eq!(
            intercept.entry(),
            "127.0.0.1 open.weixin.qq.com api.weixin.qq.com # added by wxemu (intercept)"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        let original = b"127.0.0.1 localhost\r\n";
        std::fs::write(&path, original).unwrap();
        assert_eq!(add(&path).unwrap(), Change::Done);
        assert_eq!(add_for(&intercept, &path).unwrap(), Change::Done);
        assert!(matches!(
            add_for(&intercept, &path).unwrap(),
            Change::Already(_)
        ));
        assert_eq!(status(&path).unwrap().ours, [2]);
        assert_eq!(status_for(&intercept, &path).unwrap().ours, [3]);
        assert_eq!(
            status_for(&intercept, &path)
                .unwrap()
                .resolves_to_loopback(),
            Some(true)
        );

        // A changed host list replaces the interception line, nothing else.
        let fewer = Mapping::intercept(&names[1..]);
        assert_eq!(add_for(&fewer, &path).unwrap(), Change::Done);
        let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            text,
            format!(
                "127.0.0.1 localhost\r\n{}\r\n{}\r\n",
                entry(),
                fewer.entry()
            )
        );

        // Removing one line keeps the other; removing both restores the file.
        assert_eq!(remove_for(&intercept, &path).unwrap(), Change::Done);
        assert_eq!(status(&path).unwrap().ours, [2]);
        assert_eq!(remove(&path).unwrap(), Change::Done);
        assert_eq!(std::fs::read(&path).unwrap(), original);

        // A real-looking mapping of one intercepted name elsewhere is refused by name.
        std::fs::write(&path, "203.0.113.7 api.weixin.qq.com\n").unwrap();
        match add_for(&intercept, &path) {
            Err(e @ HostsError::Conflict { line: 1, .. }) => {
                assert!(e.to_string().contains("api.weixin.qq.com"), "{e}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        // All names already on loopback lines of someone else's: left alone.
        std::fs::write(
            &path,
            "127.0.0.1 open.weixin.qq.com\n127.0.0.1 api.weixin.qq.com\n",
        )
        .unwrap();
        assert!(matches!(
            add_for(&intercept, &path).unwrap(),
            Change::Already(_)
        ));
        // Only one of them: ours is added.
        std::fs::write(&path, "127.0.0.1 open.weixin.qq.com\n").unwrap();
        assert_eq!(add_for(&intercept, &path).unwrap(), Change::Done);
    }
}
