//! The request journal: every request wxemu answered, for QA to assert on
//! (WireMock's request journal, for a fake WeChat client).
//!
//! The web floor's journal layer builds an [`Entry`] per request; secrets
//! (appsecret, codes, tokens, authorize_uuid) are masked before anything is
//! stored ([`redact_json`], [`redact_query`], [`redact_body`]): only a short
//! prefix survives, so entries can still be told apart. Memory is bounded by
//! a ring buffer ([`JournalConfig::capacity`]); each entry can also be
//! appended to a JSON lines file. [`Journal::wait`] lets a test block until a
//! matching request arrives instead of polling.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;

use crate::approval::Outcome;
use crate::endpoint::Endpoint;

/// `[journal]` in the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// How many entries are kept in memory; the oldest go first.
    pub capacity: usize,
    /// Also append every entry, as one JSON line, to this file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Record calls to the control API itself (off: the journal shows
    /// what pages and sites did, not the test driving them).
    pub include_control: bool,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            capacity: DEFAULT_CAPACITY,
            file: None,
            include_control: false,
        }
    }
}

pub const DEFAULT_CAPACITY: usize = 1000;

/// How much of a request body is kept (the real page's are under 2 KiB).
pub const BODY_KEEP: usize = 8 * 1024;

/// One request, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Increases by one per request, never reused (not even after a clear):
    /// pass the last one seen as `since`.
    pub id: u64,
    /// Wall-clock arrival, milliseconds since the Unix epoch.
    pub at: u64,
    pub method: String,
    /// The host the request was addressed to (its Host header or HTTP/2
    /// `:authority`, lowercase, without port or trailing dot):
    /// `localhost.weixin.qq.com` for a direct request, `api.weixin.qq.com`
    /// for one intercepted as that host. None when the request named none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub path: String,
    /// The query string, secrets masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub endpoint: Endpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The appid the request was about (body `jsdata.appid`, `appid`, or
    /// the query's `appid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The request body, secrets masked: JSON when it was JSON, else text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<RecordedBody>,
    /// None when the connection was dropped (an injected fault).
    pub status: Option<u16>,
    /// The reply's `errcode` (or the long poll's `wx_errcode`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// What the person decided, for authorize: allowed, denied, timed_out,
    /// cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Outcome>,
    /// The account an allowed authorize logged in as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The fault injected into this request, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// What wxemu accepted here that real WeChat may refuse (a `state`
    /// over 128 bytes, a web authorization outside WeChat's browser...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Time from arrival to the reply's headers, in milliseconds.
    pub latency_ms: f64,
}

/// A request body as the journal keeps it: the bytes the handler read (at
/// most [`BODY_KEEP`]), masked only when shown (serialized, or printed with
/// `{:?}`). Masking every body as it arrived was the larger part of the
/// journal's cost per request, and most entries are never shown.
#[derive(Clone, PartialEq)]
pub enum RecordedBody {
    /// As read; `is_form`: sent as `application/x-www-form-urlencoded`.
    Raw { bytes: Box<[u8]>, is_form: bool },
    /// Already masked: an entry read back from its JSON.
    Shown(Value),
}

impl RecordedBody {
    /// None for an empty body.
    pub fn new(bytes: Vec<u8>, is_form: bool) -> Option<RecordedBody> {
        (!bytes.is_empty()).then(|| RecordedBody::Raw {
            bytes: bytes.into_boxed_slice(),
            is_form,
        })
    }

    /// The body with its secrets masked: JSON when it was JSON, else text.
    pub fn masked(&self) -> Value {
        match self {
            RecordedBody::Raw { bytes, is_form } => redact_body(bytes, *is_form),
            RecordedBody::Shown(value) => value.clone(),
        }
    }

    /// The appid a body names: a JSON body's `jsdata.appid`, else its
    /// `appid`; a form body's `appid` (python-social-auth posts one).
    pub fn appid(&self) -> Option<String> {
        match self {
            RecordedBody::Raw {
                bytes,
                is_form: true,
            } => url::form_urlencoded::parse(bytes)
                .find(|(k, _)| k == "appid")
                .map(|(_, v)| v.into_owned()),
            RecordedBody::Raw { bytes, .. } => appid_in_json(bytes),
            RecordedBody::Shown(value) => value
                .pointer("/jsdata/appid")
                .or_else(|| value.get("appid"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

impl std::fmt::Debug for RecordedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.masked())
    }
}

impl Serialize for RecordedBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RecordedBody::Shown(value) => value.serialize(serializer),
            raw => raw.masked().serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RecordedBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(RecordedBody::Shown)
    }
}

/// The most any one text field of an entry keeps (the body has its own
/// bound, [`BODY_KEEP`]); longer values end in [`TRUNCATED_MARKER`] and
/// their full length, so an entry costs a bounded few KiB whatever was sent.
pub const FIELD_KEEP: usize = 512;
/// Ends a field that was cut to `FIELD_KEEP`.
pub const TRUNCATED_MARKER: &str = "…[truncated]";

impl Entry {
    /// Cuts every text field to [`FIELD_KEEP`] bytes, with a marker.
    fn shorten_fields(&mut self) {
        for field in [&mut self.method, &mut self.path] {
            shorten(field);
        }
        for field in [
            &mut self.query,
            &mut self.origin,
            &mut self.app,
            &mut self.account,
            &mut self.fault,
        ]
        .into_iter()
        .flatten()
        {
            shorten(field);
        }
    }
}

/// `text` cut to [`FIELD_KEEP`] bytes on a character boundary, with
/// [`TRUNCATED_MARKER`] and the original length appended.
pub fn shorten(text: &mut String) {
    if text.len() <= FIELD_KEEP {
        return;
    }
    let end = floor_char_boundary(text, FIELD_KEEP);
    let total = text.len();
    text.truncate(end);
    text.push_str(TRUNCATED_MARKER);
    text.push_str(&format!(" ({total} bytes)"));
}

/// The largest char boundary of `text` at or below `max`.
pub fn floor_char_boundary(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// Which entries a list or wait wants. Every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    /// Path prefix, e.g. `/api/` or `/sns/oauth2/access_token`.
    pub path: Option<String>,
    pub endpoint: Option<Endpoint>,
    pub app: Option<String>,
    pub errcode: Option<i64>,
    pub method: Option<String>,
    /// The host the request was addressed to (any case), e.g. `api.weixin.qq.com`.
    pub host: Option<String>,
    /// Only entries with an id greater than this.
    pub since: Option<u64>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        self.path.as_ref().is_none_or(|p| e.path.starts_with(p))
            && self.endpoint.is_none_or(|x| e.endpoint == x)
            && self.app.as_ref().is_none_or(|a| e.app.as_ref() == Some(a))
            && self.errcode.is_none_or(|c| e.errcode == Some(c))
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
            && self.host.as_ref().is_none_or(|h| {
                e.host
                    .as_ref()
                    .is_some_and(|eh| eh.eq_ignore_ascii_case(h.trim_end_matches('.')))
            })
            && self.since.is_none_or(|s| e.id > s)
    }
}

struct Ring {
    entries: VecDeque<Arc<Entry>>,
    capacity: usize,
    next_id: u64,
}

pub struct Journal {
    ring: Mutex<Ring>,
    file: Option<Mutex<std::fs::File>>,
    file_path: Option<PathBuf>,
    /// The id of the newest entry; waiters watch it.
    newest: watch::Sender<u64>,
    include_control: bool,
}

impl Journal {
    /// An in-memory journal; see [`Journal::from_config`] for the file.
    pub fn new(capacity: usize) -> Journal {
        Journal {
            ring: Mutex::new(Ring {
                entries: VecDeque::with_capacity(capacity.min(4096)),
                capacity: capacity.max(1),
                next_id: 1,
            }),
            file: None,
            file_path: None,
            newest: watch::channel(0).0,
            include_control: false,
        }
    }

    /// Whether calls to the control API are recorded too.
    pub fn including_control(mut self, include: bool) -> Journal {
        self.include_control = include;
        self
    }

    /// The journal `[journal]` describes; opens (creates, 0600) the file.
    pub fn from_config(config: &JournalConfig) -> std::io::Result<Journal> {
        let mut journal = Journal::new(config.capacity);
        journal.include_control = config.include_control;
        if let Some(path) = &config.file {
            journal.file = Some(Mutex::new(open_append(path)?));
            journal.file_path = Some(path.clone());
        }
        Ok(journal)
    }

    /// Whether calls to the control API are recorded too.
    pub fn includes_control(&self) -> bool {
        self.include_control
    }

    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    pub fn file_path(&self) -> Option<&Path> {
        self.file_path.as_deref()
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores an entry (its id is assigned here) and wakes waiters.
    pub(crate) fn push(&self, mut entry: Entry) -> Arc<Entry> {
        entry.shorten_fields();
        let entry = {
            let mut ring = self.lock();
            entry.id = ring.next_id;
            ring.next_id += 1;
            let entry = Arc::new(entry);
            if ring.entries.len() >= ring.capacity {
                ring.entries.pop_front();
            }
            ring.entries.push_back(entry.clone());
            entry
        };
        if let Some(file) = &self.file {
            if let Ok(mut line) = serde_json::to_vec(&*entry) {
                line.push(b'\n');
                let mut file = crate::sync::lock(file);
                if let Err(e) = file.write_all(&line) {
                    tracing::warn!("cannot append to the journal file: {e}");
                }
            }
        }
        self.newest.send_replace(entry.id);
        entry
    }

    /// Matching entries, oldest first; at most `limit` (the newest ones).
    pub fn list(&self, filter: &Filter, limit: Option<usize>) -> Vec<Arc<Entry>> {
        let ring = self.lock();
        let mut found: Vec<_> = ring
            .entries
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect();
        if let Some(limit) = limit {
            let skip = found.len().saturating_sub(limit);
            found.drain(..skip);
        }
        found
    }

    /// The oldest matching entry, waiting up to `timeout` for one to
    /// arrive. Entries already in the journal count: a test that triggers a
    /// request and then waits cannot miss it; pass `since` to skip older.
    pub async fn wait(&self, filter: &Filter, timeout: Duration) -> Option<Arc<Entry>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut newest = self.newest.subscribe();
        let mut filter = filter.clone();
        loop {
            let seen = *newest.borrow_and_update();
            if let Some(entry) = self.first_match(&filter) {
                return Some(entry);
            }
            // Everything up to `seen` has been looked at.
            filter.since = Some(filter.since.map_or(seen, |s| s.max(seen)));
            match tokio::time::timeout_at(deadline, newest.changed()).await {
                Ok(Ok(())) => continue,
                _ => return None,
            }
        }
    }

    fn first_match(&self, filter: &Filter) -> Option<Arc<Entry>> {
        let ring = self.lock();
        // Entries are in id order: skip what `since` excludes quickly.
        let start = match filter.since {
            Some(since) => ring.entries.partition_point(|e| e.id <= since),
            None => 0,
        };
        ring.entries
            .range(start..)
            .find(|e| filter.matches(e))
            .cloned()
    }

    /// How many [`Journal::wait`] calls are waiting right now.
    pub fn waiting(&self) -> usize {
        self.newest.receiver_count()
    }

    /// Forgets every entry (ids keep counting); returns how many.
    pub(crate) fn clear(&self) -> usize {
        let mut ring = self.lock();
        let n = ring.entries.len();
        ring.entries.clear();
        n
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        crate::sync::lock(&self.ring)
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::fsutil::create_private_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

// ---- masking ----------------------------------------------------------

/// Keys whose values are secrets wherever they appear (JSON or query).
const SECRET_KEYS: &[&str] = &[
    "secret",
    "appsecret",
    "code",
    "wx_code",
    "access_token",
    "refresh_token",
    "authorize_uuid",
    "token",
    "ticket",
    "password",
    // Web WeChat: BaseRequest, queries, forms (cookies are not recorded).
    "sid",
    "wxsid",
    "skey",
    "pass_ticket",
    "webwx_data_ticket",
    "webwx_auth_ticket",
];

pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// A secret with only a short prefix left: `"Ab3x…(32)"`. Values shorter
/// than 12 characters keep nothing.
pub fn mask(value: &str) -> String {
    let len = value.chars().count();
    let keep = if len >= 12 { 4 } else { 0 };
    let prefix: String = value.chars().take(keep).collect();
    format!("{prefix}…({len})")
}

/// Masks the value of every secret key, at any depth.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) {
                    if let Some(s) = v.as_str() {
                        *v = Value::String(mask(s));
                    } else if !v.is_null() {
                        *v = Value::String(mask(&v.to_string()));
                    }
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// Masks secret parameters of a query (or form) string, keeping the rest
/// byte for byte.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if is_secret_key(&decode(key)) => {
                format!("{key}={}", mask(&decode(value)))
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The journal's view of a request body: masked JSON, masked form, or
/// (truncated) text.
pub fn redact_body(bytes: &[u8], is_form: bool) -> Value {
    if let Ok(mut json) = serde_json::from_slice::<Value>(bytes) {
        redact_json(&mut json);
        return json;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEEP)]).into_owned();
    // Broken or truncated JSON still gets its `"secret": "..."` masked.
    let text = redact_loose_json(&text);
    Value::String(if is_form || text.contains('=') {
        redact_query(&text)
    } else {
        text
    })
}

/// `jsdata.appid`, else `appid`, of a JSON body, read without building a
/// tree (this runs for every journaled request).
fn appid_in_json(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow, default)]
        jsdata: Option<Jsdata<'a>>,
        #[serde(borrow, default)]
        appid: Option<std::borrow::Cow<'a, str>>,
    }
    #[derive(Deserialize)]
    struct Jsdata<'a> {
        #[serde(borrow, default)]
        appid: Option<std::borrow::Cow<'a, str>>,
    }
    let envelope: Envelope = serde_json::from_slice(bytes).ok()?;
    envelope
        .jsdata
        .and_then(|j| j.appid)
        .or(envelope.appid)
        .map(std::borrow::Cow::into_owned)
}

/// Masks `"key": "value"` for every secret key in text that is not valid
/// JSON (truncated, malformed), leaving the rest as it was.
fn redact_loose_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find('"') else {
            break;
        };
        let key = &rest[..close];
        out.push_str(&rest[..=close]);
        rest = &rest[close + 1..];
        if !is_secret_key(key) {
            continue;
        }
        // `: "` then the value up to the next quote (or the end).
        let after_colon = rest.trim_start().strip_prefix(':').map(str::trim_start);
        let Some(value_and_more) = after_colon.and_then(|r| r.strip_prefix('"')) else {
            continue;
        };
        let skipped = rest.len() - value_and_more.len();
        out.push_str(&rest[..skipped]);
        let end = value_and_more.find('"').unwrap_or(value_and_more.len());
        out.push_str(&mask(&value_and_more[..end]));
        if end < value_and_more.len() {
            out.push('"');
            rest = &value_and_more[end + 1..];
        } else {
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

/// The appid a request is about: the one its JSON body names (see
/// [`RecordedBody::appid`]), else its query's.
pub fn appid_of(body_appid: Option<String>, query: Option<&str>) -> Option<String> {
    body_appid.or_else(|| {
        query?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == "appid").then(|| decode(v))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            id: 0,
            at: 0,
            method: "POST".into(),
            host: Some("localhost.weixin.qq.com".into()),
            path: path.into(),
            query: None,
            // The web floor's router names endpoints; these tests only
            // need the two fast-login ones told apart.
            endpoint: match path {
                "/api/check-login" => Endpoint::CheckLogin,
                "/api/authorize" => Endpoint::Authorize,
                _ => Endpoint::Other,
            },
            origin: None,
            app: None,
            body: None,
            status: Some(200),
            errcode: None,
            decision: None,
            account: None,
            fault: None,
            warnings: Vec::new(),
            latency_ms: 0.0,
        }
    }

    #[test]
    fn long_fields_are_cut_with_a_marker() {
        let journal = Journal::new(4);
        let mut e = entry("/api/check-login");
        e.query = Some("q".repeat(100_000));
        e.origin = Some("é".repeat(1_000));
        let stored = journal.push(e);
        let query = stored.query.as_deref().unwrap();
        assert!(query.len() < FIELD_KEEP + 40, "{}", query.len());
        assert!(query.contains(TRUNCATED_MARKER) && query.ends_with("(100000 bytes)"));
        let origin = stored.origin.as_deref().unwrap();
        assert!(origin.starts_with('é') && origin.contains(TRUNCATED_MARKER));
        assert_eq!(stored.path, "/api/check-login", "short fields stay whole");
    }

    #[test]
    fn masks_secrets_keeping_a_short_prefix() {
        assert_eq!(mask("0123456789abcdefXYZ"), "0123…(19)");
        assert_eq!(mask("short"), "…(5)");
        let mut body = serde_json::json!({
            "apiname": "x",
            "jsdata": {"appid": "wx1", "authorize_uuid": "AbCdEfGhIjKlMnOp", "state": "s"},
            "apps": [{"secret": "supersecretvalue123", "name": "n"}],
            "CODE": 12345678901234u64,
        });
        redact_json(&mut body);
        let text = body.to_string();
        assert!(!text.contains("AbCdEfGhIjKlMnOp"), "{text}");
        assert!(!text.contains("supersecretvalue123"), "{text}");
        assert!(!text.contains("12345678901234"), "{text}");
        assert_eq!(body["jsdata"]["authorize_uuid"], "AbCd…(16)");
        assert_eq!(body["jsdata"]["appid"], "wx1");
        assert_eq!(
            redact_query("appid=wx1&secret=0123456789abcdef&code=abcdefghijklmnopq&grant_type=authorization_code"),
            "appid=wx1&secret=0123…(16)&code=abcd…(17)&grant_type=authorization_code"
        );
    }

    /// A body is kept as it came and masked when shown, however it is shown.
    #[test]
    fn bodies_are_masked_when_shown() {
        let sent = r#"{"jsdata":{"appid":"wx1","authorize_uuid":"AbCdEfGhIjKlMnOp"}}"#;
        let body = RecordedBody::new(sent.as_bytes().to_vec(), false).unwrap();
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"jsdata":{"appid":"wx1","authorize_uuid":"AbCd…(16)"}}"#
        );
        assert_eq!(format!("{body:?}"), json);
        let read_back: RecordedBody = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::to_string(&read_back).unwrap(),
            json,
            "masked once only"
        );
        assert_eq!(read_back.appid().as_deref(), Some("wx1"));
        assert!(RecordedBody::new(Vec::new(), false).is_none());
    }

    #[test]
    fn appid_comes_from_jsdata_then_the_body_then_the_query() {
        let appid = |body: &str, query| {
            let from_body = RecordedBody::new(body.as_bytes().to_vec(), false)?.appid();
            appid_of(from_body, query)
        };
        assert_eq!(
            appid(r#"{"appid":"top","jsdata":{"appid":"js"}}"#, None).as_deref(),
            Some("js")
        );
        assert_eq!(
            appid(r#"{"appid":"top","jsdata":{"x":{"appid":"deep"}}}"#, None).as_deref(),
            Some("top")
        );
        assert_eq!(
            appid(r#"{"x":{"appid":"deep"}}"#, Some("appid=q")).as_deref(),
            Some("q")
        );
        assert_eq!(
            appid(r#"{"appid":7}"#, Some("appid=q")).as_deref(),
            Some("q")
        );
        assert_eq!(
            appid("not json", Some("a=1&appid=wx%31")).as_deref(),
            Some("wx1")
        );
    }

    #[test]
    fn masks_secrets_in_broken_json_and_forms() {
        let broken = r#"{"appid":"wx1","secret" : "supersecretvalue123","code":"abcdefghijklmnop"#;
        let Value::String(text) = redact_body(broken.as_bytes(), false) else {
            panic!("text expected");
        };
        assert!(!text.contains("supersecretvalue123"), "{text}");
        assert!(!text.contains("abcdefghijklmnop"), "{text}");
        assert!(text.contains(r#""appid":"wx1""#), "{text}");
        assert!(text.contains("supe…(19)"), "{text}");
        let Value::String(form) = redact_body(b"appid=wx1&secret=supersecretvalue123", true) else {
            panic!("text expected");
        };
        assert_eq!(form, "appid=wx1&secret=supe…(19)");
    }

    #[test]
    fn ring_keeps_the_newest_and_ids_keep_counting() {
        let journal = Journal::new(3);
        for _ in 0..5 {
            journal.push(entry("/api/check-login"));
        }
        let ids: Vec<u64> = journal
            .list(&Filter::default(), None)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!(journal.clear(), 3);
        assert_eq!(journal.push(entry("/x")).id, 6);
    }

    #[tokio::test]
    async fn wait_sees_past_and_future_entries() {
        let journal = Arc::new(Journal::new(10));
        journal.push(entry("/api/check-login"));
        let filter = Filter {
            endpoint: Some(Endpoint::CheckLogin),
            ..Filter::default()
        };
        assert_eq!(journal.wait(&filter, Duration::ZERO).await.unwrap().id, 1);
        let later = Filter {
            since: Some(1),
            ..filter
        };
        let waiter = tokio::spawn({
            let journal = journal.clone();
            async move { journal.wait(&later, Duration::from_secs(30)).await }
        });
        journal.push(entry("/api/authorize"));
        journal.push(entry("/api/check-login"));
        assert_eq!(waiter.await.unwrap().unwrap().id, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_times_out_without_a_match() {
        let journal = Journal::new(10);
        journal.push(entry("/api/authorize"));
        let filter = Filter {
            endpoint: Some(Endpoint::CheckLogin),
            ..Filter::default()
        };
        assert!(journal
            .wait(&filter, Duration::from_secs(5))
            .await
            .is_none());
    }

    #[test]
    fn form_and_json_bodies_name_their_app() {
        let form = RecordedBody::new(b"grant_type=x&appid=wx%31&secret=s".to_vec(), true);
        assert_eq!(form.unwrap().appid().as_deref(), Some("wx1"));
        let json = RecordedBody::new(br#"{"jsdata":{"appid":"wx2"}}"#.to_vec(), false);
        assert_eq!(json.unwrap().appid().as_deref(), Some("wx2"));
    }

    #[test]
    fn filters_by_the_host_addressed() {
        let journal = Journal::new(10);
        journal.push(entry("/sns/userinfo"));
        journal.push(Entry {
            host: Some("api.weixin.qq.com".into()),
            ..entry("/sns/userinfo")
        });
        journal.push(Entry {
            host: None,
            ..entry("/sns/userinfo")
        });
        let of = |host: &str| -> Vec<u64> {
            let filter = Filter {
                host: Some(host.into()),
                ..Filter::default()
            };
            journal.list(&filter, None).iter().map(|e| e.id).collect()
        };
        assert_eq!(of("API.weixin.qq.com."), [2]);
        assert_eq!(of("localhost.weixin.qq.com"), [1]);
        assert!(of("open.weixin.qq.com").is_empty());
        let text = serde_json::to_string(&*journal.list(&Filter::default(), None)[1]).unwrap();
        assert!(text.contains(r#""host":"api.weixin.qq.com""#), "{text}");
    }
}
