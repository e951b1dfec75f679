//! What the person answers: the queue of decisions made in advance, the
//! standing policy, and the authorizations waiting right now.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{json_body, ok, ApiError, ApiResult};
use wxemu_core::DecisionBatch;
use wxemu_core::Emulator;
use wxemu_core::{ApprovalMode, Decision};

fn queue_view(emu: &Emulator) -> serde_json::Value {
    json!({
        "policy": emu.approval_mode(),
        "queue": emu.queued_decisions(),
    })
}

pub async fn list(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(queue_view(&emu))
}

/// Queues `count` copies of one answer after those already queued.
pub async fn enqueue(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let batch: DecisionBatch = json_body(&emu, body).await?;
    batch.validate(&emu.config()).map_err(ApiError::bad)?;
    emu.enqueue_decisions(batch.expand());
    Ok((StatusCode::CREATED, Json(queue_view(&emu))).into_response())
}

pub async fn clear(State(emu): State<Arc<Emulator>>) -> ApiResult {
    let cleared = emu.clear_decisions();
    ok(json!({ "cleared": cleared }))
}

pub async fn policy(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "policy": emu.approval_mode() }))
}

/// The body of `PUT /policy`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    pub policy: ApprovalMode,
}

/// The standing policy, used once the queue is empty.
pub async fn set_policy(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let change: PolicyChange = json_body(&emu, body).await?;
    emu.set_approval_mode(change.policy);
    ok(json!({ "policy": change.policy }))
}

/// Authorize requests waiting for a person, oldest first.
pub async fn pending(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(emu.pending_authorizations())
}

/// The body of `POST /authorizations/{id}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub decision: Decision,
    /// Allow as this account instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

pub async fn resolve(
    State(emu): State<Arc<Emulator>>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad(format!("{id:?} is not an authorization id")))?;
    let resolution: Resolution = json_body(&emu, body).await?;
    if let Some(account) = &resolution.account {
        if resolution.decision != Decision::Allow {
            return Err(ApiError::bad("account only goes with decision \"allow\""));
        }
        if emu.config().account(account).is_none() {
            return Err(ApiError::not_found(format!(
                "account {account:?} does not exist"
            )));
        }
    }
    if emu.resolve_authorization(id, resolution.decision, resolution.account) {
        ok(json!({ "id": id, "decision": resolution.decision }))
    } else {
        Err(ApiError::not_found(format!(
            "authorization {id} is not pending (answered, timed out, withdrawn, or never existed)"
        )))
    }
}
