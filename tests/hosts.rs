//! `wxemu hosts` on temporary hosts files (never the real one): a pathological original
//! survives add + remove byte for byte, and `kill -9` in the middle of rewriting leaves
//! either the old or the new file, never a mix.

use crate::tools;

use std::path::Path;
use std::process::Command;
#[cfg(unix)]
use std::time::Duration;

const WXEMU: &str = env!("CARGO_BIN_EXE_wxemu");

/// No final newline, CRLF, comments, tabs, a byte that is not UTF-8.
const ORIGINAL: &[u8] =
    b"# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n127.0.0.1\tlocalhost # loopback\r\n::1 localhost\r\n\r\n# caf\xe9\r\n10.1.2.3 intranet";

fn wxemu(args: &[&str], hosts: &Path) -> (bool, String) {
    let out = Command::new(WXEMU)
        .args(args)
        .arg("--hosts-file")
        .arg(hosts)
        .output()
        .expect("run wxemu");
    tools::success_and_output(&out)
}

#[test]
fn add_remove_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, ORIGINAL).unwrap();

    let (ok, said) = wxemu(&["hosts", "status"], &hosts);
    assert!(ok && said.contains("does not mention it"), "{said}");

    let (ok, said) = wxemu(&["hosts", "add"], &hosts);
    assert!(ok && said.starts_with("done"), "{said}");
    let added = std::fs::read(&hosts).unwrap();
    let mut expected = ORIGINAL.to_vec();
    expected.extend_from_slice(b"\r\n127.0.0.1 localhost.weixin.qq.com # added by wxemu");
    assert_eq!(added, expected);

    let (ok, said) = wxemu(&["hosts", "add"], &hosts);
    assert!(ok && said.starts_with("already"), "{said}");
    let (ok, said) = wxemu(&["hosts", "status"], &hosts);
    assert!(ok && said.contains("line 8: wxemu's"), "{said}");

    let (ok, said) = wxemu(&["hosts", "remove"], &hosts);
    assert!(ok && said.starts_with("done"), "{said}");
    assert_eq!(std::fs::read(&hosts).unwrap(), ORIGINAL);
    let (ok, said) = wxemu(&["hosts", "remove"], &hosts);
    assert!(ok && said.starts_with("already"), "{said}");

    // Only the hosts file is left in the directory: no temporary files.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let (ok, said) = wxemu(&["hosts", "add"], &dir.path().join("missing"));
    assert!(!ok && said.contains("cannot read"), "{said}");
}

/// The writer loop's process group, killed with SIGKILL (also on a panic, so no writer
/// outlives the test).
#[cfg(unix)]
struct KillGroupOnDrop(std::process::Child);

#[cfg(unix)]
impl KillGroupOnDrop {
    /// `kill -9 -PGID` through the shell's builtin (procps' /usr/bin/kill is not in
    /// minimal images); waits for the loop's shell. True when the signal was sent.
    fn kill(&mut self) -> bool {
        let sent = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -9 -{}", self.0.id()))
            .status()
            .is_ok_and(|s| s.success());
        let _ = self.0.kill();
        let _ = self.0.wait();
        sent
    }
}

#[cfg(unix)]
impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

#[cfg(unix)]
#[test]
fn kill_during_rewrites_leaves_old_or_new_content() {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    let counter = dir.path().join("writes");
    std::fs::write(&hosts, ORIGINAL).unwrap();
    let mut with = ORIGINAL.to_vec();
    with.extend_from_slice(b"\r\n127.0.0.1 localhost.weixin.qq.com # added by wxemu");

    let script = format!(
        "while :; do '{w}' hosts add --hosts-file '{h}' >/dev/null; echo >> '{c}'; '{w}' hosts remove --hosts-file '{h}' >/dev/null; echo >> '{c}'; done",
        w = WXEMU,
        h = hosts.display(),
        c = counter.display()
    );
    let mut writes_seen = 0;
    let mut killed_mid_write = 0;
    for round in 0..12u64 {
        let child = Command::new("sh")
            .arg("-c")
            .arg(&script)
            // Each write pauses 25 ms between writing the new content and the rename, so
            // most kills land in the middle of a write.
            .env(wxemu::hosts::WRITE_DELAY_ENV, "25")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn the writer loop");
        let mut group = KillGroupOnDrop(child);
        // Kill at a different moment each round; how far it got does not matter.
        std::thread::sleep(Duration::from_millis(40 + round * 23));
        assert!(group.kill(), "kill -9 of the writer group failed");
        // Give the killed processes' exits a moment; the file is checked as it is now.
        std::thread::sleep(Duration::from_millis(20));

        let now = std::fs::read(&hosts).unwrap();
        assert!(
            now == ORIGINAL || now == with,
            "round {round}: the hosts file is neither the old nor the new content: {:?}",
            String::from_utf8_lossy(&now)
        );
        // A killed writer may leave its temporary file behind; it never replaces the hosts
        // file. Clean up so the next round starts from the same place.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(wxemu::core::TEMP_PREFIX)
            {
                killed_mid_write += 1;
                std::fs::remove_file(path).unwrap();
            }
        }
        writes_seen = std::fs::read(&counter).map(|c| c.len()).unwrap_or(0);
    }
    assert!(
        writes_seen > 0,
        "the writer loop never completed a write: the test proved nothing"
    );
    assert!(
        killed_mid_write > 0,
        "no kill landed while a new hosts file was being written: the test proved nothing"
    );
    eprintln!("{killed_mid_write} of 12 kills landed mid-write; {writes_seen} writes completed");
}
