//! Keeping the idle app small (it sits in the tray all day): glibc's
//! allocator otherwise keeps one arena per thread that ever allocated (up to
//! 8 per core) and keeps freed memory mapped. Two arenas are plenty for a
//! tray icon and a loopback server, and after start-up (the trust check
//! reads the system bundle, the server loads its certificates) the freed
//! pages go back to the OS.

/// Call first in `main`, before any thread exists.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns freed heap pages to the OS.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only releases unused memory.
    unsafe {
        libc::malloc_trim(0);
    }
}
