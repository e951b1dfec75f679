//! Pages inside WeChat's browser: what the next JS API calls answer
//! (`/h5/outcomes`), and the pages that passed `wx.config` (`/h5/pages`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{json_body, ok, ApiError, ApiResult};
use wxemu_core::Emulator;
use wxemu_core::QueuedOutcome;

pub async fn outcomes(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "outcomes": emu.h5_outcomes() }))
}

/// Queues `{"api","result","data","times"}` after those already queued.
pub async fn add_outcome(State(emu): State<Arc<Emulator>>, body: Body) -> ApiResult {
    let outcome: QueuedOutcome = json_body(&emu, body).await?;
    emu.queue_h5_outcome(outcome).map_err(ApiError::bad)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "outcomes": emu.h5_outcomes() })),
    )
        .into_response())
}

pub async fn clear_outcomes(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "cleared": emu.clear_h5_outcomes() }))
}

pub async fn pages(State(emu): State<Arc<Emulator>>) -> ApiResult {
    ok(json!({ "pages": emu.verified_pages() }))
}
