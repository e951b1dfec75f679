//! The endpoint registry: every endpoint wxemu serves, declared once.
//!
//! A [`Route`] says which host family answers it, its path, the methods it
//! takes, who may call it ([`Access`]), the wire format its errors take
//! ([`Wire`]) and the name the journal and fault injection know it by
//! ([`Endpoint`]). The router (`crate::web::front`) dispatches on host
//! family + path from this table and hands the matched route to every
//! layer as a request extension ([`Matched`]), so no layer re-parses the
//! path; the control API's route list, `wxemu ctl`, `wxemu doctor`, the
//! benchmark and the example site take their paths from here too.
//!
//! Adding an endpoint: declare its `Route` here and list it in [`ALL`],
//! then bind a handler to it in its surface module's `routes()`; the router
//! refuses to start (a unit test catches it first) if a route is unbound or
//! bound twice.

use axum::http::Method;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use wxemu_core::Endpoint;
use wxemu_core::OUR_HOSTS;

/// A set of host names routed alike. wxemu answers only for the names of
/// its families; any other Host is refused (DNS rebinding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostFamily {
    /// wxemu's own names: `localhost.weixin.qq.com`, `localhost`,
    /// `127.0.0.1`, `[::1]`.
    Own,
    /// Interception: the real Open Platform website (login page, QR image;
    /// wxemu's page also polls on its own origin).
    OpenPlatform,
    /// Interception: the real long-poll hosts.
    LongPoll,
    /// Interception: the real `res.wx.qq.com` (wxLogin.js).
    Res,
    /// Interception: the real token API host.
    Api,
    /// Interception: Web WeChat's login hosts (jslogin, QR image, login poll).
    WebwxLogin,
    /// Interception: Web WeChat's home hosts, where a login poll's
    /// `redirect_uri` sends the client (ticket, session calls, avatars).
    WebwxHome,
    /// Interception: Web WeChat's push hosts (synccheck).
    WebwxPush,
    /// Interception: Web WeChat's file hosts (media, which wxemu does not
    /// play: answered with the host's 404, never refused).
    WebwxFile,
}

impl HostFamily {
    /// Every family, in the order the router tries them.
    pub const ALL: &'static [HostFamily] = &[
        HostFamily::Own,
        HostFamily::OpenPlatform,
        HostFamily::LongPoll,
        HostFamily::Res,
        HostFamily::Api,
        HostFamily::WebwxLogin,
        HostFamily::WebwxHome,
        HostFamily::WebwxPush,
        HostFamily::WebwxFile,
    ];

    /// The host names of this family (no port).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            HostFamily::Own => &OUR_HOSTS,
            HostFamily::OpenPlatform => &["open.weixin.qq.com"],
            HostFamily::LongPoll => &["lp.open.weixin.qq.com", "long.open.weixin.qq.com"],
            HostFamily::Res => &["res.wx.qq.com"],
            HostFamily::Api => &["api.weixin.qq.com"],
            HostFamily::WebwxLogin => &[
                "login.weixin.qq.com",
                "login.wx.qq.com",
                "login.wx2.qq.com",
                "login.wx8.qq.com",
                "login.web.wechat.com",
            ],
            HostFamily::WebwxHome => &["wx.qq.com", "wx2.qq.com", "wx8.qq.com", "web.wechat.com"],
            HostFamily::WebwxPush => &[
                "webpush.wx.qq.com",
                "webpush.wx2.qq.com",
                "webpush.wx8.qq.com",
                "webpush.web.wechat.com",
            ],
            HostFamily::WebwxFile => &[
                "file.wx.qq.com",
                "file.wx2.qq.com",
                "file.wx8.qq.com",
                "file.web.wechat.com",
            ],
        }
    }

    /// The Web WeChat home host a login host sends its clients to (the
    /// real service: login.wx2.qq.com -> wx2.qq.com, login.weixin.qq.com
    /// and login.wx.qq.com -> wx.qq.com); None for any other name.
    pub fn webwx_home_of(host: &str) -> Option<&'static str> {
        let name = host_name(host);
        if HostFamily::of(name) != Some(HostFamily::WebwxLogin) {
            return None;
        }
        let rest = &name["login.".len()..];
        HostFamily::WebwxHome
            .names()
            .iter()
            .copied()
            .find(|home| home.eq_ignore_ascii_case(rest))
            .or(Some("wx.qq.com"))
    }

    /// Whether this family is one of the real WeChat hosts, answered only on
    /// intercepted connections (the proxy, hosts mode), never on wxemu's own
    /// listeners.
    pub fn intercepted(self) -> bool {
        self != HostFamily::Own
    }

    /// The family a Host header (or HTTP/2 `:authority`) belongs to, port
    /// and a trailing dot allowed, ASCII case ignored.
    pub fn of(host: &str) -> Option<HostFamily> {
        let name = host_name(host);
        HostFamily::ALL.iter().copied().find(|family| {
            family
                .names()
                .iter()
                .any(|ours| ours.eq_ignore_ascii_case(name))
        })
    }

    /// Every name wxemu answers for, for error messages.
    pub fn all_names() -> Vec<&'static str> {
        HostFamily::ALL
            .iter()
            .flat_map(|f| f.names().iter().copied())
            .collect()
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The name in a Host header (or HTTP/2 `:authority`): without its port
/// or a trailing dot; case kept.
pub fn host_name(host: &str) -> &str {
    let name = match host.rsplit_once(':') {
        // "[::1]:14013", "localhost:14013"; a bare "[::1]" has a ':'
        // inside the brackets, so only split off a port after them.
        Some((name, port)) if !port.contains(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    name.strip_suffix('.').unwrap_or(name)
}

/// Who may call a route, checked before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Pages and backends: no Origin check, no CORS headers (so no other
    /// site's page can read an answer).
    Open,
    /// Called by browser pages across origins (fast login): the Origin is
    /// checked on every request, OPTIONS is answered as a CORS preflight,
    /// and allowed replies carry CORS headers.
    Browser,
    /// The control API: never cross-site, bearer token required.
    Control,
    /// The control API's health probe: never cross-site, no token.
    ControlProbe,
    /// Called by a page on any origin and telling nothing secret (the
    /// H5 bridge's `wx.config` check): CORS `*`, preflight answered.
    AnyPage,
}

/// The wire format of a route's errors: what an injected errcode, a wrong
/// method or a refused Origin looks like there. Written by
/// `crate::web::front::wire`, through the encoders the surface's own
/// handlers use, so injected errors are the real thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// Fast login: JSON labelled `text/plain; charset=utf-8`, carrying the
    /// `apiname` of the endpoint's replies.
    FastLogin { apiname: &'static str },
    /// The QR long poll: `window.wx_errcode=N;...` JavaScript, or JSON with
    /// `f=json`; `charset=utf-8`, `Cache-Control: no-store`.
    LongPoll,
    /// The Open Platform API: JSON `{"errcode","errmsg": "..., rid: ..."}`
    /// labelled `text/plain`.
    OpenApi,
    /// The `cgi-bin` API (the JS-SDK's server side): the same JSON labelled
    /// `application/json; encoding=utf-8`.
    CgiApi,
    /// The login page: an HTML error page, HTTP 200.
    LoginPage,
    /// The control API: JSON `{"error": "..."}` with a fitting status.
    Control,
    /// Plain text (the index page, avatars, wxLogin.js).
    Plain,
    /// Web WeChat's login: `window.code=N;` JavaScript.
    WebwxLogin,
    /// Web WeChat's session calls: `{"BaseResponse":{"Ret":N,"ErrMsg":..}}`.
    Webwx,
    /// Web WeChat's synccheck: `window.synccheck={retcode:"N",selector:"0"}`.
    Synccheck,
}

/// A handler bound to the registry route it serves (each surface's
/// `routes()`; `web::routes` builds the routers from them).
pub(crate) type Binding = (
    &'static Route,
    axum::routing::MethodRouter<std::sync::Arc<wxemu_core::Emulator>>,
);

/// One endpoint.
#[derive(Debug)]
pub struct Route {
    /// The journal's and fault injection's name for it.
    pub endpoint: Endpoint,
    pub hosts: &'static [HostFamily],
    /// axum path syntax: `{name}` is one segment, `{*name}` the rest.
    pub path: &'static str,
    /// The methods it takes; a GET route also answers HEAD.
    pub methods: &'static [Method],
    pub access: Access,
    pub wire: Wire,
    /// Also served by the plain-HTTP listener (`--http-api-port`); only
    /// the token API is, so no browser-facing endpoint is reachable
    /// without TLS.
    pub plain_http: bool,
}

/// The route a request matched, put on it by the router before any layer
/// runs.
#[derive(Debug, Clone, Copy)]
pub struct Matched(pub &'static Route);

impl Route {
    /// Whether `method` is one this route takes (HEAD where GET is).
    pub fn takes(&self, method: &Method) -> bool {
        self.methods.contains(method) || (method == Method::HEAD && self.takes(&Method::GET))
    }

    /// The value of an `Allow` header for this route.
    pub fn allow(&self) -> String {
        let mut names: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
        if self.access == Access::Browser {
            names.push("OPTIONS");
        }
        names.join(", ")
    }

    /// The path with its `{...}` segments replaced by `values`, in order,
    /// percent-encoded: what a client puts in its request line.
    pub fn fill(&self, values: &[&str]) -> String {
        let mut out = String::with_capacity(self.path.len() + 16);
        let mut values = values.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            let value = values.next().copied().unwrap_or_default();
            out.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
            rest = &rest[close..];
        }
        out.push_str(rest);
        out
    }

    /// The path below the control API's [`CONTROL_PREFIX`] (as
    /// docs/control-api.yaml spells it), for control routes.
    pub fn control_path(&self) -> Option<&'static str> {
        self.path.strip_prefix(CONTROL_PREFIX)
    }
}

// ---- the routes ---------------------------------------------------------

const OWN: &[HostFamily] = &[HostFamily::Own];
const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];

/// A route on wxemu's own names, open to everyone, plain-text errors.
const fn own(endpoint: Endpoint, path: &'static str, methods: &'static [Method]) -> Route {
    Route {
        endpoint,
        hosts: OWN,
        path,
        methods,
        access: Access::Open,
        wire: Wire::Plain,
        plain_http: false,
    }
}

/// `GET /`: says wxemu is running.
pub static INDEX: Route = own(Endpoint::Other, "/", GET);

/// `GET /avatar/{id}/{size}`: the avatars wxemu draws.
pub static AVATAR: Route = own(Endpoint::Other, wxemu_core::AVATAR_PATH, GET);

/// The built-in demo site (`web::demo`): `/demo` redirects to `/demo/`,
/// the home page; `/demo/{*path}` is its other pages and its backend.
pub static DEMO_ROOT: Route = own(Endpoint::Other, "/demo", GET);
pub static DEMO_HOME: Route = own(Endpoint::Other, "/demo/", GET);
pub static DEMO: Route = own(Endpoint::Other, "/demo/{*path}", GET_POST);

/// The `apiname` of fast login's check-login replies (and of errors on
/// its routes).
pub const CHECK_LOGIN_API: &str = "qrconnectchecklogin";
/// The `apiname` of fast login's authorize replies.
pub const AUTHORIZE_REPLY_API: &str = "qrconnectfastauthorizeconfirm";

/// The desktop client's fast-login API (protocol.md section 1).
const fn fast_login(endpoint: Endpoint, path: &'static str, apiname: &'static str) -> Route {
    Route {
        access: Access::Browser,
        wire: Wire::FastLogin { apiname },
        ..own(endpoint, path, POST)
    }
}

pub static CHECK_LOGIN: Route =
    fast_login(Endpoint::CheckLogin, "/api/check-login", CHECK_LOGIN_API);
pub static AUTHORIZE: Route =
    fast_login(Endpoint::Authorize, "/api/authorize", AUTHORIZE_REPLY_API);

const OWN_AND_OPEN: &[HostFamily] = &[HostFamily::Own, HostFamily::OpenPlatform];
const OWN_OPEN_AND_LP: &[HostFamily] = &[
    HostFamily::Own,
    HostFamily::OpenPlatform,
    HostFamily::LongPoll,
];
const OWN_AND_RES: &[HostFamily] = &[HostFamily::Own, HostFamily::Res];
const OWN_AND_API: &[HostFamily] = &[HostFamily::Own, HostFamily::Api];

/// `GET /connect/qrconnect`: the Open Platform login page.
pub static LOGIN_PAGE: Route = Route {
    wire: Wire::LoginPage,
    hosts: OWN_AND_OPEN,
    ..own(Endpoint::LoginPage, "/connect/qrconnect", GET)
};
/// `GET /connect/l/qrconnect`: the QR long poll.
pub static LONG_POLL: Route = Route {
    wire: Wire::LongPoll,
    hosts: OWN_OPEN_AND_LP,
    ..own(Endpoint::LongPoll, "/connect/l/qrconnect", GET)
};
/// `GET /connect/qrcode/{uuid}`: the QR image. The real image has no
/// errcode format of its own (it loads or it does not); an injected errcode
/// comes out in the Open Platform API's.
pub static QRCODE: Route = Route {
    wire: Wire::OpenApi,
    hosts: OWN_AND_OPEN,
    ..own(Endpoint::Qrcode, "/connect/qrcode/{uuid}", GET)
};
/// The embedding script sites load from res.wx.qq.com.
pub static WXLOGIN_JS: Route = Route {
    hosts: OWN_AND_RES,
    ..own(
        Endpoint::Other,
        "/connect/zh_CN/htmledition/js/wxLogin.js",
        GET,
    )
};

/// `GET /connect/oauth2/authorize`: web authorization inside WeChat's
/// browser; its errors are WeChat's HTML error pages.
pub static OAUTH2_AUTHORIZE: Route = Route {
    wire: Wire::LoginPage,
    hosts: OWN_AND_OPEN,
    ..own(Endpoint::WebAuthorize, "/connect/oauth2/authorize", GET)
};
/// The consent page's own calls (wxemu's: WeChat's consent sheet is
/// native): a held wait for the decision, and the person's tap. Only the
/// page's own origin may call them.
const fn consent_call(path: &'static str) -> Route {
    Route {
        access: Access::Browser,
        wire: Wire::OpenApi,
        hosts: OWN_AND_OPEN,
        ..own(Endpoint::WebAuthorize, path, POST)
    }
}
pub static OAUTH2_CONSENT_WAIT: Route = consent_call("/connect/oauth2/consent/wait");
pub static OAUTH2_CONSENT_ANSWER: Route = consent_call("/connect/oauth2/consent/answer");

/// The token API a site's backend calls (api.weixin.qq.com's paths).
const fn token_api(path: &'static str) -> Route {
    Route {
        wire: Wire::OpenApi,
        plain_http: true,
        hosts: OWN_AND_API,
        ..own(Endpoint::Token, path, GET_POST)
    }
}

pub static ACCESS_TOKEN: Route = token_api("/sns/oauth2/access_token");
pub static REFRESH_TOKEN: Route = token_api("/sns/oauth2/refresh_token");
pub static AUTH: Route = token_api("/sns/auth");
pub static USERINFO: Route = token_api("/sns/userinfo");

// ---- pages inside WeChat's browser (protocol.md section 4) -------------

/// The `cgi-bin` API an Official Account's backend calls.
const fn cgi_api(path: &'static str, methods: &'static [Method]) -> Route {
    Route {
        wire: Wire::CgiApi,
        plain_http: true,
        hosts: OWN_AND_API,
        ..own(Endpoint::CgiBin, path, methods)
    }
}

pub static CGI_TOKEN: Route = cgi_api("/cgi-bin/token", GET);
pub static CGI_STABLE_TOKEN: Route = cgi_api("/cgi-bin/stable_token", POST);
pub static CGI_GETTICKET: Route = cgi_api("/cgi-bin/ticket/getticket", GET);

/// `GET /h5/bridge.js`: the script that plays WeChat's client in a page.
pub static H5_BRIDGE: Route = own(Endpoint::H5, "/h5/bridge.js", GET);

/// The bridge's calls: any page may make them (they log nobody in).
const fn h5_call(path: &'static str) -> Route {
    Route {
        access: Access::AnyPage,
        wire: Wire::CgiApi,
        ..own(Endpoint::H5, path, POST)
    }
}

pub static H5_VERIFY: Route = h5_call("/h5/verify");
pub static H5_CALL: Route = h5_call("/h5/call");

/// jweixin's report beacon (an image load), answered quietly.
pub static SDK_REPORT: Route = Route {
    hosts: OWN_AND_OPEN,
    ..own(Endpoint::Other, "/sdk/report", GET)
};

// ---- Web WeChat (protocol.md section 3): every path the real service
// spreads over login., the home host, webpush. and file., on wxemu's own
// names.

const GET_POST: &[Method] = &[Method::GET, Method::POST];

// Intercepted, each path is on the real host that serves it: jslogin, the
// QR image and the login poll on login.*, the ticket and the session calls
// on the home host, synccheck on webpush.* (and the home host: a client
// without a push-host table sends it there).
const OWN_AND_WEBWX_LOGIN: &[HostFamily] = &[HostFamily::Own, HostFamily::WebwxLogin];
const OWN_AND_WEBWX_HOME: &[HostFamily] = &[HostFamily::Own, HostFamily::WebwxHome];
const OWN_WEBWX_HOME_AND_PUSH: &[HostFamily] = &[
    HostFamily::Own,
    HostFamily::WebwxHome,
    HostFamily::WebwxPush,
];

/// A Web WeChat login route (`window.code=N;` errors).
const fn webwx_login(path: &'static str, methods: &'static [Method]) -> Route {
    Route {
        wire: Wire::WebwxLogin,
        hosts: OWN_AND_WEBWX_LOGIN,
        ..own(Endpoint::WebwxLogin, path, methods)
    }
}

/// A Web WeChat session route (`{"BaseResponse":{"Ret":N}}` errors;
/// synccheck's `retcode`).
const fn webwx(path: &'static str, methods: &'static [Method]) -> Route {
    Route {
        wire: Wire::Webwx,
        hosts: OWN_AND_WEBWX_HOME,
        ..own(Endpoint::Webwx, path, methods)
    }
}

/// `GET|POST /jslogin` (wechat4u posts an empty form).
pub static WEBWX_JSLOGIN: Route = webwx_login("/jslogin", GET_POST);
/// `GET /qrcode/{uuid}`: the QR image.
pub static WEBWX_QRCODE: Route = webwx_login("/qrcode/{uuid}", GET);
/// The login long poll.
pub static WEBWX_LOGIN_POLL: Route = webwx_login("/cgi-bin/mmwebwx-bin/login", GET);
/// The ticket's redemption (XML, cookies).
pub static WEBWX_NEWLOGINPAGE: Route = Route {
    hosts: OWN_AND_WEBWX_HOME,
    ..webwx_login("/cgi-bin/mmwebwx-bin/webwxnewloginpage", GET)
};
pub static WEBWX_INIT: Route = webwx("/cgi-bin/mmwebwx-bin/webwxinit", POST);
pub static WEBWX_STATUSNOTIFY: Route = webwx("/cgi-bin/mmwebwx-bin/webwxstatusnotify", POST);
/// GET with cookies (clients); POST as seed 002 shows.
pub static WEBWX_GETCONTACT: Route = webwx("/cgi-bin/mmwebwx-bin/webwxgetcontact", GET_POST);
pub static WEBWX_BATCHGETCONTACT: Route = webwx("/cgi-bin/mmwebwx-bin/webwxbatchgetcontact", POST);
pub static WEBWX_SYNCCHECK: Route = Route {
    wire: Wire::Synccheck,
    hosts: OWN_WEBWX_HOME_AND_PUSH,
    ..webwx("/cgi-bin/mmwebwx-bin/synccheck", GET)
};
pub static WEBWX_SYNC: Route = webwx("/cgi-bin/mmwebwx-bin/webwxsync", POST);
pub static WEBWX_SENDMSG: Route = webwx("/cgi-bin/mmwebwx-bin/webwxsendmsg", POST);
/// GET (itchat) or POST (wechat4u).
pub static WEBWX_LOGOUT: Route = webwx("/cgi-bin/mmwebwx-bin/webwxlogout", GET_POST);
pub static WEBWX_GETICON: Route = webwx(wxemu_core::GETICON_PATH, GET);
pub static WEBWX_GETHEADIMG: Route = webwx("/cgi-bin/mmwebwx-bin/webwxgetheadimg", GET);

/// `$path` below the control API's prefix: the one place the prefix is
/// spelled.
macro_rules! control_path {
    ($path:literal) => {
        concat!("/__wxemu", $path)
    };
}

/// Where every control route lives.
pub const CONTROL_PREFIX: &str = control_path!("");

/// A control route: `$path` below [`CONTROL_PREFIX`].
macro_rules! control {
    ($name:ident, $path:literal, $($method:ident),+) => {
        pub static $name: Route = Route {
            access: Access::Control,
            wire: Wire::Control,
            ..own(
                Endpoint::Control,
                control_path!($path),
                &[$(Method::$method),+],
            )
        };
    };
}

/// `GET /__wxemu/health`: readiness; the only control call without a token.
pub static HEALTH: Route = Route {
    access: Access::ControlProbe,
    wire: Wire::Control,
    ..own(Endpoint::Control, control_path!("/health"), GET)
};
control!(CLIENT, "/client", GET, PATCH);
control!(ACCOUNTS, "/accounts", GET, POST);
control!(ACCOUNT, "/accounts/{id}", GET, PATCH, PUT, DELETE);
control!(APPS, "/apps", GET, POST);
control!(APP, "/apps/{appid}", GET, PATCH, PUT, DELETE);
control!(DECISIONS, "/decisions", GET, POST, DELETE);
control!(POLICY, "/policy", GET, PUT);
control!(AUTHORIZATIONS, "/authorizations", GET);
control!(AUTHORIZATION, "/authorizations/{id}", POST);
control!(QR_LIST, "/qr", GET);
control!(QR_SCAN, "/qr/{uuid}/scan", POST);
control!(QR_CONFIRM, "/qr/{uuid}/confirm", POST);
control!(QR_CANCEL, "/qr/{uuid}/cancel", POST);
control!(QR_EXPIRE, "/qr/{uuid}/expire", POST);
control!(FAULTS, "/faults", GET, POST, DELETE);
control!(FAULT, "/faults/{id}", DELETE);
control!(CLOCK, "/clock", GET);
control!(CLOCK_ADVANCE, "/clock/advance", POST);
control!(CLOCK_FREEZE, "/clock/freeze", POST);
control!(CLOCK_UNFREEZE, "/clock/unfreeze", POST);
control!(JOURNAL, "/journal", GET, DELETE);
control!(JOURNAL_WAIT, "/journal/wait", GET);
control!(RESET, "/reset", POST);
control!(EVENTS, "/events", GET);
control!(INTERCEPT, "/intercept", GET);
control!(WEBWX_SESSIONS, "/webwx/sessions", GET);
control!(WEBWX_SESSION, "/webwx/sessions/{id}", GET, DELETE);
control!(WEBWX_MESSAGES, "/webwx/messages", GET, POST);
control!(H5_OUTCOMES, "/h5/outcomes", GET, POST, DELETE);
control!(H5_PAGES, "/h5/pages", GET);
// Anything else below the prefix: the control API's own JSON 404, behind
// its token like the rest.
control!(
    CONTROL_UNKNOWN,
    "/{*rest}",
    GET,
    HEAD,
    POST,
    PUT,
    PATCH,
    DELETE,
    OPTIONS
);

/// Every route.
pub static ALL: &[&Route] = &[
    &INDEX,
    &AVATAR,
    &DEMO_ROOT,
    &DEMO_HOME,
    &DEMO,
    &CHECK_LOGIN,
    &AUTHORIZE,
    &LOGIN_PAGE,
    &LONG_POLL,
    &QRCODE,
    &WXLOGIN_JS,
    &OAUTH2_AUTHORIZE,
    &OAUTH2_CONSENT_WAIT,
    &OAUTH2_CONSENT_ANSWER,
    &ACCESS_TOKEN,
    &REFRESH_TOKEN,
    &AUTH,
    &USERINFO,
    &CGI_TOKEN,
    &CGI_STABLE_TOKEN,
    &CGI_GETTICKET,
    &H5_BRIDGE,
    &H5_VERIFY,
    &H5_CALL,
    &SDK_REPORT,
    &HEALTH,
    &CLIENT,
    &ACCOUNTS,
    &ACCOUNT,
    &APPS,
    &APP,
    &DECISIONS,
    &POLICY,
    &AUTHORIZATIONS,
    &AUTHORIZATION,
    &QR_LIST,
    &QR_SCAN,
    &QR_CONFIRM,
    &QR_CANCEL,
    &QR_EXPIRE,
    &FAULTS,
    &FAULT,
    &CLOCK,
    &CLOCK_ADVANCE,
    &CLOCK_FREEZE,
    &CLOCK_UNFREEZE,
    &JOURNAL,
    &JOURNAL_WAIT,
    &RESET,
    &EVENTS,
    &INTERCEPT,
    &WEBWX_SESSIONS,
    &WEBWX_SESSION,
    &WEBWX_MESSAGES,
    &H5_OUTCOMES,
    &H5_PAGES,
    &CONTROL_UNKNOWN,
    &WEBWX_JSLOGIN,
    &WEBWX_QRCODE,
    &WEBWX_LOGIN_POLL,
    &WEBWX_NEWLOGINPAGE,
    &WEBWX_INIT,
    &WEBWX_STATUSNOTIFY,
    &WEBWX_GETCONTACT,
    &WEBWX_BATCHGETCONTACT,
    &WEBWX_SYNCCHECK,
    &WEBWX_SYNC,
    &WEBWX_SENDMSG,
    &WEBWX_LOGOUT,
    &WEBWX_GETICON,
    &WEBWX_GETHEADIMG,
];

/// Every documented control call as (method, path below
/// [`CONTROL_PREFIX`]): what docs/control-api.yaml must list.
pub fn control_calls() -> impl Iterator<Item = (&'static str, &'static str)> {
    ALL.iter()
        .filter(|r| r.endpoint == Endpoint::Control && !std::ptr::eq(**r, &CONTROL_UNKNOWN))
        .flat_map(|r| {
            let path = r.control_path().unwrap_or(r.path);
            r.methods.iter().map(move |m| (m.as_str(), path))
        })
}

/// The route `path` names on `family`, if any: one lookup per family,
/// built once.
pub(crate) struct Matcher {
    families: Vec<matchit::Router<&'static Route>>,
}

impl Matcher {
    pub(crate) fn new() -> Matcher {
        let mut families: Vec<matchit::Router<&'static Route>> = HostFamily::ALL
            .iter()
            .map(|_| matchit::Router::new())
            .collect();
        for route in ALL {
            for family in route.hosts {
                if let Err(e) = families[family.index()].insert(route.path, *route) {
                    panic!("registry: {} on {family:?}: {e}", route.path);
                }
            }
        }
        Matcher { families }
    }

    pub(crate) fn at(&self, family: HostFamily, path: &str) -> Option<&'static Route> {
        self.families[family.index()]
            .at(path)
            .ok()
            .map(|m| *m.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in [
            "localhost.weixin.qq.com:14013",
            "LOCALHOST.weixin.qq.com",
            "localhost.weixin.qq.com.:14013",
            "localhost:1",
            "127.0.0.1:14013",
            "[::1]:14013",
            "[::1]",
        ] {
            assert_eq!(HostFamily::of(ok), Some(HostFamily::Own), "{ok}");
        }
        for bad in [
            "evil.example:14013",
            "localhost.weixin.qq.com.evil.example",
            "127.0.0.2:14013",
            "",
            "[::2]:14013",
        ] {
            assert_eq!(HostFamily::of(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_match_their_routes() {
        let matcher = Matcher::new();
        let at = |path| matcher.at(HostFamily::Own, path).map(|r| r.endpoint);
        for (path, want) in [
            ("/api/check-login", Some(Endpoint::CheckLogin)),
            ("/api/authorize", Some(Endpoint::Authorize)),
            ("/sns/oauth2/access_token", Some(Endpoint::Token)),
            ("/sns/userinfo", Some(Endpoint::Token)),
            ("/connect/l/qrconnect", Some(Endpoint::LongPoll)),
            ("/connect/qrcode/0123456789abcdef", Some(Endpoint::Qrcode)),
            ("/connect/qrconnect", Some(Endpoint::LoginPage)),
            ("/__wxemu/health", Some(Endpoint::Control)),
            ("/__wxemu/nope/deeper", Some(Endpoint::Control)),
            ("/avatar/default/132", Some(Endpoint::Other)),
            ("/__wxemuX", None),
            ("/sns/nope", None),
        ] {
            assert_eq!(at(path), want, "{path}");
        }
        assert!(std::ptr::eq(
            matcher.at(HostFamily::Own, "/__wxemu/faults/7").unwrap(),
            &FAULT
        ));
    }

    #[test]
    fn every_path_is_declared_once_per_family() {
        let mut seen = std::collections::HashSet::new();
        for route in ALL {
            for family in route.hosts {
                assert!(seen.insert((family, route.path)), "{}", route.path);
            }
        }
    }

    #[test]
    fn web_wechat_paths_are_on_their_real_hosts() {
        let matcher = Matcher::new();
        let on = |family: HostFamily, path: &str| matcher.at(family, path).is_some().then_some(());
        let cgi = "/cgi-bin/mmwebwx-bin";
        let poll = format!("{cgi}/login");
        for path in ["/jslogin", "/qrcode/abc", poll.as_str()] {
            assert!(on(HostFamily::WebwxLogin, path).is_some(), "{path}");
            assert!(on(HostFamily::WebwxHome, path).is_none(), "{path}");
        }
        for call in ["webwxnewloginpage", "webwxinit", "webwxsync", "webwxlogout"] {
            let path = format!("{cgi}/{call}");
            assert!(on(HostFamily::WebwxHome, &path).is_some(), "{path}");
            assert!(on(HostFamily::WebwxLogin, &path).is_none(), "{path}");
            assert!(on(HostFamily::WebwxPush, &path).is_none(), "{path}");
        }
        let synccheck = format!("{cgi}/synccheck");
        assert!(on(HostFamily::WebwxPush, &synccheck).is_some());
        assert!(on(HostFamily::WebwxFile, &synccheck).is_none());
        assert_eq!(
            HostFamily::of("wx2.qq.com:443"),
            Some(HostFamily::WebwxHome)
        );
        assert_eq!(
            HostFamily::of("WEBPUSH.wx.qq.com"),
            Some(HostFamily::WebwxPush)
        );
        assert_eq!(
            HostFamily::webwx_home_of("login.wx2.qq.com"),
            Some("wx2.qq.com")
        );
        assert_eq!(
            HostFamily::webwx_home_of("login.weixin.qq.com:443"),
            Some("wx.qq.com")
        );
        assert_eq!(
            HostFamily::webwx_home_of("login.web.wechat.com"),
            Some("web.wechat.com")
        );
        assert_eq!(HostFamily::webwx_home_of("wx.qq.com"), None);
        assert_eq!(HostFamily::webwx_home_of("localhost.weixin.qq.com"), None);
    }

    /// What `[intercept] hosts` intercepts by default is exactly what the
    /// registry serves as the real hosts, and the interception CA may sign
    /// each of them.
    #[test]
    fn default_intercepted_hosts_are_the_intercepted_families() {
        let mut served: Vec<&str> = HostFamily::ALL
            .iter()
            .filter(|f| f.intercepted())
            .flat_map(|f| f.names().iter().copied())
            .collect();
        let mut defaults = wxemu_core::DEFAULT_INTERCEPTED_HOSTS.to_vec();
        served.sort_unstable();
        defaults.sort_unstable();
        assert_eq!(served, defaults);
        for name in defaults {
            assert!(wxemu_certs::CaKind::Intercept.may_sign(name), "{name}");
        }
    }

    #[test]
    fn fill_encodes_segments() {
        assert_eq!(QR_SCAN.fill(&["a b/c"]), "/__wxemu/qr/a%20b%2Fc/scan");
        assert_eq!(FAULT.fill(&["7"]), "/__wxemu/faults/7");
        assert_eq!(AVATAR.fill(&["alice", "132"]), "/avatar/alice/132");
        assert_eq!(HEALTH.control_path(), Some("/health"));
    }
}
