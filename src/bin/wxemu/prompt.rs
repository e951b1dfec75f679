//! The terminal as a decision source (`wxemu serve --approve ask`): each
//! authorize request becomes an "Allow? [y/N]" question, one at a time, in
//! arrival order.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};

use wxemu_core::Emulator;
use wxemu_core::{ApprovalEvent, ApprovalMode, AuthorizeRequest, Decision};

/// Asks on stderr and reads answers from stdin until stdin closes.
pub async fn run(emu: Arc<Emulator>) {
    let mut events = emu.subscribe_approvals();
    let mut answers = stdin_lines();
    let mut queue: VecDeque<Arc<AuthorizeRequest>> = VecDeque::new();
    let mut asking: Option<Arc<AuthorizeRequest>> = None;
    loop {
        if asking.is_none() {
            asking = queue.pop_front();
            if let Some(request) = &asking {
                ask(request);
            }
        }
        tokio::select! {
            event = events.recv() => match event {
                Ok(ApprovalEvent::Requested(request)) => {
                    if emu.approval_mode() == ApprovalMode::Ask {
                        queue.push_back(request);
                    }
                }
                Ok(ApprovalEvent::Finished { id, outcome }) => {
                    if asking.as_ref().is_some_and(|r| r.id == id) {
                        eprintln!("\n  (request #{id} ended without your answer: {outcome:?})");
                        asking = None;
                    }
                    queue.retain(|r| r.id != id);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Missed events: rebuild the queue from the source of truth.
                    queue = emu
                        .pending_authorizations()
                        .into_iter()
                        .filter(|r| asking.as_ref().is_none_or(|a| a.id != r.id))
                        .collect();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            line = answers.recv() => {
                let Some(line) = line else {
                    eprintln!("wxemu: stdin closed; pending requests will run into their deadline");
                    return;
                };
                let Some(request) = asking.take() else {
                    eprintln!("  (no request is waiting for an answer)");
                    continue;
                };
                let decision = match line.trim().to_ascii_lowercase().as_str() {
                    "y" | "yes" => Decision::Allow,
                    _ => Decision::Deny,
                };
                if emu.resolve_authorization(request.id, decision, None) {
                    eprintln!("  -> {}", if decision == Decision::Allow { "allowed" } else { "denied" });
                } else {
                    eprintln!("  (too late: request #{} already ended)", request.id);
                }
            }
        }
    }
}

fn ask(request: &AuthorizeRequest) {
    let app = if request.app_name == request.appid {
        request.appid.clone()
    } else {
        format!("{} ({})", request.app_name, request.appid)
    };
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\nLogin request #{id}: {app} on {site} wants to log in as {nickname} ({account}).\n\
         Allow? [y/N] (you have {secs} s) ",
        id = request.id,
        site = request.site,
        nickname = request.nickname,
        account = request.account_id,
        secs = request.timeout.as_secs(),
    );
    let _ = err.flush();
}

/// Lines of stdin, read on a plain thread: tokio's stdin cannot be
/// cancelled, and a thread that lives as long as the process needs no
/// cancelling.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}
