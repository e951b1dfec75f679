//! One session's view of the address book: every contact of the account's
//! [`ContactBook`] with the UserName it has in this login (the real service
//! hands out new UserNames per login; wxemu does too).

use std::sync::Arc;

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

/// One contact of an account's book, as every session shows it but for
/// the UserNames, which are new in each login (see [`Directory`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The config id (`filehelper` for the file helper).
    pub key: String,
    pub kind: ContactKind,
    /// With an empty `UserName`, and members' filled in per session.
    contact: Contact,
    /// Who each member of `contact.member_list` is, in order.
    members: Vec<Slot>,
}

/// A group member, by where a session keeps their UserName.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// The user (their nickname is the account's, too).
    Me,
    /// A friend: the entry at this index.
    Friend(usize),
    /// A member who is not a friend: this index among the session's others.
    Other(usize),
}

/// An account's contacts without anything that differs per login: built
/// once per distinct [`ContactBook`] and shared (an `Arc`) by every session
/// of every account with that book, so a session keeps only its UserNames.
#[derive(Debug, PartialEq)]
pub struct SharedBook {
    /// What it was built from (to find it again).
    pub source: ContactBook,
    /// filehelper, friends, groups, official accounts, in that order.
    entries: Vec<Entry>,
    /// How many group members are not friends.
    others: usize,
}

impl SharedBook {
    pub fn new(book: &ContactBook) -> SharedBook {
        let mut entries =
            Vec::with_capacity(1 + book.friends.len() + book.groups.len() + book.official.len());
        let mut filehelper = Contact::blank(String::new(), FILEHELPER_NICKNAME.to_owned());
        filehelper.contact_flag = 1;
        filehelper.py_initial = "WJCSZS".to_owned();
        filehelper.py_quan_pin = "wenjianchuanshuzhushou".to_owned();
        filehelper.key_word = "fil".to_owned();
        entries.push(Entry {
            key: FILEHELPER.to_owned(),
            kind: ContactKind::FileHelper,
            contact: filehelper,
            members: Vec::new(),
        });
        for friend in &book.friends {
            let mut c = Contact::blank(String::new(), friend.nickname.clone());
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
                members: Vec::new(),
            });
        }
        let mut others = 0;
        for group in &book.groups {
            let mut c = Contact::blank(String::new(), group.name.clone());
            c.contact_flag = 2051;
            c.statues = 1;
            c.is_owner = 1;
            // The user's own member record is made per session (their
            // UserName and nickname).
            let mut members = vec![Member::new(String::new(), String::new())];
            let mut slots = vec![Slot::Me];
            for id in &group.members {
                if let Some(at) = entries
                    .iter()
                    .position(|e| e.kind == ContactKind::Friend && &e.key == id)
                {
                    members.push(Member::new(
                        String::new(),
                        entries[at].contact.nick_name.clone(),
                    ));
                    slots.push(Slot::Friend(at));
                }
            }
            for nickname in &group.others {
                members.push(Member::new(String::new(), nickname.clone()));
                slots.push(Slot::Other(others));
                others += 1;
            }
            c.member_count = members.len();
            c.member_list = members;
            entries.push(Entry {
                key: group.id.clone(),
                kind: ContactKind::Group,
                contact: c,
                members: slots,
            });
        }
        for official in &book.official {
            let mut c = Contact::blank(String::new(), official.nickname.clone());
            c.verify_flag = VERIFY_FLAG_OFFICIAL;
            c.signature = official.signature.clone();
            c.key_word = "gh_".to_owned();
            c.alias = format!("gh_{}", official.id);
            entries.push(Entry {
                key: official.id.clone(),
                kind: ContactKind::Official,
                contact: c,
                members: Vec::new(),
            });
        }
        SharedBook {
            source: book.clone(),
            entries,
            others,
        }
    }
}

/// One session's address book: the shared book plus the UserNames of this
/// login.
#[derive(Debug, Clone)]
pub struct Directory {
    pub self_user_name: String,
    pub profile: Profile,
    uin: u64,
    book: Arc<SharedBook>,
    /// Each entry's UserName, in entry order.
    user_names: Vec<Box<str>>,
    /// The UserNames of group members who are not friends.
    other_names: Vec<Box<str>>,
}

/// One contact of a session: the shared entry (`key`, `kind`) and its
/// UserName in this login.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    dir: &'a Directory,
    index: usize,
}

impl std::ops::Deref for EntryRef<'_> {
    type Target = Entry;
    fn deref(&self) -> &Entry {
        &self.dir.book.entries[self.index]
    }
}

/// A group member as a session names them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemberRef<'a> {
    pub user_name: &'a str,
    pub nick_name: &'a str,
}

impl<'a> EntryRef<'a> {
    fn entry(&self) -> &'a Entry {
        &self.dir.book.entries[self.index]
    }

    pub fn user_name(&self) -> &'a str {
        &self.dir.user_names[self.index]
    }

    pub fn nick_name(&self) -> &'a str {
        &self.entry().contact.nick_name
    }

    pub fn remark_name(&self) -> &'a str {
        &self.entry().contact.remark_name
    }

    /// Group members in `MemberList` order (the user first).
    pub fn members(&self) -> impl Iterator<Item = MemberRef<'a>> + 'a {
        let dir = self.dir;
        let entry = self.entry();
        entry
            .members
            .iter()
            .zip(&entry.contact.member_list)
            .map(move |(slot, m)| match *slot {
                Slot::Me => MemberRef {
                    user_name: &dir.self_user_name,
                    nick_name: &dir.profile.nickname,
                },
                _ => MemberRef {
                    user_name: dir.slot_name(*slot),
                    nick_name: &m.nick_name,
                },
            })
    }

    /// The contact as the wire shows it in this session.
    pub fn contact(&self) -> Contact {
        let entry = self.entry();
        let mut c = entry.contact.clone();
        c.user_name = self.user_name().to_owned();
        if entry.kind == ContactKind::Group {
            c.owner_uin = self.dir.uin;
        }
        for (slot, m) in entry.members.iter().zip(c.member_list.iter_mut()) {
            match *slot {
                Slot::Me => {
                    *m = Member::new(
                        self.dir.self_user_name.clone(),
                        self.dir.profile.nickname.clone(),
                    )
                }
                _ => m.user_name = self.dir.slot_name(*slot).to_owned(),
            }
        }
        c
    }
}

impl Directory {
    /// A new login's directory: new UserNames for the user and every contact.
    pub fn new(profile: Profile, book: Arc<SharedBook>, uin: u64) -> Directory {
        let user_names = book
            .entries
            .iter()
            .map(|e| match e.kind {
                ContactKind::FileHelper => FILEHELPER.into(),
                ContactKind::Group => ids::user_name("@@", 64).into_boxed_str(),
                _ => ids::user_name("@", 32).into_boxed_str(),
            })
            .collect();
        let other_names = (0..book.others)
            .map(|_| ids::user_name("@", 32).into_boxed_str())
            .collect();
        Directory {
            self_user_name: ids::user_name("@", 64),
            profile,
            uin,
            book,
            user_names,
            other_names,
        }
    }

    fn slot_name(&self, slot: Slot) -> &str {
        match slot {
            Slot::Me => &self.self_user_name,
            Slot::Friend(at) => &self.user_names[at],
            Slot::Other(at) => &self.other_names[at],
        }
    }

    /// Every contact: filehelper, friends, groups, official accounts.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = EntryRef<'_>> + Clone {
        (0..self.user_names.len()).map(move |index| EntryRef { dir: self, index })
    }

    pub fn by_user_name(&self, user_name: &str) -> Option<EntryRef<'_>> {
        self.entries().find(|e| e.user_name() == user_name)
    }

    /// A contact named by UserName, config id, remark or nickname (in that
    /// order of preference), or `friend` (the first friend).
    pub fn find(&self, name: &str) -> Option<EntryRef<'_>> {
        if name == "friend" {
            return self.entries().find(|e| e.kind == ContactKind::Friend);
        }
        self.by_user_name(name)
            .or_else(|| self.entries().find(|e| e.key == name))
            .or_else(|| {
                self.entries()
                    .find(|e| !e.remark_name().is_empty() && e.remark_name() == name)
            })
            .or_else(|| self.entries().find(|e| e.nick_name() == name))
    }

    /// A group member (not the user) by UserName, friend id or nickname.
    pub fn member<'a>(&'a self, group: EntryRef<'a>, name: Option<&str>) -> Option<MemberRef<'a>> {
        let mut others = group
            .members()
            .filter(|m| m.user_name != self.self_user_name);
        match name {
            None => others.next(),
            Some(name) => {
                let friend_user_name = self.find(name).map(|e| e.user_name());
                others.find(|m| {
                    m.user_name == name
                        || Some(m.user_name) == friend_user_name
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
            Some(e) if !e.remark_name().is_empty() => e.remark_name().to_owned(),
            Some(e) => e.nick_name().to_owned(),
            None => self
                .entries()
                .flat_map(|e| e.members())
                .find(|m| m.user_name == user_name)
                .map(|m| m.nick_name.to_owned())
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
            return Some(e.contact());
        }
        self.entries()
            .flat_map(|e| e.members())
            .find(|m| m.user_name == user_name)
            .map(|m| {
                let mut c = Contact::blank(m.user_name.to_owned(), m.nick_name.to_owned());
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
        self.entries()
            .map(|e| ContactSummary {
                id: e.key.clone(),
                kind: e.kind,
                user_name: e.user_name().to_owned(),
                nickname: e.nick_name().to_owned(),
                members: e.members().map(|m| m.nick_name.to_owned()).collect(),
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
        Directory::new(
            profile,
            Arc::new(SharedBook::new(&ContactBook::default())),
            1_234_567_890,
        )
    }

    #[test]
    fn every_contact_gets_a_user_name_of_its_kind() {
        let d = directory();
        assert!(d.self_user_name.starts_with('@') && d.self_user_name.len() == 65);
        for e in d.entries() {
            let name = e.contact().user_name;
            assert_eq!(name, e.user_name());
            match e.kind {
                ContactKind::FileHelper => assert_eq!(name, "filehelper"),
                ContactKind::Group => assert!(name.starts_with("@@") && name.len() == 66),
                _ => assert!(name.starts_with('@') && !name.starts_with("@@") && name.len() == 33),
            }
        }
        let group = d.find("testgroup").unwrap().contact();
        assert_eq!(group.member_count, 5, "the user, three friends, one other");
        assert_eq!(group.owner_uin, 1_234_567_890);
        assert_eq!(group.member_list[0].user_name, d.self_user_name);
        assert_eq!(group.member_list[0].nick_name, "Me");
        let zhangsan = d.find("张三").unwrap().user_name();
        assert!(
            group.member_list.iter().any(|m| m.user_name == zhangsan),
            "friends keep their UserName in groups"
        );
        assert!(group
            .member_list
            .iter()
            .all(|m| m.user_name.starts_with('@')));
    }

    #[test]
    fn sessions_share_the_book_but_not_the_user_names() {
        let book = Arc::new(SharedBook::new(&ContactBook::default()));
        let profile = directory().profile;
        let a = Directory::new(profile.clone(), book.clone(), 1);
        let b = Directory::new(profile, book.clone(), 2);
        assert_eq!(Arc::strong_count(&book), 3);
        let group_a = a.find("testgroup").unwrap().contact();
        let group_b = b.find("testgroup").unwrap().contact();
        assert_ne!(group_a.user_name, group_b.user_name);
        for (ma, mb) in group_a.member_list.iter().zip(&group_b.member_list) {
            assert_eq!(ma.nick_name, mb.nick_name);
            assert_ne!(ma.user_name, mb.user_name, "{}", ma.nick_name);
        }
        let other = &group_a.member_list[4];
        assert_eq!(other.nick_name, "王五");
        assert_eq!(a.display_name(&other.user_name), "王五");
        assert_eq!(a.display_name(&other.user_name), "王五");
        let found = a
            .lookup_for_batch(&other.user_name, &a.self_contact(1))
            .unwrap();
        assert_eq!(found.nick_name, "王五");
        assert!(b
            .lookup_for_batch(&other.user_name, &b.self_contact(2))
            .is_none());
    }

    #[test]
    fn contacts_are_found_by_any_name() {
        let d = directory();
        let alice = d.find("alice").unwrap().user_name();
        assert_eq!(d.find("Alice").unwrap().user_name(), alice);
        assert_eq!(d.find(alice).unwrap().key, "alice");
        assert_eq!(d.find("friend").unwrap().key, "zhangsan");
        assert!(d.find("nobody").is_none());
        let group = d.find("Weekend Hikers").unwrap();
        assert_eq!(d.member(group, None).unwrap().nick_name, "Alice");
        assert_eq!(d.member(group, Some("bob")).unwrap().nick_name, "Bob");
        assert_eq!(
            d.member(group, Some("bob")).unwrap().user_name,
            d.find("bob").unwrap().user_name()
        );
        assert!(
            d.member(group, Some("zhangsan")).is_none(),
            "not in that group"
        );
        assert_eq!(d.display_name(&d.self_user_name), "Me");
    }
}
