//! Opening a web page in the person's default browser (the demo), with the
//! OS's own opener: `xdg-open`, `open`, `start`; on Linux `$BROWSER` first
//! when it is set (the old convention; xdg-open itself prefers the desktop's
//! configured handler).

use std::process::{Command, Stdio};

pub fn open(url: &str) -> Result<(), String> {
    let mut command = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        // `start` takes the first quoted argument as a window title.
        c.args(["/C", "start", ""]);
        c
    } else {
        match std::env::var_os("BROWSER").filter(|b| !b.is_empty()) {
            Some(browser) => Command::new(browser),
            None => Command::new("xdg-open"),
        }
    };
    command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The opener returns once the browser is asked; reap it off this thread.
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot open a browser for {url}: {e}"))?;
    std::thread::spawn(move || child.wait());
    tracing::info!(url, "opened in the default browser");
    Ok(())
}

/// Opens the built-in demo site (`/demo/` on the server's own origin) in the
/// default browser: the welcome window's, the Certificate tab's and the
/// tray's "Open the demo". Returns its URL.
pub fn open_demo(emu: &wxemu::Emulator) -> Result<String, String> {
    let url = format!("{}{}", emu.base_url(), wxemu::registry::DEMO_HOME.path);
    open(&url)?;
    Ok(url)
}
