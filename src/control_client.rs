//! A typed client of a running server's control API (`/__wxemu/...`), found
//! through its data directory: the port from `serve.json`, the bearer token
//! from `control-token`, and the directory's CA as the only trusted root.
//! `wxemu ctl`, the integration tests and the desktop app's tests use it.

use std::path::Path;
use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::Value;

use crate::client::{self, Client};
use crate::web::registry as r;
use crate::web::surfaces::control::{self, ServeInfo, PREFIX};
use wxemu_core::DEFAULT_PORT;

/// How long an ordinary call may take (a journal wait adds its timeout).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{0}")]
    Setup(String),
    #[error("cannot reach wxemu on port {port}: {message} (is `wxemu serve` running with this data directory?)")]
    Connect { port: u16, message: String },
    #[error("{status}: {message}")]
    Refused { status: StatusCode, message: String },
}

/// The control API of one running server: the shared HTTPS client (trusting
/// the data directory's CA) plus the bearer token.
pub struct Control {
    client: Client,
    token: String,
}

impl Control {
    /// Finds port, token and CA in `data_dir`.
    pub fn from_data_dir(data_dir: &Path, port: Option<u16>) -> Result<Control, ControlError> {
        let port = match port {
            Some(p) => p,
            None => read_serve_info(data_dir).map_or(DEFAULT_PORT, |i| i.port),
        };
        let token_path = control::token_path(data_dir);
        let token = std::fs::read_to_string(&token_path)
            .map_err(|e| {
                ControlError::Setup(format!(
                    "cannot read the control token {}: {e} (start `wxemu serve` once with this data directory)",
                    token_path.display()
                ))
            })?
            .trim()
            .to_owned();
        let client = Client::local(port)
            .trust_data_dir(data_dir)
            .build()
            .map_err(|e| ControlError::Setup(e.to_string()))?;
        Ok(Control { client, token })
    }

    /// The client, for requests beyond the control API.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// One call; `path` is below `/__wxemu` (a leading `/__wxemu` is kept).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        timeout: Duration,
    ) -> Result<Value, ControlError> {
        let full = if path.starts_with(PREFIX) {
            path.to_owned()
        } else {
            format!("{PREFIX}{path}")
        };
        let mut request = self
            .client
            .request(method, &full)
            .bearer(&self.token)
            .timeout(timeout);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let reply = request.send().await.map_err(|e| self.unreachable(e))?;
        if !reply.status.is_success() {
            return Err(refused(&reply));
        }
        Ok(if reply.body.is_empty() {
            Value::Null
        } else {
            reply.json().unwrap_or_else(|_| Value::String(reply.text()))
        })
    }

    /// A call that got no answer: a client that could not be set up, or a
    /// server that could not be reached.
    fn unreachable(&self, error: client::Error) -> ControlError {
        match error {
            client::Error::Setup(message) => ControlError::Setup(message),
            other => ControlError::Connect {
                port: self.client.addr().port(),
                message: other.to_string(),
            },
        }
    }

    /// Hands each event of `GET /events` (one line of JSON) to `each`
    /// until the server ends the stream.
    pub async fn follow_events(&self, mut each: impl FnMut(&str)) -> Result<(), ControlError> {
        let opened = self
            .client
            .get(r::EVENTS.path)
            .bearer(&self.token)
            .timeout(CALL_TIMEOUT)
            .events()
            .await
            .map_err(|e| self.unreachable(e))?;
        let mut stream = match opened {
            client::Opened::Stream(stream) => stream,
            client::Opened::Refused(reply) => return Err(refused(&reply)),
        };
        while let Some(event) = stream.next().await.map_err(|e| self.unreachable(e))? {
            // The server writes each event's JSON on one line.
            each(&event);
        }
        Ok(())
    }
}

/// A refused call: the control API's `{"error": "..."}`, else the body.
fn refused(reply: &client::Response) -> ControlError {
    let message = reply
        .json::<Value>()
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| reply.text());
    ControlError::Refused {
        status: reply.status,
        message,
    }
}

fn read_serve_info(data_dir: &Path) -> Option<ServeInfo> {
    let bytes = std::fs::read(control::serve_info_path(data_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
