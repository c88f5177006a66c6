//! What this provider process holds and is doing, so that a mutation whose
//! answer was lost is reconciled against the right objects:
//!
//! * the connections this process created, adopted, imported or read from
//!   its state ([`Ownership::hold`], [`Ownership::holds`]): never adopted a
//!   second time;
//! * the detaches in flight, per connection ([`Ownership::detaching`],
//!   [`Ownership::wait_for_detach`]): a connection delete that finds
//!   attachments waits for a detach of the same process instead of failing.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::watch;

/// Per connection: detaches running now, and detaches finished so far.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct DetachCount {
    running: usize,
    finished: u64,
}

pub struct Ownership {
    held: Mutex<HashSet<(String, String)>>,
    detaches: watch::Sender<HashMap<String, DetachCount>>,
    /// The `createdBy` of the connections this process created, as the API
    /// spelled it (the first one seen).
    created_by: Mutex<Option<String>>,
}

impl Default for Ownership {
    fn default() -> Ownership {
        Ownership {
            created_by: Mutex::default(),
            held: Mutex::default(),
            detaches: watch::Sender::new(HashMap::new()),
        }
    }
}

/// How a wait for a detach of this process ended.
#[derive(Debug, PartialEq, Eq)]
pub enum DetachWait {
    /// A detach of the connection ran (or was running) and has finished.
    Finished,
    /// None started within the grace period.
    NoneStarted,
    /// One started but had not finished when the time was up.
    StillRunning,
}

/// Ends a detach in the registry when dropped (also on early returns).
pub struct Detaching<'a> {
    owner: &'a Ownership,
    connection_id: String,
}

impl Drop for Detaching<'_> {
    fn drop(&mut self) {
        self.owner.detaches.send_modify(|m| {
            let c = m.entry(self.connection_id.clone()).or_default();
            c.running = c.running.saturating_sub(1);
            c.finished += 1;
        });
    }
}

impl Ownership {
    /// Records the `createdBy` of a connection this process created.
    pub fn created_by(&self, by: Option<&str>) {
        let Some(by) = by.filter(|b| !b.is_empty()) else {
            return;
        };
        let mut mine = self.created_by.lock().unwrap_or_else(|p| p.into_inner());
        mine.get_or_insert_with(|| by.to_string());
    }

    /// The `createdBy` of the connections this process created, once it
    /// has seen one.
    pub fn own_creator(&self) -> Option<String> {
        self.created_by
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records that this process holds connection `id` of `cluster_id`.
    pub fn hold(&self, cluster_id: &str, id: &str) {
        if id.is_empty() {
            return;
        }
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((cluster_id.to_string(), id.to_string()));
    }

    /// Whether this process holds connection `id` of `cluster_id`.
    pub fn holds(&self, cluster_id: &str, id: &str) -> bool {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&(cluster_id.to_string(), id.to_string()))
    }

    /// Registers a detach of `connection_id` until the guard is dropped.
    pub fn detaching(&self, connection_id: &str) -> Detaching<'_> {
        self.detaches.send_modify(|m| {
            m.entry(connection_id.to_string()).or_default().running += 1;
        });
        Detaching {
            owner: self,
            connection_id: connection_id.to_string(),
        }
    }

    /// Waits up to `grace` for a detach of `connection_id` to start in this
    /// process (one that is running already counts), then up to `limit` in
    /// all for it to finish.
    pub async fn wait_for_detach(
        &self,
        connection_id: &str,
        grace: Duration,
        limit: Duration,
    ) -> DetachWait {
        let started_at = Instant::now();
        let mut rx = self.detaches.subscribe();
        let initial = rx
            .borrow_and_update()
            .get(connection_id)
            .copied()
            .unwrap_or_default();
        let mut started = initial.running > 0;
        loop {
            let now = rx
                .borrow_and_update()
                .get(connection_id)
                .copied()
                .unwrap_or_default();
            if now.running > 0 {
                started = true;
            }
            if now.running == 0 && now.finished > initial.finished {
                return DetachWait::Finished;
            }
            let bound = if started { limit } else { grace };
            let left = bound.saturating_sub(started_at.elapsed());
            if left.is_zero() {
                return if started {
                    DetachWait::StillRunning
                } else {
                    DetachWait::NoneStarted
                };
            }
            // A change, or time up: decided on the next turn.
            let _ = tokio::time::timeout(left, rx.changed()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn holds_what_it_was_given() {
        let o = Ownership::default();
        o.hold("1", "plc-a");
        o.hold("1", "");
        assert!(o.holds("1", "plc-a"));
        assert!(!o.holds("2", "plc-a"));
        assert!(!o.holds("1", ""));
    }

    #[tokio::test]
    async fn a_delete_waits_for_a_detach_that_starts_later() {
        let o = Arc::new(Ownership::default());
        let waiter = {
            let o = o.clone();
            tokio::spawn(async move {
                o.wait_for_detach("plc-a", Duration::from_secs(10), Duration::from_secs(60))
                    .await
            })
        };
        tokio::task::yield_now().await;
        {
            let _d = o.detaching("plc-a");
            tokio::task::yield_now().await;
        }
        assert_eq!(waiter.await.ok(), Some(DetachWait::Finished));
    }

    #[tokio::test]
    async fn no_detach_means_no_wait_beyond_the_grace() {
        let o = Ownership::default();
        let _other = o.detaching("plc-b");
        assert_eq!(
            o.wait_for_detach("plc-a", Duration::from_millis(50), Duration::from_secs(60))
                .await,
            DetachWait::NoneStarted
        );
    }
}
