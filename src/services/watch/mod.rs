//! Waiting without burning the API budget: one watcher per cluster and
//! process serves every wait on that cluster.
//!
//! * **One request per poll, shared.** Connection creates and deletes (and
//!   "is it ACTIVE yet?" checks) are answered from one paged listing of the
//!   cluster, whatever the number of waiting connections. Domain attaches
//!   and detaches need `attachedDomains`, which lists do not carry: every
//!   wait on one connection shares one GET.
//! * **Never older than the write.** Every observation carries the instant
//!   its request was queued; a waiter only accepts observations queued
//!   after the write it waits on was answered (see [`Watchers::wrote`]).
//!   Observations already held serve new waiters when they are recent
//!   enough, without a request.
//! * **When to poll** is [`schedule`]'s pure decision; **whether the budget
//!   allows it** is the rate limiter's: polls wait behind writes and leave
//!   them a reserve (see `api::ratelimit`). A poll waits for budget no
//!   longer than the latest deadline among the waits it serves, and is
//!   cancelled once none of them is left.
//!
//! The watcher of a cluster is a task that runs while someone waits and
//! ends when nobody does.

pub mod schedule;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

use crate::api::{ApiError, Client, ConnectionState, Op, PrivateLinkConnection as Connection};
use schedule::{explorers, fire_at, learn, GATHER};

/// What a waiter waits for: how it is observed, and which settle time
/// schedules its polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A created connection settling (listing).
    Create,
    /// A deleted connection going away (listing).
    Delete,
    /// A connection reaching a state nobody here asked for, such as ACTIVE
    /// after an acceptance (listing). Nothing is learned from it.
    Observe,
    /// Attached domains settling (GET of the connection).
    Attach,
    /// Detached domains going away (GET of the connection).
    Detach,
}

impl Kind {
    fn by_get(self) -> bool {
        matches!(self, Kind::Attach | Kind::Detach)
    }
}

/// One observation of a connection: `None` when the API says it does not
/// exist (or, for a delete, it is no longer listed).
pub type Observed = Result<Option<Connection>, ApiError>;

/// Whether `e` is a request that a cancel ended while it waited for
/// budget: it was never sent, so nothing changed.
pub fn stopped_before_sending(op: &Op, e: &ApiError) -> bool {
    op.is_cancelled()
        && matches!(
            e,
            ApiError::Transport {
                maybe_sent: false,
                ..
            }
        )
}

/// What one observation found.
pub enum Poll<T> {
    /// The wait is over.
    Done(T),
    /// Not yet; `T` is the latest object seen, kept for when the wait ends early.
    Pending(T),
    /// The object waited for no longer exists (named for the message).
    Gone(String),
}

/// Why a wait ended without a settled object.
#[derive(Debug)]
pub enum WaitError<T> {
    /// The deadline passed; `last` is the latest object seen.
    Timeout { last: Option<T>, waited: Duration },
    /// The operation was cancelled (Terraform asked the provider to stop).
    Stopped { last: Option<T> },
    /// The API answered with an error that waiting will not fix.
    Api { last: Option<T>, error: ApiError },
    /// The object disappeared while being waited for.
    Gone { last: Option<T>, what: String },
}

impl<T> WaitError<T> {
    pub fn last(&self) -> Option<&T> {
        match self {
            WaitError::Timeout { last, .. }
            | WaitError::Stopped { last }
            | WaitError::Api { last, .. }
            | WaitError::Gone { last, .. } => last.as_ref(),
        }
    }
}

impl<T> WaitError<Option<T>> {
    /// The same error, with `last` no longer optional twice (for waits whose
    /// observations give `None` when done and `Some` while pending).
    pub fn flatten(self) -> WaitError<T> {
        match self {
            WaitError::Timeout { last, waited } => WaitError::Timeout {
                last: last.flatten(),
                waited,
            },
            WaitError::Stopped { last } => WaitError::Stopped {
                last: last.flatten(),
            },
            WaitError::Api { last, error } => WaitError::Api {
                last: last.flatten(),
                error,
            },
            WaitError::Gone { last, what } => WaitError::Gone {
                last: last.flatten(),
                what,
            },
        }
    }
}

/// A poll request (ordered, so that polls due together go in one order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    Listing,
    Get(String),
}

impl Target {
    fn of(kind: Kind, connection: &str) -> Target {
        if kind.by_get() {
            Target::Get(connection.to_string())
        } else {
            Target::Listing
        }
    }
}

struct Waiter {
    cluster: String,
    connection: String,
    target: Target,
    deadline: Option<Instant>,
    at: schedule::Waiter<Kind>,
    tx: mpsc::UnboundedSender<(Instant, Observed)>,
    /// An observation was handed to it and not yet read: it is not due
    /// again before it has read it.
    unread: Arc<AtomicBool>,
}

impl Waiter {
    fn hand(&mut self, sent: Instant, observed: Observed) {
        self.at.polled = Some(sent);
        self.unread.store(true, Ordering::SeqCst);
        let _ = self.tx.send((sent, observed));
    }
}

/// An observation held for later waiters, with when its request was queued.
struct Held<T> {
    sent: Instant,
    value: T,
}

#[derive(Default)]
struct Cluster {
    listing: Option<Held<Arc<HashMap<String, Connection>>>>,
    gets: HashMap<String, Held<Option<Connection>>>,
    /// Polls out, each with the sender that cancels it.
    out: HashMap<Target, watch::Sender<bool>>,
    /// Held while a baseline listing is gathered and sent (see
    /// [`Watchers::listing_after`]).
    baseline: Arc<tokio::sync::Mutex<()>>,
    driver: bool,
    wake: Arc<Notify>,
}

#[derive(Default)]
struct State {
    /// In the order they started (a schedule that does not depend on
    /// hashing).
    waiters: BTreeMap<u64, Waiter>,
    clusters: HashMap<String, Cluster>,
    /// When this process's last write to each connection was answered.
    writes: HashMap<String, Instant>,
    /// Settle times observed here, per kind (see [`schedule::learn`]).
    learned: HashMap<Kind, Duration>,
    next_id: u64,
}

struct Shared {
    client: Client,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The watchers of one provider process (one per cluster, on demand).
#[derive(Clone)]
pub struct Watchers {
    shared: Arc<Shared>,
}

/// A registered waiter; unregisters when dropped, and a poll that then
/// serves nobody is cancelled.
struct Subscription {
    shared: Arc<Shared>,
    id: u64,
    rx: mpsc::UnboundedReceiver<(Instant, Observed)>,
    unread: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        let Some(w) = s.waiters.remove(&self.id) else {
            return;
        };
        let served = s
            .waiters
            .values()
            .any(|o| o.cluster == w.cluster && o.target == w.target);
        if let Some(c) = s.clusters.get(&w.cluster) {
            if !served {
                if let Some(cancel) = c.out.get(&w.target) {
                    let _ = cancel.send(true);
                }
            }
            c.wake.notify_one();
        }
    }
}

impl Watchers {
    pub fn new(client: Client) -> Watchers {
        Watchers {
            shared: Arc::new(Shared {
                client,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The client the watchers poll with.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Records that this process's write to connection `id` was answered
    /// just now: observations queued earlier no longer serve waits on it.
    pub fn wrote(&self, connection_id: &str) {
        let mut s = self.shared.lock();
        s.writes.insert(connection_id.to_string(), Instant::now());
        for c in s.clusters.values_mut() {
            c.gets.remove(connection_id);
        }
    }

    /// Every connection of the cluster, from a listing queued at or after
    /// `since`: the one held when it is recent enough, or a new one. Creates
    /// queued together share one request: the first waits [`GATHER`] for
    /// the others of its wave, the others find its answer.
    ///
    /// A create reconciles a lost answer against this listing: whatever it
    /// holds existed before the create was sent.
    pub async fn listing_after(
        &self,
        op: &Op,
        cluster_id: &str,
        since: Instant,
    ) -> Result<Arc<HashMap<String, Connection>>, ApiError> {
        let recent = |s: &State| {
            s.clusters
                .get(cluster_id)
                .and_then(|c| c.listing.as_ref())
                .filter(|l| l.sent >= since)
                .map(|l| l.value.clone())
        };
        let turn = {
            let mut s = self.shared.lock();
            if let Some(held) = recent(&s) {
                return Ok(held);
            }
            s.clusters
                .entry(cluster_id.to_string())
                .or_default()
                .baseline
                .clone()
        };
        let _turn = turn.lock().await;
        if let Some(held) = recent(&self.shared.lock()) {
            return Ok(held);
        }
        tokio::select! {
            () = tokio::time::sleep_until(since + GATHER) => {}
            () = crate::api::op::cancelled(op.cancel()) => {}
        }
        let sent = Instant::now();
        let all = self
            .client()
            .within(op)
            .list_private_link_connections(cluster_id, None)
            .await?;
        let map = Arc::new(by_id(&all));
        deliver_listing(
            &mut self.shared.lock(),
            cluster_id,
            sent,
            &Ok(map.clone()),
            true,
        );
        Ok(map)
    }

    /// Waits until `classify` says the wait is over, observing connection
    /// `id` of `cluster_id` as `kind` requires, until the operation's
    /// deadline or its cancel.
    pub async fn wait<T>(
        &self,
        op: &Op,
        cluster_id: &str,
        id: &str,
        kind: Kind,
        mut classify: impl FnMut(Option<&Connection>) -> Poll<T>,
    ) -> Result<T, WaitError<T>> {
        let started = Instant::now();
        let _waiting = op.waiting();
        let mut sub = self.subscribe(cluster_id, id, kind, op.deadline());
        let mut last: Option<T> = None;
        let mut seen_pending = false;
        let deadline = op.deadline();
        loop {
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let observed = tokio::select! {
                o = sub.rx.recv() => o,
                () = timeout => None,
                () = crate::api::op::cancelled(op.cancel()) => {
                    return Err(WaitError::Stopped { last })
                }
            };
            let Some((sent, observed)) = observed else {
                return Err(WaitError::Timeout {
                    last,
                    waited: started.elapsed(),
                });
            };
            if sub.rx.is_empty() {
                sub.unread.store(false, Ordering::SeqCst);
                sub.wake.notify_one();
            }
            match observed {
                Ok(c) => match classify(c.as_ref()) {
                    Poll::Done(v) => {
                        self.settled(&sub, sent, seen_pending);
                        return Ok(v);
                    }
                    Poll::Pending(v) => {
                        seen_pending = true;
                        last = Some(v);
                    }
                    Poll::Gone(what) => return Err(WaitError::Gone { last, what }),
                },
                Err(e) if e.is_transient() => log::warn!("polling failed, will retry: {e}"),
                Err(error) => return Err(WaitError::Api { last, error }),
            }
        }
    }

    fn settled(&self, sub: &Subscription, sent: Instant, seen_pending: bool) {
        let mut s = self.shared.lock();
        let State {
            waiters, learned, ..
        } = &mut *s;
        if let Some(w) = waiters.get(&sub.id).filter(|w| w.at.kind != Kind::Observe) {
            learn(learned, &w.at, sent, seen_pending);
        }
    }

    fn subscribe(
        &self,
        cluster_id: &str,
        id: &str,
        kind: Kind,
        deadline: Option<Instant>,
    ) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut s = self.shared.lock();
        let now = Instant::now();
        let written = s.writes.get(id).copied().unwrap_or(now).min(now);
        let target = Target::of(kind, id);
        let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
        // An observation held since the write serves the wait at once.
        let held = match &target {
            Target::Listing => cluster.listing.as_ref().and_then(|l| {
                let c = l.value.get(id).cloned();
                (l.sent >= written && (c.is_some() || kind == Kind::Delete)).then_some((l.sent, c))
            }),
            Target::Get(_) => cluster
                .gets
                .get(id)
                .filter(|g| g.sent >= written)
                .map(|g| (g.sent, g.value.clone())),
        };
        let polled = held.as_ref().map(|(sent, _)| *sent);
        let unread = Arc::new(AtomicBool::new(held.is_some()));
        if let Some((sent, c)) = held {
            let _ = tx.send((sent, Ok(c)));
        }
        let start = !cluster.driver;
        cluster.driver = true;
        let wake = cluster.wake.clone();
        let notify = wake.clone();
        let waiter_id = s.next_id;
        s.next_id += 1;
        s.waiters.insert(
            waiter_id,
            Waiter {
                cluster: cluster_id.to_string(),
                connection: id.to_string(),
                target,
                deadline,
                at: schedule::Waiter {
                    kind,
                    written,
                    polled,
                    explores: false,
                },
                tx,
                unread: unread.clone(),
            },
        );
        drop(s);
        if start {
            tokio::spawn(drive(self.shared.clone(), cluster_id.to_string()));
        } else {
            notify.notify_one();
        }
        Subscription {
            shared: self.shared.clone(),
            id: waiter_id,
            rx,
            unread,
            wake,
        }
    }
}

/// The driver of one cluster: sends each target's poll when it is due,
/// sleeps until the next is due or something changes, and ends when nobody
/// waits and nothing is out.
async fn drive(shared: Arc<Shared>, cluster_id: String) {
    loop {
        let (next, wake) = {
            let mut s = shared.lock();
            let now = Instant::now();
            let mut here: Vec<(Target, bool, schedule::Waiter<Kind>)> = s
                .waiters
                .values()
                .filter(|w| w.cluster == cluster_id)
                .map(|w| (w.target.clone(), w.unread.load(Ordering::SeqCst), w.at))
                .collect();
            let mut at: Vec<_> = here.iter().map(|(_, _, w)| *w).collect();
            explorers(&mut at, &s.learned);
            let mut due: BTreeMap<Target, Vec<schedule::Waiter<Kind>>> = BTreeMap::new();
            for ((target, unread, _), w) in here.drain(..).zip(at) {
                let entry = due.entry(target).or_default();
                if !unread {
                    entry.push(w);
                }
            }
            let cluster = s.clusters.entry(cluster_id.clone()).or_default();
            let wake = cluster.wake.clone();
            if due.is_empty() && cluster.out.is_empty() {
                cluster.driver = false;
                return;
            }
            let out: Vec<Target> = cluster.out.keys().cloned().collect();
            let mut fire = Vec::new();
            let mut next: Option<Instant> = None;
            for (target, waiters) in due {
                let Some(at) = fire_at(&waiters, &s.learned) else {
                    continue;
                };
                if out.contains(&target) {
                    continue;
                }
                if at <= now {
                    fire.push(target);
                } else {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
            for target in fire {
                start_poll(&shared, &mut s, &cluster_id, target);
            }
            (next, wake)
        };
        let notified = wake.notified();
        match next {
            Some(t) => {
                tokio::select! {
                    () = tokio::time::sleep_until(t) => {}
                    () = notified => {}
                }
            }
            None => notified.await,
        }
    }
}

/// Sends one poll of `target` for the waiters on it: under the latest of
/// their deadlines, and cancelled once none of them is left.
fn start_poll(shared: &Arc<Shared>, s: &mut State, cluster_id: &str, target: Target) {
    let served = s
        .waiters
        .values()
        .filter(|w| w.cluster == cluster_id && w.target == target);
    // A waiter without a deadline leaves the poll without one.
    let deadline = served
        .clone()
        .map(|w| w.deadline)
        .reduce(|a, b| a.zip(b).map(|(a, b)| a.max(b)))
        .flatten();
    let only_deletes = served.clone().all(|w| w.at.kind == Kind::Delete);
    let why: Vec<String> = served
        .map(|w| format!("{:?} {}", w.at.kind, w.connection))
        .collect();
    log::debug!(
        "poll {target:?} of cluster {cluster_id} for {}",
        why.join(", ")
    );
    let (cancel_tx, cancel_rx) = watch::channel(false);
    s.clusters
        .entry(cluster_id.to_string())
        .or_default()
        .out
        .insert(target.clone(), cancel_tx);
    let op = Op::detached(deadline, cancel_rx);
    let shared = shared.clone();
    let cluster_id = cluster_id.to_string();
    tokio::spawn(async move {
        let client = shared.client.within(&op).polling();
        let sent = Instant::now();
        match &target {
            Target::Listing => {
                // Only deletions wait: those still DELETING are all that
                // matter (fewer pages).
                let filter = only_deletes.then_some(ConnectionState::Deleting);
                let listing = client
                    .list_private_link_connections(&cluster_id, filter.as_ref())
                    .await
                    .map(|all| Arc::new(by_id(&all)));
                let confirm = {
                    let mut s = shared.lock();
                    let full = filter.is_none();
                    deliver_listing(&mut s, &cluster_id, sent, &listing, full)
                };
                for id in confirm {
                    get(&shared, &client, &cluster_id, &id).await;
                }
            }
            Target::Get(id) => get(&shared, &client, &cluster_id, id).await,
        }
        let mut s = shared.lock();
        let cluster = s.clusters.entry(cluster_id).or_default();
        cluster.out.remove(&target);
        cluster.wake.notify_one();
    });
}

fn by_id(all: &[Connection]) -> HashMap<String, Connection> {
    let id = |c: &Connection| c.private_link_connection_id.clone();
    all.iter().map(|c| (id(c), c.clone())).collect()
}

/// Hands a listing of `cluster_id` (queued at `sent`) to every waiter it
/// serves, and holds it for later waiters when it is `full` (no state
/// filter). Gives the waiters' connections it does not list (other than
/// deletes'): a GET must confirm they are gone.
fn deliver_listing(
    s: &mut State,
    cluster_id: &str,
    sent: Instant,
    listing: &Result<Arc<HashMap<String, Connection>>, ApiError>,
    full: bool,
) -> Vec<String> {
    let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
    if let (Ok(map), true) = (listing, full) {
        if cluster.listing.as_ref().is_none_or(|l| l.sent < sent) {
            cluster.listing = Some(Held {
                sent,
                value: map.clone(),
            });
        }
    }
    let mut confirm = Vec::new();
    for w in s.waiters.values_mut() {
        if w.cluster != cluster_id || w.target != Target::Listing || w.at.written > sent {
            continue;
        }
        let observed = match listing {
            Err(e) => Err(e.clone()),
            Ok(map) => match map.get(&w.connection) {
                Some(c) => Ok(Some(c.clone())),
                None if w.at.kind == Kind::Delete => Ok(None),
                None => {
                    // Not listed: ask for it before calling it gone.
                    confirm.push(w.connection.clone());
                    continue;
                }
            },
        };
        w.hand(sent, observed);
    }
    confirm.sort();
    confirm.dedup();
    confirm
}

/// One GET of a connection, handed to every waiter on it.
async fn get(shared: &Shared, client: &Client, cluster_id: &str, id: &str) {
    let sent = Instant::now();
    let result = match client.get_private_link_connection(cluster_id, id).await {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    };
    let mut s = shared.lock();
    if let Ok(c) = &result {
        let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
        cluster.gets.insert(
            id.to_string(),
            Held {
                sent,
                value: c.clone(),
            },
        );
    }
    for w in s.waiters.values_mut() {
        if w.cluster != cluster_id || w.connection != id || w.at.written > sent {
            continue;
        }
        w.hand(sent, result.clone());
    }
}
