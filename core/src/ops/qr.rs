//! The QR login operations on [`Emulator`]: each validates, changes the
//! session and wakes its long polls; there is no other way to change a QR
//! login. Also `serve --approve auto|deny`'s emulated phone.

use std::sync::Arc;

use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::approval::ApprovalMode;
use crate::emulator::Emulator;
use crate::openplatform::qr::{PollReply, QrError, QrEvent, QrKind, QrStatus, QrSummary, QrTarget};

/// The QR login operations. Each one validates, changes the session and
/// wakes its long polls; there is no other way to change a QR login.
impl Emulator {
    /// Starts a QR login for `target`, valid for `[platform] qr_ttl`.
    pub fn qr_create(&self, target: QrTarget) -> QrSummary {
        let ttl = self.config().platform.qr_ttl;
        self.qr
            .create(QrKind::OpenPlatform, target, self.clock.now(), ttl)
    }

    /// Starts a Web WeChat QR login (jslogin); `redirect_base` is the
    /// webwxnewloginpage URL on the origin the client used.
    pub fn qr_create_webwx(&self, redirect_base: String) -> QrSummary {
        let ttl = self.config().platform.qr_ttl;
        let target = QrTarget {
            appid: crate::webwx::WEB_APPID.to_owned(),
            scope: String::new(),
            redirect_uri: redirect_base,
            state: String::new(),
        };
        self.qr
            .create(QrKind::WebWechat, target, self.clock.now(), ttl)
    }

    /// The phone of `account_id` scans the code.
    pub fn qr_scan(&self, uuid: &str, account_id: &str) -> Result<QrSummary, QrError> {
        if self.config().account(account_id).is_none() {
            return Err(QrError::UnknownAccount(account_id.to_owned()));
        }
        self.qr
            .transition(uuid, self.clock.now(), |_, _, status| match status {
                QrStatus::Waiting | QrStatus::Cancelled { .. } => Ok(QrStatus::Scanned {
                    account_id: account_id.to_owned(),
                }),
                QrStatus::Scanned { .. } => Err(QrError::AlreadyScanned),
                QrStatus::Confirmed { .. } => Err(QrError::AlreadyConfirmed),
                QrStatus::Expired => Err(QrError::Expired),
            })
    }

    /// The phone confirms: issues the authorization code (the same kind
    /// fast login issues, redeemed by the same token API), or for Web
    /// WeChat the login ticket of `redirect_uri`.
    pub fn qr_confirm(&self, uuid: &str) -> Result<QrSummary, QrError> {
        let now = self.clock.now();
        self.qr.transition(uuid, now, |kind, target, status| {
            let account_id = scanned_by(status)?;
            if kind == QrKind::WebWechat {
                let ticket = self.webwx.issue_ticket(&account_id, uuid, now);
                return Ok(QrStatus::Confirmed {
                    account_id,
                    code: ticket,
                });
            }
            let code = self.store.issue_code(
                &crate::store::FastLoginSession {
                    appid: target.appid.clone(),
                    scope: target.scope.clone(),
                    redirect_uri: target.redirect_uri.clone(),
                    state: target.state.clone(),
                    account_id: account_id.clone(),
                    origin: None,
                },
                &account_id,
                now,
            );
            Ok(QrStatus::Confirmed { account_id, code })
        })
    }

    /// The phone cancels after scanning; the code can be scanned again.
    pub fn qr_cancel(&self, uuid: &str) -> Result<QrSummary, QrError> {
        self.qr.transition(uuid, self.clock.now(), |_, _, status| {
            Ok(QrStatus::Cancelled {
                account_id: scanned_by(status)?,
            })
        })
    }

    /// Expires the code now, as if `qr_ttl` had passed.
    pub fn qr_expire(&self, uuid: &str) -> Result<QrSummary, QrError> {
        self.qr
            .transition(uuid, self.clock.now(), |_, _, status| match status {
                QrStatus::Confirmed { .. } => Err(QrError::AlreadyConfirmed),
                _ => Ok(QrStatus::Expired),
            })
    }

    /// Every QR login, oldest first.
    pub fn qr_list(&self) -> Vec<QrSummary> {
        self.qr.list(self.clock.now())
    }

    /// One QR login as it stands now; None when unknown or forgotten.
    pub fn qr_login(&self, uuid: &str) -> Option<QrSummary> {
        self.qr.get(uuid, self.clock.now())
    }

    /// The login page's long poll on `uuid` (see `crate::openplatform::qr::QrLogins::poll`).
    pub async fn qr_poll(&self, uuid: &str, last: Option<u16>, hold: Duration) -> PollReply {
        self.qr.poll(uuid, last, hold, &self.clock).await
    }

    /// Long polls held on `uuid` right now: whether a page still shows the
    /// code (tests wait for one).
    pub fn qr_held_polls(&self, uuid: &str) -> usize {
        self.qr.held_polls(uuid)
    }
}

/// Who scanned a code that is waiting for the phone's confirm or cancel.
fn scanned_by(status: QrStatus) -> Result<String, QrError> {
    match status {
        QrStatus::Scanned { account_id } => Ok(account_id),
        QrStatus::Waiting | QrStatus::Cancelled { .. } => Err(QrError::NotScanned),
        QrStatus::Confirmed { .. } => Err(QrError::AlreadyConfirmed),
        QrStatus::Expired => Err(QrError::Expired),
    }
}

/// `serve --approve auto|deny` for QR codes: the emulated phone scans every
/// new QR code as the current account after `[platform] auto_scan_delay`,
/// then confirms (auto) or cancels (deny) after the same delay again. The
/// mode is read when each step is due, so switching it at run time applies
/// to codes already shown. `ask` and `never` leave QR codes to a person.
pub async fn auto_answer(emu: Arc<Emulator>, mut stop: watch::Receiver<bool>) {
    let mut events = emu.qr.subscribe();
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = stop.changed() => return,
        };
        let uuid = match event {
            Ok(QrEvent::Created(summary)) => summary.uuid,
            Ok(QrEvent::Changed(_)) => continue,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "auto-answer fell behind; some QR codes are left waiting"
                );
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let emu = emu.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = answer_one(&emu, &uuid) => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn answer_one(emu: &Emulator, uuid: &str) {
    let delay = emu.config().platform.auto_scan_delay;
    tokio::time::sleep(delay).await;
    if !matches!(
        emu.approvals.mode(),
        ApprovalMode::Auto | ApprovalMode::Deny
    ) {
        return;
    }
    let account = emu.current_account();
    if let Err(e) = emu.qr_scan(uuid, &account.id) {
        tracing::debug!(uuid, "auto-answer did not scan: {e}");
        return;
    }
    tracing::info!(uuid, account = %account.id, "QR code scanned (--approve {})", emu.approvals.mode().as_str());
    tokio::time::sleep(delay).await;
    let result = match emu.approvals.mode() {
        ApprovalMode::Auto => emu.qr_confirm(uuid),
        ApprovalMode::Deny => emu.qr_cancel(uuid),
        ApprovalMode::Ask | ApprovalMode::Never => return,
    };
    match result {
        Ok(summary) => {
            tracing::info!(uuid, status = ?summary.status.wx_errcode(), "QR login answered")
        }
        Err(e) => tracing::debug!(uuid, "auto-answer did not finish: {e}"),
    }
}
