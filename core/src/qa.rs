//! What QA changes besides the client and the config: decisions made in
//! advance, the approval policy, injected faults, the emulated clock and the
//! journal. Each operation changes its store and publishes its event, so
//! every view (desktop, `GET /__wxemu/events`) hears of it whoever made it;
//! the control API, the desktop app, scenarios and [`Emulator::reset`] all
//! come through here.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::approval::{ApprovalEvent, ApprovalMode, AuthorizeRequest, Decision, QueuedDecision};
use crate::clock::ClockError;
use crate::emulator::Emulator;
use crate::endpoint::Endpoint;
use crate::events::Event;
use crate::faults::{ActiveFault, FaultSpec};
use crate::journal::{Entry, Filter};

impl Emulator {
    /// The standing approval policy.
    pub fn approval_mode(&self) -> ApprovalMode {
        self.approvals.mode()
    }

    /// The standing approval policy, used when no decision is queued.
    pub fn set_approval_mode(&self, mode: ApprovalMode) {
        self.approvals.set_mode(mode);
        self.publish(Event::ClientChanged);
    }

    /// Adds answers for the next authorize requests, after those queued.
    pub fn enqueue_decisions(&self, decisions: impl IntoIterator<Item = QueuedDecision>) {
        self.approvals.enqueue(decisions);
        self.publish(Event::DecisionsChanged);
    }

    /// The answers still queued, next first.
    pub fn queued_decisions(&self) -> Vec<QueuedDecision> {
        self.approvals.queued()
    }

    /// Authorize requests waiting for a person, oldest first.
    pub fn pending_authorizations(&self) -> Vec<Arc<AuthorizeRequest>> {
        self.approvals.pending()
    }

    /// Drops every queued answer; returns how many there were.
    pub fn clear_decisions(&self) -> usize {
        let cleared = self.approvals.clear_queue();
        self.publish(Event::DecisionsChanged);
        cleared
    }

    /// Answers a pending authorize (allowing it as `account`, if given).
    /// False when it is no longer pending. Its end is published by the
    /// waiting request as `Approval(Finished)`.
    pub fn resolve_authorization(
        &self,
        id: u64,
        decision: Decision,
        account: Option<String>,
    ) -> bool {
        self.approvals.resolve_as(id, decision, account)
    }

    /// Authorize requests as they arrive and end: what a decision source
    /// (the terminal prompt, the desktop's confirm window) follows.
    pub fn subscribe_approvals(&self) -> broadcast::Receiver<ApprovalEvent> {
        self.approvals.subscribe()
    }

    /// The faults in force, oldest first.
    pub fn active_faults(&self) -> Vec<ActiveFault> {
        self.faults.list()
    }

    /// Injects a validated fault; returns its id.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<u64, String> {
        let id = self.faults.add(spec)?;
        self.publish(Event::FaultsChanged);
        Ok(id)
    }

    /// False when no fault has that id.
    pub fn remove_fault(&self, id: u64) -> bool {
        let removed = self.faults.remove(id);
        if removed {
            self.publish(Event::FaultsChanged);
        }
        removed
    }

    /// Removes every fault; returns how many there were.
    pub fn clear_faults(&self) -> usize {
        let cleared = self.faults.clear();
        self.publish(Event::FaultsChanged);
        cleared
    }

    /// The fault the next request to `endpoint` gets, counted as used (its
    /// hit count and what remains change, so views hear of it).
    pub fn take_fault(&self, endpoint: Endpoint) -> Option<FaultSpec> {
        let taken = self.faults.take(endpoint)?;
        self.publish(Event::FaultsChanged);
        Some(taken)
    }

    /// Moves the emulated time forward (see `crate::clock::Clock::try_advance`).
    pub fn advance_clock(&self, by: Duration) -> Result<(), ClockError> {
        self.clock.try_advance(by)?;
        self.publish(Event::ClockChanged);
        Ok(())
    }

    /// Stops the emulated time where it is.
    pub fn freeze_clock(&self) {
        self.clock.freeze();
        self.publish(Event::ClockChanged);
    }

    /// Lets the emulated time run again from where it stood.
    pub fn unfreeze_clock(&self) {
        self.clock.unfreeze();
        self.publish(Event::ClockChanged);
    }

    /// Whether the journal records control API calls too
    /// (`[journal] include_control`).
    pub fn journal_includes_control(&self) -> bool {
        self.journal.includes_control()
    }

    /// Records one answered request (the web floor's journal step).
    pub fn record_request(&self, entry: Entry) -> Arc<Entry> {
        self.journal.push(entry)
    }

    /// The newest `limit` entries matching `filter`, oldest first.
    pub fn journal_entries(&self, filter: &Filter, limit: Option<usize>) -> Vec<Arc<Entry>> {
        self.journal.list(filter, limit)
    }

    /// How many entries the journal keeps.
    pub fn journal_capacity(&self) -> usize {
        self.journal.capacity()
    }

    /// The first entry matching `filter`, already recorded or arriving
    /// within `timeout`.
    pub async fn wait_for_journal_entry(
        &self,
        filter: &Filter,
        timeout: Duration,
    ) -> Option<Arc<Entry>> {
        self.journal.wait(filter, timeout).await
    }

    /// How many callers wait for a journal entry right now (tests wait for
    /// one before recording what it waits for).
    pub fn journal_waiters(&self) -> usize {
        self.journal.waiting()
    }

    /// Empties the journal; returns how many entries it held.
    pub fn clear_journal(&self) -> usize {
        let cleared = self.journal.clear();
        self.publish(Event::JournalCleared);
        cleared
    }
}
