//! Web WeChat from the phone's and the friends' side: list sessions, read a
//! conversation, send the bot a message, log a session out (docs/webwx.md).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::{json_body, ok, query, ApiError, ApiResult};
use wxemu_core::Emulator;
use wxemu_core::{Injection, WebWxError};

fn session_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad(format!(
            "session id {raw:?} is not a number; GET /__wxemu/webwx/sessions lists them"
        ))
    })
}

fn webwx_error(e: WebWxError) -> ApiError {
    match e {
        WebWxError::NoLiveSession | WebWxError::UnknownSession(_) => {
            ApiError::not_found(e.to_string())
        }
        WebWxError::SessionEnded(_) => ApiError::conflict(e.to_string()),
        _ => ApiError::bad(e.to_string()),
    }
}

/// `GET /webwx/sessions`: every kept session, oldest first.
pub async fn sessions(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "sessions": emu.webwx_sessions() }))
}

/// `GET /webwx/sessions/{id}`: one session and its contacts.
pub async fn session(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    let id = session_id(&id)?;
    let summary = emu
        .webwx_session(id)
        .ok_or_else(|| webwx_error(WebWxError::UnknownSession(id)))?;
    let contacts = emu.webwx_contacts(id).map_err(webwx_error)?;
    let mut value = serde_json::to_value(summary).map_err(|e| ApiError::bad(e.to_string()))?;
    value["contacts"] = json!(contacts);
    ok(value)
}

/// `DELETE /webwx/sessions/{id}`: the phone logs the session out; the bot's
/// next (or held) synccheck gets 1101.
pub async fn end_session(State(emu): State<Arc<Emulator>>, Path(id): Path<String>) -> ApiResult {
    let id = session_id(&id)?;
    ok(emu.webwx_end_session(id).map_err(webwx_error)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Session id [default: the newest session].
    session: Option<u64>,
}

/// `GET /webwx/messages?session=ID`: the whole kept conversation, both ways.
pub async fn messages(State(emu): State<Arc<Emulator>>, RawQuery(raw): RawQuery) -> ApiResult {
    let q: MessagesQuery = query(raw.as_deref())?;
    let id = match q.session {
        Some(id) => id,
        None => emu
            .webwx_sessions()
            .last()
            .map(|s| s.id)
            .ok_or_else(|| ApiError::not_found("no Web WeChat session yet"))?,
    };
    let messages = emu.webwx_conversation(id).map_err(webwx_error)?;
    ok(json!({ "session": id, "messages": messages }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    text: String,
    /// `friend` (default), `filehelper`, `self`, or a UserName, contact id,
    /// remark or nickname of a friend, group or official account.
    #[serde(default)]
    from: Option<String>,
    /// With `from: self`: the recipient [default: filehelper].
    #[serde(default)]
    to: Option<String>,
    /// Group messages: who in the group speaks.
    #[serde(default)]
    member: Option<String>,
    /// [default: the newest live session]
    #[serde(default)]
    session: Option<u64>,
}

/// `POST /webwx/messages`: queues an incoming text, wakes a held synccheck
/// (selector 2); 201 with the conversation entry.
pub async fn inject(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let req: Inject = json_body(&emu, body).await?;
    let entry = emu
        .webwx_inject(Injection {
            session: req.session,
            from: req.from.as_deref().unwrap_or("friend"),
            to: req.to.as_deref(),
            member: req.member.as_deref(),
            text: &req.text,
        })
        .map_err(webwx_error)?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}
