//! The desktop client's local fast-login API (protocol.md section 1):
//! `POST /api/check-login` and `POST /api/authorize`.
//!
//! Both answer a JSON body labelled `text/plain; charset=utf-8`: the real
//! login page runs `JSON.parse` on what jQuery hands it, and jQuery would
//! already have parsed a body labelled as JSON.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use wxemu_core::Emulator;
use wxemu_core::Outcome;
use wxemu_core::{AuthorizeCall, FastLoginError, LoginTarget};

use crate::web::marks::{DecisionNote, ReplyErrcode, RequestApp, Warnings};
use crate::web::transport::body::{read_body, BodyError};

pub const AUTHORIZE_API: &str = "qrconnectfastauthorize";
// Declared with the routes whose wire format carries them.
pub use crate::web::registry::{AUTHORIZE_REPLY_API, CHECK_LOGIN_API};

pub use wxemu_core::errcode;

#[derive(Serialize)]
struct Reply<'a, J> {
    apiname: &'a str,
    errcode: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    errmsg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jsdata: Option<J>,
}

#[derive(Serialize)]
struct CheckLoginReply<'a> {
    nickname: &'a str,
    headimgurl: &'a str,
    authorize_uuid: &'a str,
}

#[derive(Serialize)]
struct AuthorizeReply<'a> {
    redirect_url: &'a str,
}

fn reply<J: Serialize>(status: StatusCode, reply: &Reply<'_, J>) -> Response {
    // Built by hand, not from an IntoResponse tuple: this runs for every
    // check-login, and the tuple re-validates the header and grows the body
    // from empty (together a tenth of the handler's cost, by callgrind).
    let mut body = Vec::with_capacity(256);
    let _ = serde_json::to_writer(&mut body, reply);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .extensions_mut()
        .insert(ReplyErrcode(Some(reply.errcode.into())));
    response
}

fn success<J: Serialize>(apiname: &str, jsdata: J) -> Response {
    reply(
        StatusCode::OK,
        &Reply {
            apiname,
            errcode: errcode::OK,
            errmsg: None,
            jsdata: Some(jsdata),
        },
    )
}

/// A fast-login error in the wire format.
pub fn error_reply(status: StatusCode, apiname: &str, errcode: i32, errmsg: String) -> Response {
    reply(
        status,
        &Reply::<()> {
            apiname,
            errcode,
            errmsg: Some(errmsg),
            jsdata: None,
        },
    )
}

/// Why a request body was refused, before any state was touched.
struct Rejection {
    status: StatusCode,
    errcode: i32,
    errmsg: String,
}

impl Rejection {
    fn bad(errmsg: impl Into<String>) -> Rejection {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            errcode: errcode::BAD_REQUEST,
            errmsg: errmsg.into(),
        }
    }

    fn into_response(self, apiname: &str) -> Response {
        error_reply(self.status, apiname, self.errcode, self.errmsg)
    }
}

impl From<BodyError> for Rejection {
    fn from(e: BodyError) -> Rejection {
        Rejection {
            status: e.status(),
            errcode: match e {
                BodyError::TooLarge { .. } => errcode::TOO_LARGE,
                _ => errcode::BAD_REQUEST,
            },
            errmsg: e.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct Typed<'a, T> {
    #[serde(borrow)]
    apiname: std::borrow::Cow<'a, str>,
    jsdata: T,
}

#[derive(Deserialize)]
struct Envelope {
    apiname: String,
    jsdata: serde_json::Value,
}

/// Reads `{"apiname": <expected>, "jsdata": {...}}` into `T`, naming the
/// offending field on failure.
async fn parse<T: DeserializeOwned>(
    emu: &Emulator,
    body: Body,
    expected_apiname: &str,
) -> Result<T, Rejection> {
    let bytes = read_body(body, emu.limits()).await?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Rejection::bad("request body is not UTF-8"))?;
    // Fast path: one pass straight into the typed request. Whatever it
    // refuses goes the slow way below, which says exactly what is wrong.
    if let Ok(typed) = serde_json::from_str::<Typed<T>>(text) {
        if typed.apiname == expected_apiname {
            return Ok(typed.jsdata);
        }
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Rejection::bad(format!("request body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Rejection::bad("request body must be a JSON object"));
    }
    let envelope: Envelope = deserialize(value)?;
    if envelope.apiname != expected_apiname {
        return Err(Rejection {
            status: StatusCode::BAD_REQUEST,
            errcode: errcode::WRONG_APINAME,
            errmsg: format!(
                "apiname {:?} is not served here; this endpoint expects {expected_apiname:?}",
                envelope.apiname
            ),
        });
    }
    if !envelope.jsdata.is_object() {
        return Err(Rejection::bad("jsdata must be a JSON object"));
    }
    deserialize(envelope.jsdata).map_err(|r| Rejection::bad(format!("jsdata.{}", r.errmsg)))
}

fn deserialize<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Rejection> {
    wxemu_core::from_value(value).map_err(Rejection::bad)
}

/// The request's Origin header, if any (cheaper than cloning every header).
pub struct RequestOrigin(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestOrigin(
            parts
                .headers
                .get(header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

pub async fn check_login(
    State(emu): State<Arc<Emulator>>,
    RequestOrigin(origin): RequestOrigin,
    body: Body,
) -> Response {
    let target: LoginTarget = match parse(&emu, body, CHECK_LOGIN_API).await {
        Ok(t) => t,
        Err(r) => return r.into_response(CHECK_LOGIN_API),
    };
    let app = RequestApp(target.appid.clone());
    let warnings = state_warnings(&target.state);
    let mut response = match emu.check_login(target, origin) {
        Ok(ok) => success(
            CHECK_LOGIN_API,
            CheckLoginReply {
                nickname: &ok.nickname,
                headimgurl: &ok.headimgurl,
                authorize_uuid: &ok.authorize_uuid,
            },
        ),
        Err(e) => failure(CHECK_LOGIN_API, &e),
    };
    response.extensions_mut().insert(app);
    if let Some(warnings) = warnings {
        response.extensions_mut().insert(warnings);
    }
    response
}

/// The journal's warning for a `state` longer than WeChat documents (None,
/// and no allocation, for every other request).
fn state_warnings(state: &str) -> Option<Warnings> {
    wxemu_core::long_state_warning(state).map(|w| Warnings(vec![w]))
}

pub async fn authorize(
    State(emu): State<Arc<Emulator>>,
    RequestOrigin(origin): RequestOrigin,
    body: Body,
) -> Response {
    let call: AuthorizeCall = match parse(&emu, body, AUTHORIZE_API).await {
        Ok(d) => d,
        Err(r) => return r.into_response(AUTHORIZE_REPLY_API),
    };
    let app = RequestApp(call.target.appid.clone());
    let warnings = state_warnings(&call.target.state);
    let result = emu.authorize(call, origin).await;
    let (mut response, note) = match result {
        Ok(authorized) => (
            success(
                AUTHORIZE_REPLY_API,
                AuthorizeReply {
                    redirect_url: &authorized.redirect_url,
                },
            ),
            Some(DecisionNote {
                outcome: Outcome::Allowed,
                account: Some(authorized.account_id),
            }),
        ),
        Err(e) => (
            failure(AUTHORIZE_REPLY_API, &e),
            e.decision().map(|outcome| DecisionNote {
                outcome,
                account: None,
            }),
        ),
    };
    if let Some(note) = note {
        response.extensions_mut().insert(note);
    }
    response.extensions_mut().insert(app);
    if let Some(warnings) = warnings {
        response.extensions_mut().insert(warnings);
    }
    response
}

/// A domain error in the wire format: bad requests are HTTP 400, the rest
/// HTTP 200 with their errcode, as the real client answers.
fn failure(apiname: &str, e: &FastLoginError) -> Response {
    let status = match e {
        FastLoginError::BadRequest(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    error_reply(status, apiname, e.errcode(), e.to_string())
}
