//! Waiting without burning the API budget: one watcher per cluster and
//! process serves every wait on that cluster.
//!
//! * **One request per tick, shared.** Connection creates and deletes (and
//!   "is it ACTIVE yet?" checks) are answered from one paged listing of the
//!   cluster per tick, whatever the number of waiting connections. Domain
//!   attaches and detaches need `attachedDomains`, which lists do not carry:
//!   every wait on one connection shares one GET per tick.
//! * **Never older than the write.** Every observation carries the instant
//!   its request was sent; a waiter registered after a write (create,
//!   delete, attach, detach; see [`Watchers::wrote`]) only accepts
//!   observations sent after that write completed. Fresh-enough
//!   observations already held (for example the listing that saw a
//!   connection become ACTIVE) serve new waiters without any request.
//! * **Polls where they pay.** Each kind of operation (create, delete,
//!   attach, detach) learns how long it takes here. While a kind has no
//!   estimate, its oldest waiter *explores*: first poll soon after the
//!   request, or at three quarters of a guess when there is one (the time
//!   an earlier process remembered, see [`SettleMemory`]; a loose bound
//!   seen here; another kind's estimate), then intervals growing to
//!   max(1 s, 10% of the wait so far), so the settled state is seen
//!   promptly. Only a tight observation (the poll before saw the object
//!   pending) makes a kind's estimate: one that came late, held back for
//!   budget, is only a guess. Every other waiter polls once at its write
//!   time plus the estimate (or the guess); a waiter still pending then
//!   backs off (the oldest such one explores again and refreshes the
//!   estimate for the rest).
//! * **Paced by the budget.** Every poll request takes a slot from the
//!   [`Pacer`](crate::api::pacing::Pacer), which keeps the headroom for
//!   mutations and spreads what is left over the rate limit window. The
//!   watchers tell it how many mutations are pending or expected (a wait
//!   that just ended frees a Terraform slot) and whether every operation
//!   of the process is waiting (as many waits as the most operations seen
//!   at once): then polls may use the headroom, one at a time.
//!
//! The watcher of a cluster is a task that runs while someone waits and
//! ends when nobody does.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify};

use super::settle_memory::SettleMemory;
use super::waits::WaitError;
use crate::api::cancel;
use crate::api::pacing::{Demand, Pacer};
use crate::api::{ApiError, Client, ConnectionState, PrivateLinkConnection as Connection};
use crate::framework::poll::Poll;
use crate::framework::StopSignal;

/// What a waiter waits for; decides how it is observed and which estimate
/// schedules its polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A created connection settling (listing).
    Create,
    /// A deleted connection going away (listing).
    Delete,
    /// A connection reaching a state nobody here asked for, such as ACTIVE
    /// after an acceptance (listing). No estimate: polled on the explorer's
    /// schedule, served by the listings other waits cause anyway.
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
    fn learns(self) -> bool {
        !matches!(self, Kind::Observe)
    }
}

/// One observation of a connection: `None` when the API says it does not
/// exist (or, for a delete, it is no longer listed).
pub type Observed = Result<Option<Connection>, ApiError>;

/// The first poll of an exploring waiter.
const FIRST_POLL: Duration = Duration::from_millis(500);
/// The share of another kind's estimate at which the first operation of a
/// kind without an estimate of its own starts exploring.
const PRIOR_SHARE: f64 = 0.75;
/// A listing waits at most this long past its earliest due time so that
/// waiters whose writes came moments apart share it.
const GATHER: Duration = Duration::from_millis(400);
/// Creates that share a listing stop gathering once none has come for this
/// long: Terraform starts the operations of freed slots within
/// milliseconds of each other.
const QUIET: Duration = Duration::from_millis(150);
/// How long a wait that ended counts as a mutation about to come: Terraform
/// starts the operation its slot frees within milliseconds.
const EXPECT_FOR: Duration = Duration::from_secs(1);
/// Estimates get this margin (the write's answer left the server a little
/// after it changed the object).
const ESTIMATE_MARGIN: Duration = Duration::from_millis(150);

/// The pause after a poll of an exploring waiter: grows by half from
/// [`FIRST_POLL`] up to max(1 s, 10% of the wait so far), so a settled
/// state is seen within that bound.
pub fn explore_interval(previous: Duration, waited: Duration) -> Duration {
    let bound = Duration::from_secs(1).max(waited / 10);
    if previous.is_zero() {
        FIRST_POLL.min(bound)
    } else {
        previous.mul_f64(1.5).min(bound)
    }
}

/// The pause after a poll of a waiter that follows an explorer: it rarely
/// polls, the explorer's result reschedules it.
pub fn follow_interval(waited: Duration) -> Duration {
    Duration::from_secs(2).max(waited / 4)
}

/// Whether `e` is a request that a stop ended while it waited for budget:
/// it was never sent, so nothing changed.
pub fn stopped_before_sending(stop: &StopSignal, e: &ApiError) -> bool {
    stop.is_stopped()
        && matches!(
            e,
            ApiError::Transport {
                maybe_sent: false,
                ..
            }
        )
}

// ---- estimates ---------------------------------------------------------------------------------

/// How long each kind of operation took here, from write to settled.
#[derive(Debug, Default, Clone)]
pub struct Estimates {
    by_kind: HashMap<Kind, Duration>,
    /// What earlier processes learned (see [`SettleMemory`]): guesses that
    /// schedule the first polls, never a kind's own estimate.
    remembered: HashMap<Kind, Duration>,
    /// Loose upper bounds seen by this process on kinds without an
    /// estimate: guesses too.
    loose: HashMap<Kind, Duration>,
}

impl Estimates {
    /// Estimates that start from what earlier processes learned.
    pub fn remembering(remembered: HashMap<Kind, Duration>) -> Estimates {
        Estimates {
            remembered,
            ..Estimates::default()
        }
    }

    /// The kind's own estimate, learned by this process.
    pub fn own(&self, kind: Kind) -> Option<Duration> {
        self.by_kind.get(&kind).copied()
    }

    /// A first guess for a kind this process has not learned yet: what an
    /// earlier process learned of it or a loose bound seen here (the
    /// shorter), else another kind's estimate (operations of one API tend
    /// to take alike; the shortest known, learned here first, then
    /// remembered).
    pub fn prior(&self, kind: Kind) -> Option<Duration> {
        let shortest_other = |m: &HashMap<Kind, Duration>| {
            m.iter().filter(|(k, _)| **k != kind).map(|(_, d)| *d).min()
        };
        let own_guess = match (self.remembered.get(&kind), self.loose.get(&kind)) {
            (Some(r), Some(l)) => Some(*r.min(l)),
            (r, l) => r.or(l).copied(),
        };
        own_guess
            .or_else(|| shortest_other(&self.by_kind))
            .or_else(|| shortest_other(&self.remembered))
    }

    /// The estimates this process learned.
    pub fn learned(&self) -> &HashMap<Kind, Duration> {
        &self.by_kind
    }

    /// Learns from a waiter that saw its settled state `upper` after its
    /// write. `tight` when the waiter's previous poll, shortly before, saw
    /// it pending: then `upper` is close to the real duration and replaces
    /// the estimate; otherwise it can only lower it. A loose bound on a
    /// kind without an estimate (the first poll came late, for example held
    /// back for budget) is not one: it only becomes the kind's guess, from
    /// which its next operation explores.
    pub fn learn(&mut self, kind: Kind, upper: Duration, tight: bool) {
        if !kind.learns() {
            return;
        }
        let upper = upper + ESTIMATE_MARGIN;
        match self.by_kind.get_mut(&kind) {
            Some(e) if tight || upper < *e => *e = upper,
            Some(_) => {}
            None if tight => {
                self.by_kind.insert(kind, upper);
            }
            None => {
                let guess = self.loose.entry(kind).or_insert(upper);
                *guess = (*guess).min(upper);
            }
        }
    }
}

// ---- waiters and their schedule -------------------------------------------------------------

/// A waiter's polling record.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub kind: Kind,
    /// The write this waiter follows completed here; older observations do
    /// not count.
    pub written: Instant,
    /// When the last observation delivered to it was sent, and answered.
    pub last_sent: Option<Instant>,
    pub last_answered: Option<Instant>,
    /// When the observation before that was sent (for tight estimates).
    pub previous_sent: Option<Instant>,
    /// The last exploring pause.
    pub interval: Duration,
}

impl Schedule {
    pub fn new(kind: Kind, written: Instant) -> Schedule {
        Schedule {
            kind,
            written,
            last_sent: None,
            last_answered: None,
            previous_sent: None,
            interval: Duration::ZERO,
        }
    }

    fn polled_past(&self, t: Instant) -> bool {
        self.last_sent.is_some_and(|s| s >= t)
    }

    /// Whether this waiter needs exploring: its kind has no estimate, or it
    /// was already polled at its estimate and is still pending.
    pub fn needs_exploring(&self, estimates: &Estimates) -> bool {
        match estimates.own(self.kind) {
            _ if !self.kind.learns() => true,
            None => true,
            Some(e) => self.polled_past(self.written + e),
        }
    }

    /// When this waiter wants its next observation; `None` while it waits
    /// for an explorer of its kind.
    pub fn due(&self, estimates: &Estimates, exploring: bool) -> Option<Instant> {
        let since_last =
            |pause: Duration| self.last_sent.map_or(self.written + pause, |s| s + pause);
        if exploring {
            let waited = self.last_sent.unwrap_or(self.written) - self.written;
            let next = since_last(explore_interval(self.interval, waited));
            // While a kind has no estimate of its own, its explorer starts
            // near the guess when there is one (a remembered time, a loose
            // bound, another kind's estimate), so it costs a few polls
            // instead of one a second from the write on; an answer it got
            // earlier from a poll sent for others does not change that.
            let without_estimate = self.kind.learns() && estimates.own(self.kind).is_none();
            if let Some(prior) = estimates.prior(self.kind).filter(|_| without_estimate) {
                return Some(next.max(self.written + prior.mul_f64(PRIOR_SHARE)));
            }
            return Some(next);
        }
        let guess = estimates
            .own(self.kind)
            .or_else(|| estimates.prior(self.kind));
        match guess {
            Some(e) if !self.polled_past(self.written + e) => Some(self.written + e),
            Some(_) => {
                let waited = self.last_sent.unwrap_or(self.written) - self.written;
                Some(since_last(follow_interval(waited)))
            }
            None => None,
        }
    }

    /// Whether the poll due for this waiter is its one poll at the time its
    /// object is expected settled (its kind's estimate, or another kind's
    /// before it has one): its answer most likely ends the wait.
    pub fn expects_settled(&self, estimates: &Estimates, exploring: bool) -> bool {
        !exploring
            && self.kind.learns()
            && estimates
                .own(self.kind)
                .or_else(|| estimates.prior(self.kind))
                .is_some_and(|e| !self.polled_past(self.written + e))
    }

    /// Records an observation sent at `sent` and answered at `answered`.
    pub fn observed(&mut self, sent: Instant, answered: Instant, exploring: bool) {
        if exploring {
            let waited = self.last_sent.unwrap_or(self.written) - self.written;
            self.interval = explore_interval(self.interval, waited);
        }
        self.previous_sent = self.last_sent;
        self.last_sent = Some(sent);
        self.last_answered = Some(answered);
    }

    /// What the waiter's settling teaches: (upper bound, tight).
    pub fn lesson(&self) -> Option<(Duration, bool)> {
        let answered = self.last_answered?;
        let upper = answered.saturating_duration_since(self.written);
        // Tight: the previous poll saw it pending shortly before, at most
        // the explorer's pause (plus half a second) or a fifth of the
        // wait earlier (an explorer's poll may wait a little for budget).
        let tight = self.previous_sent.is_some_and(|p| {
            let gap = answered.saturating_duration_since(p);
            let explorer_pause =
                Duration::from_secs(1).max(upper / 10) + Duration::from_millis(500);
            gap <= explorer_pause.max(upper / 5)
        });
        Some((upper, tight))
    }
}

// ---- the shared state ------------------------------------------------------------------------

type WaiterId = u64;

struct Waiter {
    cluster: String,
    connection: String,
    /// When the wait times out: a poll serving it waits for rate limit
    /// budget no longer than the last deadline among the waiters it serves.
    deadline: Instant,
    schedule: Schedule,
    exploring: bool,
    tx: mpsc::UnboundedSender<Observed>,
}

/// An observation held for later waiters.
#[derive(Clone)]
struct Held<T> {
    sent: Instant,
    answered: Instant,
    value: T,
}

#[derive(Default)]
struct Cluster {
    listing: Option<Held<Arc<HashMap<String, Connection>>>>,
    listing_in_flight: bool,
    gets: HashMap<String, Held<Option<Connection>>>,
    gets_in_flight: HashSet<String>,
    /// Held while a listing for [`Watchers::listing_after`] is in flight, so
    /// that creates queued meanwhile share it.
    baseline: Arc<tokio::sync::Mutex<()>>,
    /// When the last create asked for such a listing.
    last_queued: Option<Instant>,
    driver: bool,
    wake: Arc<Notify>,
}

struct State {
    waiters: HashMap<WaiterId, Waiter>,
    clusters: HashMap<String, Cluster>,
    /// The last write this process made to each connection (by id).
    writes: HashMap<String, Instant>,
    estimates: Estimates,
    pacer: Pacer,
    next_id: WaiterId,
    mutations_pending: u32,
    polls_in_flight: u32,
    /// When recent waits ended: each freed a Terraform slot that is about
    /// to start its next operation (taken by the next mutation or wait, or
    /// forgotten after [`EXPECT_FOR`]).
    expected: Vec<Instant>,
    /// The most operations (waits, mutations, expected) seen at once: the
    /// process's share of Terraform's parallelism.
    peak_operations: u32,
    /// Where estimates are remembered for later processes, and what was
    /// last written there (or read from there).
    memory: Option<SettleMemory>,
    remembered: HashMap<Kind, Duration>,
}

impl State {
    fn operations(&self) -> u32 {
        (self.waiters.len() + self.expected.len()) as u32 + self.mutations_pending
    }

    /// A new operation step (mutation or wait) takes the slot a settled
    /// wait freed, if any.
    fn starting(&mut self) {
        let now = Instant::now();
        self.forget_expected(now);
        if !self.expected.is_empty() {
            self.expected.remove(0);
        }
    }

    /// Forgets freed slots that started nothing within [`EXPECT_FOR`]:
    /// Terraform had no operation left for them (the rest of its graph
    /// waits for the operations still running), so the process now runs
    /// one operation fewer.
    fn forget_expected(&mut self, now: Instant) {
        let before = self.expected.len();
        self.expected.retain(|e| now < *e + EXPECT_FOR);
        let unused = (before - self.expected.len()) as u32;
        if unused > 0 {
            self.peak_operations = self
                .peak_operations
                .saturating_sub(unused)
                .max(self.operations());
        }
    }

    /// The estimates to remember, when one is new or moved by more than a
    /// tenth since it was last remembered.
    fn take_lessons_to_remember(&mut self) -> Option<(SettleMemory, HashMap<Kind, Duration>)> {
        let memory = self.memory.clone()?;
        let learned = self.estimates.learned();
        let moved = learned.iter().any(|(k, d)| {
            self.remembered
                .get(k)
                .is_none_or(|r| r.abs_diff(*d) > *r / 10)
        });
        if !moved {
            return None;
        }
        let learned = learned.clone();
        self.remembered
            .extend(learned.iter().map(|(k, d)| (*k, *d)));
        Some((memory, learned))
    }

    /// A wait starts; it takes the slot a settled wait freed, if any.
    fn add_waiter(&mut self, id: WaiterId, waiter: Waiter) {
        // The freed slot first: counted both as a slot about to start and
        // as a wait for a moment, the operations would look one more than
        // Terraform runs, and polls would never take the headroom.
        self.starting();
        self.waiters.insert(id, waiter);
        self.count_operations();
    }

    fn count_operations(&mut self) {
        self.peak_operations = self.peak_operations.max(self.operations());
    }

    /// Whether every operation this process runs is waiting for a poll:
    /// then no mutation can come but from a poll's answer.
    fn all_waiting(&self, now: Instant) -> bool {
        self.mutations_pending == 0
            && !self.expected.iter().any(|e| now < *e + EXPECT_FOR)
            && self.waiters.len() as u32 >= self.peak_operations
    }
}

struct Shared {
    client: Client,
    state: Mutex<State>,
}

/// The watchers of one provider process (one per cluster, created on demand).
#[derive(Clone)]
pub struct Watchers {
    shared: Arc<Shared>,
}

/// Counts a mutation queued or in flight, for the pacing headroom.
pub struct MutationGuard {
    shared: Arc<Shared>,
}

impl Drop for MutationGuard {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.mutations_pending = s.mutations_pending.saturating_sub(1);
        // Polls held back for it may go.
        for c in s.clusters.values() {
            c.wake.notify_one();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A registered waiter; unregisters when dropped.
struct Subscription {
    shared: Arc<Shared>,
    id: WaiterId,
    rx: mpsc::UnboundedReceiver<Observed>,
    settled: bool,
}

impl Subscription {
    fn settled(mut self) {
        self.settled = true;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        if let Some(w) = s.waiters.remove(&self.id) {
            // Its Terraform slot starts the next operation at once.
            s.expected.push(Instant::now());
            if self.settled {
                if let Some((upper, tight)) = w.schedule.lesson() {
                    s.estimates.learn(w.schedule.kind, upper, tight);
                }
            }
            // The explorer of its kind may change, and estimates too: every
            // watcher looks again.
            for c in s.clusters.values() {
                c.wake.notify_one();
            }
            let remember = s.take_lessons_to_remember();
            drop(s);
            if let Some((memory, times)) = remember {
                remember_in_background(memory, times);
            }
        }
    }
}

/// Writes estimates for later processes without holding up this one; a
/// file that cannot be written only costs them some polls.
fn remember_in_background(memory: SettleMemory, times: HashMap<Kind, Duration>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn_blocking(move || {
        if let Err(e) = memory.save(&times) {
            log::debug!(
                "could not remember settle times in {}: {e}",
                memory.path().display()
            );
        }
    });
}

impl Watchers {
    /// Watchers polling with `client`; with a `memory`, they start from the
    /// settle times earlier processes learned and remember what they learn.
    pub fn new(client: Client, memory: Option<SettleMemory>) -> Watchers {
        let remembered = memory.as_ref().map(|m| m.load()).unwrap_or_default();
        Watchers {
            shared: Arc::new(Shared {
                client,
                state: Mutex::new(State {
                    waiters: HashMap::new(),
                    clusters: HashMap::new(),
                    writes: HashMap::new(),
                    estimates: Estimates::remembering(remembered.clone()),
                    pacer: Pacer::new(),
                    next_id: 0,
                    mutations_pending: 0,
                    polls_in_flight: 0,
                    expected: Vec::new(),
                    peak_operations: 0,
                    memory,
                    remembered,
                }),
            }),
        }
    }

    /// Counts a mutation until the guard is dropped: polls keep budget for it.
    pub fn mutation(&self) -> MutationGuard {
        let mut s = self.shared.lock();
        s.starting();
        s.mutations_pending += 1;
        s.count_operations();
        drop(s);
        MutationGuard {
            shared: self.shared.clone(),
        }
    }

    /// Runs a mutation (create, delete, attach, detach, dry run): polls keep
    /// budget for it while it waits, and a stop ends its wait for budget
    /// (it is then not sent; see [`cancel`]). Once sent it runs to its answer.
    pub async fn mutate<F: std::future::Future>(&self, stop: &StopSignal, call: F) -> F::Output {
        let _pending = self.mutation();
        cancel::scope(stop.receiver(), call).await
    }

    /// The client the watchers poll with.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Records that this process changed connection `id` just now (its
    /// write's answer arrived): observations sent earlier no longer serve
    /// waits on it.
    pub fn wrote(&self, connection_id: &str) {
        let mut s = self.shared.lock();
        s.writes.insert(connection_id.to_string(), Instant::now());
        for c in s.clusters.values_mut() {
            c.gets.remove(connection_id);
        }
    }

    /// Holds a full listing answered just now and hands it to the waiters it
    /// serves, as a poll would (waiters it does not list are left to their
    /// own polls).
    fn hold_listing(
        &self,
        cluster_id: &str,
        sent: Instant,
        all: &[Connection],
    ) -> Arc<HashMap<String, Connection>> {
        let map = Arc::new(by_id(all));
        let answered = Instant::now();
        let mut s = self.shared.lock();
        deliver_listing(&mut s, cluster_id, sent, answered, &Ok(map.clone()), true);
        map
    }

    /// Every connection of the cluster, from a listing whose answer arrived
    /// at or after `since`: the one held (from a watcher poll or an
    /// earlier create) when it is recent enough, or a new one. Creates
    /// queued together share one request: the first waits until they stop
    /// coming (see [`gathered_until`]) and lists, the others find its
    /// answer recent enough.
    /// The request waits for budget as a mutation
    /// does (a create waits on it), and a stop ends that wait.
    ///
    /// A create reconciles a lost answer against this listing: whatever it
    /// holds existed before the create was sent.
    pub async fn listing_after(
        &self,
        stop: &StopSignal,
        cluster_id: &str,
        since: Instant,
    ) -> Result<Arc<HashMap<String, Connection>>, ApiError> {
        let recent = |s: &State| {
            s.clusters
                .get(cluster_id)
                .and_then(|c| c.listing.as_ref())
                .filter(|l| l.answered >= since)
                .map(|l| l.value.clone())
        };
        let one_at_a_time = {
            let mut s = self.shared.lock();
            if let Some(held) = recent(&s) {
                return Ok(held);
            }
            let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
            cluster.last_queued = Some(Instant::now());
            cluster.baseline.clone()
        };
        let _turn = one_at_a_time.lock().await;
        if let Some(held) = recent(&self.shared.lock()) {
            return Ok(held);
        }
        // The creates Terraform starts together (the slots one listing
        // freed) arrive moments apart: gathering them until they stop
        // coming lets them share this listing instead of sending one each.
        // It counts as a mutation meanwhile, so polls keep budget for it.
        let _pending = self.mutation();
        loop {
            let last = {
                let s = self.shared.lock();
                s.clusters.get(cluster_id).and_then(|c| c.last_queued)
            };
            let until = gathered_until(since, last);
            if Instant::now() >= until {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep_until(until.into()) => {}
                () = stop.stopped() => break,
            }
        }
        let sent = Instant::now();
        let client = self.client();
        let all = cancel::scope(
            stop.receiver(),
            client.list_private_link_connections(cluster_id, None),
        )
        .await?;
        Ok(self.hold_listing(cluster_id, sent, &all))
    }

    /// Waits until `classify` says the wait is over, observing connection
    /// `id` of `cluster_id` as `kind` requires, within `timeout` and until
    /// Terraform asks the provider to stop.
    pub async fn wait<T>(
        &self,
        cluster_id: &str,
        id: &str,
        kind: Kind,
        stop: &StopSignal,
        timeout: Duration,
        mut classify: impl FnMut(Option<&Connection>) -> Poll<T>,
    ) -> Result<T, WaitError<T>> {
        let started = Instant::now();
        let mut sub = self.subscribe(cluster_id, id, kind, started + timeout);
        let mut last: Option<T> = None;
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            let observed = tokio::select! {
                o = sub.rx.recv() => o,
                () = tokio::time::sleep(left) => {
                    return Err(WaitError::Timeout { last, waited: started.elapsed() })
                }
                () = stop.stopped() => return Err(WaitError::Stopped { last }),
            };
            let Some(observed) = observed else {
                // The watcher went away (cannot happen while subscribed).
                return Err(WaitError::Timeout {
                    last,
                    waited: started.elapsed(),
                });
            };
            match observed {
                Ok(c) => match classify(c.as_ref()) {
                    Poll::Done(v) => {
                        sub.settled();
                        return Ok(v);
                    }
                    Poll::Pending(v) => last = Some(v),
                    Poll::Gone(what) => return Err(WaitError::Gone { last, what }),
                },
                Err(e) if e.is_transient() => log::warn!("polling failed, will retry: {e}"),
                Err(error) => return Err(WaitError::Api { last, error }),
            }
        }
    }

    fn subscribe(&self, cluster_id: &str, id: &str, kind: Kind, deadline: Instant) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut s = self.shared.lock();
        let now = Instant::now();
        // A wait that follows no write of ours accepts anything seen since
        // the last one (none: anything this process saw).
        let written = s.writes.get(id).copied();
        let id_num = s.next_id;
        s.next_id += 1;
        let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
        // Serve from what is held when it is fresh enough.
        let fresh = |sent: Instant| written.is_none_or(|w| sent >= w);
        let held: Option<Observed> = if kind.by_get() {
            cluster
                .gets
                .get(id)
                .filter(|h| fresh(h.sent))
                .map(|h| Ok(h.value.clone()))
        } else {
            cluster
                .listing
                .as_ref()
                .filter(|h| fresh(h.sent))
                .and_then(|h| h.value.get(id).cloned())
                .map(|c| Ok(Some(c)))
        };
        if let Some(o) = held {
            let _ = tx.send(o);
        }
        let wake = cluster.wake.clone();
        let start_driver = !cluster.driver;
        cluster.driver = true;
        s.add_waiter(
            id_num,
            Waiter {
                cluster: cluster_id.to_string(),
                connection: id.to_string(),
                deadline,
                schedule: Schedule::new(kind, written.unwrap_or(now).min(now)),
                exploring: false,
                tx,
            },
        );
        drop(s);
        if start_driver {
            tokio::spawn(drive(self.shared.clone(), cluster_id.to_string()));
        } else {
            wake.notify_one();
        }
        Subscription {
            shared: self.shared.clone(),
            id: id_num,
            rx,
            settled: false,
        }
    }
}

// ---- the driver: one task per watched cluster ---------------------------------------------

/// A poll request the driver may send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    Listing,
    Get(String),
}

/// A poll to send now, with the listing's state filter.
type Fire = (Target, Option<ConnectionState>);

enum Next {
    Stop,
    Sleep(Option<Instant>),
}

async fn drive(shared: Arc<Shared>, cluster_id: String) {
    loop {
        let budget = shared.client.budget();
        let (next, wake, fire) = {
            let mut s = shared.lock();
            let now = Instant::now();
            plan_round(&mut s, &cluster_id, budget.as_ref(), now)
        };
        for (target, state_filter) in fire {
            tokio::spawn(poll(
                shared.clone(),
                cluster_id.clone(),
                target,
                state_filter,
            ));
        }
        match next {
            Next::Stop => return,
            Next::Sleep(until) => {
                let notified = wake.notified();
                match until {
                    Some(t) => {
                        tokio::select! {
                            () = tokio::time::sleep_until(t.into()) => {}
                            () = notified => {}
                        }
                    }
                    None => notified.await,
                }
            }
        }
    }
}

/// Decides, under the lock, which polls go now and when to look again.
fn plan_round(
    s: &mut State,
    cluster_id: &str,
    budget: Option<&crate::api::Budget>,
    now: Instant,
) -> (Next, Arc<Notify>, Vec<Fire>) {
    // Explorers: per kind, the oldest waiter that needs exploring.
    let mut explorer: HashMap<Kind, (Instant, WaiterId)> = HashMap::new();
    for (id, w) in &s.waiters {
        if w.schedule.needs_exploring(&s.estimates) {
            let key = (w.schedule.written, *id);
            let e = explorer.entry(w.schedule.kind).or_insert(key);
            if key < *e {
                *e = key;
            }
        }
    }
    let estimates = s.estimates.clone();
    for (id, w) in s.waiters.iter_mut() {
        w.exploring = w.schedule.kind == Kind::Observe
            || explorer.get(&w.schedule.kind).is_some_and(|(_, e)| e == id);
    }
    // Every target with waiters, in all clusters (for the pacing demand).
    let mut targets: HashSet<(String, Target)> = HashSet::new();
    for w in s.waiters.values() {
        let t = if w.schedule.kind.by_get() {
            Target::Get(w.connection.clone())
        } else {
            Target::Listing
        };
        targets.insert((w.cluster.clone(), t));
    }
    s.forget_expected(now);
    let mut demand = Demand {
        targets: targets.len() as u32,
        mutations_pending: s.mutations_pending,
        polls_in_flight: s.polls_in_flight,
        mutations_expected: s.expected.len() as u32,
        all_waiting: s.all_waiting(now),
        settling: false,
    };
    // Due times of this cluster's targets, per waiter.
    let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
    let wake = cluster.wake.clone();
    let mut dues: HashMap<Target, Vec<Due>> = HashMap::new();
    let mut only_deletes = true;
    let mut any = false;
    for w in s.waiters.values().filter(|w| w.cluster == cluster_id) {
        any = true;
        let (target, in_flight) = if w.schedule.kind.by_get() {
            let busy = cluster.gets_in_flight.contains(&w.connection);
            (Target::Get(w.connection.clone()), busy)
        } else {
            only_deletes &= w.schedule.kind == Kind::Delete;
            (Target::Listing, cluster.listing_in_flight)
        };
        if in_flight {
            continue;
        }
        let Some(at) = w.schedule.due(&estimates, w.exploring) else {
            continue;
        };
        dues.entry(target.clone()).or_default().push(Due {
            at,
            gather: target == Target::Listing && !w.exploring,
            settling: w.schedule.expects_settled(&estimates, w.exploring),
        });
    }
    let mut due: HashMap<Target, Instant> = HashMap::new();
    // Targets due now for a waiter that expects its object settled.
    let mut settling: HashSet<Target> = HashSet::new();
    for (target, waiting) in dues {
        let Some(at) = fire_time(&waiting) else {
            continue;
        };
        if at <= now && waiting.iter().any(|d| d.settling && d.at <= at) {
            settling.insert(target.clone());
        }
        due.insert(target, at);
    }
    if !any && !cluster.listing_in_flight && cluster.gets_in_flight.is_empty() {
        cluster.driver = false;
        return (Next::Stop, wake, Vec::new());
    }
    let mut ready: Vec<(Instant, Target)> = due
        .iter()
        .filter(|(_, at)| **at <= now)
        .map(|(t, at)| (*at, t.clone()))
        .collect();
    ready.sort_by_key(|(at, _)| *at);
    let mut fire = Vec::new();
    let mut next = due.values().filter(|at| **at > now).min().copied();
    for (_, target) in ready {
        demand.settling = settling.contains(&target);
        match s.pacer.try_poll(budget, demand, now) {
            Ok(()) => {
                if log::log_enabled!(log::Level::Debug) {
                    log::debug!(
                        "poll {target:?} of cluster {cluster_id}{}: {}",
                        if demand.settling {
                            " (expected settled)"
                        } else {
                            ""
                        },
                        poll_reasons(s, cluster_id, &target, now)
                    );
                }
                let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
                let filter = match &target {
                    Target::Listing => {
                        cluster.listing_in_flight = true;
                        // Only deletions wait: the connections still
                        // DELETING are all that matter (fewer pages).
                        only_deletes.then_some(ConnectionState::Deleting)
                    }
                    Target::Get(id) => {
                        cluster.gets_in_flight.insert(id.clone());
                        None
                    }
                };
                s.polls_in_flight += 1;
                demand.polls_in_flight += 1;
                fire.push((target, filter));
            }
            Err(wait) => {
                let at = now + wait;
                next = Some(next.map_or(at, |n| n.min(at)));
                break;
            }
        }
    }
    (Next::Sleep(next), wake, fire)
}

/// When the listing that creates queued since `since` share goes: once
/// none has come for [`QUIET`] (the last came at `last`), and at most
/// [`GATHER`] after the first.
fn gathered_until(since: Instant, last: Option<Instant>) -> Instant {
    let quiet = last.unwrap_or(since).max(since) + QUIET;
    quiet.min(since + GATHER)
}

/// When one waiter wants its target polled.
#[derive(Debug, Clone, Copy)]
struct Due {
    at: Instant,
    /// A listing for a waiter at its expected settle time: it may wait for
    /// others due moments later.
    gather: bool,
    /// The waiter expects its object settled then.
    settling: bool,
}

/// When a target's poll goes: at its earliest due time, except that a
/// listing for waiters at their expected settle time waits for the others
/// due within [`GATHER`] of the first of them (the writes of one wave came
/// moments apart), so that one listing serves them all. An explorer's due
/// time is not held back.
fn fire_time(dues: &[Due]) -> Option<Instant> {
    let explorer = dues.iter().filter(|d| !d.gather).map(|d| d.at).min();
    let gathered = dues
        .iter()
        .filter(|d| d.gather)
        .map(|d| d.at)
        .min()
        .map(|first| {
            dues.iter()
                .filter(|d| d.gather && d.at <= first + GATHER)
                .map(|d| d.at)
                .max()
                .unwrap_or(first)
        });
    explorer.into_iter().chain(gathered).min()
}

/// What a poll of `target` is for, for the debug log: each waiter it
/// serves, how long since its write, and its kind's estimate or guess.
fn poll_reasons(s: &State, cluster_id: &str, target: &Target, now: Instant) -> String {
    let reasons: Vec<String> = s
        .waiters
        .values()
        .filter(|w| w.cluster == cluster_id)
        .filter(|w| match target {
            Target::Listing => !w.schedule.kind.by_get(),
            Target::Get(id) => w.connection == *id,
        })
        .map(|w| {
            let kind = w.schedule.kind;
            format!(
                "{kind:?}{} {:.1?} after its write (estimate {:?}, guess {:?})",
                if w.exploring { " exploring" } else { "" },
                now.saturating_duration_since(w.schedule.written),
                s.estimates.own(kind),
                s.estimates.prior(kind)
            )
        })
        .collect();
    reasons.join("; ")
}

/// Sends one poll request and hands its answer to every waiter it serves.
async fn poll(
    shared: Arc<Shared>,
    cluster_id: String,
    target: Target,
    state_filter: Option<ConnectionState>,
) {
    let sent = Instant::now();
    let client = poll_client(&shared, &cluster_id, &target);
    match &target {
        Target::Listing => {
            let result = client
                .list_private_link_connections(&cluster_id, state_filter.as_ref())
                .await;
            let answered = Instant::now();
            let listing = result.map(|all| Arc::new(by_id(&all)));
            let mut confirm = {
                let mut s = shared.lock();
                s.polls_in_flight = s.polls_in_flight.saturating_sub(1);
                s.clusters
                    .entry(cluster_id.clone())
                    .or_default()
                    .listing_in_flight = false;
                let full = state_filter.is_none();
                deliver_listing(&mut s, &cluster_id, sent, answered, &listing, full)
            };
            confirm.sort();
            confirm.dedup();
            for id in confirm {
                let target = Target::Get(id.clone());
                let client = poll_client(&shared, &cluster_id, &target);
                get(&shared, &client, &cluster_id, &id, true).await;
            }
        }
        Target::Get(id) => get(&shared, &client, &cluster_id, id, false).await,
    }
}

fn by_id(all: &[Connection]) -> HashMap<String, Connection> {
    all.iter()
        .map(|c| (c.private_link_connection_id.clone(), c.clone()))
        .collect()
}

/// Hands a listing of `cluster_id` (sent at `sent`, answered at
/// `answered`) to every waiter it serves, and holds it for later waiters
/// when it is `full` (no state filter). Gives the waiters' connections it
/// does not list (other than deletes'): a GET must confirm they are gone.
fn deliver_listing(
    s: &mut State,
    cluster_id: &str,
    sent: Instant,
    answered: Instant,
    listing: &Result<Arc<HashMap<String, Connection>>, ApiError>,
    full: bool,
) -> Vec<String> {
    let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
    if let (Ok(map), true) = (listing, full) {
        if cluster.listing.as_ref().is_none_or(|l| l.sent < sent) {
            cluster.listing = Some(Held {
                sent,
                answered,
                value: map.clone(),
            });
        }
    }
    let wake = cluster.wake.clone();
    let mut confirm = Vec::new();
    for w in s.waiters.values_mut() {
        if w.cluster != cluster_id || w.schedule.kind.by_get() || w.schedule.written > sent {
            continue;
        }
        let observed = match listing {
            Err(e) => Err(e.clone()),
            Ok(map) => match map.get(&w.connection) {
                Some(c) => Ok(Some(c.clone())),
                None if w.schedule.kind == Kind::Delete => Ok(None),
                None => {
                    // Not listed: ask for it before calling it gone.
                    confirm.push(w.connection.clone());
                    continue;
                }
            },
        };
        w.schedule.observed(sent, answered, w.exploring);
        let _ = w.tx.send(observed);
    }
    wake.notify_one();
    confirm
}

/// The client for a poll of `target`: it waits for rate limit budget no
/// longer than the last deadline among the waiters the poll serves, so that
/// a rate limit that outlasts them ends their waits with an error that says
/// so (rather than a timeout that does not).
fn poll_client(shared: &Shared, cluster_id: &str, target: &Target) -> Client {
    let deadline = shared
        .lock()
        .waiters
        .values()
        .filter(|w| w.cluster == cluster_id)
        .filter(|w| match target {
            Target::Listing => !w.schedule.kind.by_get(),
            Target::Get(id) => w.connection == *id,
        })
        .map(|w| w.deadline)
        .max();
    match deadline {
        Some(d) => shared.client.with_deadline(d),
        None => shared.client.clone(),
    }
}

/// One GET of a connection, handed to every waiter on it.
async fn get(shared: &Shared, client: &Client, cluster_id: &str, id: &str, confirming: bool) {
    let sent = Instant::now();
    let result = match client.get_private_link_connection(cluster_id, id).await {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    };
    let answered = Instant::now();
    let mut s = shared.lock();
    if !confirming {
        s.polls_in_flight = s.polls_in_flight.saturating_sub(1);
    }
    let cluster = s.clusters.entry(cluster_id.to_string()).or_default();
    if !confirming {
        cluster.gets_in_flight.remove(id);
    }
    if let Ok(c) = &result {
        cluster.gets.insert(
            id.to_string(),
            Held {
                sent,
                answered,
                value: c.clone(),
            },
        );
    }
    let wake = cluster.wake.clone();
    for w in s.waiters.values_mut() {
        if w.cluster != cluster_id || w.connection != id || w.schedule.written > sent {
            continue;
        }
        w.schedule.observed(sent, answered, w.exploring);
        let _ = w.tx.send(result.clone());
    }
    wake.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exploring_sees_a_settled_state_within_the_bound() {
        let mut interval = Duration::ZERO;
        let mut waited = Duration::ZERO;
        let mut polls = 0;
        while waited < Duration::from_secs(3600) {
            interval = explore_interval(interval, waited);
            assert!(interval <= Duration::from_secs(1).max(waited / 10));
            waited += interval;
            polls += 1;
        }
        assert!(polls < 120, "{polls} polls for an hour");
    }

    #[test]
    fn an_estimate_schedules_one_poll_at_the_expected_settle() {
        let t0 = Instant::now();
        let mut est = Estimates::default();
        est.learn(Kind::Create, Duration::from_secs(10), true);
        let s = Schedule::new(Kind::Create, t0);
        assert!(!s.needs_exploring(&est));
        let due = s.due(&est, false).unwrap();
        assert!(due >= t0 + Duration::from_secs(10));
        assert!(due <= t0 + Duration::from_millis(10_200));
        // Attaches have no estimate of their own: another kind's is the
        // guess for followers, while their oldest explores.
        let a = Schedule::new(Kind::Attach, t0);
        assert!(a.needs_exploring(&est));
        assert_eq!(
            a.due(&est, false),
            Some(t0 + est.own(Kind::Create).unwrap())
        );
        // Its explorer starts near that guess, not half a second after the
        // write: exploring a 10 s wait from 0.5 s costs about 10 polls.
        let first = a.due(&est, true).unwrap();
        assert!(first >= t0 + Duration::from_secs(7), "{:?}", first - t0);
        assert!(first <= t0 + Duration::from_secs(8), "{:?}", first - t0);
        // Without any estimate, the explorer polls soon after the write.
        assert_eq!(a.due(&Estimates::default(), true), Some(t0 + FIRST_POLL));
    }

    /// The polls the first operation of a kind costs until it settles 10 s
    /// after its write, exploring.
    fn exploring_polls(est: &Estimates, kind: Kind) -> u32 {
        let t0 = Instant::now();
        let settle = t0 + Duration::from_secs(10);
        let mut s = Schedule::new(kind, t0);
        let mut polls = 0;
        loop {
            let at = s.due(est, true).unwrap();
            polls += 1;
            if at >= settle {
                return polls;
            }
            s.observed(at, at + Duration::from_millis(5), true);
        }
    }

    #[test]
    fn exploring_with_another_kinds_estimate_costs_a_few_polls() {
        let mut est = Estimates::default();
        let alone = exploring_polls(&est, Kind::Attach);
        assert!(alone >= 10, "{alone}");
        est.learn(Kind::Create, Duration::from_secs(10), true);
        let guided = exploring_polls(&est, Kind::Attach);
        assert!(guided <= 4, "{guided} polls");
    }

    #[test]
    fn without_any_estimate_followers_wait_for_the_explorer() {
        let s = Schedule::new(Kind::Detach, Instant::now());
        assert_eq!(s.due(&Estimates::default(), false), None);
    }

    #[test]
    fn still_pending_at_the_estimate_backs_off() {
        let t0 = Instant::now();
        let mut est = Estimates::default();
        est.learn(Kind::Delete, Duration::from_secs(10), true);
        let mut s = Schedule::new(Kind::Delete, t0);
        let at = s.due(&est, false).unwrap();
        s.observed(at, at + Duration::from_millis(5), false);
        assert!(s.needs_exploring(&est));
        let follow = s.due(&est, false).unwrap();
        assert!(follow >= at + Duration::from_secs(2));
        let explore = s.due(&est, true).unwrap();
        assert!(explore <= at + Duration::from_secs(1));
    }

    #[test]
    fn tight_lessons_replace_loose_ones_only_lower() {
        let mut est = Estimates::default();
        est.learn(Kind::Attach, Duration::from_secs(10), true);
        est.learn(Kind::Attach, Duration::from_secs(30), false);
        assert!(est.own(Kind::Attach).unwrap() < Duration::from_secs(11));
        est.learn(Kind::Attach, Duration::from_secs(30), true);
        assert!(est.own(Kind::Attach).unwrap() >= Duration::from_secs(30));
        est.learn(Kind::Observe, Duration::from_secs(1), true);
        assert_eq!(est.own(Kind::Observe), None);
    }

    #[test]
    fn a_lesson_is_tight_when_the_previous_poll_was_recent() {
        let t0 = Instant::now();
        // Polls of an explorer sent at these milliseconds after the write,
        // each answered 10 ms later.
        let polled = |kind: Kind, sent_ms: &[u64]| {
            let mut s = Schedule::new(kind, t0);
            for ms in sent_ms {
                let sent = t0 + Duration::from_millis(*ms);
                s.observed(sent, sent + Duration::from_millis(10), true);
            }
            s
        };
        let (upper, tight) = polled(Kind::Create, &[9000, 10_000]).lesson().unwrap();
        assert!(tight);
        assert_eq!(upper, Duration::from_millis(10_010));
        // An explorer's poll that waited a little for budget: seen pending
        // at 9.6 s, settled at 11.5 s.
        assert!(polled(Kind::Detach, &[9600, 11_500]).lesson().unwrap().1);
        // Seen pending 6 s before it was seen settled: only a bound.
        assert!(!polled(Kind::Delete, &[8000, 14_000]).lesson().unwrap().1);
        let mut loose = Schedule::new(Kind::Create, t0);
        loose.observed(
            t0 + Duration::from_secs(10),
            t0 + Duration::from_millis(10_010),
            false,
        );
        assert!(!loose.lesson().unwrap().1);
    }

    #[test]
    fn a_late_first_lesson_is_a_guess_not_an_estimate() {
        // The first delete of a process was seen gone only after its poll
        // waited 13 s for budget: that is no estimate (every later delete
        // would wait 13 s), only the guess its next operation explores from.
        let mut est = Estimates::default();
        est.learn(Kind::Delete, Duration::from_secs(13), false);
        assert_eq!(est.own(Kind::Delete), None);
        let guess = est.prior(Kind::Delete).unwrap();
        assert!(guess >= Duration::from_secs(13), "{guess:?}");
        let t0 = Instant::now();
        let explorer = Schedule::new(Kind::Delete, t0);
        assert!(explorer.needs_exploring(&est));
        assert!(explorer.due(&est, true).unwrap() < t0 + Duration::from_secs(10));
        // A tight lesson then makes the estimate.
        est.learn(Kind::Delete, Duration::from_secs(10), true);
        assert!(est.own(Kind::Delete).unwrap() < Duration::from_millis(10_500));
    }

    #[test]
    fn remembered_times_are_where_the_first_operations_start_looking() {
        let est = Estimates::remembering(HashMap::from([
            (Kind::Create, Duration::from_secs(10)),
            (Kind::Attach, Duration::from_secs(12)),
        ]));
        // Not this process's estimates: the first of a kind explores, from
        // three quarters of what was remembered for it, and costs a few
        // polls instead of one a second from the write on.
        assert_eq!(est.own(Kind::Create), None);
        let t0 = Instant::now();
        let s = Schedule::new(Kind::Attach, t0);
        assert!(s.needs_exploring(&est));
        assert_eq!(s.due(&est, true), Some(t0 + Duration::from_secs(9)));
        assert!(exploring_polls(&est, Kind::Attach) <= 5);
        // A kind nothing was remembered for starts from another kind's time.
        assert_eq!(est.prior(Kind::Detach), Some(Duration::from_secs(10)));
        // What this process learns is what it remembers next time.
        let mut est = est;
        est.learn(Kind::Create, Duration::from_secs(8), true);
        assert_eq!(
            est.learned().get(&Kind::Create).copied(),
            est.own(Kind::Create)
        );
    }

    fn state() -> State {
        State {
            waiters: HashMap::new(),
            clusters: HashMap::new(),
            writes: HashMap::new(),
            estimates: Estimates::default(),
            pacer: Pacer::new(),
            next_id: 0,
            mutations_pending: 0,
            polls_in_flight: 0,
            expected: Vec::new(),
            peak_operations: 0,
            memory: None,
            remembered: HashMap::new(),
        }
    }

    #[test]
    fn a_freed_slot_that_starts_nothing_leaves_the_operation_count() {
        // Ten operations ran; one wait ended and Terraform had nothing to
        // start in its slot (the rest of the graph waits for the other
        // nine). Once that is clear, the nine waits are all the process
        // does: polls may take the headroom again.
        let mut s = state();
        s.peak_operations = 10;
        let t0 = Instant::now();
        s.expected.push(t0);
        s.forget_expected(t0);
        assert_eq!(s.peak_operations, 10);
        s.forget_expected(t0 + EXPECT_FOR);
        assert_eq!(s.peak_operations, 9);
        // A slot whose next operation started in time is still counted.
        s.peak_operations = 10;
        s.mutations_pending = 1;
        s.expected.push(Instant::now());
        s.starting();
        s.forget_expected(Instant::now() + EXPECT_FOR);
        assert_eq!(s.peak_operations, 10);
    }

    #[test]
    fn creates_share_a_listing_until_they_stop_coming() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // One create: a short pause for others, not the whole window.
        assert_eq!(gathered_until(t0, Some(t0)), t0 + QUIET);
        // Each new one extends it...
        assert_eq!(gathered_until(t0, Some(t0 + ms(30))), t0 + ms(30) + QUIET);
        // ...up to the window.
        assert_eq!(gathered_until(t0, Some(t0 + ms(390))), t0 + GATHER);
        assert_eq!(gathered_until(t0, None), t0 + QUIET);
    }

    #[test]
    fn a_listing_waits_for_the_wave_due_moments_later_not_longer() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let settle = |at| Due {
            at,
            gather: true,
            settling: true,
        };
        // A wave of writes a few milliseconds apart: the listing goes when
        // the last of them is due, not a fixed pause after the first.
        let wave: Vec<Due> = (0..10).map(|i| settle(t0 + ms(i))).collect();
        assert_eq!(fire_time(&wave), Some(t0 + ms(9)));
        // Waiters due later than the gathering window get a poll of their
        // own.
        let two = [settle(t0), settle(t0 + ms(300)), settle(t0 + ms(900))];
        assert_eq!(fire_time(&two), Some(t0 + ms(300)));
        // An explorer due first is not held back.
        let explorer = Due {
            at: t0,
            gather: false,
            settling: false,
        };
        assert_eq!(fire_time(&[explorer, settle(t0 + ms(200))]), Some(t0));
        assert_eq!(fire_time(&[]), None);
    }

    #[test]
    fn a_wait_that_takes_a_freed_slot_is_not_counted_twice() {
        // Ten waits settled together; each slot's next operation starts
        // with a wait (a domain resource checking its connection). The
        // process still runs ten operations, so once all ten wait, polls
        // may take the headroom: the count must not have grown to eleven
        // for a moment and stayed there.
        let mut s = state();
        let now = Instant::now();
        s.peak_operations = 10;
        s.expected = vec![now; 10];
        for id in 0..10 {
            let (tx, _) = mpsc::unbounded_channel();
            let waiter = Waiter {
                cluster: "c".into(),
                connection: format!("plc-{id}"),
                deadline: now + Duration::from_secs(60),
                schedule: Schedule::new(Kind::Observe, now),
                exploring: false,
                tx,
            };
            s.add_waiter(id, waiter);
            assert_eq!(s.peak_operations, 10, "after wait {id}");
        }
        assert!(s.all_waiting(now));
    }

    #[test]
    fn estimates_are_remembered_when_new_or_moved_by_a_tenth() {
        let dir = tempfile::tempdir().unwrap();
        let memory = SettleMemory::new(dir.path().join("times.json"), "http://127.0.0.1:1");
        let mut s = state();
        s.memory = Some(memory.clone());
        assert!(s.take_lessons_to_remember().is_none());
        s.estimates
            .learn(Kind::Create, Duration::from_secs(10), true);
        let (_, times) = s.take_lessons_to_remember().unwrap();
        assert_eq!(
            times.get(&Kind::Create),
            s.estimates.own(Kind::Create).as_ref()
        );
        // Unchanged, or moved by less than a tenth: nothing to write.
        assert!(s.take_lessons_to_remember().is_none());
        s.estimates
            .learn(Kind::Create, Duration::from_millis(10_500), true);
        assert!(s.take_lessons_to_remember().is_none());
        s.estimates
            .learn(Kind::Create, Duration::from_secs(12), true);
        assert!(s.take_lessons_to_remember().is_some());
        // Without a memory nothing is remembered.
        s.memory = None;
        s.estimates
            .learn(Kind::Attach, Duration::from_secs(3), true);
        assert!(s.take_lessons_to_remember().is_none());
    }

    #[test]
    fn an_answer_meant_for_others_does_not_start_exploring_early() {
        // A delete explorer got a listing sent for other deletes moments
        // after its write: it still first polls at three quarters of the
        // guess, not a second later.
        let mut est = Estimates::default();
        est.learn(Kind::Create, Duration::from_secs(10), true);
        let t0 = Instant::now();
        let mut s = Schedule::new(Kind::Delete, t0);
        s.observed(
            t0 + Duration::from_millis(200),
            t0 + Duration::from_millis(210),
            true,
        );
        let due = s.due(&est, true).unwrap();
        assert!(due >= t0 + Duration::from_millis(7500), "{:?}", due - t0);
    }
}
