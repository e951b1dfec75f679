//! wxemu's domain: everything a fake WeChat knows, with no HTTP in it.
//!
//! The web floor (`wxemu::web`) translates requests into calls on
//! [`Emulator`] and its typed results back into each surface's wire format;
//! the shells (the `wxemu` CLI, the desktop app) call the same methods. This
//! crate depends on no HTTP, CLI or GUI library (tests/layers.rs checks).
//!
//! # Layout
//!
//! Every module is private: what other crates use is the `pub use` list
//! below, named from the crate root (`wxemu_core::Emulator`,
//! `wxemu_core::Decision`). The stores stay inside: a caller changes state
//! only through an [`Emulator`] method, which applies the rules and
//! publishes its [`Event`].
//!
//! - `emulator`: [`Emulator`], one running wxemu: the methods every caller
//!   uses; `qa.rs` and `ops/` hold more of its methods (the QA layer; the
//!   operations on the state kept in the folders below).
//! - `clock`: the injectable "now" behind every expiry; `store`: expiring
//!   maps (fast-login uuids, codes, access and refresh tokens).
//! - `config`, `settings`: the TOML config model and the one rule for
//!   changing client state, accounts and apps.
//! - `fastlogin`: the desktop client's own API (check-login, authorize).
//! - `openplatform/`: QR logins, web authorization, the token API's
//!   vocabulary, openid and unionid.
//! - `webwx/`: Web WeChat (tickets, sessions, contacts, messages).
//! - `jssdk/`, `h5_calls`: the JS-SDK and pages' pay/scan calls.
//! - `approval`: where a login waits for a person's (or a policy's) decision;
//!   `events`: what every change publishes.
//! - `faults`, `journal`, `endpoint`, `scenario`, `qa`: the QA layer (the
//!   middleware lives in the web floor).
//! - `avatar`, `origin`, `limits`, `listening`, `named`, `fsutil`, `json`,
//!   `random`, `sync`: small shared pieces.

mod approval;
mod avatar;
mod clock;
mod config;
mod emulator;
mod endpoint;
mod events;
mod fastlogin;
mod faults;
mod fsutil;
mod h5_calls;
mod journal;
mod json;
mod jssdk;
mod limits;
mod listening;
mod named;
mod openplatform;
mod ops;
mod origin;
mod qa;
mod random;
mod scenario;
mod settings;
mod store;
mod sync;
mod webwx;

// The running emulator, its events and the decisions it waits for.
pub use approval::{
    ApprovalEvent, ApprovalMode, AuthorizeRequest, Decision, Outcome, Position, QueuedAnswer,
};
pub use emulator::{Emulator, UpdateError, CANONICAL_HOST, DEFAULT_PORT, KNOWN_PORTS, OUR_HOSTS};
pub use events::{Event, Subscription};
pub use ops::auto_answer;

// The config model.
pub use config::{
    default_path, Account, AppKind, ClientState, Config, ConfigError, InterceptConfig,
    PlatformMode, WebsiteApp, DEFAULT_INTERCEPTED_HOSTS,
};
pub use listening::{Interception, Listening};
pub use settings::KnownApp;

// Fast login and the Open Platform.
pub use fastlogin::{errcode, AuthorizeCall, FastLoginError, LoginTarget};
pub use openplatform::identity::{openid, unionid};
pub use openplatform::oauth2::{Consent, WebAuthDone, WebAuthError, WebAuthRequest, WebAuthStart};
pub use openplatform::qr::{PollReply, QrError, QrStatus, QrSummary, QrTarget, MAX_QR_LOGINS};
pub use openplatform::tokens::{Lang, TokenError, TokenGrant, UserInfo};
pub use store::{Lookup, MAX_CODES, MAX_REGISTERED_APPS};

// Web WeChat.
pub use webwx::contacts::FriendSpec;
pub use webwx::ids::is_login_uuid;
pub use webwx::session::{parse_sync_key_query, unix_secs};
pub use webwx::{
    Caller, ContactBook, ContactSummary, ConversationEntry, Injection, LoginPoll, SendError,
    SessionSummary, SyncCheck, SyncError, WebWxError, WebWxEvent, GETICON_PATH, MAX_BATCH,
    MSG_TEXT, WEB_APPID,
};

// The JS-SDK and pages' pay/scan calls.
pub use h5_calls::{DecisionSource, H5CallEvent, PendingCall};
pub use jssdk::{
    signature, BaseToken, JsSdkError, OutcomeResult, QueuedOutcome, VerifiedPage, VerifyRequest,
    MAX_PAGES, TICKET_TTL,
};

// The QA layer: journal, faults, scenarios.
pub use endpoint::Endpoint;
pub use faults::FaultSpec;
pub use journal::{
    appid_of, floor_char_boundary, mask, redact_query, Entry, Filter, Journal, RecordedBody,
    BODY_KEEP, TRUNCATED_MARKER,
};
pub use scenario::{DecisionBatch, Scenario};

// Small shared pieces the other floors use too.
pub use avatar::{svg as avatar_svg, PATH as AVATAR_PATH};
pub use fsutil::{
    create_private_dir, parent_dir, persist, persist_new, stage, sync_dir, write_atomic,
    TEMP_PREFIX,
};
pub use json::from_value;
pub use limits::{
    check_login_target, long_state_warning, Limits, MAX_ORIGIN_BYTES, MAX_QUERY_BYTES,
};
pub use named::Named;
pub use origin::parse_origin;
pub use random::random_token;
pub use sync::lock;
