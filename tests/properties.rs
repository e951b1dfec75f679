//! Parsers under generated input (proptest): every input gets an answer in
//! the surface's own format, never a panic or a 5xx (except where 500 is
//! the wire's answer: the long poll's unknown uuid); round-trips where
//! there are any. Requests go through the front (every step, every
//! handler) in process, without TLS, so thousands of cases run in seconds.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::{Method, Request, StatusCode};
use proptest::prelude::*;
use serde_json::{json, Value};
use wxemu::core::ApprovalMode;
use wxemu::core::Scenario;
use wxemu::core::{Account, Config};
use wxemu::core::{Emulator, Limits};
use wxemu::{Front, Listener};

const TOKEN: &str = "proptest-control-token-proptest-control-tok";

struct Harness {
    runtime: tokio::runtime::Runtime,
    front: Front,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        long_poll_hold: Duration::from_millis(5),
        body_read_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let emu = Emulator::new(
        Config::default(),
        dir.path().join("config.toml"),
        14013,
        ApprovalMode::Auto,
    )
    .with_limits(limits)
    .with_control_token(TOKEN.into());
    Harness {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        front: Front::new(Arc::new(emu), Listener::Tls),
        _dir: dir,
    }
}

impl Harness {
    /// Sends one request through the router; status and body.
    fn send(&self, method: Method, uri: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        self.send_typed(method, uri, "text/plain", body)
    }

    /// [`Harness::send`] with a body of `content_type`.
    fn send_typed(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost.weixin.qq.com:14013")
            .header("content-type", content_type);
        if uri.starts_with("/__wxemu/") {
            request = request.header("authorization", format!("Bearer {TOKEN}"));
        }
        let request = request.body(Body::from(body)).unwrap();
        self.runtime.block_on(async {
            let response = tokio::time::timeout(Duration::from_secs(10), self.front.serve(request))
                .await
                .expect("answered within 10 s");
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body.to_vec())
        })
    }
}

/// Any JSON, biased towards the field names the endpoints know.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("apiname".to_owned()),
        Just("jsdata".to_owned()),
        Just("appid".to_owned()),
        Just("scope".to_owned()),
        Just("redirect_uri".to_owned()),
        Just("state".to_owned()),
        Just("authorize_uuid".to_owned()),
        Just("data".to_owned()),
        Just("by".to_owned()),
        Just("endpoint".to_owned()),
        Just("errcode".to_owned()),
        Just("status".to_owned()),
        Just("latency".to_owned()),
        Just("drop".to_owned()),
        Just("times".to_owned()),
        Just("once".to_owned()),
        Just("mode".to_owned()),
        Just("decision".to_owned()),
        Just("delay".to_owned()),
        Just("count".to_owned()),
        Just("account".to_owned()),
        Just("id".to_owned()),
        Just("nickname".to_owned()),
        Just("secret".to_owned()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!("qrconnectchecklogin")),
        Just(json!("qrconnectfastauthorize")),
        Just(json!("snsapi_login")),
        Just(json!("wxa04304ceaedaf538")),
        Just(json!("https://site.example/cb")),
        Just(json!("check-login")),
        Just(json!("allow")),
        Just(json!("18446744073709551615s")),
        Just(json!("1y")),
        "[0-9]{1,20}(ns|ms|s|m|h|d|w|y)".prop_map(Value::String),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Raw bytes, or the text of generated JSON.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        // A valid envelope around generated jsdata.
        (
            prop_oneof![Just("qrconnectchecklogin"), Just("qrconnectfastauthorize")],
            json_value()
        )
            .prop_map(|(api, jsdata)| json!({"apiname": api, "jsdata": jsdata})
                .to_string()
                .into_bytes()),
    ]
}

/// A query string: generated pairs with known names, or raw text.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("appid"),
        Just("secret"),
        Just("code"),
        Just("grant_type"),
        Just("access_token"),
        Just("refresh_token"),
        Just("openid"),
        Just("lang"),
        Just("uuid"),
        Just("last"),
        Just("f"),
        Just("_"),
        Just("timeout"),
        Just("limit"),
        Just("since"),
        Just("endpoint"),
    ];
    prop_oneof![
        prop::collection::vec((name, ".{0,30}"), 0..8).prop_map(|pairs| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in pairs {
                query.append_pair(name, &value);
            }
            query.finish()
        }),
        // Raw text: every character a request target may carry.
        "[A-Za-z0-9%&=;+._~!$'()*,/:@?-]{0,120}",
    ]
}

fn not_5xx(status: StatusCode, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        !status.is_server_error(),
        "{status}: {}",
        String::from_utf8_lossy(body)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fast_login_envelopes_always_get_a_fast_login_reply(body in body()) {
        let h = harness();
        for path in ["/api/check-login", "/api/authorize"] {
            let (status, reply) = h.send(Method::POST, path, body.clone());
            not_5xx(status, &reply)?;
            // The fast-login wire format: JSON with an errcode, always.
            let json: Value = serde_json::from_slice(&reply)
                .map_err(|e| TestCaseError::fail(format!("{path}: not JSON ({e}): {}", String::from_utf8_lossy(&reply))))?;
            prop_assert!(json["errcode"].is_i64(), "{path}: {json}");
        }
    }

    #[test]
    fn token_api_queries_always_get_an_errcode_reply(q in query()) {
        let h = harness();
        for path in ["/sns/oauth2/access_token", "/sns/oauth2/refresh_token", "/sns/auth", "/sns/userinfo"] {
            let (status, reply) = h.send(Method::GET, &format!("{path}?{q}"), Vec::new());
            prop_assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply));
            let json: Value = serde_json::from_slice(&reply).unwrap();
            prop_assert!(json["errcode"].is_i64() || json["openid"].is_string(), "{path}: {json}");
        }
    }

    #[test]
    fn token_api_bodies_always_get_an_errcode_reply(body in body(), json in any::<bool>()) {
        let h = harness();
        let content_type = if json { "application/json" } else { "application/x-www-form-urlencoded" };
        let (status, reply) = h.send_typed(Method::POST, "/sns/oauth2/access_token?appid=wx1", content_type, body);
        not_5xx(status, &reply)?;
        let json: Value = serde_json::from_slice(&reply).unwrap();
        prop_assert!(json["errcode"].is_i64(), "{json}");
    }

    #[test]
    fn web_authorization_queries_never_fail_the_server(q in query()) {
        let h = harness();
        for path in ["/connect/oauth2/authorize", "/cgi-bin/token", "/cgi-bin/ticket/getticket"] {
            let (status, reply) = h.send(Method::GET, &format!("{path}?{q}"), Vec::new());
            not_5xx(status, &reply)?;
            // A redirect carries a code only for a request that passed every check.
            prop_assert!(status == StatusCode::OK || status == StatusCode::FOUND, "{path}: {status}");
        }
    }

    #[test]
    fn bridge_bodies_always_get_a_clear_answer(body in body()) {
        let h = harness();
        for path in ["/h5/verify", "/h5/call", "/connect/oauth2/consent/wait", "/connect/oauth2/consent/answer"] {
            let (status, reply) = h.send(Method::POST, path, body.clone());
            not_5xx(status, &reply)?;
            let json: Value = serde_json::from_slice(&reply)
                .map_err(|e| TestCaseError::fail(format!("{path}: not JSON ({e})")))?;
            prop_assert!(json["errcode"].is_i64() || json["err_msg"].is_string() || json["result"].is_string(), "{path}: {json}");
        }
    }

    #[test]
    fn long_poll_queries_always_get_an_answer(q in query()) {
        let h = harness();
        let (status, reply) = h.send(Method::GET, &format!("/connect/l/qrconnect?{q}"), Vec::new());
        // 500 is the real long poll's answer to an unknown uuid.
        prop_assert!(status == StatusCode::OK || status == StatusCode::INTERNAL_SERVER_ERROR,
            "{status}: {}", String::from_utf8_lossy(&reply));
        prop_assert!(String::from_utf8_lossy(&reply).contains("wx_errcode"));
    }

    #[test]
    fn control_bodies_always_get_a_clear_answer(body in body()) {
        let h = harness();
        for (method, path) in [
            (Method::POST, "/__wxemu/faults"),
            (Method::POST, "/__wxemu/clock/advance"),
            (Method::POST, "/__wxemu/decisions"),
            (Method::PUT, "/__wxemu/policy"),
            (Method::PATCH, "/__wxemu/client"),
            (Method::POST, "/__wxemu/accounts"),
            (Method::POST, "/__wxemu/apps"),
            (Method::POST, "/__wxemu/authorizations/1"),
        ] {
            let (status, reply) = h.send(method.clone(), path, body.clone());
            not_5xx(status, &reply)?;
            if !status.is_success() {
                let json: Value = serde_json::from_slice(&reply)
                    .map_err(|e| TestCaseError::fail(format!("{method} {path}: not JSON ({e})")))?;
                prop_assert!(json["error"].is_string() || json["errmsg"].is_string(), "{method} {path}: {json}");
            }
        }
    }

    #[test]
    fn control_queries_always_get_a_clear_answer(q in query()) {
        let h = harness();
        // The wait is told not to wait (a second timeout= is a 400).
        for path in ["/__wxemu/journal?", "/__wxemu/journal/wait?timeout=0s&"] {
            let (status, reply) = h.send(Method::GET, &format!("{path}{q}"), Vec::new());
            not_5xx(status, &reply)?;
        }
    }

    #[test]
    fn config_text_parses_or_says_why(text in ".{0,200}", value in json_value()) {
        // Never a panic, whatever the text; the TOML of generated JSON too.
        let _ = Config::parse(&text);
        if let Ok(toml_text) = toml::to_string(&value) {
            let _ = Config::parse(&toml_text);
            let _ = Scenario::parse(&toml_text);
        }
        let _ = Scenario::parse(&text);
    }

    #[test]
    fn configs_round_trip(ids in prop::collection::btree_set("[a-z0-9_.-]{1,12}", 0..5),
                          nickname in ".{0,20}",
                          ttl_secs in 1u64..(366 * 24 * 3600)) {
        let mut config = Config::default();
        config.platform.qr_ttl = Duration::from_secs(ttl_secs);
        for id in ids {
            config.accounts.push(Account { id, nickname: nickname.clone(), ..Account::default() });
        }
        prop_assume!(config.validate().is_ok());
        let text = toml::to_string_pretty(&config).unwrap();
        prop_assert_eq!(Config::parse(&text).unwrap(), config);
    }

    #[test]
    fn scenarios_round_trip(text in prop_oneof![
        Just("policy = \"deny\"\n".to_owned()),
        Just("[[decisions]]\ndecision = \"allow\"\ndelay = \"2s\"\ncount = 3\n".to_owned()),
        Just("[[faults]]\nendpoint = \"token\"\nerrcode = 40029\nonce = true\n".to_owned()),
        Just("[client]\nstate = \"logged_out\"\n".to_owned()),
    ]) {
        let scenario = Scenario::parse(&text).unwrap();
        let again = Scenario::parse(&toml::to_string(&scenario).unwrap()).unwrap();
        prop_assert_eq!(again, scenario);
    }
}
