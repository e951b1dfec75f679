//! An account's address book as its Web WeChat sessions show it: friends,
//! groups with members, official accounts and `filehelper`.
//!
//! [`ContactBook`] is what `config.toml` says (`[accounts.webwx]` under an
//! `[[accounts]]`), or a generated default set. [`Contact`] is one entry as
//! the wire carries it (webwxinit, webwxgetcontact, webwxbatchgetcontact):
//! every field of seed 002, because clients index them without checking.

use serde::{Deserialize, Serialize};

/// Bounds on a configured address book (config validation uses them).
pub const MAX_CONTACTS: usize = 5_000;
pub const MAX_GROUP_MEMBERS: usize = 500;
pub const MAX_NAME_BYTES: usize = 256;

/// VerifyFlag of a subscription/service account (clients test `& 8`).
pub const VERIFY_FLAG_OFFICIAL: u32 = 24;

/// An account's Web WeChat contacts, as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactBook {
    pub friends: Vec<FriendSpec>,
    pub groups: Vec<GroupSpec>,
    pub official: Vec<OfficialSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FriendSpec {
    /// Stable key: group members and `from` in the control API name it.
    pub id: String,
    pub nickname: String,
    pub remark: String,
    /// 1 male, 2 female, 0 unknown.
    pub sex: u8,
    pub signature: String,
    pub province: String,
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct GroupSpec {
    pub id: String,
    pub name: String,
    /// Friend ids; the logged-in user is always a member too.
    pub members: Vec<String>,
    /// Members who are not the user's friends, by nickname.
    pub others: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct OfficialSpec {
    pub id: String,
    pub nickname: String,
    pub signature: String,
}

impl Default for ContactBook {
    /// The generated set every account has unless its config says otherwise.
    fn default() -> Self {
        let friend = |id: &str, nickname: &str, sex: u8, province: &str, city: &str| FriendSpec {
            id: id.to_owned(),
            nickname: nickname.to_owned(),
            sex,
            province: province.to_owned(),
            city: city.to_owned(),
            ..FriendSpec::default()
        };
        ContactBook {
            friends: vec![
                friend("zhangsan", "张三", 1, "Beijing", "Haidian"),
                friend("lisi", "李四", 1, "Guangdong", "Shenzhen"),
                friend("alice", "Alice", 2, "Shanghai", "Xuhui"),
                friend("bob", "Bob", 1, "Zhejiang", "Hangzhou"),
            ],
            groups: vec![
                GroupSpec {
                    id: "testgroup".to_owned(),
                    name: "测试群".to_owned(),
                    members: vec!["zhangsan".into(), "lisi".into(), "alice".into()],
                    others: vec!["王五".into()],
                },
                GroupSpec {
                    id: "hikers".to_owned(),
                    name: "Weekend Hikers".to_owned(),
                    members: vec!["alice".into(), "bob".into()],
                    others: vec![],
                },
            ],
            official: vec![OfficialSpec {
                id: "wxemunews".to_owned(),
                nickname: "wxemu 服务号".to_owned(),
                signature: "News from the emulator".to_owned(),
            }],
        }
    }
}

impl ContactBook {
    /// Checks what the config cannot express by its types.
    pub fn validate(&self) -> Result<(), String> {
        let total = self.friends.len() + self.groups.len() + self.official.len();
        if total > MAX_CONTACTS {
            return Err(format!("{total} contacts; at most {MAX_CONTACTS}"));
        }
        let mut ids = std::collections::HashSet::new();
        let names = self
            .friends
            .iter()
            .map(|f| (&f.id, &f.nickname))
            .chain(self.groups.iter().map(|g| (&g.id, &g.name)))
            .chain(self.official.iter().map(|o| (&o.id, &o.nickname)));
        for (id, name) in names {
            if id.is_empty() || id.len() > MAX_NAME_BYTES || name.len() > MAX_NAME_BYTES {
                return Err(format!(
                    "contact {id:?}: id must be 1..={MAX_NAME_BYTES} bytes, name at most {MAX_NAME_BYTES}"
                ));
            }
            if id == "filehelper" || id == "self" || id == "friend" {
                return Err(format!("contact id {id:?} is reserved"));
            }
            if !ids.insert(id.as_str()) {
                return Err(format!("contact id {id:?} is used twice"));
            }
        }
        for group in &self.groups {
            if group.members.len() + group.others.len() + 1 > MAX_GROUP_MEMBERS {
                return Err(format!(
                    "group {:?}: at most {MAX_GROUP_MEMBERS} members",
                    group.id
                ));
            }
            if let Some(unknown) = group
                .members
                .iter()
                .find(|m| !self.friends.iter().any(|f| &f.id == *m))
            {
                return Err(format!(
                    "group {:?}: member {unknown:?} is not a friend id (list non-friends under `others`)",
                    group.id
                ));
            }
            if group.others.iter().any(|o| o.len() > MAX_NAME_BYTES) {
                return Err(format!(
                    "group {:?}: a nickname in `others` is too long",
                    group.id
                ));
            }
        }
        Ok(())
    }
}

/// One contact as the wire carries it (seed 002's fields, in its order).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contact {
    pub uin: u64,
    pub user_name: String,
    pub nick_name: String,
    pub head_img_url: String,
    pub contact_flag: u32,
    pub member_count: usize,
    pub member_list: Vec<Member>,
    pub remark_name: String,
    pub hide_input_bar_flag: u32,
    pub sex: u8,
    pub signature: String,
    pub verify_flag: u32,
    pub owner_uin: u64,
    #[serde(rename = "PYInitial")]
    pub py_initial: String,
    #[serde(rename = "PYQuanPin")]
    pub py_quan_pin: String,
    #[serde(rename = "RemarkPYInitial")]
    pub remark_py_initial: String,
    #[serde(rename = "RemarkPYQuanPin")]
    pub remark_py_quan_pin: String,
    pub star_friend: u32,
    pub app_account_flag: u32,
    pub statues: u32,
    pub attr_status: u32,
    pub province: String,
    pub city: String,
    pub alias: String,
    pub sns_flag: u32,
    pub uni_friend: u32,
    pub display_name: String,
    pub chat_room_id: u64,
    pub key_word: String,
    pub encry_chat_room_id: String,
    pub is_owner: u32,
}

/// A group member inside a group's `MemberList`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Member {
    pub uin: u64,
    pub user_name: String,
    pub nick_name: String,
    pub attr_status: u32,
    #[serde(rename = "PYInitial")]
    pub py_initial: String,
    #[serde(rename = "PYQuanPin")]
    pub py_quan_pin: String,
    #[serde(rename = "RemarkPYInitial")]
    pub remark_py_initial: String,
    #[serde(rename = "RemarkPYQuanPin")]
    pub remark_py_quan_pin: String,
    pub member_status: u32,
    pub display_name: String,
    pub key_word: String,
}

/// What kind of contact an entry is (for the control API and `from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Friend,
    Group,
    Official,
    FileHelper,
}

impl Contact {
    pub(crate) fn blank(user_name: String, nick_name: String) -> Contact {
        Contact {
            uin: 0,
            key_word: nick_name.chars().take(3).collect(),
            user_name,
            nick_name,
            head_img_url: String::new(),
            contact_flag: 3,
            member_count: 0,
            member_list: Vec::new(),
            remark_name: String::new(),
            hide_input_bar_flag: 0,
            sex: 0,
            signature: String::new(),
            verify_flag: 0,
            owner_uin: 0,
            py_initial: String::new(),
            py_quan_pin: String::new(),
            remark_py_initial: String::new(),
            remark_py_quan_pin: String::new(),
            star_friend: 0,
            app_account_flag: 0,
            statues: 0,
            attr_status: 0,
            province: String::new(),
            city: String::new(),
            alias: String::new(),
            sns_flag: 0,
            uni_friend: 0,
            display_name: String::new(),
            chat_room_id: 0,
            encry_chat_room_id: String::new(),
            is_owner: 0,
        }
    }
}

impl Member {
    pub(crate) fn new(user_name: String, nick_name: String) -> Member {
        Member {
            uin: 0,
            key_word: nick_name.chars().take(3).collect(),
            user_name,
            nick_name,
            attr_status: 0,
            py_initial: String::new(),
            py_quan_pin: String::new(),
            remark_py_initial: String::new(),
            remark_py_quan_pin: String::new(),
            member_status: 0,
            display_name: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_book_is_valid_and_has_every_kind() {
        let book = ContactBook::default();
        book.validate().unwrap();
        assert!(book.friends.len() >= 3 && !book.groups.is_empty() && !book.official.is_empty());
    }

    #[test]
    fn validation_names_the_problem() {
        let mut book = ContactBook::default();
        book.groups[0].members.push("nobody".into());
        assert!(book.validate().unwrap_err().contains("nobody"));
        let mut book = ContactBook::default();
        book.friends[1].id = "zhangsan".into();
        assert!(book.validate().unwrap_err().contains("twice"));
        let mut book = ContactBook::default();
        book.friends[0].id = "filehelper".into();
        assert!(book.validate().unwrap_err().contains("reserved"));
    }

    #[test]
    fn contacts_serialize_with_the_wire_names() {
        let c = Contact::blank("@abc".into(), "张三丰".into());
        let v = serde_json::to_value(&c).unwrap();
        for key in [
            "UserName",
            "NickName",
            "PYQuanPin",
            "RemarkPYInitial",
            "EncryChatRoomId",
            "MemberList",
            "VerifyFlag",
            "KeyWord",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
    }
}
