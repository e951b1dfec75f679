//! Avatars wxemu draws itself, so demos show faces with no network.
//!
//! `GET /avatar/<account>/<size>` mirrors the shape of WeChat's
//! `.../mmopen/<id>/132` URLs (SDKs rewrite the last segment to pick a
//! size); the image is an SVG with the nickname's first letter.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use wxemu_core::avatar_svg as svg;
use wxemu_core::Emulator;

pub async fn serve(
    State(emu): State<Arc<Emulator>>,
    Path((id, _size)): Path<(String, String)>,
) -> Response {
    let Some(account) = emu.config().account(&id) else {
        return (StatusCode::NOT_FOUND, "no such account\n").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        svg(&account.id, &account.nickname),
    )
        .into_response()
}
