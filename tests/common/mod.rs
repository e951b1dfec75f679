//! A real wxemu server on an ephemeral loopback port, and a client that
//! talks to it over real TLS, trusting only the server's own generated CA
//! and sending SNI `localhost.weixin.qq.com`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Version};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use wxemu::core::ApprovalMode;
use wxemu::core::Config;
use wxemu::{Emulator, ServeOptions, Server};

pub const ORIGIN: &str = "https://open.weixin.qq.com";
pub const APPID: &str = "wxa04304ceaedaf538";
pub const REDIRECT: &str = "https://site.example/cb?app=website";

pub struct TestServer {
    pub client: Client,
    pub emu: Arc<Emulator>,
    /// The interception proxy, when the options asked for one.
    pub proxy_addr: Option<SocketAddr>,
    pub data_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// A whole answer ([`wxemu::client::Response`]: status, headers, body),
/// with the shortcuts tests want: JSON that must parse, its errcode.
pub struct Reply(pub wxemu::client::Response);

impl std::ops::Deref for Reply {
    type Target = wxemu::client::Response;
    fn deref(&self) -> &wxemu::client::Response {
        &self.0
    }
}

impl Reply {
    pub fn json(&self) -> Value {
        self.0
            .json()
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
    pub fn errcode(&self) -> i64 {
        self.json()["errcode"]
            .as_i64()
            .expect("errcode is a number")
    }
}

pub struct Builder {
    options: ServeOptions,
    config: Config,
    data_dir: tempfile::TempDir,
}

impl Builder {
    pub fn approval(mut self, mode: ApprovalMode) -> Self {
        self.options.approval = mode;
        self
    }
    pub fn config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }
    /// Registers a website app in the config.
    pub fn app(self, app: wxemu::core::WebsiteApp) -> Self {
        self.config(|c| c.apps.push(app))
    }
    pub fn options(mut self, change: impl FnOnce(&mut ServeOptions)) -> Self {
        change(&mut self.options);
        self
    }
    pub async fn start(self) -> TestServer {
        self.config.save(&self.options.config_path).unwrap();
        let server = Server::bind(self.options).await.expect("server binds");
        let addr = server.local_addr();
        let emu = server.emulator();
        let ca_der = server.certs().ca_cert_der.clone();
        let proxy_addr = server.interception().and_then(|i| i.proxy_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        TestServer {
            client: Client::new(addr, ca_der),
            emu,
            proxy_addr,
            data_dir: self.data_dir,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

impl TestServer {
    pub fn builder() -> Builder {
        let data_dir = tempfile::tempdir().unwrap();
        let mut options = ServeOptions::new(data_dir.path().to_owned());
        options.port = 0;
        options.approval = ApprovalMode::Auto;
        Builder {
            options,
            config: Config::default(),
            data_dir,
        }
    }

    pub async fn start() -> TestServer {
        Self::builder().start().await
    }

    /// Stops the server the way Ctrl-C does and waits until it has; hands
    /// back the data directory for a restart.
    pub async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
        self.data_dir
    }
}

/// A client of a running wxemu ([`wxemu::client`]): real TLS, trusting only
/// its CA, SNI `localhost.weixin.qq.com`. `send` and the helpers speak
/// HTTP/1.1 (pooled connections), `send_h2` HTTP/2.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    /// Trusts the server's CA; the clients below are made from it.
    trusting: wxemu::client::Builder,
    http1: wxemu::client::Client,
    http2: wxemu::client::Client,
}

impl std::ops::Deref for TestServer {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Generous: some requests wait for a decision or a long poll on purpose.
const TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    /// A client of the server at `addr` whose CA is `ca_der`.
    pub fn new(addr: SocketAddr, ca_der: Vec<u8>) -> Client {
        Client::trusting(wxemu::client::Client::builder(addr).trust_der(ca_der))
    }

    /// A client of the server at `addr` with the CA of `data_dir`.
    pub fn for_data_dir(addr: SocketAddr, data_dir: &std::path::Path) -> Client {
        Client::trusting(wxemu::client::Client::builder(addr).trust_data_dir(data_dir))
    }

    fn trusting(trusting: wxemu::client::Builder) -> Client {
        let trusting = trusting.timeout(TIMEOUT);
        let http1 = trusting
            .clone()
            .http1_only()
            .build()
            .expect("HTTP/1.1 client");
        Client {
            addr: http1.addr(),
            http2: trusting
                .clone()
                .http2_only()
                .build()
                .expect("HTTP/2 client"),
            http1,
            trusting,
        }
    }

    pub fn tls_config(
        &self,
        alpn: &[&'static [u8]],
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<rustls::ClientConfig> {
        self.trusting
            .clone()
            .alpn(alpn)
            .tls_versions(versions)
            .tls_config()
            .unwrap()
    }

    /// A TLS connection validated against the server's CA for `sni`.
    pub async fn connect_with(
        &self,
        config: Arc<rustls::ClientConfig>,
        sni: &str,
    ) -> Result<TlsStream<TcpStream>, wxemu::client::Error> {
        wxemu::client::connect_tls(self.addr, config, sni).await
    }

    /// A new TLS connection offering only HTTP/1.1.
    pub async fn connect(&self) -> TlsStream<TcpStream> {
        self.http1.connect_tls().await.expect("TLS handshake")
    }

    /// One HTTP/1.1 request.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Reply {
        Reply(self.http1.send(request).await.expect("response"))
    }

    /// One HTTP/2 request (ALPN h2).
    pub async fn send_h2(&self, request: Request<Full<Bytes>>) -> Reply {
        let reply = Reply(self.http2.send(request).await.expect("response"));
        assert_eq!(reply.version, Version::HTTP_2);
        reply
    }

    /// A request with `content-type: application/json` and, for a path,
    /// `Host: localhost.weixin.qq.com:<port>`.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        origin: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Request<Full<Bytes>> {
        let mut builder = self
            .http1
            .request(method, path)
            .header("content-type", "application/json")
            .body(body);
        if let Some(origin) = origin {
            builder = builder.origin(origin);
        }
        builder.build().unwrap()
    }

    /// A GET without Origin (what a page load, a script tag or a site's
    /// backend sends).
    pub async fn get(&self, path_and_query: &str) -> Reply {
        Reply(
            self.http1
                .get(path_and_query)
                .send()
                .await
                .expect("response"),
        )
    }

    /// `method path` with extra `headers` (a cookie, say) and `body`.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut builder = self.http1.request(method, path).body(body);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        Reply(builder.send().await.expect("response"))
    }

    pub async fn post(&self, path: &str, origin: Option<&str>, body: impl Into<Bytes>) -> Reply {
        self.send(self.request(Method::POST, path, origin, body))
            .await
    }

    pub async fn check_login_for(&self, appid: &str, redirect_uri: &str, state: &str) -> Reply {
        let body = json!({"apiname": "qrconnectchecklogin",
            "jsdata": {"appid": appid, "scope": "snsapi_login", "redirect_uri": redirect_uri, "state": state}});
        self.post("/api/check-login", Some(ORIGIN), body.to_string())
            .await
    }

    pub async fn check_login(&self) -> Reply {
        self.check_login_for(APPID, REDIRECT, "st4te").await
    }

    pub async fn authorize(
        &self,
        uuid: &str,
        appid: &str,
        redirect_uri: &str,
        state: &str,
    ) -> Reply {
        self.post(
            "/api/authorize",
            Some(ORIGIN),
            authorize_body(uuid, appid, redirect_uri, state),
        )
        .await
    }

    /// An authorize for `uuid` (APPID, REDIRECT, state `st4te`) on its own
    /// HTTP/1.1 connection, already open when this returns, answered in the
    /// background: for requests that wait for a decision.
    pub async fn authorize_in_background(&self, uuid: &str) -> tokio::task::JoinHandle<Reply> {
        let body = authorize_body(uuid, APPID, REDIRECT, "st4te");
        let request = self.request(Method::POST, "/api/authorize", Some(ORIGIN), body);
        let mut connection = self.http1.connect().await.expect("connection");
        tokio::spawn(async move { Reply(connection.send(request).await.expect("response")) })
    }

    /// check-login then authorize for the same target.
    pub async fn login(&self, redirect_uri: &str, state: &str) -> Reply {
        let check = self.check_login_for(APPID, redirect_uri, state).await;
        assert_eq!(check.errcode(), 0, "{}", check.text());
        let uuid = check.json()["jsdata"]["authorize_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        self.authorize(&uuid, APPID, redirect_uri, state).await
    }

    /// Raw bytes over TLS; returns everything the server sent until it
    /// closed the connection (or `wait` passed).
    pub async fn raw(&self, bytes: &[u8], wait: Duration) -> String {
        let mut stream = self.connect().await;
        stream.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Adds an account with only an id and a nickname to the config.
pub fn add_account(config: &mut Config, id: &str, nickname: &str) {
    config.accounts.push(wxemu::core::Account {
        id: id.into(),
        nickname: nickname.into(),
        ..wxemu::core::Account::default()
    });
}

pub fn authorize_body(uuid: &str, appid: &str, redirect_uri: &str, state: &str) -> String {
    json!({"apiname": "qrconnectfastauthorize",
        "jsdata": {"data": "{\"x\":576,\"y\":391.5}", "appid": appid, "scope": "snsapi_login",
                   "redirect_uri": redirect_uri, "state": state, "authorize_uuid": uuid}})
    .to_string()
}

pub async fn read(response: hyper::Response<hyper::body::Incoming>) -> Reply {
    Reply(
        wxemu::client::Response::read(response)
            .await
            .expect("whole body"),
    )
}

/// Waits for the next approval event matching `want`, at most 10 s.
pub async fn next_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<wxemu::core::ApprovalEvent>,
    mut want: impl FnMut(&wxemu::core::ApprovalEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let event = events.recv().await.expect("event stream open");
            if let Some(found) = want(&event) {
                return found;
            }
        }
    })
    .await
    .expect("the expected approval event within 10 s")
}

/// Waits for the next authorize request that asks for a decision, at most 10 s.
pub async fn next_request(
    events: &mut tokio::sync::broadcast::Receiver<wxemu::core::ApprovalEvent>,
) -> Arc<wxemu::core::AuthorizeRequest> {
    next_event(events, |e| match e {
        wxemu::core::ApprovalEvent::Requested(r) => Some(r.clone()),
        _ => None,
    })
    .await
}

impl TestServer {
    /// The control token, as `wxemu ctl` reads it: from the data directory.
    pub fn control_token(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("control-token"))
            .expect("control-token written at start")
            .trim()
            .to_owned()
    }

    /// A control API call with the right token and no Origin (a script).
    pub async fn control(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let auth = format!("Bearer {}", self.control_token());
        self.control_with(method, path, &[("authorization", auth.as_str())], body)
            .await
    }

    /// A control API call with exactly these extra headers.
    pub async fn control_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Reply {
        let path = format!("/__wxemu{path}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut request = self.request(method, &path, None, body);
        for (name, value) in headers {
            request.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        self.send(request).await
    }

    /// A control call that must succeed; its JSON.
    pub async fn ctl(&self, method: Method, path: &str, body: Option<serde_json::Value>) -> Value {
        let reply = self.control(method.clone(), path, body).await;
        assert!(
            reply.status.is_success(),
            "{method} {path}: {} {}",
            reply.status,
            reply.text()
        );
        if reply.body.is_empty() {
            Value::Null
        } else {
            reply.json()
        }
    }

    /// check-login's authorize_uuid, asserting success.
    pub async fn uuid(&self) -> String {
        let check = self.check_login().await;
        assert_eq!(check.errcode(), 0, "{}", check.text());
        check.json()["jsdata"]["authorize_uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The code inside an allowed authorize's redirect_url.
pub fn code_of(reply: &Reply) -> String {
    let body = reply.json();
    let url = body["jsdata"]["redirect_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no redirect_url: {body}"));
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_owned()
}

/// An open `GET /__wxemu/events` stream, read event by event.
pub struct Events {
    stream: wxemu::client::EventStream,
}

/// How long a test waits for an event before it fails (a guard against a
/// hang, not a measurement: events arrive in milliseconds).
const EVENT_WAIT: Duration = Duration::from_secs(30);

impl TestServer {
    /// Subscribes to the event stream (HTTP/1.1); every change made after
    /// this returns is on it.
    pub async fn events(&self) -> Events {
        self.events_on(&self.http1).await
    }

    /// [`TestServer::events`] over HTTP/2.
    pub async fn events_h2(&self) -> Events {
        self.events_on(&self.http2).await
    }

    async fn events_on(&self, client: &wxemu::client::Client) -> Events {
        let opened = client
            .get("/__wxemu/events")
            .bearer(&self.control_token())
            .events()
            .await
            .expect("the event stream opens");
        match opened {
            wxemu::client::Opened::Stream(stream) => Events { stream },
            wxemu::client::Opened::Refused(reply) => {
                panic!("events refused: {} {}", reply.status, reply.text())
            }
        }
    }
}

impl Events {
    pub fn content_type(&self) -> &str {
        self.stream.headers["content-type"].to_str().unwrap()
    }

    /// The next event, parsed; None once the server ended the stream.
    pub async fn next(&mut self) -> Option<Value> {
        self.read()
            .await
            .expect("an event or the end of the stream")
    }

    /// Err when nothing came within [`EVENT_WAIT`].
    async fn read(&mut self) -> Result<Option<Value>, tokio::time::error::Elapsed> {
        let data = tokio::time::timeout(EVENT_WAIT, self.stream.next()).await?;
        let Some(data) = data.expect("the stream reads cleanly") else {
            return Ok(None);
        };
        Ok(Some(
            serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}")),
        ))
    }

    /// Reads up to the first event of `kind` (its `type`) that `matches`;
    /// fails, naming `what` should have caused it and what came instead, if
    /// the stream ends or goes quiet first.
    pub async fn expect(
        &mut self,
        what: &str,
        kind: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut seen = Vec::new();
        loop {
            match self.read().await {
                Ok(Some(event)) if event["type"] == kind && matches(&event) => return event,
                Ok(Some(event)) => seen.push(event),
                Ok(None) | Err(_) => panic!("{what}: no {kind} event; the stream had {seen:?}"),
            }
        }
    }
}
