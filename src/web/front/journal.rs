//! The journal layer: records every request into the core's
//! [`wxemu_core::Journal`].
//!
//! The front ([`crate::web::front`]) starts a [`Pending`] record per
//! request, with the endpoint the request matched. It notes the method,
//! path, Origin and the request body as the handler reads it, then the
//! status and errcode of the reply, the decision an authorize got and any
//! injected fault; the core masks secrets before anything is stored.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::http::{header, Method, Request};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use serde_json::Value;

use wxemu_core::Emulator;
use wxemu_core::Endpoint;
use wxemu_core::{appid_of, redact_query, Entry, RecordedBody, BODY_KEEP};

use crate::web::marks::{
    AppliedFault, DecisionNote, DropConnection, ReplyErrcode, RequestApp, Warnings,
};
use crate::web::registry;

/// Largest reply body read back to find its errcode.
const REPLY_READ_LIMIT: usize = 1024 * 1024;

/// The errcode in a reply body: JSON `errcode`/`wx_errcode`, or the long
/// poll's `window.wx_errcode=N;`.
pub fn errcode_of(body: &[u8]) -> Option<i64> {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        return json
            .get("errcode")
            .or_else(|| json.get("wx_errcode"))
            // Web WeChat: {"BaseResponse":{"Ret":1101,...}}
            .or_else(|| json.get("BaseResponse").and_then(|b| b.get("Ret")))
            .and_then(Value::as_i64);
    }
    let text = std::str::from_utf8(body).ok()?;
    // The long poll's wx_errcode, Web WeChat's login poll (window.code=408;),
    // synccheck (retcode:"1101") and webwxnewloginpage (<ret>0</ret>).
    let rest = ["wx_errcode=", "window.code=", "retcode:\"", "<ret>"]
        .iter()
        .find_map(|marker| text.find(marker).map(|at| &text[at + marker.len()..]))?;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

// ---- the record of one request ---------------------------------------

/// What the journal notes of a request before it is answered; finished
/// into an [`Entry`] with the reply. The front starts one per request (so
/// even requests the Host check refuses are journaled).
pub(crate) struct Pending {
    started: Instant,
    at: u64,
    endpoint: Endpoint,
    method: Method,
    // What the entry keeps of the request head is copied out here, not
    // kept as a `Uri` or `HeaderValue` clone: those share hyper's whole
    // read buffer (8 KiB), which a held long poll would then pin, on top of
    // the fresh buffer hyper allocates for the connection meanwhile.
    path: String,
    query: Option<String>,
    /// The host addressed, as the Host header (or `:authority`) named it.
    host: Option<String>,
    is_form: bool,
    origin: Option<String>,
    /// The request body as the handler read it; None for bodiless requests.
    seen: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Pending {
    /// None when the journal leaves this request out (control calls,
    /// unless `[journal] include_control`).
    pub(crate) fn start<B>(
        emu: &Emulator,
        endpoint: Endpoint,
        req: &Request<B>,
    ) -> Option<Pending> {
        if endpoint == Endpoint::Control && !emu.journal_includes_control() {
            return None;
        }
        let at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let is_form = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        });
        Some(Pending {
            started: Instant::now(),
            at,
            endpoint,
            method: req.method().clone(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(str::to_owned),
            host: match req.headers().get(header::HOST) {
                Some(host) => Some(host_of(host.as_bytes())),
                None => req
                    .uri()
                    .authority()
                    .map(|a| host_of(a.as_str().as_bytes())),
            },
            is_form,
            origin: req
                .headers()
                .get(header::ORIGIN)
                .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned()),
            seen: None,
        })
    }

    /// `body`, copying the first [`BODY_KEEP`] bytes the handler reads.
    pub(crate) fn record<B>(&mut self, body: B) -> Body
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<axum::BoxError>,
    {
        if body.is_end_stream() {
            return Body::new(body);
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        self.seen = Some(seen.clone());
        Body::new(Recording { inner: body, seen })
    }

    /// Records the request with its reply; returns the reply.
    pub(crate) async fn finish(self, emu: &Emulator, mut response: Response) -> Response {
        let latency_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let told = response.extensions().get::<ReplyErrcode>().map(|r| r.0);
        let mut errcode = told.flatten();
        // A reply whose errcode its handler did not tell is read back;
        // debug builds read every reply back and check what the handler
        // said (release builds trust it: re-reading every reply was most
        // of the journal's cost per request).
        let dropped = response.extensions().get::<DropConnection>().is_some();
        let read_back = told.is_none() || cfg!(debug_assertions);
        if read_back && self.endpoint.has_errcode() && !dropped {
            let (parts, body) = response.into_parts();
            response = match axum::body::to_bytes(body, REPLY_READ_LIMIT).await {
                Ok(bytes) => {
                    let parsed = errcode_of(&bytes);
                    match told {
                        Some(code) => debug_assert_eq!(
                            code, parsed,
                            "ReplyErrcode disagrees with the body {bytes:?}"
                        ),
                        None => errcode = parsed,
                    }
                    Response::from_parts(parts, Body::from(bytes))
                }
                Err(e) => {
                    tracing::debug!("reply body failed: {e}");
                    let mut broken = ().into_response();
                    broken.extensions_mut().insert(DropConnection);
                    broken
                }
            };
        }
        let dropped = response.extensions().get::<DropConnection>().is_some();

        let bytes = self
            .seen
            .map(|seen| std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default();
        let body = RecordedBody::new(bytes, self.is_form);
        let note = response.extensions().get::<DecisionNote>();
        let entry = Entry {
            id: 0,
            at: self.at,
            method: self.method.to_string(),
            host: self.host,
            app: match response.extensions().get::<RequestApp>() {
                Some(told) => Some(told.0.clone()),
                None => appid_of(
                    body.as_ref().and_then(RecordedBody::appid),
                    self.query.as_deref(),
                ),
            },
            query: self.query.as_deref().map(redact_query),
            path: self.path,
            endpoint: self.endpoint,
            origin: self.origin,
            body,
            status: (!dropped).then(|| response.status().as_u16()),
            errcode,
            decision: note.map(|n| n.outcome),
            account: note.and_then(|n| n.account.clone()),
            fault: response
                .extensions()
                .get::<AppliedFault>()
                .map(|f| f.0.clone()),
            warnings: response
                .extensions()
                .get::<Warnings>()
                .map(|w| w.0.clone())
                .unwrap_or_default(),
            latency_ms,
        };
        emu.record_request(entry);
        response
    }
}

/// The host name a Host header names, for the journal: lowercase, without
/// port or trailing dot, at most [`MAX_HOST`] characters (a Host header is
/// the client's to fill, and the journal is bounded).
fn host_of(header: &[u8]) -> String {
    let text = String::from_utf8_lossy(header);
    let mut name = registry::host_name(&text).to_ascii_lowercase();
    if name.len() > MAX_HOST {
        let mut cut = MAX_HOST;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// The longest DNS name.
const MAX_HOST: usize = 253;

/// A request body that keeps a copy of the first [`BODY_KEEP`] bytes the
/// handler reads, so the journal sees exactly what the handler saw
/// (limits and timeouts stay the handler's).
struct Recording<B> {
    inner: B,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl<B> http_body::Body for Recording<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
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
    use super::{errcode_of, host_of, MAX_HOST};

    #[test]
    fn hosts_are_recorded_without_port_and_bounded() {
        assert_eq!(host_of(b"API.Weixin.qq.com.:443"), "api.weixin.qq.com");
        assert_eq!(
            host_of(b"localhost.weixin.qq.com:14013"),
            "localhost.weixin.qq.com"
        );
        assert_eq!(host_of(b"[::1]:14013"), "[::1]");
        assert_eq!(host_of(&[b'a'; 5000]).len(), MAX_HOST);
        assert_eq!(host_of("é".repeat(300).as_bytes()).len(), MAX_HOST - 1);
    }

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
        assert_eq!(
            errcode_of(br#"{"BaseResponse":{"Ret":1101,"ErrMsg":""}}"#),
            Some(1101)
        );
        assert_eq!(
            errcode_of(b"window.code=201;window.userAvatar = 'x';"),
            Some(201)
        );
        assert_eq!(
            errcode_of(br#"window.synccheck={retcode:"1101",selector:"0"}"#),
            Some(1101)
        );
        assert_eq!(
            errcode_of(b"<error><ret>0</ret><message></message></error>"),
            Some(0)
        );
    }
}
