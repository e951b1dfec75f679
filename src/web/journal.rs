//! The journal layer: records every request into the core's
//! [`wxemu_core::journal::Journal`].
//!
//! [`record`] is an axum middleware around the whole router. It notes the
//! method, path, Origin and the request body as the handler reads it, then
//! the status and errcode of the reply, the decision an authorize got and
//! any injected fault; the core masks secrets before anything is stored.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use serde_json::Value;

use wxemu_core::approval::Outcome;
use wxemu_core::emulator::Emulator;
use wxemu_core::endpoint::Endpoint;
use wxemu_core::journal::{appid_of, redact_body, redact_query, Entry, BODY_KEEP};

use crate::web::faults::{AppliedFault, DropConnection};

/// Set by a handler on its response: what the person decided.
#[derive(Debug, Clone)]
pub struct DecisionNote {
    pub outcome: Outcome,
    pub account: Option<String>,
}

/// Largest reply body read back to find its errcode.
const REPLY_READ_LIMIT: usize = 1024 * 1024;

/// The errcode in a reply body: JSON `errcode`/`wx_errcode`, or the long
/// poll's `window.wx_errcode=N;`.
/// Put on a response by a handler that knows the errcode its body carries
/// (`None`: the body has none), so the journal need not read the body back
/// and parse it: that re-read was most of the journal's cost per request.
/// Debug builds still parse and check the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyErrcode(pub Option<i64>);

pub fn errcode_of(body: &[u8]) -> Option<i64> {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        return json
            .get("errcode")
            .or_else(|| json.get("wx_errcode"))
            .and_then(Value::as_i64);
    }
    let text = std::str::from_utf8(body).ok()?;
    let rest = &text[text.find("wx_errcode=")? + "wx_errcode=".len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

// ---- the middleware ---------------------------------------------------

/// Records every request (see the module docs). Outermost layer, so even
/// requests the Host check refuses are journaled.
pub async fn record(State(emu): State<Arc<Emulator>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let endpoint = Endpoint::of(req.uri().path());
    if endpoint == Endpoint::Control && !emu.journal.includes_control() {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let raw_query = req.uri().query().map(str::to_owned);
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());

    let seen = Arc::new(Mutex::new(Vec::new()));
    let req = req.map(|body| {
        Body::new(Recording {
            inner: body,
            seen: seen.clone(),
        })
    });
    let mut response = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;

    let dropped = response.extensions().get::<DropConnection>().is_some();
    let mut errcode = None;
    let told = response.extensions().get::<ReplyErrcode>().map(|r| r.0);
    if let (Some(code), false) = (told, cfg!(debug_assertions)) {
        errcode = code;
    } else if endpoint.has_errcode() && !dropped {
        let (parts, body) = response.into_parts();
        match axum::body::to_bytes(body, REPLY_READ_LIMIT).await {
            Ok(bytes) => {
                errcode = errcode_of(&bytes);
                if let Some(code) = told {
                    debug_assert_eq!(
                        code, errcode,
                        "ReplyErrcode disagrees with the body {bytes:?}"
                    );
                }
                response = Response::from_parts(parts, Body::from(bytes));
            }
            Err(e) => {
                tracing::debug!("reply body failed: {e}");
                let mut broken = ().into_response();
                broken.extensions_mut().insert(DropConnection);
                response = broken;
            }
        }
    }
    let dropped = response.extensions().get::<DropConnection>().is_some();

    let bytes = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    let body = redact_body(&bytes, is_form);
    let note = response.extensions().get::<DecisionNote>();
    let entry = Entry {
        id: 0,
        at,
        method,
        app: appid_of(body.as_ref(), raw_query.as_deref()),
        query: raw_query.as_deref().map(redact_query),
        path,
        endpoint,
        origin,
        body,
        status: (!dropped).then(|| response.status().as_u16()),
        errcode,
        decision: note.map(|n| n.outcome),
        account: note.and_then(|n| n.account.clone()),
        fault: response
            .extensions()
            .get::<AppliedFault>()
            .map(|f| f.0.clone()),
        latency_ms,
    };
    emu.journal.push(entry);
    response
}

/// A request body that keeps a copy of the first [`BODY_KEEP`] bytes the
/// handler reads, so the journal sees exactly what the handler saw
/// (limits and timeouts stay the handler's).
struct Recording {
    inner: Body,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl http_body::Body for Recording {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                let room = BODY_KEEP.saturating_sub(seen.len());
                seen.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::errcode_of;

    #[test]
    fn finds_errcodes_in_every_wire_format() {
        assert_eq!(
            errcode_of(br#"{"apiname":"a","errcode":10050}"#),
            Some(10050)
        );
        assert_eq!(errcode_of(br#"{"wx_errcode":408,"wx_code":""}"#), Some(408));
        assert_eq!(
            errcode_of(b"window.wx_errcode=405;window.wx_code='abc';"),
            Some(405)
        );
        assert_eq!(errcode_of(b"<html>"), None);
    }
}
