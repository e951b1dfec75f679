//! Health, faults, the clock, the journal and reset.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{json_body, ok, query, ApiError, ApiResult};
use wxemu_core::Emulator;
use wxemu_core::Endpoint;
use wxemu_core::FaultSpec;
use wxemu_core::Filter;

pub use wxemu_certs::Verdict;

pub async fn health(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "port": emu.port(),
    }))
}

// ---- interception -----------------------------------------------------

/// `GET /intercept`: whether interception is on, where its proxy and hosts
/// mode listen, and whether the interception CA is trusted (the trust stores
/// are asked on every call: a few `certutil` runs, so poll it sparingly).
pub async fn intercept(State(emu): State<Arc<Emulator>>) -> ApiResult {
    let listening = emu.listening().clone();
    let bind = listening.bind;
    let Some(on) = listening.intercept else {
        return ok(json!({
            "enabled": false,
            "bind": bind.to_string(),
            "loopback_only": bind.is_loopback(),
            "hosts": emu.config().intercept.hosts,
            "proxy": null,
            "hosts_mode": null,
            "ca": null,
        }));
    };
    let ca_path = on.ca_path.clone();
    let sha256 = on.ca_sha256.clone();
    let trust =
        tokio::task::spawn_blocking(move || crate::trust_report::intercept_ca_trust(ca_path))
            .await
            .unwrap_or_else(|e| {
                (
                    Verdict::Unknown,
                    vec![json!({"store": "all", "outcome": "failed", "detail": e.to_string()})],
                )
            });
    ok(json!({
        "enabled": true,
        "bind": bind.to_string(),
        "loopback_only": bind.is_loopback(),
        "hosts": on.hosts,
        "proxy": on.proxy.map(|addr| json!({
            "port": addr.port(),
            "url": format!("http://{addr}"),
            "pac": format!("http://{addr}/proxy.pac"),
            "offline": on.proxy_offline,
        })),
        "hosts_mode": on.hosts_mode.map(|addr| json!({
            "port": addr.port(),
            "address": addr.to_string(),
        })),
        "ca": {
            "path": on.ca_path,
            "sha256": sha256,
            "trust": trust.0,
            "stores": trust.1,
        },
    }))
}

// ---- faults -----------------------------------------------------------

pub async fn faults(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(emu.active_faults())
}

pub async fn add_fault(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let spec: FaultSpec = json_body(&emu, body).await?;
    let id = emu.add_fault(spec).map_err(ApiError::bad)?;
    let added = emu.active_faults().into_iter().find(|f| f.id == id);
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

pub async fn clear_faults(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "cleared": emu.clear_faults() }))
}

pub async fn remove_fault(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    let removed = id.parse().is_ok_and(|id| emu.remove_fault(id));
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no fault with id {id:?}")))
    }
}

// ---- clock ------------------------------------------------------------

fn clock_view(emu: &Emulator) -> serde_json::Value {
    let now = emu.now();
    let real = SystemTime::now();
    let offset_ms = match now.duration_since(real) {
        Ok(ahead) => ahead.as_millis() as i64,
        Err(behind) => -(behind.duration().as_millis() as i64),
    };
    json!({
        "now": humantime::format_rfc3339_millis(now).to_string(),
        "now_ms": now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
        "frozen": emu.clock_frozen(),
        "offset_ms": offset_ms,
    })
}

pub async fn clock(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(clock_view(&emu))
}

/// The body of `POST /clock/advance`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// A duration like "11m", "2h 30m", "90s".
    #[serde(with = "humantime_serde")]
    pub by: Duration,
}

/// Moves the emulated time forward: uuids, codes, tokens and QR codes
/// expire as if that much time had passed.
pub async fn advance_clock(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let advance: Advance = json_body(&emu, body).await?;
    emu.advance_clock(advance.by)
        .map_err(|e| ApiError::bad(format!("by: {e}")))?;
    ok(clock_view(&emu))
}

pub async fn freeze_clock(State(emu): State<Arc<Emulator>>) -> ApiResult {
    emu.freeze_clock();
    ok(clock_view(&emu))
}

pub async fn unfreeze_clock(State(emu): State<Arc<Emulator>>) -> ApiResult {
    emu.unfreeze_clock();
    ok(clock_view(&emu))
}

// ---- journal ----------------------------------------------------------

/// The query of `GET /journal` and `/journal/wait` (only ever a query
/// string: serde_urlencoded leaves out the fields that are None).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    pub path: Option<String>,
    pub endpoint: Option<Endpoint>,
    pub app: Option<String>,
    pub errcode: Option<i64>,
    pub method: Option<String>,
    /// The host the request was addressed to, e.g. `api.weixin.qq.com`.
    pub host: Option<String>,
    pub since: Option<u64>,
    /// List only: at most this many (the newest).
    pub limit: Option<usize>,
    /// Wait only: how long to wait, e.g. "30s" (default 30s, at most 10m).
    pub timeout: Option<String>,
}

/// The longest a journal wait may hold a connection.
const MAX_WAIT: Duration = Duration::from_secs(600);
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

impl JournalQuery {
    fn filter(&self) -> Filter {
        Filter {
            path: self.path.clone(),
            endpoint: self.endpoint,
            app: self.app.clone(),
            errcode: self.errcode,
            method: self.method.clone(),
            host: self.host.clone(),
            since: self.since,
        }
    }
}

pub async fn journal(State(emu): State<Arc<Emulator>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q: JournalQuery = query(raw.as_deref())?;
    if q.timeout.is_some() {
        return Err(ApiError::bad("timeout belongs to /__wxemu/journal/wait"));
    }
    let entries = emu.journal_entries(&q.filter(), q.limit);
    ok(json!({
        "capacity": emu.journal_capacity(),
        "entries": entries,
    }))
}

/// Answers with the first matching entry (already there or arriving within
/// `timeout`): `{"timed_out": false, "entry": {...}}`, or
/// `{"timed_out": true}` (HTTP 200 either way: a 408 invites retries).
pub async fn wait_journal(State(emu): State<Arc<Emulator>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q: JournalQuery = query(raw.as_deref())?;
    if q.limit.is_some() {
        return Err(ApiError::bad("limit belongs to /__wxemu/journal"));
    }
    let timeout = match &q.timeout {
        None => DEFAULT_WAIT,
        Some(t) => humantime::parse_duration(t)
            .map_err(|e| ApiError::bad(format!("timeout {t:?}: {e} (try 30s)")))?,
    };
    if timeout > MAX_WAIT {
        return Err(ApiError::bad(format!(
            "timeout must be at most {}",
            humantime::format_duration(MAX_WAIT)
        )));
    }
    match emu.wait_for_journal_entry(&q.filter(), timeout).await {
        Some(entry) => ok(json!({ "timed_out": false, "entry": entry })),
        None => ok(json!({ "timed_out": true })),
    }
}

pub async fn clear_journal(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "cleared": emu.clear_journal() }))
}

// ---- reset ------------------------------------------------------------

pub async fn reset(State(emu): State<Arc<Emulator>>) -> ApiResult {
    emu.reset();
    ok(json!({ "reset": true }))
}
