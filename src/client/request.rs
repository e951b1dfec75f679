//! Building a request, and the whole answer.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AsHeaderName, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Body, Client, Error};

/// A request being put together; [`RequestBuilder::send`] sends it on the
/// client's pool, [`RequestBuilder::build`] hands it over (e.g. for a
/// [`Connection`](super::Connection)). A bad header is reported when
/// sending or building.
#[must_use]
pub struct RequestBuilder<'a> {
    client: &'a Client,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    timeout: Duration,
    error: Option<Error>,
}

impl<'a> RequestBuilder<'a> {
    pub(super) fn new(client: &'a Client, method: Method, uri: &str) -> Self {
        RequestBuilder {
            client,
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: client.timeout,
            error: None,
        }
    }

    /// Adds a header (a second one of the same name is added, not replaced).
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            _ => {
                self.error
                    .get_or_insert(Error::Setup(format!("bad header {name}: {value:?}")));
            }
        }
        self
    }

    /// The `Origin` header, as a page on that origin would send it.
    pub fn origin(self, origin: &str) -> Self {
        self.header("origin", origin)
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header(AUTHORIZATION, format!("Bearer {token}"))
    }

    /// The body as given (set `content-type` yourself).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// `value` as a JSON body, with `content-type: application/json`.
    pub fn json(mut self, value: &impl Serialize) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                self.body = Bytes::from(body);
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => {
                self.error
                    .get_or_insert(Error::Setup(format!("JSON body: {e}")));
            }
        }
        self
    }

    /// A bound for this exchange instead of the client's (e.g. a long poll).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The request, ready for any connection: its URI as given, and a
    /// relative URI gets the client's `Host` unless one was set.
    pub fn build(self) -> Result<Request<Body>, Error> {
        self.into_parts().map(|(request, _, _)| request)
    }

    pub(super) fn into_parts(self) -> Result<(Request<Body>, &'a Client, Duration), Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let uri: Uri = self
            .uri
            .parse()
            .map_err(|e| Error::Setup(format!("{:?} is not a URI: {e}", self.uri)))?;
        let mut headers = self.headers;
        if uri.authority().is_none() {
            headers
                .entry(HOST)
                .or_insert_with(|| self.client.origin.host.clone());
        }
        let mut request = Request::new(Full::new(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok((request, self.client, self.timeout))
    }

    /// Sends it on the client's pool; the whole answer.
    pub async fn send(self) -> Result<Response, Error> {
        let (request, client, timeout) = self.into_parts()?;
        client.send_within(request, timeout).await
    }
}

/// A whole answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// Reads the whole body of a hyper response.
    pub async fn read(response: hyper::Response<Incoming>) -> Result<Response, Error> {
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Error::from_exchange(&e))?
            .to_bytes();
        Ok(Response {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
        })
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}
