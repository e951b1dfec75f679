//! The domain's rules, without HTTP: tickets, one live session per
//! account, sync keys, the synccheck waiter, injection, bounds, expiry.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::session::SessionStatus;
use super::*;

fn profile(id: &str) -> Option<AccountProfile> {
    Some(AccountProfile {
        id: id.to_owned(),
        nickname: format!("nick-{id}"),
        sex: 1,
        signature: String::new(),
        province: String::new(),
        city: String::new(),
        contacts: ContactBook::default(),
    })
}

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn login(wx: &WebWx, account: &str, now: SystemTime) -> LoginGrant {
    let ticket = wx.issue_ticket(account, "Qe3PDEPf1Q==", now);
    wx.redeem_ticket(&ticket, "Qe3PDEPf1Q==", profile, now)
        .unwrap()
}

fn caller(grant: &LoginGrant) -> (String, String) {
    (grant.creds.uin.to_string(), grant.creds.sid.clone())
}

macro_rules! who {
    ($c:expr) => {
        Caller {
            uin: &$c.0,
            sid: &$c.1,
        }
    };
}

#[test]
fn tickets_are_single_use_bound_to_their_uuid_and_expire() {
    let wx = WebWx::default();
    let ticket = wx.issue_ticket("default", "uuid-a==", t0());
    assert_eq!(
        wx.redeem_ticket(&ticket, "uuid-b==", profile, t0()),
        Err(TicketError::UuidMismatch)
    );
    assert!(wx.redeem_ticket(&ticket, "uuid-a==", profile, t0()).is_ok());
    assert_eq!(
        wx.redeem_ticket(&ticket, "uuid-a==", profile, t0()),
        Err(TicketError::Unknown),
        "single use"
    );

    let late = wx.issue_ticket("default", "uuid-c==", t0());
    let after = t0() + wx.settings().ticket_ttl;
    assert_eq!(
        wx.redeem_ticket(&late, "uuid-c==", profile, after),
        Err(TicketError::Expired)
    );
    let gone = wx.issue_ticket("ghost", "uuid-d==", t0());
    assert_eq!(
        wx.redeem_ticket(&gone, "uuid-d==", |_| None, t0()),
        Err(TicketError::UnknownAccount("ghost".into()))
    );
}

#[test]
fn uin_is_stable_per_account_and_credentials_are_fresh_per_login() {
    let wx = WebWx::default();
    let a = login(&wx, "default", t0());
    let b = login(&wx, "default", t0());
    assert_eq!(a.creds.uin, b.creds.uin);
    assert_ne!(a.creds.sid, b.creds.sid);
    assert_ne!(a.creds.skey, b.creds.skey);
    assert_ne!(login(&wx, "alice", t0()).creds.uin, a.creds.uin);
}

#[test]
fn a_second_login_of_the_account_ends_the_first() {
    let wx = WebWx::default();
    let mut events = wx.subscribe();
    let first = login(&wx, "default", t0());
    let c1 = caller(&first);
    assert!(wx.init(who!(c1), t0()).is_ok());
    let other = login(&wx, "alice", t0());
    let second = login(&wx, "default", t0());
    assert_eq!(second.replaced, Some(first.session));
    assert_eq!(wx.init(who!(c1), t0()).unwrap_err(), AuthError::LoggedOut);
    let c2 = caller(&second);
    assert!(wx.init(who!(c2), t0()).is_ok());
    assert!(
        wx.init(who!(caller(&other)), t0()).is_ok(),
        "other accounts are untouched"
    );
    let s = wx.session(first.session).unwrap();
    assert_eq!(
        (s.status, s.ended_reason),
        (SessionStatus::Ended, Some(EndReason::Replaced))
    );
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(match e {
            WebWxEvent::SessionStarted { session } => format!("start {}", session.id),
            WebWxEvent::SessionEnded { session } => format!("end {}", session.id),
            WebWxEvent::Message { .. } => "msg".into(),
        });
    }
    assert_eq!(seen, ["start 1", "start 2", "end 1", "start 3"]);
}

#[test]
fn unknown_and_mismatched_credentials_are_refused() {
    let wx = WebWx::default();
    let g = login(&wx, "default", t0());
    let sid = g.creds.sid.clone();
    for (uin, sid) in [
        ("1", sid.as_str()),
        ("x", sid.as_str()),
        ("", ""),
        (&g.creds.uin.to_string()[..], "nope"),
    ] {
        assert_eq!(
            wx.init(Caller { uin, sid }, t0()).unwrap_err(),
            AuthError::Unknown,
            "{uin} {sid}"
        );
    }
    let padded = format!(" {} ", g.creds.uin);
    assert!(
        wx.init(
            Caller {
                uin: &padded,
                sid: &sid
            },
            t0()
        )
        .is_ok(),
        "Uin as a padded string"
    );
}

#[test]
fn sessions_expire_when_idle_on_the_emulated_clock() {
    let wx = WebWx::default();
    let g = login(&wx, "default", t0());
    let c = caller(&g);
    let ttl = wx.settings().session_idle_ttl;
    let almost = t0() + ttl - Duration::from_secs(1);
    assert!(wx.init(who!(c), almost).is_ok(), "use keeps it alive");
    assert!(wx
        .init(who!(c), almost + ttl - Duration::from_secs(1))
        .is_ok());
    assert_eq!(
        wx.init(who!(c), almost + ttl * 2).unwrap_err(),
        AuthError::LoggedOut
    );
    assert_eq!(
        wx.session(g.session).unwrap().ended_reason,
        Some(EndReason::Expired)
    );
    // purge ends idle sessions nobody calls.
    let g2 = login(&wx, "alice", t0());
    assert_eq!(wx.purge(t0() + ttl * 3), 1);
    assert_eq!(
        wx.session(g2.session).unwrap().ended_reason,
        Some(EndReason::Expired)
    );
}

#[test]
fn contacts_page_by_seq_and_end_with_zero() {
    let wx = WebWx::new(WebWxSettings {
        contact_page_size: 3,
        ..WebWxSettings::default()
    });
    let g = login(&wx, "default", t0());
    let c = caller(&g);
    let mut seq = 0;
    let mut all = Vec::new();
    for _ in 0..10 {
        let page = wx.contacts_page(who!(c), seq, t0()).unwrap();
        assert!(page.contacts.len() <= 3);
        all.extend(page.contacts);
        seq = page.next_seq;
        if seq == 0 {
            break;
        }
    }
    assert_eq!(seq, 0);
    assert_eq!(
        all.len(),
        1 + 4 + 2 + 1,
        "filehelper, friends, groups, official"
    );
    let past_end = wx.contacts_page(who!(c), 10_000, t0()).unwrap();
    assert!(past_end.contacts.is_empty() && past_end.next_seq == 0);
}

#[test]
fn injected_messages_advance_the_sync_key_once() {
    let wx = WebWx::default();
    let g = login(&wx, "default", t0());
    let c = caller(&g);
    let init = wx.init(who!(c), t0()).unwrap();
    let key0 = init.sync_key.clone();
    let empty = wx.sync(who!(c), &key0, t0()).unwrap();
    assert!(empty.messages.is_empty());
    assert_eq!(empty.sync_key, key0, "nothing new, same key");

    let sent = wx
        .inject(
            Injection {
                session: None,
                from: "Alice",
                to: None,
                member: None,
                text: "hi <b>\nthere",
            },
            t0(),
        )
        .unwrap();
    assert_eq!(sent.to, init.user.user_name);
    let got = wx.sync(who!(c), &key0, t0()).unwrap();
    assert_eq!(got.messages.len(), 1);
    let m = &got.messages[0];
    assert_eq!(
        (m.msg_type, m.content.as_str()),
        (MSG_TEXT, "hi &lt;b&gt;<br/>there")
    );
    assert_eq!(m.msg_id, sent.id);
    assert!(got.sync_key[0].1 > key0[0].1, "advanced");
    assert!(
        wx.sync(who!(c), &got.sync_key, t0())
            .unwrap()
            .messages
            .is_empty(),
        "not twice"
    );
    assert!(wx.conversation(g.session).unwrap()[0].delivered);
    // A key that is not this session's.
    assert_eq!(
        wx.sync(who!(c), &[(1, 5)], t0()).unwrap_err(),
        SyncError::BadSyncKey
    );
    assert_eq!(
        wx.sync(who!(c), &[(1, got.sync_key[0].1 + 10)], t0())
            .unwrap_err(),
        SyncError::BadSyncKey
    );
}

#[test]
fn injection_resolves_senders_and_refuses_nonsense() {
    let wx = WebWx::default();
    assert_eq!(
        wx.inject(
            Injection {
                session: None,
                from: "friend",
                to: None,
                member: None,
                text: "x"
            },
            t0()
        ),
        Err(WebWxError::NoLiveSession)
    );
    let g = login(&wx, "default", t0());
    let me = wx.session(g.session).unwrap().username;
    let inj = |from, to, member, text| Injection {
        session: None,
        from,
        to,
        member,
        text,
    };
    let group = wx
        .inject(inj("测试群", None, Some("李四"), "hello all"), t0())
        .unwrap();
    assert!(group.from.starts_with("@@"));
    assert_eq!(group.member.as_deref(), Some("李四"));
    let phone = wx
        .inject(inj("self", Some("bob"), None, "from my phone"), t0())
        .unwrap();
    assert_eq!(
        (phone.from.as_str(), phone.to_name.as_str()),
        (me.as_str(), "Bob")
    );
    let fh = wx
        .inject(inj("filehelper", None, None, "note"), t0())
        .unwrap();
    assert_eq!(
        (fh.from.as_str(), fh.to.as_str()),
        (me.as_str(), "filehelper")
    );
    assert!(wx
        .inject(inj("wxemu 服务号", None, None, "news"), t0())
        .is_ok());

    assert!(matches!(
        wx.inject(inj("nobody", None, None, "x"), t0()),
        Err(WebWxError::UnknownContact(_))
    ));
    assert!(matches!(
        wx.inject(inj("Alice", Some("bob"), None, "x"), t0()),
        Err(WebWxError::BadRecipient(_))
    ));
    assert!(matches!(
        wx.inject(inj("Weekend Hikers", None, Some("张三"), "x"), t0()),
        Err(WebWxError::UnknownMember { .. })
    ));
    assert_eq!(
        wx.inject(inj("Alice", None, None, ""), t0()),
        Err(WebWxError::EmptyText)
    );
    let huge = "x".repeat(wx.settings().max_text_bytes + 1);
    assert!(matches!(
        wx.inject(inj("Alice", None, None, &huge), t0()),
        Err(WebWxError::TextTooLong(_))
    ));
    assert_eq!(
        wx.inject(
            Injection {
                session: Some(99),
                ..inj("Alice", None, None, "x")
            },
            t0()
        ),
        Err(WebWxError::UnknownSession(99))
    );
}

#[test]
fn the_bot_sends_to_known_contacts_and_the_conversation_records_both_ways() {
    let wx = WebWx::default();
    let g = login(&wx, "default", t0());
    let c = caller(&g);
    wx.send_text(who!(c), FILEHELPER, "to myself", t0())
        .unwrap();
    assert!(matches!(
        wx.send_text(who!(c), "@nobody", "x", t0()),
        Err(SendError::UnknownRecipient(_))
    ));
    assert_eq!(
        wx.send_text(who!(c), FILEHELPER, "", t0()),
        Err(SendError::Empty)
    );
    wx.inject(
        Injection {
            session: None,
            from: "friend",
            to: None,
            member: None,
            text: "ping",
        },
        t0(),
    )
    .unwrap();
    let conv = wx.conversation(g.session).unwrap();
    let summary: Vec<_> = conv
        .iter()
        .map(|e| (e.direction, e.to_name.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Direction::Out, "文件传输助手", "to myself"),
            (Direction::In, "nick-default", "ping")
        ]
    );
}

#[test]
fn history_is_bounded() {
    let wx = WebWx::new(WebWxSettings {
        history_per_session: 5,
        ..WebWxSettings::default()
    });
    let g = login(&wx, "default", t0());
    for i in 0..20 {
        let text = format!("m{i}");
        wx.inject(
            Injection {
                session: None,
                from: "friend",
                to: None,
                member: None,
                text: &text,
            },
            t0(),
        )
        .unwrap();
    }
    let conv = wx.conversation(g.session).unwrap();
    assert_eq!(conv.len(), 5);
    assert_eq!(conv[4].text, "m19");
}

#[test]
fn ended_sessions_kept_are_bounded() {
    let wx = WebWx::new(WebWxSettings {
        ended_sessions_kept: 3,
        ..WebWxSettings::default()
    });
    for _ in 0..10 {
        login(&wx, "default", t0());
    }
    assert_eq!(wx.sessions().len(), 4, "three ended and the live one");
}

#[test]
fn status_notify_queues_a_type_51_listing_the_chats() {
    let wx = WebWx::default();
    let g = login(&wx, "default", t0());
    let c = caller(&g);
    let init = wx.init(who!(c), t0()).unwrap();
    wx.status_notify(who!(c), t0()).unwrap();
    let got = wx.sync(who!(c), &init.sync_key, t0()).unwrap();
    let m = &got.messages[0];
    assert_eq!((m.msg_type, m.status_notify_code), (MSG_STATUS_NOTIFY, 4));
    assert!(m.status_notify_user_name.starts_with("filehelper,@@"));
    assert_eq!(
        m.status_notify_user_name.split(',').count(),
        m.content
            .split("&lt;username&gt;")
            .nth(1)
            .unwrap()
            .split("&lt;")
            .next()
            .unwrap()
            .split(',')
            .count()
    );
}

#[tokio::test]
async fn synccheck_holds_then_wakes_on_a_message_or_the_end() {
    let wx = Arc::new(WebWx::default());
    let clock = Clock::new();
    let g = login(&wx, "default", clock.now());
    let c = caller(&g);
    let key = wx.init(who!(c), clock.now()).unwrap().sync_key;

    // Nothing new: the hold runs out.
    let idle = wx
        .synccheck(who!(c), Some(&key), Duration::from_millis(50), &clock)
        .await;
    assert_eq!(idle, SyncCheck::Idle);

    // A message during the hold wakes it.
    let held = {
        let (wx, c, key, clock) = (wx.clone(), c.clone(), key.clone(), clock.clone());
        tokio::spawn(async move {
            wx.synccheck(who!(c), Some(&key), Duration::from_secs(600), &clock)
                .await
        })
    };
    while wx.session(g.session).unwrap().held_synccheck == 0 {
        tokio::task::yield_now().await;
    }
    wx.inject(
        Injection {
            session: None,
            from: "friend",
            to: None,
            member: None,
            text: "wake",
        },
        clock.now(),
    )
    .unwrap();
    assert_eq!(held.await.unwrap(), SyncCheck::NewMessages);
    // Still news until synced.
    assert_eq!(
        wx.synccheck(who!(c), Some(&key), Duration::from_secs(600), &clock)
            .await,
        SyncCheck::NewMessages
    );
    let key = wx.sync(who!(c), &key, clock.now()).unwrap().sync_key;

    // A logout during the hold answers 1101.
    let held = {
        let (wx, c, key, clock) = (wx.clone(), c.clone(), key.clone(), clock.clone());
        tokio::spawn(async move {
            wx.synccheck(who!(c), Some(&key), Duration::from_secs(600), &clock)
                .await
        })
    };
    while wx.session(g.session).unwrap().held_synccheck == 0 {
        tokio::task::yield_now().await;
    }
    wx.logout(who!(c), clock.now()).unwrap();
    assert_eq!(held.await.unwrap(), SyncCheck::LoggedOut);
    assert_eq!(
        wx.synccheck(who!(c), Some(&key), Duration::from_secs(600), &clock)
            .await,
        SyncCheck::LoggedOut
    );
    assert_eq!(
        wx.session(g.session).unwrap().ended_reason,
        Some(EndReason::Logout)
    );
}

#[tokio::test]
async fn synccheck_answers_bad_keys_and_unknown_sessions_at_once() {
    let wx = WebWx::default();
    let clock = Clock::new();
    let g = login(&wx, "default", clock.now());
    let c = caller(&g);
    let hold = Duration::from_secs(600);
    assert_eq!(
        wx.synccheck(who!(c), None, hold, &clock).await,
        SyncCheck::BadSyncKey
    );
    assert_eq!(
        wx.synccheck(who!(c), Some(&[(1, 1)]), hold, &clock).await,
        SyncCheck::BadSyncKey
    );
    let stranger = ("123".to_owned(), "nope".to_owned());
    assert_eq!(
        wx.synccheck(who!(stranger), Some(&[(1, 1)]), hold, &clock)
            .await,
        SyncCheck::LoggedOut
    );
}

#[tokio::test]
async fn a_held_synccheck_sees_the_phone_end_the_session_and_shutdown_releases_it() {
    let wx = Arc::new(WebWx::default());
    let clock = Clock::new();
    let g = login(&wx, "default", clock.now());
    let c = caller(&g);
    let key = wx.init(who!(c), clock.now()).unwrap().sync_key;
    let held = {
        let (wx, c, key, clock) = (wx.clone(), c.clone(), key.clone(), clock.clone());
        tokio::spawn(async move {
            wx.synccheck(who!(c), Some(&key), Duration::from_secs(600), &clock)
                .await
        })
    };
    while wx.session(g.session).unwrap().held_synccheck == 0 {
        tokio::task::yield_now().await;
    }
    wx.end_session(g.session, clock.now()).unwrap();
    assert_eq!(held.await.unwrap(), SyncCheck::LoggedOut);
    assert_eq!(
        wx.end_session(g.session, clock.now()),
        Err(WebWxError::SessionEnded(g.session))
    );

    let g = login(&wx, "default", clock.now());
    let c = caller(&g);
    let key = wx.init(who!(c), clock.now()).unwrap().sync_key;
    wx.release_waiters();
    assert_eq!(
        wx.synccheck(who!(c), Some(&key), Duration::from_secs(600), &clock)
            .await,
        SyncCheck::Idle
    );
}
