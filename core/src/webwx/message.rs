//! Messages: the wire record of webwxsync's `AddMsgList` and the
//! conversation entry the control API and the desktop app show.

use serde::{Deserialize, Serialize};

/// Text messages (`MsgType 1`).
pub const MSG_TEXT: u32 = 1;
/// The status notification the service queues after webwxstatusnotify.
pub const MSG_STATUS_NOTIFY: u32 = 51;

/// One message of `AddMsgList`, with every field real clients read
/// (protocol.md section 3: they index them without checking).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireMessage {
    pub msg_id: String,
    pub from_user_name: String,
    pub to_user_name: String,
    pub msg_type: u32,
    /// HTML-escaped, newlines as `<br/>`; group messages start with
    /// `@member:<br/>`.
    pub content: String,
    pub status: u32,
    pub img_status: u32,
    pub create_time: u64,
    pub voice_length: u32,
    pub play_length: u32,
    pub file_name: String,
    pub file_size: String,
    pub media_id: String,
    pub url: String,
    pub app_msg_type: u32,
    pub status_notify_code: u32,
    pub status_notify_user_name: String,
    pub recommend_info: RecommendInfo,
    pub forward_flag: u32,
    pub app_info: AppInfo,
    pub has_product_id: u32,
    pub ticket: String,
    pub img_height: u32,
    pub img_width: u32,
    pub sub_msg_type: u32,
    pub new_msg_id: u64,
    pub ori_content: String,
    pub encry_file_name: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecommendInfo {
    pub user_name: String,
    pub nick_name: String,
    pub q_q_num: u64,
    pub province: String,
    pub city: String,
    pub content: String,
    pub signature: String,
    pub alias: String,
    pub scene: u32,
    pub verify_flag: u32,
    pub attr_status: u32,
    pub sex: u8,
    pub ticket: String,
    pub op_code: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AppInfo {
    #[serde(rename = "AppID")]
    pub app_id: String,
    #[serde(rename = "Type")]
    pub kind: u32,
}

impl WireMessage {
    pub(crate) fn new(
        id: u64,
        msg_type: u32,
        from: String,
        to: String,
        content: String,
        create_time: u64,
    ) -> WireMessage {
        WireMessage {
            msg_id: id.to_string(),
            from_user_name: from,
            to_user_name: to,
            msg_type,
            content,
            status: 3,
            img_status: 1,
            create_time,
            voice_length: 0,
            play_length: 0,
            file_name: String::new(),
            file_size: String::new(),
            media_id: String::new(),
            url: String::new(),
            app_msg_type: 0,
            status_notify_code: 0,
            status_notify_user_name: String::new(),
            recommend_info: RecommendInfo::default(),
            forward_flag: 0,
            app_info: AppInfo::default(),
            has_product_id: 0,
            ticket: String::new(),
            img_height: 0,
            img_width: 0,
            sub_msg_type: 0,
            new_msg_id: id,
            ori_content: String::new(),
            encry_file_name: String::new(),
        }
    }
}

/// Who sent a conversation entry, seen from the web client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Delivered to the web client through webwxsync.
    In,
    /// Sent by the web client through webwxsendmsg.
    Out,
}

/// One message of a session's conversation (control API, desktop app).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationEntry {
    /// The public session id.
    pub session: u64,
    /// MsgId (decimal string on the wire).
    pub id: String,
    pub direction: Direction,
    #[serde(rename = "type")]
    pub msg_type: u32,
    /// UserNames as the session knows them.
    pub from: String,
    pub to: String,
    /// Display names for people (nickname, group name, "文件传输助手").
    pub from_name: String,
    pub to_name: String,
    /// In a group message from someone else: who in the group said it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The plain text (not escaped).
    pub text: String,
    /// Unix milliseconds on the emulated clock.
    pub at: u64,
    /// For `in` entries: whether webwxsync has handed it to the client yet.
    pub delivered: bool,
}

/// The text as the wire carries it: HTML-escaped, newlines as `<br/>`.
pub fn wire_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// What a client's `Content` says as plain text (the inverse of
/// [`wire_text`], lenient: clients send raw text, some pre-escaped).
pub fn plain_text(content: &str) -> String {
    content
        .replace("<br/>", "\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_the_wire_form() {
        let text = "a < b && c > d\nnext line";
        let wire = wire_text(text);
        assert_eq!(wire, "a &lt; b &amp;&amp; c &gt; d<br/>next line");
        assert_eq!(plain_text(&wire), text);
    }

    #[test]
    fn wire_messages_carry_every_field() {
        let m = WireMessage::new(42, MSG_TEXT, "@a".into(), "@b".into(), "hi".into(), 7);
        let v = serde_json::to_value(&m).unwrap();
        for key in [
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
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["MsgId"], "42");
        assert_eq!(v["AppInfo"]["AppID"], "");
    }
}
