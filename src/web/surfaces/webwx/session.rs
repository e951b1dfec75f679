//! The Web WeChat session calls (protocol.md section 3, "Session"). A
//! session is named by Uin + Sid (BaseRequest, the synccheck query, or the
//! wxuin/wxsid cookies); unknown or ended ones get `Ret 1101` /
//! `retcode:"1101"`; unreadable requests `Ret 1` with an ErrMsg that says
//! what is wrong.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::wire::{
    bad_request, base_request, base_response, caller, cookie_ids, error_reply, js, json_body,
    json_reply, logged_out, parse_sync_key, sync_key_json, RET_UNKNOWN_RECIPIENT,
};
use crate::web::surfaces::openplatform::query_params;
use wxemu_core::Emulator;
use wxemu_core::{
    parse_sync_key_query, Caller, SendError, SyncCheck, SyncError, MAX_BATCH, MSG_TEXT,
};

const OK: &str = "";

/// Reads the body and its BaseRequest, or answers with the wire's error.
async fn authed_body(
    emu: &Emulator,
    body: Body,
) -> Result<(serde_json::Map<String, Value>, (String, String)), Response> {
    let body = json_body(emu, body).await.map_err(|e| bad_request(&e))?;
    let ids = base_request(&body).map_err(|e| bad_request(&e))?;
    Ok((body, ids))
}

/// `POST webwxinit?r=..&pass_ticket=..`.
pub async fn init(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let (_, ids) = match authed_body(&emu, body).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let Ok(data) = emu.webwx_init(caller(&ids)) else {
        return logged_out();
    };
    let u = &data.user;
    json_reply(json!({
        "BaseResponse": base_response(0, OK),
        "Count": data.contacts.len(),
        "ContactList": data.contacts,
        "SyncKey": sync_key_json(&data.sync_key),
        "User": {
            "Uin": u.uin, "UserName": u.user_name, "NickName": u.nick_name, "HeadImgUrl": u.head_img_url,
            "RemarkName": "", "PYInitial": "", "PYQuanPin": "", "RemarkPYInitial": "", "RemarkPYQuanPin": "",
            "HideInputBarFlag": 0, "StarFriend": 0, "Sex": u.sex, "Signature": u.signature,
            "AppAccountFlag": 0, "VerifyFlag": 0, "ContactFlag": 0, "WebWxPluginSwitch": 0,
            "HeadImgFlag": 1, "SnsFlag": 17,
        },
        "ChatSet": data.chat_set,
        "SKey": data.skey,
        "ClientVersion": 637_865_269,
        "SystemTime": data.system_time,
        "GrayScale": 1,
        "InviteStartCount": 40,
        "MPSubscribeMsgCount": 0,
        "MPSubscribeMsgList": [],
        "ClickReportInterval": 600_000,
    }))
}

/// `POST webwxstatusnotify`: `{BaseResponse, MsgID}`; queues a MsgType 51.
pub async fn status_notify(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let (body, ids) = match authed_body(&emu, body).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    if body.get("Code").is_some_and(|c| !c.is_number()) {
        return bad_request("Code must be a number");
    }
    match emu.webwx_status_notify(caller(&ids)) {
        Ok(id) => {
            json_reply(json!({"BaseResponse": base_response(0, OK), "MsgID": id.to_string()}))
        }
        Err(_) => logged_out(),
    }
}

/// `GET webwxgetcontact?r&seq&skey` (cookies name the session; seed 002's
/// POST also works): one page; `Seq` 0 on the last.
pub async fn get_contact(
    State(emu): State<Arc<Emulator>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = query_params(query);
    let seq = match params.get("seq").map(String::as_str) {
        None | Some("") => 0,
        Some(s) => match s.parse::<u64>() {
            Ok(seq) => seq,
            Err(_) => return bad_request("seq must be a non-negative integer"),
        },
    };
    let Some(ids) = cookie_ids(&headers) else {
        return logged_out();
    };
    match emu.webwx_contacts_page(caller(&ids), seq) {
        Ok(page) => json_reply(json!({
            "BaseResponse": base_response(0, OK),
            "MemberCount": page.contacts.len(),
            "MemberList": page.contacts,
            "Seq": page.next_seq,
        })),
        Err(_) => logged_out(),
    }
}

/// `POST webwxbatchgetcontact?type=ex` body `{BaseRequest, Count, List:[{UserName, EncryChatRoomId}]}`.
pub async fn batch_get_contact(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let (body, ids) = match authed_body(&emu, body).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let Some(list) = body.get("List").and_then(Value::as_array) else {
        return bad_request("List must be an array of {UserName, EncryChatRoomId}");
    };
    if list.len() > MAX_BATCH {
        return bad_request(&format!("List has more than {MAX_BATCH} entries"));
    }
    let mut names = Vec::with_capacity(list.len());
    for item in list {
        match item.get("UserName").and_then(Value::as_str) {
            Some(name) => names.push(name),
            None => return bad_request("every List entry needs a UserName string"),
        }
    }
    match emu.webwx_batch_get(caller(&ids), &names) {
        Ok(contacts) => json_reply(json!({
            "BaseResponse": base_response(0, OK),
            "Count": contacts.len(),
            "ContactList": contacts,
        })),
        Err(_) => logged_out(),
    }
}

/// `GET synccheck?r&skey&sid&uin&deviceid&synckey=1_123|2_456&_` (the push
/// host's call): held until something newer than `synckey` exists, the
/// session ends, or the hold runs out.
pub async fn synccheck(State(emu): State<Arc<Emulator>>, RawQuery(query): RawQuery) -> Response {
    let params = query_params(query);
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
    let keys = parse_sync_key_query(param("synckey"));
    let who = Caller {
        uin: param("uin"),
        sid: param("sid"),
    };
    let (retcode, selector) = match emu.webwx_synccheck(who, keys.as_deref()).await {
        SyncCheck::Idle => ("0", "0"),
        SyncCheck::NewMessages => ("0", "2"),
        SyncCheck::LoggedOut => ("1101", "0"),
        // Assumed: the real code for a key that is not the session's.
        SyncCheck::BadSyncKey => ("1102", "0"),
    };
    js(format!(
        "window.synccheck={{retcode:\"{retcode}\",selector:\"{selector}\"}}"
    ))
}

/// `POST webwxsync?sid&skey&pass_ticket` body `{BaseRequest, SyncKey, rr}`.
pub async fn sync(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let (body, ids) = match authed_body(&emu, body).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let keys = match parse_sync_key(body.get("SyncKey")) {
        Ok(keys) => keys,
        Err(e) => return bad_request(&e),
    };
    let data = match emu.webwx_sync(caller(&ids), &keys) {
        Ok(data) => data,
        Err(SyncError::Auth(_)) => return logged_out(),
        Err(e @ SyncError::BadSyncKey) => return bad_request(&e.to_string()),
    };
    let key = sync_key_json(&data.sync_key);
    json_reply(json!({
        "BaseResponse": base_response(0, OK),
        "AddMsgCount": data.messages.len(),
        "AddMsgList": data.messages,
        "ModContactCount": 0,
        "ModContactList": [],
        "DelContactCount": 0,
        "DelContactList": [],
        "ModChatRoomMemberCount": 0,
        "ModChatRoomMemberList": [],
        "Profile": {
            "BitFlag": 0, "UserName": {"Buff": ""}, "NickName": {"Buff": ""}, "BindUin": 0,
            "BindEmail": {"Buff": ""}, "BindMobile": {"Buff": ""}, "Status": 0, "Sex": 0,
            "PersonalCard": 0, "Alias": "", "HeadImgUpdateFlag": 0, "HeadImgUrl": "", "Signature": "",
        },
        "ContinueFlag": u8::from(data.more),
        "SyncKey": key,
        "SyncCheckKey": key,
        "SKey": data.skey,
    }))
}

/// `POST webwxsendmsg` body `{BaseRequest, Msg:{Type:1, Content, FromUserName,
/// ToUserName, LocalID, ClientMsgId}, Scene:0}` -> `{BaseResponse, MsgID, LocalID}`.
pub async fn send_msg(State(emu): State<Arc<Emulator>>, body: Body) -> Response {
    let (body, ids) = match authed_body(&emu, body).await {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let Some(msg) = body.get("Msg").and_then(Value::as_object) else {
        return bad_request("Msg must be an object");
    };
    match msg.get("Type").and_then(Value::as_u64) {
        Some(t) if t == u64::from(MSG_TEXT) => {}
        Some(_) => return bad_request("webwxsendmsg sends text: Msg.Type must be 1"),
        None => return bad_request("Msg.Type must be a number"),
    }
    let (Some(content), Some(to)) = (
        msg.get("Content").and_then(Value::as_str),
        msg.get("ToUserName").and_then(Value::as_str),
    ) else {
        return bad_request("Msg.Content and Msg.ToUserName must be strings");
    };
    // LocalID / ClientMsgId: numbers or strings, echoed as a string.
    let local_id = match msg.get("LocalID").or_else(|| msg.get("ClientMsgId")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return bad_request("Msg.LocalID must be a number or a string"),
    };
    match emu.webwx_send_text(caller(&ids), to, content) {
        Ok(id) => json_reply(json!({
            "BaseResponse": base_response(0, OK),
            "MsgID": id.to_string(),
            "LocalID": local_id,
        })),
        Err(SendError::Auth(_)) => logged_out(),
        Err(e @ SendError::UnknownRecipient(_)) => {
            error_reply(RET_UNKNOWN_RECIPIENT, &e.to_string())
        }
        Err(e) => bad_request(&e.to_string()),
    }
}

/// `GET webwxlogout?redirect=1&type=1&skey=..` or `POST` (empty, or a form
/// with `sid` and `uin`): ends the session the cookies (or form) name.
/// Always 200 with an empty body: a redirect off the origin makes itchat
/// raise, and logging out twice is not an error.
pub async fn logout(State(emu): State<Arc<Emulator>>, headers: HeaderMap, body: Body) -> Response {
    let form: Option<(String, String)> =
        match crate::web::transport::body::read_body(body, emu.limits()).await {
            Ok(bytes) => {
                let pairs: std::collections::HashMap<String, String> =
                    url::form_urlencoded::parse(&bytes).into_owned().collect();
                pairs.get("uin").cloned().zip(pairs.get("sid").cloned())
            }
            Err(_) => None,
        };
    if let Some(ids) = cookie_ids(&headers).or(form) {
        let _ = emu.webwx_logout(caller(&ids));
    }
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], "").into_response()
}
