//! The operation context: what one caller (one Terraform RPC, above this
//! layer) gives every request it makes.
//!
//! * **A deadline.** No layer waits past it: not for rate limit budget, not
//!   before a retry. A request that would have to wait longer fails at once
//!   and says when the budget comes back.
//! * **A cancel signal.** Once it fires, any wait for budget or before a
//!   retry ends at once: that request was never sent, so nothing is lost. A
//!   request already on the wire still runs to its answer.
//! * **A place in the tally.** The rate limiter counts the operations in
//!   flight and those waiting for a poll's answer (see [`Op::waiting`]):
//!   when every operation waits for a poll, a due poll may spend the
//!   budget kept for writes, since no write can come but from a poll's
//!   answer. This is what the process knows of itself; nothing here models
//!   who calls it or when.

use std::sync::{Arc, Mutex};

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

/// How many operations are in flight, and how many of them wait for a
/// poll; shared by an [`Op`] and the rate limiter that reads it.
#[derive(Debug, Default)]
pub struct Tally {
    counts: Mutex<(u32, u32)>,
    /// Woken whenever the counts change (the rate limiter looks again).
    pub(crate) changed: Notify,
}

impl Tally {
    fn update(&self, f: impl FnOnce(&mut (u32, u32))) {
        f(&mut self.counts.lock().unwrap_or_else(|p| p.into_inner()));
        self.changed.notify_waiters();
    }

    /// Operations in flight, and how many of them wait for a poll.
    pub fn counts(&self) -> (u32, u32) {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether at least one operation is in flight and every one of them
    /// waits for a poll's answer.
    pub fn all_waiting(&self) -> bool {
        let (ops, waiting) = self.counts();
        ops > 0 && waiting >= ops
    }
}

/// One operation's deadline, cancel signal and place in the tally.
#[derive(Debug)]
pub struct Op {
    deadline: Option<Instant>,
    cancel: watch::Receiver<bool>,
    tally: Option<Arc<Tally>>,
}

impl Op {
    /// An operation counted in `tally`, until it is dropped.
    pub(crate) fn counted(
        tally: Arc<Tally>,
        deadline: Option<Instant>,
        cancel: watch::Receiver<bool>,
    ) -> Op {
        tally.update(|c| c.0 += 1);
        Op {
            deadline,
            cancel,
            tally: Some(tally),
        }
    }

    /// A context that is counted nowhere: for requests made on behalf of
    /// other operations (a poll shared by several waits) or outside any.
    pub fn detached(deadline: Option<Instant>, cancel: watch::Receiver<bool>) -> Op {
        Op {
            deadline,
            cancel,
            tally: None,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The cancel signal (`true` once cancelled).
    pub fn cancel(&self) -> watch::Receiver<bool> {
        self.cancel.clone()
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    /// Counts this operation as waiting for a poll's answer until the guard
    /// is dropped.
    pub fn waiting(&self) -> Waiting {
        if let Some(t) = &self.tally {
            t.update(|c| c.1 += 1);
        }
        Waiting {
            tally: self.tally.clone(),
        }
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        if let Some(t) = &self.tally {
            t.update(|c| c.0 = c.0.saturating_sub(1));
        }
    }
}

/// See [`Op::waiting`].
#[derive(Debug)]
pub struct Waiting {
    tally: Option<Arc<Tally>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(t) = &self.tally {
            t.update(|c| c.1 = c.1.saturating_sub(1));
        }
    }
}

/// Resolves once `cancel` turns `true` (never, if its sender is gone
/// without cancelling).
pub async fn cancelled(mut cancel: watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_counts_operations_and_their_waits() {
        let tally = Arc::new(Tally::default());
        let (_tx, rx) = watch::channel(false);
        assert!(!tally.all_waiting(), "nothing in flight is not all waiting");
        let a = Op::counted(tally.clone(), None, rx.clone());
        let b = Op::counted(tally.clone(), None, rx.clone());
        let wa = a.waiting();
        assert!(!tally.all_waiting());
        let wb = b.waiting();
        assert!(tally.all_waiting());
        drop(wb);
        assert!(!tally.all_waiting());
        drop(b);
        assert!(tally.all_waiting(), "the one left waits");
        drop(wa);
        drop(a);
        assert_eq!(tally.counts(), (0, 0));
        let _detached = Op::detached(None, rx).waiting();
        assert_eq!(tally.counts(), (0, 0), "a detached context counts nowhere");
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_resolves_on_the_signal_only() {
        let (tx, rx) = watch::channel(false);
        let wait = tokio::spawn(cancelled(rx));
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        assert!(!wait.is_finished());
        tx.send(true).unwrap();
        wait.await.unwrap();
    }
}
