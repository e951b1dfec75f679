//! One session's view of the address book: every contact of the account's
//! [`ContactBook`] with the UserName it has in this login (the real service
//! hands out new UserNames per login; wxemu does too).

use serde::Serialize;

use super::contacts::{Contact, ContactBook, ContactKind, Member, VERIFY_FLAG_OFFICIAL};
use super::ids;

pub const FILEHELPER: &str = "filehelper";
pub const FILEHELPER_NICKNAME: &str = "文件传输助手";

/// The logged-in user as this session shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub account_id: String,
    pub nickname: String,
    /// 1 male, 2 female, 0 unknown.
    pub sex: u8,
    pub signature: String,
    pub province: String,
    pub city: String,
}

/// One contact of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The config id (`filehelper` for the file helper).
    pub key: String,
    pub kind: ContactKind,
    pub contact: Contact,
}

/// A contact as the control API and the desktop app list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactSummary {
    pub id: String,
    pub kind: ContactKind,
    pub user_name: String,
    pub nickname: String,
    /// Groups: member nicknames (the user included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Directory {
    pub self_user_name: String,
    pub profile: Profile,
    /// filehelper, friends, groups, official accounts, in that order.
    entries: Vec<Entry>,
}

impl Directory {
    pub fn new(profile: Profile, book: &ContactBook, uin: u64) -> Directory {
        let self_user_name = ids::user_name("@", 64);
        let mut entries =
            Vec::with_capacity(1 + book.friends.len() + book.groups.len() + book.official.len());
        let mut filehelper = Contact::blank(FILEHELPER.to_owned(), FILEHELPER_NICKNAME.to_owned());
        filehelper.contact_flag = 1;
        filehelper.py_initial = "WJCSZS".to_owned();
        filehelper.py_quan_pin = "wenjianchuanshuzhushou".to_owned();
        filehelper.key_word = "fil".to_owned();
        entries.push(Entry {
            key: FILEHELPER.to_owned(),
            kind: ContactKind::FileHelper,
            contact: filehelper,
        });
        for friend in &book.friends {
            let mut c = Contact::blank(ids::user_name("@", 32), friend.nickname.clone());
            c.remark_name = friend.remark.clone();
            c.sex = friend.sex;
            c.signature = friend.signature.clone();
            c.province = friend.province.clone();
            c.city = friend.city.clone();
            c.alias = format!("wxid_{}", friend.id);
            c.py_quan_pin = friend.id.clone();
            entries.push(Entry {
                key: friend.id.clone(),
                kind: ContactKind::Friend,
                contact: c,
            });
        }
        for group in &book.groups {
            let mut c = Contact::blank(ids::user_name("@@", 64), group.name.clone());
            c.contact_flag = 2051;
            c.statues = 1;
            c.owner_uin = uin;
            c.is_owner = 1;
            let mut members = vec![Member::new(
                self_user_name.clone(),
                profile.nickname.clone(),
            )];
            for id in &group.members {
                if let Some(friend) = entries
                    .iter()
                    .find(|e| e.kind == ContactKind::Friend && &e.key == id)
                {
                    members.push(Member::new(
                        friend.contact.user_name.clone(),
                        friend.contact.nick_name.clone(),
                    ));
                }
            }
            for nickname in &group.others {
                members.push(Member::new(ids::user_name("@", 32), nickname.clone()));
            }
            c.member_count = members.len();
            c.member_list = members;
            entries.push(Entry {
                key: group.id.clone(),
                kind: ContactKind::Group,
                contact: c,
            });
        }
        for official in &book.official {
            let mut c = Contact::blank(ids::user_name("@", 32), official.nickname.clone());
            c.verify_flag = VERIFY_FLAG_OFFICIAL;
            c.signature = official.signature.clone();
            c.key_word = "gh_".to_owned();
            c.alias = format!("gh_{}", official.id);
            entries.push(Entry {
                key: official.id.clone(),
                kind: ContactKind::Official,
                contact: c,
            });
        }
        Directory {
            self_user_name,
            profile,
            entries,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn by_user_name(&self, user_name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.contact.user_name == user_name)
    }

    /// A contact named by UserName, config id, remark or nickname (in that
    /// order of preference), or `friend` (the first friend).
    pub fn find(&self, name: &str) -> Option<&Entry> {
        if name == "friend" {
            return self.entries.iter().find(|e| e.kind == ContactKind::Friend);
        }
        self.by_user_name(name)
            .or_else(|| self.entries.iter().find(|e| e.key == name))
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| !e.contact.remark_name.is_empty() && e.contact.remark_name == name)
            })
            .or_else(|| self.entries.iter().find(|e| e.contact.nick_name == name))
    }

    /// A group member (not the user) by UserName, friend id or nickname.
    pub fn member<'a>(&self, group: &'a Entry, name: Option<&str>) -> Option<&'a Member> {
        let others = || {
            group
                .contact
                .member_list
                .iter()
                .filter(|m| m.user_name != self.self_user_name)
        };
        match name {
            None => others().next(),
            Some(name) => {
                let friend_user_name = self.find(name).map(|e| e.contact.user_name.as_str());
                others().find(|m| {
                    m.user_name == name
                        || Some(m.user_name.as_str()) == friend_user_name
                        || m.nick_name == name
                })
            }
        }
    }

    /// The display name of a UserName in this session.
    pub fn display_name(&self, user_name: &str) -> String {
        if user_name == self.self_user_name {
            return self.profile.nickname.clone();
        }
        match self.by_user_name(user_name) {
            Some(e) if !e.contact.remark_name.is_empty() => e.contact.remark_name.clone(),
            Some(e) => e.contact.nick_name.clone(),
            None => self
                .entries
                .iter()
                .flat_map(|e| e.contact.member_list.iter())
                .find(|m| m.user_name == user_name)
                .map(|m| m.nick_name.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the web client may send to this UserName.
    pub fn is_known(&self, user_name: &str) -> bool {
        user_name == self.self_user_name || self.by_user_name(user_name).is_some()
    }

    /// What webwxbatchgetcontact answers for one UserName: a contact, the
    /// user, or a group member who is not a friend.
    pub fn lookup_for_batch(&self, user_name: &str, self_contact: &Contact) -> Option<Contact> {
        if user_name == self.self_user_name {
            return Some(self_contact.clone());
        }
        if let Some(e) = self.by_user_name(user_name) {
            return Some(e.contact.clone());
        }
        self.entries
            .iter()
            .flat_map(|e| e.contact.member_list.iter())
            .find(|m| m.user_name == user_name)
            .map(|m| {
                let mut c = Contact::blank(m.user_name.clone(), m.nick_name.clone());
                c.contact_flag = 0;
                c
            })
    }

    /// The user as a contact (webwxbatchgetcontact on their own UserName).
    pub fn self_contact(&self, uin: u64) -> Contact {
        let mut c = Contact::blank(self.self_user_name.clone(), self.profile.nickname.clone());
        c.uin = uin;
        c.contact_flag = 0;
        c.sex = self.profile.sex;
        c.signature = self.profile.signature.clone();
        c.province = self.profile.province.clone();
        c.city = self.profile.city.clone();
        c
    }

    pub fn summaries(&self) -> Vec<ContactSummary> {
        self.entries
            .iter()
            .map(|e| ContactSummary {
                id: e.key.clone(),
                kind: e.kind,
                user_name: e.contact.user_name.clone(),
                nickname: e.contact.nick_name.clone(),
                members: e
                    .contact
                    .member_list
                    .iter()
                    .map(|m| m.nick_name.clone())
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let profile = Profile {
            account_id: "default".into(),
            nickname: "Me".into(),
            sex: 1,
            signature: String::new(),
            province: String::new(),
            city: String::new(),
        };
        Directory::new(profile, &ContactBook::default(), 1_234_567_890)
    }

    #[test]
    fn every_contact_gets_a_user_name_of_its_kind() {
        let d = directory();
        assert!(d.self_user_name.starts_with('@') && d.self_user_name.len() == 65);
        for e in d.entries() {
            let name = &e.contact.user_name;
            match e.kind {
                ContactKind::FileHelper => assert_eq!(name, "filehelper"),
                ContactKind::Group => assert!(name.starts_with("@@") && name.len() == 66),
                _ => assert!(name.starts_with('@') && !name.starts_with("@@") && name.len() == 33),
            }
        }
        let group = d.find("testgroup").unwrap();
        assert_eq!(
            group.contact.member_count, 5,
            "the user, three friends, one other"
        );
        assert_eq!(group.contact.member_list[0].user_name, d.self_user_name);
        let zhangsan = d.find("张三").unwrap().contact.user_name.clone();
        assert!(
            group
                .contact
                .member_list
                .iter()
                .any(|m| m.user_name == zhangsan),
            "friends keep their UserName in groups"
        );
    }

    #[test]
    fn contacts_are_found_by_any_name() {
        let d = directory();
        let alice = d.find("alice").unwrap().contact.user_name.clone();
        assert_eq!(d.find("Alice").unwrap().contact.user_name, alice);
        assert_eq!(d.find(&alice).unwrap().key, "alice");
        assert_eq!(d.find("friend").unwrap().key, "zhangsan");
        assert!(d.find("nobody").is_none());
        let group = d.find("Weekend Hikers").unwrap();
        assert_eq!(d.member(group, None).unwrap().nick_name, "Alice");
        assert_eq!(d.member(group, Some("bob")).unwrap().nick_name, "Bob");
        assert!(
            d.member(group, Some("zhangsan")).is_none(),
            "not in that group"
        );
        assert_eq!(d.display_name(&d.self_user_name), "Me");
    }
}
