//! A Server-Sent Events stream from wxemu (`GET /__wxemu/events`): the
//! answer's head within the client's timeout, then each event's `data` as
//! it arrives, for as long as the server keeps the stream open.

use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};

use super::{Error, RequestBuilder, Response};

/// The longest event accepted (wxemu's are a few KiB: a Web WeChat message
/// at most); a longer one ends the stream with an error instead of growing
/// the buffer without bound.
pub const MAX_EVENT: usize = 1024 * 1024;

/// An open event stream; [`EventStream::next`] reads it.
pub struct EventStream {
    pub status: StatusCode,
    pub headers: HeaderMap,
    body: Incoming,
    buffer: BytesMut,
}

/// What [`RequestBuilder::events`] got: the stream, or a whole answer that
/// is not one (an error such as 401, read to its end).
pub enum Opened {
    Stream(EventStream),
    Refused(Response),
}

impl RequestBuilder<'_> {
    /// Sends it and, if the answer is a `text/event-stream`, hands over the
    /// open stream (only the head is bounded by the timeout).
    pub async fn events(self) -> Result<Opened, Error> {
        let (request, client, timeout) = self.into_parts()?;
        let response = client.open_within(request, timeout).await?;
        let is_stream = response.status().is_success()
            && response
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if !is_stream {
            return Ok(Opened::Refused(Response::read(response).await?));
        }
        let (parts, body) = response.into_parts();
        Ok(Opened::Stream(EventStream {
            status: parts.status,
            headers: parts.headers,
            body,
            buffer: BytesMut::new(),
        }))
    }
}

impl EventStream {
    /// The next event's `data` (its `data:` lines joined by newlines),
    /// skipping comments and events without data; None once the server
    /// ended the stream.
    pub async fn next(&mut self) -> Result<Option<String>, Error> {
        loop {
            if let Some(data) = self.take_event()? {
                return Ok(Some(data));
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(chunk) = frame.into_data() {
                        self.buffer.extend_from_slice(&chunk);
                    }
                }
                Some(Err(e)) => return Err(Error::from_exchange(&e)),
                None => return Ok(None),
            }
        }
    }

    /// Parses whole events off the front of the buffer until one has data.
    fn take_event(&mut self) -> Result<Option<String>, Error> {
        loop {
            let Some(end) = event_end(&self.buffer) else {
                if self.buffer.len() > MAX_EVENT {
                    return Err(Error::Http(format!(
                        "an event longer than {MAX_EVENT} bytes"
                    )));
                }
                return Ok(None);
            };
            let (event_len, separator) = end;
            let raw = self.buffer.split_to(event_len);
            self.buffer.advance(separator);
            if let Some(data) = data_of(&raw) {
                return Ok(Some(data));
            }
        }
    }
}

/// Where the first event ends: its length and the blank line's length.
fn event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    // Events end at a blank line; wxemu writes `\n`, the format allows `\r\n`.
    let lf = find(buffer, b"\n\n").map(|i| (i, 2));
    let crlf = find(buffer, b"\r\n\r\n").map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `data` field of one raw event, if it has one.
fn data_of(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut data: Option<String> = None;
    for line in text.lines() {
        let value = match line.strip_prefix("data") {
            Some("") => "",
            Some(rest) => match rest.strip_prefix(':') {
                Some(value) => value.strip_prefix(' ').unwrap_or(value),
                None => continue, // a field named e.g. `dataset`
            },
            None => continue, // comments, `event:`, `id:`, `retry:`
        };
        match &mut data {
            Some(joined) => {
                joined.push('\n');
                joined.push_str(value);
            }
            None => data = Some(value.to_owned()),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_are_joined_and_the_rest_skipped() {
        assert_eq!(data_of(b": keep-alive"), None);
        assert_eq!(
            data_of(b"event: x\ndata: {\"a\":1}"),
            Some("{\"a\":1}".into())
        );
        assert_eq!(data_of(b"data:one\ndata: two"), Some("one\ntwo".into()));
        assert_eq!(data_of(b"dataset: no"), None);
    }

    #[test]
    fn events_end_at_the_first_blank_line() {
        assert_eq!(event_end(b"data: a\n\ndata: b\n\n"), Some((7, 2)));
        assert_eq!(event_end(b"data: a\r\n\r\n"), Some((7, 4)));
        assert_eq!(event_end(b"data: a\n"), None);
    }
}
