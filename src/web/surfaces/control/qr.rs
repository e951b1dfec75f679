//! QR logins from the phone's side: list them, scan as an account,
//! confirm, cancel, expire. `latest` stands for the newest QR login that
//! can still be scanned or confirmed, so a script need not know the uuid.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{json_body, ok, query, ApiError, ApiResult};
use wxemu_core::Emulator;
use wxemu_core::{QrError, QrStatus, QrSummary};

/// The query of `GET /qr`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only QR logins still in play (waiting, scanned, cancelled).
    #[serde(default)]
    pub pending: Option<bool>,
}

fn in_play(s: &QrSummary) -> bool {
    matches!(
        s.status,
        QrStatus::Waiting | QrStatus::Scanned { .. } | QrStatus::Cancelled { .. }
    )
}

pub async fn list(State(emu): State<Arc<Emulator>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q: ListQuery = query(raw.as_deref())?;
    let mut all = emu.qr_list();
    if q.pending == Some(true) {
        all.retain(in_play);
    }
    ok(all)
}

/// `latest` → the newest QR login still in play; anything else as is.
fn resolve_uuid(emu: &Emulator, uuid: &str) -> Result<String, ApiError> {
    if uuid != "latest" {
        return Ok(uuid.to_owned());
    }
    emu.qr_list()
        .into_iter()
        .filter(in_play)
        .max_by_key(|s| s.created_at)
        .map(|s| s.uuid)
        .ok_or_else(|| ApiError::not_found("no QR login is waiting to be scanned or confirmed"))
}

fn qr_error(e: QrError) -> ApiError {
    match e {
        QrError::Unknown(_) | QrError::UnknownAccount(_) => ApiError::not_found(e.to_string()),
        _ => ApiError::new(StatusCode::CONFLICT, e.to_string()),
    }
}

/// The body of `POST /qr/{uuid}/scan`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// The account whose phone scans [default: the client's current one].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

pub async fn scan(
    State(emu): State<Arc<Emulator>>,
    Path(uuid): Path<String>,
    body: Body,
) -> ApiResult {
    let scan: Scan = json_body(&emu, body).await?;
    let uuid = resolve_uuid(&emu, &uuid)?;
    let account = scan.account.unwrap_or_else(|| emu.current_account().id);
    ok(emu.qr_scan(&uuid, &account).map_err(qr_error)?)
}

pub async fn confirm(State(emu): State<Arc<Emulator>>, Path(uuid): Path<String>) -> ApiResult {
    let uuid = resolve_uuid(&emu, &uuid)?;
    ok(emu.qr_confirm(&uuid).map_err(qr_error)?)
}

pub async fn cancel(State(emu): State<Arc<Emulator>>, Path(uuid): Path<String>) -> ApiResult {
    let uuid = resolve_uuid(&emu, &uuid)?;
    ok(emu.qr_cancel(&uuid).map_err(qr_error)?)
}

pub async fn expire(State(emu): State<Arc<Emulator>>, Path(uuid): Path<String>) -> ApiResult {
    let uuid = resolve_uuid(&emu, &uuid)?;
    ok(emu.qr_expire(&uuid).map_err(qr_error)?)
}
