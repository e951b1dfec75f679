//! Web WeChat over real TLS against a real listener (issue 11): the QR
//! login (jslogin, the login poll's 408/201/200/400, webwxnewloginpage's
//! 301 vs 200 and cookies), the session (init, statusnotify, contacts,
//! synccheck hold/wake/1101, sync keys, sendmsg, logout), one live session
//! per account, expiry on the emulated clock, the control API and journal
//! masking. The real bot libraries run in tests/bots (node --test).

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use common::{Reply, TestServer};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use wxemu::core::ApprovalMode;

const CGI: &str = "/cgi-bin/mmwebwx-bin";

async fn server() -> TestServer {
    server_with(|_| {}).await
}

/// A server whose QR codes wait for the test's phone, with short holds.
async fn server_with(config: impl FnOnce(&mut wxemu::core::Config)) -> TestServer {
    TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(300))
        .config(|c| {
            c.webwx.synccheck_hold = Duration::from_millis(300);
            config(c);
        })
        .start()
        .await
}

/// A bot's view of one login: credentials and cookies.
#[derive(Clone)]
struct Bot {
    uin: String,
    sid: String,
    skey: String,
    pass_ticket: String,
    cookies: HashMap<String, String>,
}

impl Bot {
    fn base_request(&self) -> Value {
        // As wechat4u sends it: Uin a string, DeviceID per call.
        json!({"Uin": self.uin, "Sid": self.sid, "Skey": self.skey, "DeviceID": "e123456789012345"})
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn get_with(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = server.request(Method::GET, path, None, Bytes::new());
    for (name, value) in headers {
        request.headers_mut().insert(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    server.send(request).await
}

async fn post_raw(server: &TestServer, path: &str, body: impl Into<Bytes>) -> Reply {
    let mut request = server.request(Method::POST, path, None, body);
    // itchat sends no Content-Type at all.
    request.headers_mut().remove("content-type");
    server.send(request).await
}

async fn post_json(server: &TestServer, path: &str, body: Value) -> Value {
    let reply = post_raw(server, path, body.to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
    reply.json()
}

fn ret(v: &Value) -> i64 {
    v["BaseResponse"]["Ret"]
        .as_i64()
        .unwrap_or_else(|| panic!("no BaseResponse.Ret in {v}"))
}

/// jslogin: the exact text, and the uuid in it.
async fn jslogin(server: &TestServer) -> String {
    let reply = server
        .get("/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN&_=1551166567409")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    let prefix = "window.QRLogin.code = 200; window.QRLogin.uuid = \"";
    assert!(text.starts_with(prefix) && text.ends_with("\";"), "{text}");
    text[prefix.len()..text.len() - 2].to_owned()
}

async fn poll(server: &TestServer, uuid: &str) -> String {
    server
        .get(&format!(
            "{CGI}/login?loginicon=true&uuid={uuid}&tip=1&r=-1&_=1"
        ))
        .await
        .text()
}

fn parse_cookies(reply: &Reply) -> (HashMap<String, String>, Vec<String>) {
    let raw: Vec<String> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let jar = raw
        .iter()
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (jar, raw)
}

fn xml_field(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        + open.len();
    let end = xml[start..].find('<').unwrap() + start;
    xml[start..end].to_owned()
}

/// The whole QR login as a bot does it, the phone of `account` scanning
/// and confirming through the control API. Returns the bot's credentials.
async fn login_as(server: &TestServer, account: &str) -> Bot {
    let uuid = jslogin(server).await;
    server
        .ctl(
            Method::POST,
            &format!("/qr/{uuid}/scan"),
            Some(json!({"account": account})),
        )
        .await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    let mut text = poll(server, &uuid).await;
    if text.starts_with("window.code=201;") {
        text = poll(server, &uuid).await;
    }
    let redirect = redirect_of(&text);
    let reply = server.get(&redirect.replacen(&origin(server), "", 1)).await;
    assert_eq!(
        reply.status,
        StatusCode::MOVED_PERMANENTLY,
        "{}",
        reply.text()
    );
    let xml = reply.text();
    assert_eq!(xml_field(&xml, "ret"), "0", "{xml}");
    let (cookies, _) = parse_cookies(&reply);
    Bot {
        uin: xml_field(&xml, "wxuin"),
        sid: xml_field(&xml, "wxsid"),
        skey: xml_field(&xml, "skey"),
        pass_ticket: xml_field(&xml, "pass_ticket"),
        cookies,
    }
}

fn origin(server: &TestServer) -> String {
    format!("https://localhost.weixin.qq.com:{}", server.addr.port())
}

fn redirect_of(poll_text: &str) -> String {
    let prefix = "window.code=200;\nwindow.redirect_uri=\"";
    assert!(
        poll_text.starts_with(prefix) && poll_text.ends_with("\";"),
        "{poll_text}"
    );
    poll_text[prefix.len()..poll_text.len() - 2].to_owned()
}

async fn init(server: &TestServer, bot: &Bot) -> Value {
    post_json(
        server,
        &format!("{CGI}/webwxinit?r=-1&pass_ticket={}", bot.pass_ticket),
        json!({"BaseRequest": bot.base_request()}),
    )
    .await
}

fn synckey_query(key: &Value) -> String {
    key["List"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| format!("{}_{}", k["Key"], k["Val"]))
        .collect::<Vec<_>>()
        .join("|")
}

async fn synccheck(server: &TestServer, bot: &Bot, key: &Value) -> String {
    server
        .get(&format!(
            "{CGI}/synccheck?r=1&skey={}&sid={}&uin={}&deviceid=e1&synckey={}&_=1",
            bot.skey,
            bot.sid,
            bot.uin,
            synckey_query(key)
        ))
        .await
        .text()
}

async fn sync(server: &TestServer, bot: &Bot, key: &Value) -> Value {
    post_json(
        server,
        &format!("{CGI}/webwxsync?sid={}&skey={}", bot.sid, bot.skey),
        json!({"BaseRequest": bot.base_request(), "SyncKey": key, "rr": -1}),
    )
    .await
}

#[tokio::test]
async fn jslogin_answers_get_and_post_with_url_safe_uuids() {
    let server = server().await;
    let uuid = jslogin(&server).await;
    assert_eq!(uuid.len(), 12);
    assert!(uuid.ends_with("=="));
    assert!(uuid[..10]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    // wechat4u posts an empty form, with lang=zh-CN and an unencoded redirect_uri.
    let reply = post_raw(
        &server,
        "/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=zh-CN&redirect_uri=https://wx.qq.com/cgi-bin/mmwebwx-bin/webwxnewloginpage?mod=desktop",
        "",
    )
    .await;
    assert!(
        reply
            .text()
            .starts_with("window.QRLogin.code = 200; window.QRLogin.uuid = \""),
        "{}",
        reply.text()
    );
    let bad = server.get("/jslogin?appid=wxother&fun=new").await;
    assert!(
        bad.text().starts_with("window.QRLogin.code = 400;"),
        "{}",
        bad.text()
    );
    // The QR login is listed with the Open Platform's, as a Web WeChat one.
    let qrs = server.ctl(Method::GET, "/qr", None).await;
    let ours = qrs
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["uuid"] == uuid.as_str())
        .unwrap();
    assert_eq!(ours["kind"], "web_wechat");
    assert_eq!(ours["status"], "waiting");
}

#[tokio::test]
async fn the_qr_image_encodes_the_login_url() {
    let server = server().await;
    let uuid = jslogin(&server).await;
    let reply = server.get(&format!("/qrcode/{uuid}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    let decoder = png::Decoder::new(std::io::Cursor::new(&reply.body[..]));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let side = info.width as usize;
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, format!("https://login.weixin.qq.com/l/{uuid}"));
    assert_eq!(
        server.get("/qrcode/AAAAAAAAAA==").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_login_poll_says_408_201_200_and_the_redirect_is_on_the_clients_origin() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| o.limits.long_poll_hold = Duration::from_secs(20))
        .start()
        .await;
    let uuid = jslogin(&server).await;

    // A held poll is woken by the scan (the hold is 20 s).
    let held = {
        let client = server.client.clone();
        let uuid = uuid.clone();
        tokio::spawn(async move {
            client
                .get(&format!(
                    "{CGI}/login?loginicon=true&uuid={uuid}&tip=1&r=-1&_=1"
                ))
                .await
        })
    };
    while server.emu.webwx_held_login_polls(&uuid) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), Some(json!({})))
        .await;
    let scanned = held.await.unwrap().text();
    let prefix = "window.code=201;window.userAvatar = 'data:img/jpg;base64,";
    assert!(
        scanned.starts_with(prefix) && scanned.ends_with("';"),
        "{scanned}"
    );
    assert!(scanned.len() > prefix.len() + 100, "a real picture");
    // Reported once: the next poll holds until something changes (here
    // the confirm, while it is held).
    let held = {
        let client = server.client.clone();
        let uuid = uuid.clone();
        tokio::spawn(async move {
            client
                .get(&format!(
                    "{CGI}/login?loginicon=true&uuid={uuid}&tip=0&r=-1&_=1"
                ))
                .await
        })
    };
    while server.emu.webwx_held_login_polls(&uuid) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    assert_eq!(
        held.await.unwrap().text(),
        poll(&server, &uuid).await,
        "200 until redeemed"
    );
    let confirmed = poll(&server, &uuid).await;
    let redirect = redirect_of(&confirmed);
    let expected = format!("{}{CGI}/webwxnewloginpage?ticket=", origin(&server));
    assert!(redirect.starts_with(&expected), "{redirect}");
    assert!(
        redirect.contains(&format!("&uuid={uuid}&lang=zh_CN&scan=")),
        "{redirect}"
    );
    let ticket = redirect[expected.len()..].split('&').next().unwrap();
    assert!(ticket.ends_with("@qrticket_0"));
    assert!(!ticket.contains(['+', '/', '%']), "URL-safe: {ticket}");

    // Another origin (127.0.0.1) gets a redirect_uri on that origin.
    let ip = format!("127.0.0.1:{}", server.addr.port());
    let js = get_with(
        &server,
        "/jslogin?appid=wx782c26e4c19acffb&fun=new",
        &[("host", &ip)],
    )
    .await
    .text();
    let uuid2 = js.split('"').nth(1).unwrap().to_owned();
    server
        .ctl(Method::POST, &format!("/qr/{uuid2}/scan"), Some(json!({})))
        .await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid2}/confirm"), None)
        .await;
    let text = get_with(
        &server,
        &format!("{CGI}/login?uuid={uuid2}&tip=0"),
        &[("host", &ip)],
    )
    .await
    .text();
    let text = if text.starts_with("window.code=201") {
        get_with(
            &server,
            &format!("{CGI}/login?uuid={uuid2}&tip=0"),
            &[("host", &ip)],
        )
        .await
        .text()
    } else {
        text
    };
    assert!(
        redirect_of(&text).starts_with(&format!("https://{ip}{CGI}/webwxnewloginpage?")),
        "{text}"
    );
}

#[tokio::test]
async fn the_login_poll_says_400_for_expired_unknown_and_malformed_uuids() {
    let server = server().await;
    let uuid = jslogin(&server).await;
    assert_eq!(
        poll(&server, &uuid).await,
        "window.code=408;",
        "nothing happened during the hold"
    );
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "6m"})))
        .await;
    assert_eq!(poll(&server, &uuid).await, "window.code=400;");
    assert_eq!(poll(&server, "AAAAAAAAAA==").await, "window.code=400;");
    assert_eq!(
        server.get(&format!("{CGI}/login?tip=1")).await.text(),
        "window.code=400;"
    );
    assert_eq!(poll(&server, "a%2Fb").await, "window.code=400;");
    // An Open Platform uuid is not a Web WeChat login.
    let op = server.emu.qr_create(wxemu::core::QrTarget {
        appid: common::APPID.into(),
        scope: "snsapi_login".into(),
        redirect_uri: common::REDIRECT.into(),
        state: String::new(),
    });
    assert_eq!(poll(&server, &op.uuid).await, "window.code=400;");
}

#[tokio::test]
async fn a_cancelled_scan_shows_the_code_again_and_can_be_rescanned() {
    let server = server().await;
    let uuid = jslogin(&server).await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), Some(json!({})))
        .await;
    assert!(poll(&server, &uuid).await.starts_with("window.code=201;"));
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/cancel"), None)
        .await;
    assert_eq!(poll(&server, &uuid).await, "window.code=408;");
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), Some(json!({})))
        .await;
    assert!(poll(&server, &uuid).await.starts_with("window.code=201;"));
}

#[tokio::test]
async fn newloginpage_answers_301_without_location_or_200_with_v2_sets_host_only_cookies_and_tickets_are_single_use(
) {
    let server = server().await;
    let uuid = jslogin(&server).await;
    server
        .ctl(Method::POST, "/qr/latest/scan", Some(json!({})))
        .await;
    server.ctl(Method::POST, "/qr/latest/confirm", None).await;
    let _ = poll(&server, &uuid).await;
    let redirect = redirect_of(&poll(&server, &uuid).await);
    let path = redirect.replacen(&origin(&server), "", 1);

    let first = server.get(&format!("{path}&fun=new&version=v2")).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.header("location").is_none());
    let xml = first.text();
    assert!(
        xml.starts_with("<error><ret>0</ret><message></message><skey>@crypt_"),
        "{xml}"
    );
    assert!(!xml.contains('\n'), "one line");
    assert!(xml_field(&xml, "wxuin").bytes().all(|b| b.is_ascii_digit()));
    assert!(xml.ends_with("<isgrayscale>1</isgrayscale></error>"));
    let (jar, raw) = parse_cookies(&first);
    for name in [
        "wxuin",
        "wxsid",
        "webwx_data_ticket",
        "webwx_auth_ticket",
        "wxloadtime",
        "mm_lang",
        "webwxuvid",
    ] {
        let line = raw
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}: {raw:?}"));
        assert!(
            line.contains("; Path=/; Expires=") && line.ends_with("; Secure"),
            "{line}"
        );
        assert!(
            !line.to_ascii_lowercase().contains("domain="),
            "host-only: {line}"
        );
    }
    assert_eq!(jar["wxuin"], xml_field(&xml, "wxuin"));
    assert_eq!(jar["wxsid"], xml_field(&xml, "wxsid"));

    // Single use: the same ticket again.
    let again = server.get(&path).await;
    assert_eq!(again.status, StatusCode::MOVED_PERMANENTLY);
    assert!(again.header("location").is_none());
    assert!(
        again.text().starts_with("<error><ret>1</ret>"),
        "{}",
        again.text()
    );
    assert!(again.headers.get("set-cookie").is_none());

    // Without version=v2 (wechat4u): 301, no Location, same body shape.
    let bot = login_as(&server, "default").await;
    assert_eq!(
        bot.uin,
        xml_field(&xml, "wxuin"),
        "uin is stable per account"
    );
    assert_ne!(bot.sid, xml_field(&xml, "wxsid"));
}

#[tokio::test]
async fn init_statusnotify_contacts_and_batch_carry_the_fields_clients_index() {
    let server = server_with(|c| c.webwx.contact_page_size = 3).await;
    let bot = login_as(&server, "default").await;
    let data = init(&server, &bot).await;
    assert_eq!(ret(&data), 0);
    for key in [
        "Count",
        "ContactList",
        "SyncKey",
        "User",
        "ChatSet",
        "SKey",
        "ClientVersion",
        "SystemTime",
        "GrayScale",
        "InviteStartCount",
        "MPSubscribeMsgCount",
        "MPSubscribeMsgList",
        "ClickReportInterval",
    ] {
        assert!(data.get(key).is_some(), "webwxinit lacks {key}");
    }
    let me = data["User"]["UserName"].as_str().unwrap().to_owned();
    assert!(me.starts_with('@') && me.len() == 65);
    assert_eq!(data["User"]["Uin"].as_u64().unwrap().to_string(), bot.uin);
    assert_eq!(data["User"]["NickName"], "微信测试用户");
    assert!(data["ChatSet"].as_str().unwrap().starts_with("filehelper,"));
    assert_eq!(data["SyncKey"]["Count"], 4);

    let notify = post_json(
        &server,
        &format!("{CGI}/webwxstatusnotify?lang=zh_CN&pass_ticket={}", bot.pass_ticket),
        json!({"BaseRequest": bot.base_request(), "Code": 3, "FromUserName": me, "ToUserName": me, "ClientMsgId": 1}),
    )
    .await;
    assert_eq!(ret(&notify), 0);
    assert!(notify["MsgID"].is_string());
    let synced = sync(&server, &bot, &data["SyncKey"]).await;
    assert_eq!(synced["AddMsgCount"], 1);
    assert_eq!(synced["AddMsgList"][0]["MsgType"], 51);
    assert_eq!(synced["AddMsgList"][0]["StatusNotifyCode"], 4);

    // webwxgetcontact pages by seq (cookies name the session; skey empty as itchat-uos).
    let cookie = bot.cookie_header();
    let mut seq = 0;
    let mut members = Vec::new();
    let mut pages = 0;
    loop {
        let reply = get_with(
            &server,
            &format!("{CGI}/webwxgetcontact?r=1&seq={seq}&skey="),
            &[("cookie", &cookie)],
        )
        .await;
        let page = reply.json();
        assert_eq!(ret(&page), 0);
        assert_eq!(
            page["MemberCount"].as_u64().unwrap() as usize,
            page["MemberList"].as_array().unwrap().len()
        );
        members.extend(page["MemberList"].as_array().unwrap().clone());
        pages += 1;
        seq = page["Seq"].as_u64().unwrap();
        if seq == 0 {
            break;
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3, "8 contacts, 3 per page");
    let nick = |n: &str| {
        members
            .iter()
            .find(|m| m["NickName"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("no {n}"))
    };
    for field in [
        "Uin",
        "UserName",
        "NickName",
        "HeadImgUrl",
        "ContactFlag",
        "MemberCount",
        "MemberList",
        "RemarkName",
        "Sex",
        "Signature",
        "VerifyFlag",
        "PYInitial",
        "PYQuanPin",
        "RemarkPYQuanPin",
        "Province",
        "City",
        "Alias",
        "DisplayName",
        "KeyWord",
        "EncryChatRoomId",
        "StarFriend",
        "AttrStatus",
    ] {
        assert!(nick("张三").get(field).is_some(), "contact lacks {field}");
    }
    let group = nick("测试群");
    assert!(group["UserName"].as_str().unwrap().starts_with("@@"));
    assert_eq!(group["MemberCount"], 5);
    assert_eq!(nick("wxemu 服务号")["VerifyFlag"].as_u64().unwrap() & 8, 8);

    // batchgetcontact: the group with members, the user, a non-friend member, and junk.
    let stranger = group["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["NickName"] == "王五")
        .unwrap()["UserName"]
        .clone();
    let batch = post_json(
        &server,
        &format!("{CGI}/webwxbatchgetcontact?type=ex&r=1"),
        json!({"BaseRequest": bot.base_request(), "Count": 4, "List": [
            {"UserName": group["UserName"], "EncryChatRoomId": ""},
            {"UserName": me, "EncryChatRoomId": ""},
            {"UserName": stranger, "EncryChatRoomId": group["UserName"]},
            {"UserName": "@nobody", "EncryChatRoomId": ""}]}),
    )
    .await;
    assert_eq!(ret(&batch), 0);
    assert_eq!(batch["Count"], 3);
    assert_eq!(
        batch["ContactList"][0]["MemberList"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(batch["ContactList"][1]["UserName"], me.as_str());
    assert_eq!(batch["ContactList"][2]["NickName"], "王五");
}

#[tokio::test]
async fn synccheck_holds_wakes_on_an_injected_message_and_the_sync_key_advances() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(300))
        .config(|c| c.webwx.synccheck_hold = Duration::from_secs(20))
        .start()
        .await;
    let bot = login_as(&server, "default").await;
    let data = init(&server, &bot).await;
    let key = data["SyncKey"].clone();

    // Held (the hold is 20 s) until the friend writes.
    let held = {
        let (client, bot, key) = (server.client.clone(), bot.clone(), key.clone());
        tokio::spawn(async move {
            client
                .get(&format!(
                    "{CGI}/synccheck?r=1&skey={}&sid={}&uin={}&deviceid=e1&synckey={}&_=1",
                    bot.skey,
                    bot.sid,
                    bot.uin,
                    synckey_query(&key)
                ))
                .await
                .text()
        })
    };
    loop {
        let sessions = server.ctl(Method::GET, "/webwx/sessions", None).await;
        if sessions["sessions"][0]["held_synccheck"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = server
        .ctl(
            Method::POST,
            "/webwx/messages",
            Some(json!({"text": "hi <there>\nline 2", "from": "Alice"})),
        )
        .await;
    assert_eq!(
        held.await.unwrap(),
        "window.synccheck={retcode:\"0\",selector:\"2\"}"
    );

    let synced = sync(&server, &bot, &key).await;
    assert_eq!(ret(&synced), 0);
    assert_eq!(synced["AddMsgCount"], 1);
    let m = &synced["AddMsgList"][0];
    assert_eq!(m["MsgType"], 1);
    assert_eq!(m["Content"], "hi &lt;there&gt;<br/>line 2");
    assert_eq!(m["FromUserName"], sent["from"]);
    assert_eq!(m["ToUserName"], data["User"]["UserName"]);
    assert_eq!(m["MsgId"], sent["id"]);
    for field in [
        "MsgId",
        "FromUserName",
        "ToUserName",
        "MsgType",
        "Content",
        "Status",
        "ImgStatus",
        "CreateTime",
        "VoiceLength",
        "PlayLength",
        "FileName",
        "FileSize",
        "MediaId",
        "Url",
        "AppMsgType",
        "StatusNotifyCode",
        "StatusNotifyUserName",
        "RecommendInfo",
        "ForwardFlag",
        "AppInfo",
        "HasProductId",
        "Ticket",
        "ImgHeight",
        "ImgWidth",
        "SubMsgType",
        "NewMsgId",
    ] {
        assert!(m.get(field).is_some(), "message lacks {field}");
    }
    for field in [
        "ModContactList",
        "DelContactList",
        "ModChatRoomMemberList",
        "Profile",
        "ContinueFlag",
        "SyncCheckKey",
        "SKey",
    ] {
        assert!(synced.get(field).is_some(), "webwxsync lacks {field}");
    }
    let new_key = synced["SyncKey"].clone();
    assert!(
        new_key["List"][0]["Val"].as_u64() > key["List"][0]["Val"].as_u64(),
        "advanced"
    );
    assert_eq!(synced["SyncCheckKey"], new_key);
    // Nothing newer than the new key: the next sync is empty and keeps the key.
    let again = sync(&server, &bot, &new_key).await;
    assert_eq!(again["AddMsgCount"], 0);
    assert_eq!(again["SyncKey"], new_key);
    // The old key still sees the message as news (not yet acknowledged by it).
    assert_eq!(
        synccheck(&server, &bot, &key).await,
        "window.synccheck={retcode:\"0\",selector:\"2\"}"
    );
}

#[tokio::test]
async fn sendmsg_logout_and_synccheck_1101() {
    let server = server().await;
    let bot = login_as(&server, "default").await;
    let data = init(&server, &bot).await;
    let me = data["User"]["UserName"].clone();
    let key = data["SyncKey"].clone();
    assert_eq!(
        synccheck(&server, &bot, &key).await,
        "window.synccheck={retcode:\"0\",selector:\"0\"}",
        "held, then nothing"
    );

    for (local, client_msg) in [
        (json!(15511665674090_u64), json!(15511665674090_u64)),
        (json!("1551166567409"), json!("1551166567409")),
    ] {
        let sent = post_json(
            &server,
            &format!("{CGI}/webwxsendmsg?pass_ticket={}", bot.pass_ticket),
            json!({"BaseRequest": bot.base_request(), "Scene": 0, "Msg": {"Type": 1, "Content": "to the file helper",
                "FromUserName": me, "ToUserName": "filehelper", "LocalID": local, "ClientMsgId": client_msg}}),
        )
        .await;
        assert_eq!(ret(&sent), 0);
        assert!(sent["MsgID"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit()));
        assert_eq!(sent["LocalID"], local.to_string().trim_matches('"'));
    }
    let unknown = post_json(
        &server,
        &format!("{CGI}/webwxsendmsg"),
        json!({"BaseRequest": bot.base_request(), "Msg": {"Type": 1, "Content": "x", "ToUserName": "@nobody", "LocalID": 1}}),
    )
    .await;
    assert_eq!(ret(&unknown), 1204);

    // Logout (itchat: GET with cookies) ends the session: 200 with no redirect.
    let out = get_with(
        &server,
        &format!("{CGI}/webwxlogout?redirect=1&type=1&skey="),
        &[("cookie", &bot.cookie_header())],
    )
    .await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.header("location").is_none());
    assert_eq!(
        synccheck(&server, &bot, &key).await,
        "window.synccheck={retcode:\"1101\",selector:\"0\"}"
    );
    assert_eq!(ret(&init(&server, &bot).await), 1101);
    assert_eq!(ret(&sync(&server, &bot, &key).await), 1101);
    let contacts = get_with(
        &server,
        &format!("{CGI}/webwxgetcontact?seq=0"),
        &[("cookie", &bot.cookie_header())],
    )
    .await;
    assert_eq!(ret(&contacts.json()), 1101);
    // Logging out again (wechat4u: POST, no body) is not an error.
    assert_eq!(
        post_raw(&server, &format!("{CGI}/webwxlogout?redirect=1&type=0"), "")
            .await
            .status,
        StatusCode::OK
    );

    let conv = server.ctl(Method::GET, "/webwx/messages", None).await;
    let texts: Vec<_> = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == 1)
        .map(|m| (m["direction"].clone(), m["to"].clone()))
        .collect();
    assert_eq!(texts, vec![(json!("out"), json!("filehelper")); 2]);
    let sessions = server.ctl(Method::GET, "/webwx/sessions", None).await;
    assert_eq!(sessions["sessions"][0]["status"], "ended");
    assert_eq!(sessions["sessions"][0]["ended_reason"], "logout");
}

#[tokio::test]
async fn a_second_login_of_the_account_ends_the_first_and_wakes_its_synccheck() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(300))
        .config(|c| {
            c.webwx.synccheck_hold = Duration::from_secs(20);
            common::add_account(c, "alice", "Alice");
        })
        .start()
        .await;
    let first = login_as(&server, "default").await;
    let key = init(&server, &first).await["SyncKey"].clone();
    let alice = login_as(&server, "alice").await;
    assert_ne!(alice.uin, first.uin);
    let held = {
        let (client, bot, key) = (server.client.clone(), first.clone(), key.clone());
        tokio::spawn(async move {
            client
                .get(&format!(
                    "{CGI}/synccheck?sid={}&uin={}&synckey={}",
                    bot.sid,
                    bot.uin,
                    synckey_query(&key)
                ))
                .await
                .text()
        })
    };
    loop {
        let s = server.ctl(Method::GET, "/webwx/sessions/1", None).await;
        if s["held_synccheck"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = login_as(&server, "default").await;
    assert_eq!(
        held.await.unwrap(),
        "window.synccheck={retcode:\"1101\",selector:\"0\"}"
    );
    assert_eq!(second.uin, first.uin);
    assert_eq!(ret(&init(&server, &first).await), 1101);
    assert_eq!(ret(&init(&server, &second).await), 0);
    assert_eq!(
        ret(&init(&server, &alice).await),
        0,
        "another account's session lives on"
    );
    let s = server.ctl(Method::GET, "/webwx/sessions/1", None).await;
    assert_eq!(s["ended_reason"], "replaced");
}

#[tokio::test]
async fn sessions_expire_by_the_clock_and_the_phone_can_end_one() {
    let server = server().await;
    let bot = login_as(&server, "default").await;
    assert_eq!(ret(&init(&server, &bot).await), 0);
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "2h"})))
        .await;
    assert_eq!(ret(&init(&server, &bot).await), 1101);
    assert_eq!(
        server.ctl(Method::GET, "/webwx/sessions/1", None).await["ended_reason"],
        "expired"
    );

    let bot = login_as(&server, "default").await;
    let key = init(&server, &bot).await["SyncKey"].clone();
    let ended = server.ctl(Method::DELETE, "/webwx/sessions/2", None).await;
    assert_eq!(ended["ended_reason"], "phone");
    assert_eq!(
        synccheck(&server, &bot, &key).await,
        "window.synccheck={retcode:\"1101\",selector:\"0\"}"
    );
    let again = server
        .control(Method::DELETE, "/webwx/sessions/2", None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // A ticket past its ttl cannot be redeemed.
    let uuid = jslogin(&server).await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/scan"), Some(json!({})))
        .await;
    server
        .ctl(Method::POST, &format!("/qr/{uuid}/confirm"), None)
        .await;
    let _ = poll(&server, &uuid).await;
    let redirect = redirect_of(&poll(&server, &uuid).await);
    server
        .ctl(Method::POST, "/clock/advance", Some(json!({"by": "6m"})))
        .await;
    let late = server
        .get(&redirect.replacen(&origin(&server), "", 1))
        .await;
    assert!(
        late.text().starts_with("<error><ret>1</ret>"),
        "{}",
        late.text()
    );
}

#[tokio::test]
async fn the_control_api_injects_as_friends_groups_and_the_phone_and_lists_conversations() {
    let server = server().await;
    let none = server
        .control(Method::POST, "/webwx/messages", Some(json!({"text": "hi"})))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.text());
    let bot = login_as(&server, "default").await;
    let data = init(&server, &bot).await;
    let me = data["User"]["UserName"].as_str().unwrap();

    let group = server
        .ctl(
            Method::POST,
            "/webwx/messages",
            Some(json!({"text": "大家好", "from": "测试群", "member": "李四"})),
        )
        .await;
    let phone = server
        .ctl(
            Method::POST,
            "/webwx/messages",
            Some(json!({"text": "note", "from": "self", "to": "Bob"})),
        )
        .await;
    let synced = sync(&server, &bot, &data["SyncKey"]).await;
    let msgs = synced["AddMsgList"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    let content = msgs[0]["Content"].as_str().unwrap();
    assert!(
        content.starts_with('@') && content.ends_with(":<br/>大家好"),
        "{content}"
    );
    assert_eq!(msgs[0]["FromUserName"], group["from"]);
    assert_eq!(msgs[1]["FromUserName"], me);
    assert_eq!(msgs[1]["ToUserName"], phone["to"]);

    for (body, status) in [
        (
            json!({"text": "x", "from": "nobody"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"text": ""}), StatusCode::BAD_REQUEST),
        (json!({"from": "friend"}), StatusCode::BAD_REQUEST),
        (json!({"text": "x", "session": 99}), StatusCode::NOT_FOUND),
        (
            json!({"text": "x", "colour": "red"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"text": "x", "from": "Alice", "to": "Bob"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = server
            .control(Method::POST, "/webwx/messages", Some(body.clone()))
            .await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text());
        assert!(reply.json()["error"].is_string());
    }
    let conv = server
        .ctl(Method::GET, "/webwx/messages?session=1", None)
        .await;
    assert_eq!(conv["messages"].as_array().unwrap().len(), 2);
    assert_eq!(conv["messages"][0]["member"], "李四");
    assert_eq!(conv["messages"][0]["delivered"], true);
    assert_eq!(
        server
            .control(Method::GET, "/webwx/messages?session=x", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server
            .control(Method::GET, "/webwx/messages?session=7", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let detail = server.ctl(Method::GET, "/webwx/sessions/1", None).await;
    assert!(detail["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "testgroup" && c["kind"] == "group"));
    assert!(
        detail.get("sid").is_none() && !detail.to_string().contains(&bot.sid),
        "no secrets in the control API"
    );
}

#[tokio::test]
async fn contacts_come_from_the_accounts_config() {
    let server = server_with(|c| {
        let mut account = wxemu::core::Account {
            id: "bot".into(),
            nickname: "Botty".into(),
            ..Default::default()
        };
        account.webwx = Some(wxemu::core::ContactBook {
            friends: vec![wxemu::core::FriendSpec {
                id: "carol".into(),
                nickname: "Carol".into(),
                ..Default::default()
            }],
            groups: vec![],
            official: vec![],
        });
        c.accounts.push(account);
    })
    .await;
    let bot = login_as(&server, "bot").await;
    let data = init(&server, &bot).await;
    assert_eq!(data["User"]["NickName"], "Botty");
    let page = get_with(
        &server,
        &format!("{CGI}/webwxgetcontact?seq=0"),
        &[("cookie", &bot.cookie_header())],
    )
    .await
    .json();
    let names: Vec<_> = page["MemberList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["NickName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["文件传输助手", "Carol"]);
}

#[tokio::test]
async fn the_journal_masks_sids_skeys_and_tickets() {
    let server = server().await;
    let bot = login_as(&server, "default").await;
    let key = init(&server, &bot).await["SyncKey"].clone();
    let _ = synccheck(&server, &bot, &key).await;
    let journal = server.ctl(Method::GET, "/journal", None).await.to_string();
    for secret in [&bot.sid, &bot.skey, &bot.pass_ticket] {
        assert!(
            !journal.contains(secret.as_str()),
            "{secret} in the journal"
        );
    }
    assert!(journal.contains("\"endpoint\":\"webwx\""));
    // Ret / window.code / retcode are recorded as the errcode.
    let polls = server
        .ctl(
            Method::GET,
            "/journal?path=/cgi-bin/mmwebwx-bin/login",
            None,
        )
        .await;
    let codes: Vec<_> = polls["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errcode"].clone())
        .collect();
    assert!(codes.contains(&json!(200)), "{codes:?}");
    let inits = server
        .ctl(
            Method::GET,
            "/journal?path=/cgi-bin/mmwebwx-bin/webwxinit",
            None,
        )
        .await;
    assert_eq!(inits["entries"][0]["errcode"], 0);
    assert!(journal.contains("\"endpoint\":\"webwx-login\""));
    assert!(!journal.contains("@qrticket_0"), "tickets masked");
}

#[tokio::test]
async fn icons_are_drawn_pngs() {
    let server = server().await;
    let reply = server
        .get(&format!(
            "{CGI}/webwxgeticon?seq=0&username=@abc&skey=@crypt_x"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("image/png"));
    assert!(reply.body.starts_with(b"\x89PNG"));
    let head = server
        .get(&format!("{CGI}/webwxgetheadimg?username=@@abc"))
        .await;
    assert_ne!(head.body, reply.body);
}

/// At least 20 malformed requests, each answered in the endpoint's own wire
/// format, never a 500 or a hang.
#[tokio::test]
async fn malformed_requests_get_the_wires_own_errors() {
    let server = server().await;
    let bot = login_as(&server, "default").await;
    let key = init(&server, &bot).await["SyncKey"].clone();
    let base = bot.base_request();
    let huge = format!(
        "{{\"BaseRequest\":{base},\"pad\":\"{}\"}}",
        "x".repeat(100 * 1024)
    );
    let json_cases: Vec<(&str, String, i64)> = vec![
        ("webwxinit", "{not json".into(), 1),
        ("webwxinit", "".into(), 1),
        ("webwxinit", "[1,2]".into(), 1),
        ("webwxinit", "{}".into(), 1),
        ("webwxinit", json!({"BaseRequest": "x"}).to_string(), 1),
        ("webwxinit", json!({"BaseRequest": {"Uin": {}, "Sid": bot.sid}}).to_string(), 1),
        ("webwxinit", json!({"BaseRequest": {"Uin": bot.uin, "Sid": 5}}).to_string(), 1),
        ("webwxinit", json!({"BaseRequest": {"Uin": bot.uin}}).to_string(), 1),
        ("webwxinit", json!({"BaseRequest": {"Uin": "1", "Sid": bot.sid}}).to_string(), 1101),
        ("webwxinit", json!({"BaseRequest": {"Uin": bot.uin, "Sid": "wrong"}}).to_string(), 1101),
        ("webwxinit", huge, 1),
        ("webwxinit", "\u{0}\u{1}binary".into(), 1),
        ("webwxsync", json!({"BaseRequest": base}).to_string(), 1),
        ("webwxsync", json!({"BaseRequest": base, "SyncKey": {"Count": 1, "List": "x"}}).to_string(), 1),
        ("webwxsync", json!({"BaseRequest": base, "SyncKey": {"Count": 1, "List": [{"Key": "a", "Val": 1}]}}).to_string(), 1),
        ("webwxsync", json!({"BaseRequest": base, "SyncKey": {"Count": 1, "List": [{"Key": 1, "Val": 5}]}}).to_string(), 1),
        ("webwxsendmsg", json!({"BaseRequest": base}).to_string(), 1),
        ("webwxsendmsg", json!({"BaseRequest": base, "Msg": {"Type": 3, "Content": "x", "ToUserName": "filehelper"}}).to_string(), 1),
        ("webwxsendmsg", json!({"BaseRequest": base, "Msg": {"Type": 1, "Content": 5, "ToUserName": "filehelper"}}).to_string(), 1),
        ("webwxsendmsg", json!({"BaseRequest": base, "Msg": {"Type": 1, "Content": "", "ToUserName": "filehelper"}}).to_string(), 1),
        ("webwxsendmsg", json!({"BaseRequest": base, "Msg": {"Type": 1, "Content": "x".repeat(17 * 1024), "ToUserName": "filehelper"}}).to_string(), 1),
        ("webwxsendmsg", json!({"BaseRequest": base, "Msg": {"Type": 1, "Content": "x", "ToUserName": "filehelper", "LocalID": [1]}}).to_string(), 1),
        ("webwxbatchgetcontact", json!({"BaseRequest": base, "List": {}}).to_string(), 1),
        ("webwxbatchgetcontact", json!({"BaseRequest": base, "List": [{"UserName": 7}]}).to_string(), 1),
        ("webwxbatchgetcontact", json!({"BaseRequest": base, "List": vec![json!({"UserName": "@x"}); 1001]}).to_string(), 1),
        ("webwxstatusnotify", json!({"BaseRequest": base, "Code": "three"}).to_string(), 1),
    ];
    assert!(json_cases.len() >= 20);
    for (name, body, want) in json_cases {
        let reply = post_raw(&server, &format!("{CGI}/{name}"), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{name} {body:.80}: {}",
            reply.text()
        );
        let v = reply.json();
        assert_eq!(ret(&v), want, "{name} {body:.80}: {v}");
        if want == 1 {
            assert!(
                !v["BaseResponse"]["ErrMsg"].as_str().unwrap().is_empty(),
                "says why: {v}"
            );
        }
    }
    // GETs and the text wires.
    let cookie = bot.cookie_header();
    let bad_seq = get_with(
        &server,
        &format!("{CGI}/webwxgetcontact?seq=-1"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(ret(&bad_seq.json()), 1);
    let no_cookie = server.get(&format!("{CGI}/webwxgetcontact?seq=0")).await;
    assert_eq!(ret(&no_cookie.json()), 1101);
    let q = |synckey: &str| {
        format!(
            "{CGI}/synccheck?sid={}&uin={}&synckey={synckey}",
            bot.sid, bot.uin
        )
    };
    for bad in [
        "",
        "garbage",
        "1_x|2_3",
        "1_99999999999999999999999",
        &"1_1|".repeat(600),
    ] {
        let text = server.get(&q(bad)).await.text();
        assert_eq!(
            text, "window.synccheck={retcode:\"1102\",selector:\"0\"}",
            "{bad:.40}"
        );
    }
    let stranger = server
        .get(&format!(
            "{CGI}/synccheck?sid=x&uin=1&synckey={}",
            synckey_query(&key)
        ))
        .await;
    assert_eq!(
        stranger.text(),
        "window.synccheck={retcode:\"1101\",selector:\"0\"}"
    );
    assert_eq!(
        server.get(&format!("{CGI}/synccheck")).await.text(),
        "window.synccheck={retcode:\"1101\",selector:\"0\"}"
    );
    let nl = server
        .get(&format!("{CGI}/webwxnewloginpage?ticket=nope&uuid=x"))
        .await;
    assert_eq!(nl.status, StatusCode::MOVED_PERMANENTLY);
    assert!(nl.text().starts_with("<error><ret>1</ret>"));
    let wrong_method = server.get(&format!("{CGI}/webwxinit")).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    // The session survived all of it.
    assert_eq!(ret(&init(&server, &bot).await), 0);
}

#[tokio::test]
async fn shutdown_answers_held_synccheck_requests_at_once() {
    let server = TestServer::builder()
        .approval(ApprovalMode::Never)
        .options(|o| o.limits.long_poll_hold = Duration::from_millis(300))
        .config(|c| c.webwx.synccheck_hold = Duration::from_secs(25))
        .start()
        .await;
    let bot = login_as(&server, "default").await;
    let key = init(&server, &bot).await["SyncKey"].clone();
    let held = {
        let (client, bot, key) = (server.client.clone(), bot.clone(), key.clone());
        tokio::spawn(async move {
            client
                .get(&format!(
                    "{CGI}/synccheck?sid={}&uin={}&synckey={}",
                    bot.sid,
                    bot.uin,
                    synckey_query(&key)
                ))
                .await
                .text()
        })
    };
    while server.emu.webwx_session(1).unwrap().held_synccheck == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;
    // Answered by the shutdown, not by the end of its 25 s hold (which
    // outlasts the server's 5 s shutdown grace).
    let answer = tokio::time::timeout(Duration::from_secs(10), held)
        .await
        .expect("answered at shutdown, not after the hold")
        .unwrap();
    assert_eq!(answer, "window.synccheck={retcode:\"0\",selector:\"0\"}");
}

/// Injected errcodes come out in each Web WeChat wire, like the real ones.
#[tokio::test]
async fn injected_faults_speak_each_web_wechat_wire() {
    let server = server().await;
    let bot = login_as(&server, "default").await;
    let key = init(&server, &bot).await["SyncKey"].clone();
    let real = post_raw(
        &server,
        &format!("{CGI}/webwxinit"),
        json!({"BaseRequest": {"Uin": "1", "Sid": "x"}}).to_string(),
    )
    .await;
    server
        .ctl(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": "webwx", "errcode": 1101, "once": true})),
        )
        .await;
    let injected = post_raw(
        &server,
        &format!("{CGI}/webwxinit"),
        json!({"BaseRequest": bot.base_request()}).to_string(),
    )
    .await;
    assert_eq!(injected.header("content-type"), real.header("content-type"));
    assert_eq!(ret(&injected.json()), 1101);
    assert_eq!(ret(&init(&server, &bot).await), 0, "once");

    server
        .ctl(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": "webwx", "errcode": 1101, "once": true})),
        )
        .await;
    assert_eq!(
        synccheck(&server, &bot, &key).await,
        "window.synccheck={retcode:\"1101\",selector:\"0\"}"
    );
    server
        .ctl(
            Method::POST,
            "/faults",
            Some(json!({"endpoint": "webwx-login", "errcode": 400, "once": true})),
        )
        .await;
    let uuid = jslogin_text(&server).await;
    assert_eq!(uuid, "window.code=400;");
    assert!(jslogin(&server).await.ends_with("=="), "once");
}

async fn jslogin_text(server: &TestServer) -> String {
    server
        .get("/jslogin?appid=wx782c26e4c19acffb&fun=new")
        .await
        .text()
}
