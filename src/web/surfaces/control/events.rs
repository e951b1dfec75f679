//! `GET /__wxemu/events`: the emulator's domain events
//! ([`Emulator::subscribe`]) as Server-Sent Events, one JSON object per
//! event in `data:` (the `type` names are `Event`'s variants in snake_case;
//! see `wxemu_core::events`).
//!
//! Bounded by construction: hyper pulls the next event only once the last
//! one is written, so a slow reader leaves events in the emulator's bounded
//! broadcast channels, where it falls behind and is told
//! `{"type": "missed", "count": n}` instead of buffering here; a reader
//! that stops reading altogether is closed by the connection's stall
//! deadline. Comments keep the stream alive (and make progress for that
//! deadline); it ends when the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use wxemu_core::Emulator;
use wxemu_core::Limits;
use wxemu_core::Subscription;

/// The longest quiet between two keep-alive comments.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn stream(State(emu): State<Arc<Emulator>>) -> Response {
    // Subscribed before the answer's head goes out: a client that has the
    // head hears every change made after it.
    let events = emu.subscribe();
    Sse::new(opening().chain(json_events(events)))
        .keep_alive(
            KeepAlive::new()
                .interval(keep_alive_every(emu.limits()))
                .text("keep-alive"),
        )
        .into_response()
}

/// A first comment, so the head and a first chunk leave at once (proxies
/// and clients then know the stream is open).
fn opening() -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::once(async { Ok(SseEvent::default().comment("wxemu events")) })
}

fn json_events(events: Subscription) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(events, |mut events| async move {
        let event = events.recv().await?;
        let sse = match serde_json::to_string(&event) {
            Ok(json) => SseEvent::default().data(json),
            // Not expected (every field serialises); the reader still
            // learns something was lost.
            Err(e) => {
                tracing::warn!("an event did not serialise: {e}");
                SseEvent::default().data(r#"{"type":"missed","count":1}"#)
            }
        };
        Some((Ok(sse), events))
    })
}

/// Often enough that the connection's stall deadline never takes a quiet
/// stream for a stalled reader.
fn keep_alive_every(limits: &Limits) -> Duration {
    KEEP_ALIVE
        .min(limits.send_stall_timeout / 3)
        .max(Duration::from_millis(100))
}
