//! The operations on JS API calls that wait for a person (the state:
//! `crate::h5_calls`).

use std::sync::atomic::Ordering;

use serde_json::Value;
use tokio::sync::{broadcast, oneshot};

use crate::emulator::Emulator;
use crate::h5_calls::*;
use crate::jssdk::OutcomeResult;

/// Withdraws a call whose page stopped waiting.
struct Withdraw<'a> {
    calls: &'a H5Calls,
    id: u64,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        if crate::sync::lock(&self.calls.pending)
            .remove(&self.id)
            .is_some()
        {
            let _ = self
                .calls
                .events
                .send(H5CallEvent::Finished { id: self.id });
        }
    }
}

impl Emulator {
    /// Registers a person who answers pay and scan calls (the desktop's
    /// WeChat window) for as long as the returned guard lives.
    pub fn h5_decision_source(&self) -> DecisionSource {
        self.h5_calls.sources.fetch_add(1, Ordering::SeqCst);
        DecisionSource(self.h5_calls.sources.clone())
    }

    /// Pay and scan calls waiting for the person, oldest first.
    pub fn pending_h5_calls(&self) -> Vec<PendingCall> {
        crate::sync::lock(&self.h5_calls.pending)
            .values()
            .map(|(call, _)| call.clone())
            .collect()
    }

    pub fn subscribe_h5_calls(&self) -> broadcast::Receiver<H5CallEvent> {
        self.h5_calls.events.subscribe()
    }

    /// The person's answer to call `id`; false when nothing waits under it.
    pub fn resolve_h5_call(&self, id: u64, result: OutcomeResult, data: Option<Value>) -> bool {
        let Some((_, answer)) = crate::sync::lock(&self.h5_calls.pending).remove(&id) else {
            return false;
        };
        let data = data
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(Default::default()));
        let _ = answer.send((result, data));
        let _ = self.h5_calls.events.send(H5CallEvent::Finished { id });
        true
    }

    /// What the person answers to this call, when one is there to ask:
    /// `None` (answer as usual) for other APIs, without a decision source,
    /// or when too many calls wait. Waits at most the decision timeout,
    /// then answers cancel.
    pub async fn ask_person_h5(
        &self,
        api: &str,
        app_id: &str,
        url: &str,
        args: Value,
    ) -> Option<Answer> {
        if !PERSON_APIS.contains(&api) || self.h5_calls.sources.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let calls = &self.h5_calls;
        let id = calls.next_id.fetch_add(1, Ordering::Relaxed);
        let args = if args.to_string().len() > MAX_ARGS {
            Value::String("(over 4 KiB, not kept)".into())
        } else {
            args
        };
        let call = PendingCall {
            id,
            api: api.to_owned(),
            app_id: app_id.chars().take(64).collect(),
            url: url.chars().take(2048).collect(),
            args,
        };
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = crate::sync::lock(&calls.pending);
            if pending.len() >= MAX_PENDING {
                return None;
            }
            pending.insert(id, (call.clone(), tx));
        }
        let _guard = Withdraw { calls, id };
        let _ = calls.events.send(H5CallEvent::Requested(call));
        match tokio::time::timeout(self.decision_timeout(), rx).await {
            Ok(Ok(answer)) => Some(answer),
            // Nobody answered in time: the sheet is dismissed.
            _ => Some((OutcomeResult::Cancel, Value::Object(Default::default()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::ApprovalMode;
    use crate::config::Config;
    use serde_json::json;
    use std::sync::Arc;

    fn emulator() -> Arc<Emulator> {
        Arc::new(Emulator::new(
            Config::default(),
            "/nonexistent/config.toml".into(),
            0,
            ApprovalMode::Ask,
        ))
    }

    #[tokio::test]
    async fn without_a_source_nobody_is_asked() {
        let emu = emulator();
        assert_eq!(
            emu.ask_person_h5("chooseWXPay", "wx1", "u", json!({}))
                .await,
            None
        );
    }

    #[tokio::test]
    async fn a_source_answers_pay_and_only_pay_and_scan_wait() {
        let emu = emulator();
        let source = emu.h5_decision_source();
        assert_eq!(
            emu.ask_person_h5("getLocation", "wx1", "u", json!({}))
                .await,
            None
        );
        let mut events = emu.subscribe_h5_calls();
        let asking = {
            let emu = emu.clone();
            tokio::spawn(async move {
                emu.ask_person_h5(
                    "chooseWXPay",
                    "wx1",
                    "http://p/",
                    json!({"package": "prepay_id=1"}),
                )
                .await
            })
        };
        let H5CallEvent::Requested(call) = events.recv().await.unwrap() else {
            panic!("expected a request");
        };
        assert_eq!(call.api, "chooseWXPay");
        assert_eq!(call.args["package"], "prepay_id=1");
        assert_eq!(emu.pending_h5_calls(), vec![call.clone()]);
        assert!(emu.resolve_h5_call(call.id, OutcomeResult::Cancel, None));
        assert!(!emu.resolve_h5_call(call.id, OutcomeResult::Ok, None));
        assert_eq!(
            asking.await.unwrap(),
            Some((OutcomeResult::Cancel, json!({})))
        );
        assert_eq!(
            events.recv().await.unwrap(),
            H5CallEvent::Finished { id: call.id }
        );
        assert!(emu.pending_h5_calls().is_empty());
        drop(source);
        assert_eq!(
            emu.ask_person_h5("scanQRCode", "wx1", "u", json!({})).await,
            None
        );
    }

    #[tokio::test]
    async fn a_page_that_goes_away_withdraws_its_call() {
        let emu = emulator();
        let _source = emu.h5_decision_source();
        let mut events = emu.subscribe_h5_calls();
        let asking = {
            let emu = emu.clone();
            tokio::spawn(
                async move { emu.ask_person_h5("scanQRCode", "wx1", "u", json!({})).await },
            )
        };
        let H5CallEvent::Requested(call) = events.recv().await.unwrap() else {
            panic!("expected a request");
        };
        asking.abort();
        assert_eq!(
            events.recv().await.unwrap(),
            H5CallEvent::Finished { id: call.id }
        );
        assert!(emu.pending_h5_calls().is_empty());
    }
}
