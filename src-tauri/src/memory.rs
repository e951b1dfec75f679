//! Keeping the idle app small (it sits in the tray all day).
//!
//! - glibc's allocator otherwise keeps one arena per thread that ever
//!   allocated (up to 8 per core) and keeps freed memory mapped. Two arenas
//!   are plenty for a tray icon and a loopback server.
//! - Start-up touches far more code and constant data than the idle app
//!   runs: GTK, WebKitGTK and the libraries they load (about 60 MB of clean
//!   file pages, most of the idle app's resident memory). Once idle, the app
//!   asks the kernel to reclaim those pages now (`MADV_PAGEOUT`, Linux 5.4+),
//!   as it would under memory pressure; whatever is used later is read back
//!   on demand. Only read-only file mappings without private copies are
//!   asked, so nothing can be lost and nothing goes to swap.

/// Call first in `main`, before any thread exists.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives back what the app holds but does not use while idle: freed heap
/// pages, and the clean pages of its read-only file mappings.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only releases unused memory.
    unsafe {
        libc::malloc_trim(0);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") {
        for range in clean_file_mappings(&smaps) {
            // SAFETY: MADV_PAGEOUT never changes a mapping's contents: clean
            // file pages are dropped and read back from the file when used.
            // An error (an older kernel, a mapping gone meanwhile) is ignored.
            unsafe {
                libc::madvise(
                    range.start as *mut libc::c_void,
                    range.end - range.start,
                    libc::MADV_PAGEOUT,
                );
            }
        }
    }
}

/// [`trim`] on the blocking pool: reading `/proc/self/smaps` and paging out
/// take milliseconds, too long for an async worker or the UI thread.
pub fn trim_in_background() {
    tauri::async_runtime::spawn_blocking(trim);
}

/// The address ranges of `smaps`' read-only mappings of regular files
/// (not devices) that hold no private (anonymous) pages.
#[cfg(any(all(target_os = "linux", target_env = "gnu"), test))]
fn clean_file_mappings(smaps: &str) -> Vec<std::ops::Range<usize>> {
    struct Mapping {
        range: std::ops::Range<usize>,
        eligible: bool,
        anonymous_kb: u64,
    }
    let mut found = Vec::new();
    let mut current: Option<Mapping> = None;
    let mut finish = |mapping: Option<Mapping>| {
        if let Some(m) = mapping.filter(|m| m.eligible && m.anonymous_kb == 0) {
            found.push(m.range);
        }
    };
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Anonymous:") {
            if let Some(m) = current.as_mut() {
                m.anonymous_kb = kb.trim().trim_end_matches("kB").trim().parse().unwrap_or(1);
            }
            continue;
        }
        // A mapping's header: "start-end perms offset dev inode [path]".
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue; // a "Key: value" line
        };
        finish(current.take());
        let path = fields.nth(3).unwrap_or("");
        current = Some(Mapping {
            range: start..end,
            eligible: perms.starts_with('r')
                && !perms.contains('w')
                && path.starts_with('/')
                && !path.starts_with("/dev/")
                && !path.starts_with("/memfd:"),
            anonymous_kb: 0,
        });
    }
    finish(current.take());
    found
}

#[cfg(test)]
mod tests {
    use super::clean_file_mappings;

    #[test]
    fn only_clean_read_only_file_mappings_are_paged_out() {
        let smaps = "\
55d0-55e0 r--p 00000000 fe:01 123 /usr/bin/app
Rss:                  64 kB
Anonymous:             0 kB
55e0-55f0 r-xp 00010000 fe:01 123 /usr/bin/app
Anonymous:             0 kB
55f0-5600 r--p 00020000 fe:01 123 /usr/bin/app
Anonymous:            12 kB
5600-5610 rw-p 00030000 fe:01 123 /usr/bin/app
Anonymous:             0 kB
5610-5620 rw-p 00000000 00:00 0 [heap]
Anonymous:            64 kB
7f00-7f10 rw-s 00000000 00:05 9 /dev/dri/card0
Anonymous:             0 kB
7f10-7f20 r--s 00000000 00:05 9 /dev/shm/x
Anonymous:             0 kB
7f20-7f30 r--p 00000000 00:01 7 /memfd:wayland (deleted)
Anonymous:             0 kB
7f30-7f40 ---p 00000000 fe:01 124 /usr/lib/libx.so
Anonymous:             0 kB
7f40-7f50 r-xp 00000000 fe:01 124 /usr/lib/libx.so
Anonymous:             0 kB
";
        assert_eq!(
            clean_file_mappings(smaps),
            vec![0x55d0..0x55e0, 0x55e0..0x55f0, 0x7f40..0x7f50]
        );
    }
}
