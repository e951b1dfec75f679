//! wxemu as the real WeChat hosts, through the interception proxy over real TLS
//! validated against the interception CA alone (SNI per host): Web WeChat's QR login
//! and session on login.weixin.qq.com, wx.qq.com and webpush.wx.qq.com exactly as a bot
//! library without a base-URL change reaches them; the journal's record of the host
//! each request was addressed to (intercepted vs direct); and the control API's view
//! of interception (`GET /__wxemu/intercept`).

use crate::common;
use crate::tools;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::TestServer;
use http_body_util::{BodyExt, Full};
use hyper::{Method, StatusCode};
use rustls::pki_types::ServerName;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wxemu::core::ApprovalMode;
use wxemu::intercept::InterceptOptions;

const CGI: &str = "/cgi-bin/mmwebwx-bin";

/// A wxemu with an offline proxy (nothing can leave the machine) whose QR codes wait
/// for the test's phone.
async fn intercepting_server() -> TestServer {
    TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| {
            o.limits.long_poll_hold = Duration::from_millis(300);
            o.intercept = InterceptOptions {
                proxy_port: Some(0),
                proxy_offline: true,
                intercept_port: None,
            };
        })
        .config(|c| c.webwx.synccheck_hold = Duration::from_millis(300))
        .start()
        .await
}

/// One HTTP/1.1 connection to `host`:443 through the proxy: CONNECT, then TLS
/// trusting only the interception CA, with SNI `host`.
struct Via {
    host: &'static str,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

struct Answer {
    status: StatusCode,
    headers: hyper::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Via {
    async fn connect(server: &TestServer, host: &'static str) -> Via {
        let proxy: SocketAddr = server.proxy_addr.expect("proxy running");
        let mut tcp = tokio::net::TcpStream::connect(proxy).await.expect("proxy");
        tcp.write_all(
            format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes(),
        )
        .await
        .expect("CONNECT");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            assert_eq!(tcp.read(&mut b).await.expect("read"), 1, "proxy closed");
            head.push(b[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        let ca = std::fs::read(wxemu_certs::intercept_ca_cert_path(server.data_dir.path()))
            .expect("interception CA");
        let der = rustls_pemfile_der(&ca);
        let config = tools::client_trusting(&der, &[b"http/1.1"]);
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from(host).expect("name"), tcp)
            .await
            .unwrap_or_else(|e| panic!("TLS as {host}, verified by the interception CA: {e}"));
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .expect("HTTP/1.1");
        tokio::spawn(connection);
        Via { host, sender }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], "").await
    }
}

/// The DER of the first certificate in a PEM file.
fn rustls_pemfile_der(pem: &[u8]) -> Vec<u8> {
    wxemu_certs::pem_certificates(pem)
        .into_iter()
        .next()
        .expect("a certificate in the PEM")
}

fn field(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no {open} in {xml}"))
        + open.len();
    let end = xml[start..].find('<').expect("closing tag") + start;
    xml[start..end].to_owned()
}

/// Web WeChat's QR login and session as an unmodified bot library reaches them:
/// jslogin, the QR image and the login poll on login.weixin.qq.com; the poll's
/// redirect_uri on the home host wx.qq.com; the ticket, webwxinit and webwxsync there;
/// synccheck on webpush.wx.qq.com. Each through the proxy, each host with its own leaf.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_wechat_logs_in_on_its_real_hosts_through_the_proxy() {
    let server = intercepting_server().await;
    let mut login = Via::connect(&server, "login.weixin.qq.com").await;
    let js = login
        .send(
            Method::POST,
            "/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN&_=1551166567409",
            &[("content-type", "application/x-www-form-urlencoded")],
            "",
        )
        .await;
    let prefix = "window.QRLogin.code = 200; window.QRLogin.uuid = \"";
    assert!(js.text.starts_with(prefix), "{}", js.text);
    let uuid = js.text[prefix.len()..js.text.len() - 2].to_owned();
    let image = login.get(&format!("/qrcode/{uuid}")).await;
    assert_eq!(image.status, StatusCode::OK);
    assert!(image.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("image/"));

    server
        .ctl(
            Method::POST,
            &format!("/qr/{uuid}/scan"),
            Some(json!({"account": "default"})),
        )
        .await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    let poll_path = format!("{CGI}/login?loginicon=true&uuid={uuid}&tip=1&r=-1&_=1");
    let mut poll = login.get(&poll_path).await.text;
    if poll.starts_with("window.code=201;") {
        poll = login.get(&poll_path).await.text;
    }
    let prefix = "window.code=200;\nwindow.redirect_uri=\"";
    assert!(poll.starts_with(prefix), "{poll}");
    let redirect = &poll[prefix.len()..poll.len() - 2];
    // The real service sends the client on from the login host to its home host.
    let path = redirect
        .strip_prefix("https://wx.qq.com")
        .unwrap_or_else(|| panic!("redirect_uri not on wx.qq.com: {redirect}"));
    assert!(
        path.starts_with(&format!("{CGI}/webwxnewloginpage?ticket=")),
        "{path}"
    );

    let mut home = Via::connect(&server, "wx.qq.com").await;
    // wechat4u's way: no version=v2, a 301 without Location carrying the XML.
    let ticket = home.get(&format!("{path}&fun=new")).await;
    assert_eq!(
        ticket.status,
        StatusCode::MOVED_PERMANENTLY,
        "{}",
        ticket.text
    );
    assert!(ticket.headers.get("location").is_none());
    assert_eq!(field(&ticket.text, "ret"), "0", "{}", ticket.text);
    let cookies: Vec<&str> = ticket
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("wxsid=")),
        "{cookies:?}"
    );
    // Host-only: the browser keeps them for wx.qq.com, the host that set them.
    assert!(
        cookies
            .iter()
            .all(|c| !c.to_ascii_lowercase().contains("domain=")),
        "{cookies:?}"
    );
    let (uin, sid, skey) = (
        field(&ticket.text, "wxuin"),
        field(&ticket.text, "wxsid"),
        field(&ticket.text, "skey"),
    );
    let pass_ticket = field(&ticket.text, "pass_ticket");
    let base = json!({"Uin": uin, "Sid": sid, "Skey": skey, "DeviceID": "e123456789012345"});
    let init = home
        .send(
            Method::POST,
            &format!("{CGI}/webwxinit?r=-1&pass_ticket={pass_ticket}"),
            &[],
            &json!({"BaseRequest": base}).to_string(),
        )
        .await
        .json();
    assert_eq!(init["BaseResponse"]["Ret"], 0, "{init}");
    let me = init["User"]["UserName"]
        .as_str()
        .expect("User.UserName")
        .to_owned();
    assert!(me.starts_with('@'), "{me}");
    let synckey = init["SyncKey"].clone();
    let keys: Vec<String> = synckey["List"]
        .as_array()
        .expect("SyncKey.List")
        .iter()
        .map(|k| format!("{}_{}", k["Key"], k["Val"]))
        .collect();

    // A message from a friend, then synccheck on the push host sees it and webwxsync
    // on the home host delivers it.
    server
        .ctl(
            Method::POST,
            "/webwx/messages",
            Some(json!({"text": "hello through the proxy", "from": "friend"})),
        )
        .await;
    let mut push = Via::connect(&server, "webpush.wx.qq.com").await;
    let check = push
        .get(&format!(
            "{CGI}/synccheck?r=1&skey={skey}&sid={sid}&uin={uin}&deviceid=e1&synckey={}&_=1",
            keys.join("|")
        ))
        .await;
    assert_eq!(check.text, r#"window.synccheck={retcode:"0",selector:"2"}"#);
    let sync = home
        .send(
            Method::POST,
            &format!("{CGI}/webwxsync?sid={sid}&skey={skey}&pass_ticket={pass_ticket}"),
            &[],
            &json!({"BaseRequest": base, "SyncKey": synckey, "rr": -1}).to_string(),
        )
        .await
        .json();
    assert_eq!(sync["BaseResponse"]["Ret"], 0, "{sync}");
    assert!(
        sync["AddMsgList"]
            .as_array()
            .expect("AddMsgList")
            .iter()
            .any(|m| m["Content"] == "hello through the proxy" && m["ToUserName"] == me.as_str()),
        "{sync}"
    );

    // Each path lives on its real host only; elsewhere, that host's own 404.
    let misplaced = push.get(&format!("{CGI}/webwxinit")).await;
    assert_eq!(misplaced.status, StatusCode::NOT_FOUND);
    assert!(
        misplaced.text.contains("as webpush.wx.qq.com"),
        "{}",
        misplaced.text
    );
    let misplaced = home.get("/jslogin?appid=wx782c26e4c19acffb").await;
    assert_eq!(misplaced.status, StatusCode::NOT_FOUND);
    let mut file = Via::connect(&server, "file.wx.qq.com").await;
    let media = file.get(&format!("{CGI}/webwxgetmedia")).await;
    assert_eq!(media.status, StatusCode::NOT_FOUND);
    assert!(media.text.contains("as file.wx.qq.com"), "{}", media.text);

    // The journal says which host each call went to.
    let journal = server
        .ctl(Method::GET, "/journal?host=wx.qq.com", None)
        .await;
    let answered: Vec<(&str, u64)> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["status"].as_u64().unwrap()))
        .collect();
    assert!(
        answered.contains(&("/cgi-bin/mmwebwx-bin/webwxinit", 200)),
        "{answered:?}"
    );
    // The misplaced jslogin above, as the home host's 404.
    assert!(answered.contains(&("/jslogin", 404)), "{answered:?}");
    let journal = server
        .ctl(Method::GET, "/journal?host=login.weixin.qq.com", None)
        .await;
    assert!(journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"] == "/jslogin"));
}

/// The journal records the host each request was addressed to: the token API through
/// the proxy as api.weixin.qq.com, the same call made directly as
/// localhost.weixin.qq.com.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_records_the_host_addressed() {
    let server = intercepting_server().await;
    let mut api = Via::connect(&server, "api.weixin.qq.com").await;
    let via_proxy = api
        .get("/sns/auth?access_token=intercepted&openid=o1")
        .await;
    assert!(
        via_proxy.json()["errcode"].as_i64().is_some(),
        "{}",
        via_proxy.text
    );
    let direct = server.get("/sns/auth?access_token=direct&openid=o1").await;
    assert!(direct.json()["errcode"].as_i64().is_some());

    let entries = server
        .ctl(Method::GET, "/journal?path=/sns/auth", None)
        .await;
    // The access tokens are masked to their length; enough to tell the two apart.
    let hosts: HashMap<&str, &str> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let query = e["query"].as_str().unwrap();
            let which = if query.contains("access_token=…(11)") {
                "proxy"
            } else {
                "direct"
            };
            (which, e["host"].as_str().unwrap_or("(none)"))
        })
        .collect();
    assert_eq!(hosts.get("proxy"), Some(&"api.weixin.qq.com"), "{entries}");
    assert_eq!(
        hosts.get("direct"),
        Some(&"localhost.weixin.qq.com"),
        "{entries}"
    );
    // And the filter picks each out, any case.
    let only = server
        .ctl(Method::GET, "/journal?host=API.weixin.qq.com", None)
        .await;
    let only = only["entries"].as_array().unwrap();
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!(only[0]["host"], "api.weixin.qq.com");
}

/// `GET /__wxemu/intercept`: on, with the proxy's port, offline, the hosts and the
/// CA's fingerprint and trust; off without interception.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_shows_interception() {
    let server = intercepting_server().await;
    let status = server.ctl(Method::GET, "/intercept", None).await;
    let proxy = server.proxy_addr.unwrap();
    assert_eq!(status["enabled"], true, "{status}");
    assert_eq!(status["bind"], "127.0.0.1");
    assert_eq!(status["loopback_only"], true);
    assert_eq!(status["proxy"]["port"], proxy.port());
    assert_eq!(status["proxy"]["url"], format!("http://{proxy}"));
    assert_eq!(status["proxy"]["pac"], format!("http://{proxy}/proxy.pac"));
    assert_eq!(status["proxy"]["offline"], true);
    assert_eq!(status["hosts_mode"], Value::Null);
    let hosts: Vec<&str> = status["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    for host in [
        "api.weixin.qq.com",
        "login.weixin.qq.com",
        "wx.qq.com",
        "webpush.wx.qq.com",
    ] {
        assert!(hosts.contains(&host), "{host} in {hosts:?}");
    }
    let ca = std::fs::read(wxemu_certs::intercept_ca_cert_path(server.data_dir.path())).unwrap();
    assert_eq!(
        status["ca"]["sha256"],
        wxemu_certs::sha256_hex(&rustls_pemfile_der(&ca))
    );
    // A fresh CA in a temporary data directory is trusted nowhere on this machine.
    assert!(
        ["not_trusted", "unknown"].contains(&status["ca"]["trust"].as_str().unwrap()),
        "{status}"
    );
    assert!(status["ca"]["stores"].is_array());

    let plain = TestServer::start().await;
    let status = plain.ctl(Method::GET, "/intercept", None).await;
    assert_eq!(status["enabled"], false, "{status}");
    assert_eq!(status["proxy"], Value::Null);
    assert_eq!(status["ca"], Value::Null);
    assert!(status["hosts"].as_array().is_some_and(|h| !h.is_empty()));
}
