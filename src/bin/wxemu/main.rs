//! The headless `wxemu` command: argument parsing (clap) and each command's
//! output. The work is the library's (`wxemu`): the server, the control
//! client, the doctor's checks, the hosts file; the desktop app links that
//! library without any of this.

mod args;
mod cli;
mod ctl;
mod exec;
mod prompt;
mod serve;
mod setup;

fn main() -> std::process::ExitCode {
    cli::main()
}

/// mimalloc instead of glibc's malloc: a check-login makes about a hundred
/// small allocations, and malloc and free were a sixth of the server's
/// instructions per request (callgrind: 63.2k -> 54.8k per check-login).
/// Built with `no_thp`: with transparent huge pages its arenas left an idle
/// server at 24 MB resident instead of 13 MB. A library must not pick the
/// process's allocator, so the binaries do (the in-process benchmarks too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
