//! A tiny third-party website with "Log in with WeChat", pointed at wxemu.
//!
//! ```text
//! cargo run --example site -- --wxemu https://localhost.weixin.qq.com:14013 \
//!     --port 8080 --appid wx0123456789abcdef --secret THE_SECRET
//! ```
//!
//! It is what a real site does, in one file:
//! 1. `/` links to `/login`, which stores a random `state` in the visitor's
//!    session and redirects to wxemu's `/connect/qrconnect` (the redirect
//!    variant); `/embedded` shows the QR code in the page with wxLogin.js
//!    (`?self_redirect=true|false` picks who navigates after the login,
//!    `&fast_login=0` shows only the QR code).
//! 2. wxemu sends the browser back to `/callback?code=..&state=..`. The site
//!    checks `state` against the session (CSRF), then trades the code for an
//!    access token *server-side* with its secret over HTTPS, trusting only
//!    wxemu's CA, and fetches the profile from `/sns/userinfo`.
//! 3. `/me` shows who logged in.
//!
//! Plain HTTP on 127.0.0.1 is fine for a development site.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use clap::Parser;
use serde::Deserialize;
use serde_json::Value;
use wxemu::client::Client;
use wxemu::registry;
use wxemu::site::{Callback, CallbackQuery, Sessions, TokenExchange, User};

#[derive(Debug, Parser)]
#[command(about = "An example website using \"Log in with WeChat\" against wxemu")]
struct Args {
    /// wxemu's base URL (its login page, wxLogin.js and token API).
    #[arg(long, default_value = "https://localhost.weixin.qq.com:14013")]
    wxemu: url::Url,
    /// Port for this site on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The website app's AppID (an [[apps]] entry in wxemu's config).
    #[arg(long, env = "SITE_APPID")]
    appid: String,
    /// The app's AppSecret. Only this server ever sees it.
    #[arg(long, env = "SITE_SECRET")]
    secret: String,
    /// wxemu's CA certificate (PEM) [default: the one `wxemu ca path` prints].
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

/// wxLogin.js on wxemu (the real one lives on res.wx.qq.com).
const WXLOGIN_JS_PATH: &str = registry::WXLOGIN_JS.path;
/// The site's visitors (plain HTTP on loopback: no `Secure` cookie).
fn sessions() -> Sessions {
    Sessions::new("site_session", "/", false, 10_000)
}

struct Site {
    wxemu: url::Url,
    base_url: String,
    appid: String,
    secret: String,
    /// HTTPS to wxemu, trusting exactly its CA: no system roots, no
    /// "accept anything".
    api: Client,
    sessions: Sessions,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(message) = run(args).await {
        eprintln!("site: {message}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let ca_path = match args.ca {
        Some(path) => path,
        None => {
            let data_dir = std::env::var_os("WXEMU_DATA_DIR")
                .map(PathBuf::from)
                .or_else(wxemu::default_data_dir)
                .ok_or("no data directory: pass --ca (see `wxemu ca path`)")?;
            wxemu_certs::ca_cert_path(&data_dir)
        }
    };
    if args.wxemu.scheme() != "https" || !args.wxemu.has_host() {
        return Err(format!(
            "--wxemu {} must be wxemu's https URL, like https://localhost.weixin.qq.com:14013",
            args.wxemu
        ));
    }
    let api = wxemu_client(&args.wxemu, &ca_path).await?;
    let site = Arc::new(Site {
        api,
        base_url: format!("http://127.0.0.1:{}", args.port),
        wxemu: args.wxemu,
        appid: args.appid,
        secret: args.secret,
        sessions: sessions(),
    });
    let app = Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/embedded", get(embedded))
        .route("/callback", get(callback))
        .route("/me", get(me))
        .with_state(site.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("example site on http://{addr}/ (wxemu at {})", site.wxemu);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

/// A client for wxemu at `url` (an https URL, checked), trusting the CA in
/// `ca_path` only.
async fn wxemu_client(url: &url::Url, ca_path: &std::path::Path) -> Result<Client, String> {
    let host = match url.host() {
        Some(url::Host::Domain(name)) => name.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(format!("--wxemu {url} has no host")),
    };
    let port = url.port_or_known_default().unwrap_or(443);
    Client::builder(resolve(&host, port).await?)
        .server_name(&host)
        .trust_pem_file(ca_path)
        .build()
        .map_err(|e| e.to_string())
}

/// `localhost.weixin.qq.com` has the public A record 127.0.0.1; an offline
/// machine may have no DNS for it, and wxemu only ever listens on loopback
/// (IPv4, so that is preferred when a name has both).
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let found: Result<Vec<SocketAddr>, _> = tokio::net::lookup_host((host, port))
        .await
        .map(Iterator::collect);
    match found {
        Ok(addrs) if !addrs.is_empty() => Ok(addrs
            .iter()
            .find(|a| a.is_ipv4())
            .copied()
            .unwrap_or(addrs[0])),
        _ if host.eq_ignore_ascii_case("localhost.weixin.qq.com") => {
            Ok(SocketAddr::from(([127, 0, 0, 1], port)))
        }
        Ok(_) => Err(format!("{host} has no address")),
        Err(e) => Err(format!("cannot resolve {host}: {e}")),
    }
}

// ---------------------------------------------------------------- pages

async fn home(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let who = match site.sessions.user(&headers) {
        Some(user) => format!(
            "<p>Logged in as <b>{}</b>. <a href=\"/me\">Your profile</a></p>",
            esc(&user.nickname)
        ),
        None => String::new(),
    };
    page(
        "Example site",
        &format!(
            "{who}<p><a class=\"wechat\" id=\"login\" href=\"/login\">Log in with WeChat</a></p>\
             <p>Or with the QR code in this page: \
             <a href=\"/embedded?self_redirect=true\">embedded, frame navigates</a> · \
             <a href=\"/embedded?self_redirect=false\">embedded, page navigates</a></p>"
        ),
    )
}

/// The redirect variant: a fresh state in the session, then off to wxemu.
async fn login(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let (sid, state) = site.sessions.start_login(&headers);
    let url = wxemu::site::login_url(
        site.wxemu_url(registry::LOGIN_PAGE.path),
        &site.appid,
        &site.redirect_uri(),
        &state,
    );
    site.with_cookie(&sid, Redirect::to(url.as_str()))
}

#[derive(Deserialize)]
struct EmbeddedQuery {
    self_redirect: Option<String>,
    /// `0`: QR code only, no fast login.
    fast_login: Option<String>,
}

/// The embedded variant: wxLogin.js draws the QR code into #login_container.
async fn embedded(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Query(query): Query<EmbeddedQuery>,
) -> Response {
    let (sid, state) = site.sessions.start_login(&headers);
    let self_redirect = query.self_redirect.as_deref() == Some("true");
    let script = site.wxemu_url(WXLOGIN_JS_PATH);
    // wxLogin.js expects redirect_uri already URL-encoded; values go into a
    // JS string, so encode them as JSON.
    let options = serde_json::json!({
        "id": "login_container",
        "appid": site.appid,
        "scope": wxemu::site::SCOPE,
        "redirect_uri": form_encode(&site.redirect_uri()),
        "state": state,
        "self_redirect": self_redirect,
        "fast_login": if query.fast_login.as_deref() == Some("0") { 0 } else { 1 },
    });
    let body = format!(
        "<p>Scan the code with WeChat (self_redirect: {self_redirect}).</p>\
         <div id=\"login_container\"></div>\
         <p id=\"ready\"></p>\
         <script src=\"{script}\"></script>\
         <script>\
           var options = {options};\
           options.onReady = function (ok) {{ document.getElementById('ready').textContent = ok ? 'wxReady' : 'not ready'; }};\
           new WxLogin(options);\
         </script>",
        script = esc(script.as_str()),
        options = json_for_script(&options),
    );
    site.with_cookie(&sid, page("Log in with WeChat (embedded)", &body))
}

/// wxemu sends the browser here with the code: the shared callback checks
/// the state and trades the code server-side (over HTTPS, [`Site`]'s
/// [`TokenExchange`]).
async fn callback(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    match site.sessions.finish_login(&headers, query, &*site).await {
        Callback::LeaveFrame => Html(wxemu::site::LEAVE_FRAME_HTML).into_response(),
        Callback::LoggedIn => Redirect::to("/me").into_response(),
        Callback::Refused(status, message) => error_page(status, &message),
    }
}

async fn me(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let Some(user) = site.sessions.user(&headers) else {
        return Redirect::to("/").into_response();
    };
    let body = format!(
        "<div class=\"profile\"><img id=\"avatar\" src=\"{avatar}\" width=\"96\" height=\"96\" alt=\"\">\
         <h2 id=\"nickname\">{nickname}</h2>\
         <p>openid: <code id=\"openid\">{openid}</code></p>\
         <p>unionid: <code id=\"unionid\">{unionid}</code></p>\
         <p>{city} {province} {country}</p></div>\
         <p><a href=\"/\">Home</a></p>",
        avatar = esc(&user.headimgurl),
        nickname = esc(&user.nickname),
        openid = esc(&user.openid),
        unionid = esc(&user.unionid),
        city = esc(&user.city),
        province = esc(&user.province),
        country = esc(&user.country),
    );
    page("Logged in", &body)
}

// ---------------------------------------------------------------- the token API

impl Site {
    /// A path on wxemu (`--wxemu` was checked to be an https URL at start).
    fn wxemu_url(&self, path: &str) -> url::Url {
        let mut url = self.wxemu.clone();
        url.set_path(path);
        url.set_query(None);
        url.set_fragment(None);
        url
    }

    fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base_url)
    }

    fn with_cookie(&self, sid: &str, response: impl IntoResponse) -> Response {
        (
            [(header::SET_COOKIE, self.sessions.set_cookie(sid))],
            response,
        )
            .into_response()
    }

    /// code -> access_token -> userinfo, the two calls every site makes.
    async fn fetch_user(&self, code: &str) -> Result<User, String> {
        let mut token_url = self.wxemu_url(registry::ACCESS_TOKEN.path);
        token_url
            .query_pairs_mut()
            .append_pair("appid", &self.appid)
            .append_pair("secret", &self.secret)
            .append_pair("code", code)
            .append_pair("grant_type", "authorization_code");
        let token = self.get_json(&token_url).await?;
        let access_token = token["access_token"]
            .as_str()
            .ok_or("no access_token in the reply")?;
        let openid = token["openid"].as_str().ok_or("no openid in the reply")?;
        let mut info_url = self.wxemu_url(registry::USERINFO.path);
        info_url
            .query_pairs_mut()
            .append_pair("access_token", access_token)
            .append_pair("openid", openid);
        let info = self.get_json(&info_url).await?;
        let text = |json: &Value, name: &str| json[name].as_str().unwrap_or_default().to_owned();
        Ok(User {
            openid: text(&info, "openid"),
            nickname: text(&info, "nickname"),
            headimgurl: text(&info, "headimgurl"),
            // userinfo leaves unionid out when the app has no owner.
            unionid: info["unionid"]
                .as_str()
                .or(token["unionid"].as_str())
                .unwrap_or_default()
                .to_owned(),
            city: text(&info, "city"),
            province: text(&info, "province"),
            country: text(&info, "country"),
            scope: text(&token, "scope"),
        })
    }

    /// One HTTPS GET, validated against wxemu's CA. WeChat reports errors
    /// as HTTP 200 with an errcode, so check that too.
    async fn get_json(&self, url: &url::Url) -> Result<Value, String> {
        let reply = self
            .api
            .get(url.as_str())
            .send()
            .await
            .map_err(|e| format!("{}: {e}", url.path()))?;
        let json: Value = reply
            .json()
            .map_err(|e| format!("{} did not answer JSON: {e}", url.path()))?;
        match json["errcode"].as_i64() {
            Some(code) if code != 0 => Err(format!(
                "{} failed: errcode {code}, {}",
                url.path(),
                json["errmsg"].as_str().unwrap_or("")
            )),
            _ => Ok(json),
        }
    }
}

impl TokenExchange for Site {
    async fn user_for_code(&self, code: &str) -> Result<User, String> {
        self.fetch_user(code).await
    }
}

// ---------------------------------------------------------------- HTML

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}\
         a.wechat{{display:inline-block;background:#07c160;color:#fff;padding:.6em 1.2em;border-radius:4px;text-decoration:none}}\
         .profile img{{border-radius:8px}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = esc(title)
    ))
    .into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<p id=\"error\">{}</p><p><a href=\"/\">Home</a></p>",
        esc(message)
    );
    (status, page("Login failed", &body)).into_response()
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// JSON that is safe inside a <script> element.
fn json_for_script(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}
