//! What every Web WeChat call shares: lenient request parsing (clients
//! disagree on types and headers) and the reply envelopes.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::web::transport::body::read_body;
use wxemu_core::Caller;
use wxemu_core::Emulator;

/// `Ret` of a logged-out or unknown session.
pub const RET_LOGGED_OUT: i64 = 1101;
/// `Ret` of a request wxemu cannot read (bad JSON, missing or mistyped
/// fields, too large). Assumed: the real service's code for this is not
/// documented.
pub const RET_BAD_REQUEST: i64 = 1;
/// `Ret` of webwxsendmsg to a UserName the session does not know (assumed).
pub const RET_UNKNOWN_RECIPIENT: i64 = 1204;

/// A JSON reply (HTTP 200 whatever `Ret` says, as the real service).
pub fn json_reply(value: Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        value.to_string(),
    )
        .into_response()
}

pub fn base_response(ret: i64, err_msg: &str) -> Value {
    json!({"Ret": ret, "ErrMsg": err_msg})
}

/// `{"BaseResponse":{"Ret":ret,"ErrMsg":...}}` and nothing else.
pub fn error_reply(ret: i64, err_msg: &str) -> Response {
    json_reply(json!({"BaseResponse": base_response(ret, err_msg)}))
}

pub fn logged_out() -> Response {
    error_reply(RET_LOGGED_OUT, "")
}

pub fn bad_request(why: &str) -> Response {
    error_reply(RET_BAD_REQUEST, why)
}

/// A `text/javascript` reply (the login calls and synccheck).
pub fn js(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// Reads a POST body as a JSON object, whatever the Content-Type (itchat
/// sends none). Errors are what `ErrMsg` says.
pub async fn json_body(
    emu: &Emulator,
    body: Body,
) -> Result<serde_json::Map<String, Value>, String> {
    let bytes = read_body(body, emu.limits())
        .await
        .map_err(|e| e.to_string())?;
    if bytes.is_empty() {
        return Err("request body is empty; expected JSON with BaseRequest".into());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("request body must be a JSON object".into()),
        Err(e) => Err(format!("request body is not JSON: {e}")),
    }
}

/// `Uin` and `Sid` of `BaseRequest`. Uin may be a number or a string of
/// digits (clients differ); Skey and DeviceID are not checked (itchat-uos
/// sends an empty Skey, wechat4u a new DeviceID per call).
pub fn base_request(body: &serde_json::Map<String, Value>) -> Result<(String, String), String> {
    let base = match body.get("BaseRequest") {
        Some(Value::Object(base)) => base,
        Some(_) => return Err("BaseRequest must be an object".into()),
        None => return Err("BaseRequest is missing".into()),
    };
    let uin = match base.get("Uin") {
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("BaseRequest.Uin must be a number or a string of digits".into()),
        None => return Err("BaseRequest.Uin is missing".into()),
    };
    let sid = match base.get("Sid") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("BaseRequest.Sid must be a string".into()),
        None => return Err("BaseRequest.Sid is missing".into()),
    };
    for field in ["Skey", "DeviceID"] {
        if base
            .get(field)
            .is_some_and(|v| !v.is_string() && !v.is_null())
        {
            return Err(format!("BaseRequest.{field} must be a string"));
        }
    }
    Ok((uin, sid))
}

pub fn caller(ids: &(String, String)) -> Caller<'_> {
    Caller {
        uin: &ids.0,
        sid: &ids.1,
    }
}

/// The request's cookies (all Cookie headers; HTTP/2 may split them).
pub fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    crate::site::cookie_pairs(headers)
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The session a GET names through its `wxuin` / `wxsid` cookies.
pub fn cookie_ids(headers: &HeaderMap) -> Option<(String, String)> {
    let jar = cookies(headers);
    Some((jar.get("wxuin")?.clone(), jar.get("wxsid")?.clone()))
}

/// The origin a login poll's `redirect_uri` names: the one the client used
/// (`https://` + its Host or HTTP/2 authority; the Host check already
/// refused names that are not ours), except that a login host intercepted
/// as the real one (login.wx.qq.com) sends the client on to its home host
/// (wx.qq.com), port kept, as the real service does.
pub fn home_origin(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| wxemu_core::CANONICAL_HOST.to_owned());
    match crate::web::registry::HostFamily::webwx_home_of(&host) {
        None => format!("https://{host}"),
        Some(home) => match host.rsplit_once(':') {
            Some((_, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                format!("https://{home}:{port}")
            }
            _ => format!("https://{home}"),
        },
    }
}

/// A cookie date as the real service writes it: `Tue, 26-Feb-2019 19:36:33 GMT`.
pub fn cookie_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02}-{}-{} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil: (year, month 1..=12, day 1..=31).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `{"Count": n, "List": [{"Key": k, "Val": v}, ...]}`.
pub fn sync_key_json(keys: &[(u64, u64)]) -> Value {
    json!({
        "Count": keys.len(),
        "List": keys.iter().map(|(k, v)| json!({"Key": k, "Val": v})).collect::<Vec<_>>(),
    })
}

/// Parses webwxsync's `SyncKey` object.
pub fn parse_sync_key(value: Option<&Value>) -> Result<Vec<(u64, u64)>, String> {
    let list = value
        .and_then(|v| v.get("List"))
        .and_then(Value::as_array)
        .ok_or("SyncKey must be an object with a List")?;
    if list.len() > 64 {
        return Err("SyncKey.List is too long".into());
    }
    list.iter()
        .map(|item| {
            let key = item.get("Key").and_then(Value::as_u64);
            let val = item.get("Val").and_then(Value::as_u64);
            key.zip(val)
                .ok_or_else(|| "SyncKey.List entries need numeric Key and Val".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn login_hosts_redirect_to_their_home_host() {
        let origin = |host: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, host.parse().unwrap());
            home_origin(&headers, &axum::http::Uri::from_static("/jslogin"))
        };
        assert_eq!(origin("login.wx.qq.com"), "https://wx.qq.com");
        assert_eq!(origin("login.weixin.qq.com:443"), "https://wx.qq.com:443");
        assert_eq!(origin("login.wx2.qq.com"), "https://wx2.qq.com");
        assert_eq!(
            origin("localhost.weixin.qq.com:14013"),
            "https://localhost.weixin.qq.com:14013"
        );
        assert_eq!(origin("127.0.0.1:14013"), "https://127.0.0.1:14013");
    }

    #[test]
    fn cookie_dates_match_the_real_format() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_551_209_793);
        assert_eq!(cookie_date(t), "Tue, 26-Feb-2019 19:36:33 GMT");
        assert_eq!(
            cookie_date(SystemTime::UNIX_EPOCH),
            "Thu, 01-Jan-1970 00:00:00 GMT"
        );
    }

    #[test]
    fn base_request_takes_uin_as_number_or_string() {
        let body = |v: Value| v.as_object().unwrap().clone();
        let ok =
            body(json!({"BaseRequest": {"Uin": 123, "Sid": "s", "Skey": "", "DeviceID": "e1"}}));
        assert_eq!(base_request(&ok).unwrap(), ("123".into(), "s".into()));
        let ok = body(json!({"BaseRequest": {"Uin": "123", "Sid": "s"}}));
        assert_eq!(base_request(&ok).unwrap().0, "123");
        for bad in [
            json!({}),
            json!({"BaseRequest": 1}),
            json!({"BaseRequest": {"Sid": "s"}}),
            json!({"BaseRequest": {"Uin": -1, "Sid": "s"}}),
            json!({"BaseRequest": {"Uin": 1.5, "Sid": "s"}}),
            json!({"BaseRequest": {"Uin": 1, "Sid": 2}}),
            json!({"BaseRequest": {"Uin": 1, "Sid": "s", "Skey": {}}}),
        ] {
            assert!(base_request(&body(bad.clone())).is_err(), "{bad}");
        }
    }
}
