//! The headless `wxemu` command; everything lives in the library.

fn main() -> std::process::ExitCode {
    wxemu::cli::main()
}
