//! The floor of an apply or a destroy: the fastest schedule of the requests
//! it cannot avoid, under what no provider controls.
//!
//! - Terraform's order: it orders whole resources, so no instance of a
//!   resource starts before every instance of the resources it refers to
//!   has finished (a run is a sequence of phases).
//! - Its parallelism: at most that many operations at a time per run.
//! - The settle time: an operation ends when a request sees it settled,
//!   no earlier than the settle time after the request that started it.
//! - The rate limit: at most `budget` requests in each fixed window.
//!
//! Each request is sent as early as those rules allow. Requests that the
//! operations starting or settling at the same moment can share (a
//! listing) are sent once for all of them. The benchmark prints the floor
//! beside each run, next to the simpler bound that leaves the order out.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// The limits a run works under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Operations at a time, per run (Terraform's `-parallelism`).
    pub parallelism: u64,
    /// From the request that starts an operation to its settled state.
    pub settle: Duration,
    /// Requests per rate window, shared by every run.
    pub budget: u64,
    pub window: Duration,
}

/// The requests of one step of an operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cost {
    /// Sent once for every operation that takes this step at the same
    /// moment (a listing).
    pub shared: u64,
    /// Sent by each operation (a create, a GET of its own connection).
    pub each: u64,
}

impl Cost {
    /// `n` requests that the operations of a moment share.
    pub const fn shared(n: u64) -> Cost {
        Cost { shared: n, each: 0 }
    }

    /// `n` requests per operation.
    pub const fn each(n: u64) -> Cost {
        Cost { shared: 0, each: n }
    }
}

/// A set of operations that Terraform runs only after the phase before
/// it has ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phase {
    /// Requests sent before the first operation can start (a refresh, a
    /// cluster check).
    pub before: u64,
    pub operations: u64,
    /// Requests that start an operation.
    pub start: Cost,
    /// Requests that see an operation settled.
    pub end: Cost,
}

impl Phase {
    /// `operations` that start and end with these requests, with none
    /// before them.
    pub const fn of(operations: u64, start: Cost, end: Cost) -> Phase {
        Phase {
            before: 0,
            operations,
            start,
            end,
        }
    }
}

/// The fastest schedule: when its last operation ends, and how many
/// requests it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    pub time: Duration,
    pub requests: u64,
}

/// What happens at a moment; at equal times, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Slots freed by operations that ended.
    Freed,
    /// Operations reached their settle time: poll them.
    Settled,
    /// Free slots take the next operations of the phase.
    Start,
    /// The next phase begins.
    Phase,
}

/// Requests sent per rate window.
struct Budget {
    limits: Limits,
    used: Vec<u64>,
    sent: u64,
}

impl Budget {
    /// Sends `n` requests, each at the earliest moment from `at` on that
    /// its window has room; returns when the last one went.
    fn send(&mut self, mut at: Duration, n: u64) -> Duration {
        for _ in 0..n {
            loop {
                let w = (at.as_nanos() / self.limits.window.as_nanos()) as usize;
                if self.used.len() <= w {
                    self.used.resize(w + 1, 0);
                }
                if self.used[w] < self.limits.budget {
                    self.used[w] += 1;
                    self.sent += 1;
                    break;
                }
                at = self.limits.window * (w as u32 + 1);
            }
        }
        at
    }
}

#[derive(Default)]
struct Run {
    phase: usize,
    waiting: u64,
    free: u64,
    in_flight: u64,
    ended: Duration,
}

/// The floor of runs that go on at once and share one rate budget; each
/// is its phases in order.
pub fn floor(runs: &[&[Phase]], limits: Limits) -> Floor {
    let mut budget = Budget {
        limits,
        used: Vec::new(),
        sent: 0,
    };
    let mut state: Vec<Run> = runs.iter().map(|_| Run::default()).collect();
    let mut queue = BinaryHeap::new();
    for r in 0..runs.len() {
        queue.push(Reverse((Duration::ZERO, Event::Phase, r, 0u64)));
    }
    while let Some(Reverse((at, event, r, mut count))) = queue.pop() {
        // Everything of one kind at one moment happens together.
        while let Some(Reverse((t, e, q, c))) = queue.peek().copied() {
            if (t, e, q) != (at, event, r) {
                break;
            }
            queue.pop();
            count += c;
        }
        let run = &mut state[r];
        let phase = runs[r].get(run.phase).copied();
        match (event, phase) {
            (Event::Phase, None) => run.ended = at,
            (Event::Phase, Some(p)) => {
                let ready = budget.send(at, p.before);
                run.waiting = p.operations;
                run.free = limits.parallelism;
                let next = if p.operations == 0 {
                    run.phase += 1;
                    Event::Phase
                } else {
                    Event::Start
                };
                queue.push(Reverse((ready, next, r, 0)));
            }
            (Event::Start, Some(p)) => {
                let starting = run.free.min(run.waiting);
                if starting == 0 {
                    continue;
                }
                run.free -= starting;
                run.waiting -= starting;
                run.in_flight += starting;
                let shared = budget.send(at, p.start.shared);
                for _ in 0..starting {
                    let started = budget.send(shared, p.start.each);
                    queue.push(Reverse((started + limits.settle, Event::Settled, r, 1)));
                }
            }
            (Event::Settled, Some(p)) => {
                let shared = budget.send(at, p.end.shared);
                for _ in 0..count {
                    let seen = budget.send(shared, p.end.each);
                    queue.push(Reverse((seen, Event::Freed, r, 1)));
                }
            }
            (Event::Freed, Some(_)) => {
                run.free += count;
                run.in_flight -= count;
                if run.waiting > 0 {
                    queue.push(Reverse((at, Event::Start, r, 0)));
                } else if run.in_flight == 0 {
                    run.phase += 1;
                    queue.push(Reverse((at, Event::Phase, r, 0)));
                }
            }
            (_, None) => unreachable!("operations after the last phase"),
        }
    }
    Floor {
        time: state.iter().map(|r| r.ended).max().unwrap_or_default(),
        requests: budget.sent,
    }
}

/// The phases of `terraform apply` of `n` new connections, and with
/// `domains` as many `tidbcloud_private_link_domains` referring to them.
///
/// - In the plan's process and in the apply's, a cluster check and a
///   listing that looks for a connection of the same name an import would
///   bring in (one per cluster and process).
/// - Per connection a create. The creates queued together share a
///   listing taken before they are sent (what a lost answer is reconciled
///   against) and one that sees them settled.
/// - Per domain resource a dry run (the generated unique name), an attach,
///   and a GET of its connection that sees the domains settled (listings
///   carry no domains).
pub fn apply_phases(n: u64, domains: bool) -> Vec<Phase> {
    let creates = Phase {
        before: 4,
        ..Phase::of(n, Cost { shared: 1, each: 1 }, Cost::shared(1))
    };
    let mut phases = vec![creates];
    if domains {
        phases.push(Phase::of(n, Cost::each(2), Cost::each(1)));
    }
    phases
}

/// The phases of `terraform destroy` of what [`apply_phases`] made.
///
/// - The refresh: a listing for the connections and, with domains, a GET
///   per connection for its attachment.
/// - Per domain resource a detach and a GET that sees it gone.
/// - Per connection a delete; a listing sees the deletes of a moment gone.
pub fn destroy_phases(n: u64, domains: bool) -> Vec<Phase> {
    let refresh = Phase {
        before: 1 + if domains { n } else { 0 },
        ..Phase::default()
    };
    let mut phases = vec![refresh];
    if domains {
        phases.push(Phase::of(n, Cost::each(1), Cost::each(1)));
    }
    phases.push(Phase::of(n, Cost::each(1), Cost::shared(1)));
    phases
}

// ---- references for the waiting grid ------------------------------------------------------
//
// The floor above takes one settle time for every operation and fixed
// windows from the first request. The grid (tests/waiting_grid.rs) needs
// more: a settle time per operation (jitter), another client on the key,
// several workspaces, the rate window under the simulator's rule (a window
// starts at the first request after the previous one ended; rejected
// requests count), and a second reference that knows no settle time in
// advance. Both references below are one event simulation with two
// polling policies.

use super::api_model::Op;

/// What a reference knows of the settle times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// F_oracle: knows every settle time and polls exactly once, at it.
    /// It shares a listing only among the waits of one process: the
    /// workspaces' processes are independent, so each needs its own
    /// observations.
    Oracle,
    /// F_online: polls at the settle time its process has already observed
    /// for the kind, else 1 s apart for the first 10 s of the wait and then
    /// at 10% of the wait so far. Centralised: one listing at a poll
    /// instant serves the connection waits of every workspace.
    Online,
}

/// The Terraform command of a reference run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Plan and apply of new connections (and domains).
    Apply,
    /// Refresh, plan and destroy of what an apply made.
    Destroy,
}

/// One workspace's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Workload {
    pub n: u64,
    pub domains: bool,
}

/// What no provider controls in a cell.
pub struct Conditions<'a> {
    /// Operations at a time, per workspace.
    pub parallelism: u64,
    /// Requests per window, shared by every workspace and the other client.
    pub budget: u64,
    pub window: Duration,
    /// Another client spends ⌊budget/2⌋ requests per window, evenly spaced
    /// from the start, never backing off.
    pub other_client: bool,
    /// The settle time of operation `op` of connection `index` of
    /// workspace `workspace`.
    pub settle: &'a dyn Fn(usize, Op, usize) -> Duration,
}

/// The default timeout of each kind of operation (the resources'
/// `timeouts` defaults).
pub fn default_timeout(op: Op) -> Duration {
    match op {
        Op::Create | Op::Delete | Op::Attach => Duration::from_secs(30 * 60),
        Op::Detach => Duration::from_secs(20 * 60),
    }
}

/// A provider process of a workspace and the kind of wait it polls for.
///
/// Every provider process of every workspace, as `tf_walk` runs them:
/// `terraform apply`'s plan process only checks the cluster (and lists it
/// once for a same-name connection), and its apply
/// process waits for creates and then attaches; `terraform destroy`'s
/// refresh-and-plan process only reads, and its apply process waits for
/// detaches and then deletes. The processes that wait for nothing poll
/// nothing, and within a command the kind names the waiting process, so
/// `(workspace, op)` names the process and the kind. Every connection of a
/// [`Workload`] is in one cluster, so this is also per cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Waits {
    pub workspace: usize,
    pub op: Op,
}

/// The outcome of a reference run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reference {
    /// When the last workspace's command ended.
    pub time: Duration,
    /// Requests the workspaces sent (the other client's aside).
    pub requests: u64,
    /// The exploring polls of each process and kind: polls that saw none
    /// of that process's waits of that kind settled and were sent before
    /// its first settled observation of the kind, or (with
    /// `jitter_window`) between 0.5x and 1.5x the settle time it observed.
    /// A listing that serves the waits of several workspaces counts once
    /// for each of them that it explored for: each of their processes
    /// would have had to send it.
    pub exploring_by: std::collections::BTreeMap<Waits, u64>,
    /// The sum of [`Reference::exploring_by`].
    pub exploring: u64,
    /// Requests answered 429 (none by construction: a request without
    /// budget waits for the reset).
    pub rejected: u64,
    /// The longest operation, from its start to its settled observation,
    /// against its default timeout: false when one exceeded it.
    pub feasible: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Priority {
    Other,
    Write,
    Poll,
    Bookkeeping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// The other client's k-th request.
    Other,
    /// Requests before the first operation of the current phase; the count
    /// left.
    Before(usize, u64),
    /// The listing the creates starting together need first; then their
    /// creates.
    Baseline(usize, u64),
    /// Write `step` (0-based) of a waiter.
    Write(usize, u8),
    /// A listing for every connection wait that is due: of one process
    /// (`Some(run)`), or of every workspace (`None`).
    Listing(Option<usize>),
    /// A GET for one waiter's domain wait, if still due.
    Get(usize),
    /// Free slots of a run take operations.
    Start(usize),
}

struct Waiter {
    run: usize,
    op: Op,
    index: usize,
    started: Duration,
    written: Option<Duration>,
    settle: Duration,
    /// When its next poll is due.
    due: Option<Duration>,
    polls: u32,
    ended: Option<Duration>,
}

struct RunState {
    phases: Vec<RefPhase>,
    phase: usize,
    next_op: u64,
    free: u64,
    in_flight: u64,
    ended: Duration,
    learned: Vec<(Op, Duration)>,
}

#[derive(Debug, Clone, Copy)]
struct RefPhase {
    before: u64,
    operations: u64,
    op: Option<Op>,
}

fn phases_of(command: Command, w: Workload) -> Vec<RefPhase> {
    let n = w.n;
    let ops = |op| RefPhase {
        before: 0,
        operations: n,
        op: Some(op),
    };
    match command {
        Command::Apply => {
            let mut p = vec![
                RefPhase {
                    // Per process (plan, apply): the cluster check and the
                    // listing that looks for a same-name connection.
                    before: 4,
                    operations: 0,
                    op: None,
                },
                ops(Op::Create),
            ];
            if w.domains {
                p.push(ops(Op::Attach));
            }
            p
        }
        Command::Destroy => {
            let mut p = vec![RefPhase {
                before: 1 + if w.domains { n } else { 0 },
                operations: 0,
                op: None,
            }];
            if w.domains {
                p.push(ops(Op::Detach));
            }
            p.push(ops(Op::Delete));
            p
        }
    }
}

/// Writes per operation: a dry run and an attach for domains, else one.
fn writes(op: Op) -> u8 {
    if op == Op::Attach {
        2
    } else {
        1
    }
}

/// Connection waits are seen by listings, domain waits by GETs.
fn listed(op: Op) -> bool {
    matches!(op, Op::Create | Op::Delete)
}

/// The next poll of an online waiter after a miss at `now`.
fn online_interval(waited: Duration) -> Duration {
    if waited < Duration::from_secs(10) {
        Duration::from_secs(1)
    } else {
        waited / 10
    }
}

struct Sim<'a> {
    policy: Policy,
    jitter_window: bool,
    c: &'a Conditions<'a>,
    queue: BinaryHeap<Reverse<(Duration, Priority, u64, Ev)>>,
    seq: u64,
    window_start: Option<Duration>,
    window_count: u64,
    other_every: Option<Duration>,
    other_k: u32,
    runs: Vec<RunState>,
    waiters: Vec<Waiter>,
    out: Reference,
}

impl Sim<'_> {
    fn push(&mut self, at: Duration, p: Priority, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((at, p, self.seq, ev)));
    }

    /// Counts a request at `now` under the simulator's rule; `Err` with the
    /// window's end when it would be rejected (the reference then waits).
    fn budget(&mut self, now: Duration, force: bool) -> Result<(), Duration> {
        if self.c.budget == 0 {
            return Ok(());
        }
        let start = match self.window_start {
            Some(s) if now < s + self.c.window => s,
            _ => {
                self.window_start = Some(now);
                self.window_count = 0;
                now
            }
        };
        if self.window_count < self.c.budget || force {
            self.window_count += 1;
            Ok(())
        } else {
            Err(start + self.c.window)
        }
    }

    fn estimate(&self, run: usize, op: Op) -> Option<Duration> {
        self.runs[run]
            .learned
            .iter()
            .find(|(o, _)| *o == op)
            .map(|(_, d)| *d)
    }

    /// The first poll of a waiter written at `written`, or the next after
    /// a miss at `now`.
    fn schedule(&mut self, w: usize, now: Duration) {
        let waiter = &self.waiters[w];
        let written = waiter.written.expect("written");
        let due = match self.policy {
            Policy::Oracle => written + waiter.settle,
            Policy::Online => match self.estimate(waiter.run, waiter.op) {
                Some(e) if written + e > now => written + e,
                _ if waiter.polls == 0 => now.max(written + Duration::from_secs(1)),
                _ => now + online_interval(now - written),
            },
        };
        self.waiters[w].due = Some(due);
        if listed(self.waiters[w].op) {
            let scope = match self.policy {
                Policy::Oracle => Some(self.waiters[w].run),
                Policy::Online => None,
            };
            self.push(due, Priority::Poll, Ev::Listing(scope));
        } else {
            self.push(due, Priority::Poll, Ev::Get(w));
        }
    }

    /// Whether a missed poll of waiter `w` at `now` counts as exploring.
    fn exploring(&self, w: usize, now: Duration) -> bool {
        let waiter = &self.waiters[w];
        match self.estimate(waiter.run, waiter.op) {
            None => true,
            Some(e) => {
                let waited = now - waiter.written.unwrap_or(now);
                self.jitter_window && waited >= e / 2 && waited <= e * 3 / 2
            }
        }
    }

    /// The process and kind of waiter `w`.
    fn waits(&self, w: usize) -> Waits {
        Waits {
            workspace: self.waiters[w].run,
            op: self.waiters[w].op,
        }
    }

    /// Counts an exploring poll of `waits`.
    fn explored(&mut self, waits: Waits) {
        *self.out.exploring_by.entry(waits).or_default() += 1;
        self.out.exploring += 1;
    }

    /// A poll at `now` saw waiter `w`: ended, or scheduled again.
    fn observe(&mut self, w: usize, now: Duration) -> bool {
        let waiter = &mut self.waiters[w];
        waiter.polls += 1;
        let written = waiter.written.expect("written");
        if now >= written + waiter.settle {
            waiter.ended = Some(now);
            waiter.due = None;
            let (run, op, started) = (waiter.run, waiter.op, waiter.started);
            if now - started > default_timeout(op) {
                self.out.feasible = false;
            }
            if self.estimate(run, op).is_none() {
                self.runs[run].learned.push((op, now - written));
            }
            let r = &mut self.runs[run];
            r.free += 1;
            r.in_flight -= 1;
            self.push(now, Priority::Bookkeeping, Ev::Start(run));
            true
        } else {
            self.schedule(w, now);
            false
        }
    }

    fn begin_phase(&mut self, run: usize, now: Duration) {
        let r = &mut self.runs[run];
        let Some(p) = r.phases.get(r.phase).copied() else {
            r.ended = now;
            return;
        };
        r.next_op = 0;
        r.free = self.c.parallelism;
        if p.before > 0 {
            self.push(now, Priority::Write, Ev::Before(run, p.before));
        } else {
            self.push(now, Priority::Bookkeeping, Ev::Start(run));
        }
    }

    fn run(&mut self) {
        while let Some(Reverse((now, _, _, ev))) = self.queue.pop() {
            match ev {
                Ev::Other => {
                    let _ = self.budget(now, true);
                    self.other_k += 1;
                    let every = self.other_every.expect("other client");
                    // The other client runs as long as the workspaces do.
                    if self.runs.iter().any(|r| r.phase < r.phases.len()) {
                        self.push(every * self.other_k, Priority::Other, Ev::Other);
                    }
                }
                Ev::Before(run, left) => match self.budget(now, false) {
                    Err(at) => self.push(at, Priority::Write, ev),
                    Ok(()) => {
                        self.out.requests += 1;
                        if left > 1 {
                            self.push(now, Priority::Write, Ev::Before(run, left - 1));
                        } else {
                            self.push(now, Priority::Bookkeeping, Ev::Start(run));
                        }
                    }
                },
                Ev::Start(run) => {
                    let r = &mut self.runs[run];
                    let Some(p) = r.phases.get(r.phase).copied() else {
                        continue;
                    };
                    if r.next_op >= p.operations {
                        if r.in_flight == 0 {
                            r.phase += 1;
                            self.begin_phase(run, now);
                        }
                        continue;
                    }
                    let Some(op) = p.op else {
                        r.phase += 1;
                        self.begin_phase(run, now);
                        continue;
                    };
                    let starting = r.free.min(p.operations - r.next_op);
                    if starting == 0 {
                        continue;
                    }
                    r.free -= starting;
                    r.in_flight += starting;
                    let first = self.waiters.len();
                    for k in 0..starting {
                        let index = (self.runs[run].next_op + k) as usize;
                        self.waiters.push(Waiter {
                            run,
                            op,
                            index,
                            started: now,
                            written: None,
                            settle: (self.c.settle)(run, op, index),
                            due: None,
                            polls: 0,
                            ended: None,
                        });
                    }
                    self.runs[run].next_op += starting;
                    if op == Op::Create {
                        self.push(now, Priority::Write, Ev::Baseline(first, starting));
                    } else {
                        for w in first..first + starting as usize {
                            self.push(now, Priority::Write, Ev::Write(w, 0));
                        }
                    }
                }
                Ev::Baseline(first, count) => match self.budget(now, false) {
                    Err(at) => self.push(at, Priority::Write, ev),
                    Ok(()) => {
                        self.out.requests += 1;
                        for w in first..first + count as usize {
                            self.push(now, Priority::Write, Ev::Write(w, 0));
                        }
                    }
                },
                Ev::Write(w, step) => match self.budget(now, false) {
                    Err(at) => self.push(at, Priority::Write, ev),
                    Ok(()) => {
                        self.out.requests += 1;
                        if step + 1 < writes(self.waiters[w].op) {
                            self.push(now, Priority::Write, Ev::Write(w, step + 1));
                        } else {
                            self.waiters[w].written = Some(now);
                            self.schedule(w, now);
                        }
                    }
                },
                Ev::Listing(scope) => {
                    let serves = |x: &Waiter| listed(x.op) && scope.is_none_or(|r| r == x.run);
                    let due: Vec<usize> = (0..self.waiters.len())
                        .filter(|&w| {
                            let x = &self.waiters[w];
                            serves(x) && x.ended.is_none() && x.due.is_some_and(|d| d <= now)
                        })
                        .collect();
                    if due.is_empty() {
                        continue;
                    }
                    if let Err(at) = self.budget(now, false) {
                        self.push(at, Priority::Poll, ev);
                        continue;
                    }
                    self.out.requests += 1;
                    // The processes and kinds this listing explores for,
                    // judged before it is seen.
                    let mut exploring: Vec<Waits> = due
                        .iter()
                        .filter(|&&w| self.exploring(w, now))
                        .map(|&w| self.waits(w))
                        .collect();
                    let mut ended: Vec<Waits> = Vec::new();
                    for w in due {
                        if self.observe(w, now) {
                            ended.push(self.waits(w));
                        }
                    }
                    // A listing shows every connection: waits not yet due
                    // that are settled end too.
                    let others: Vec<usize> = (0..self.waiters.len())
                        .filter(|&w| {
                            let x = &self.waiters[w];
                            serves(x)
                                && x.ended.is_none()
                                && x.written.is_some_and(|t| now >= t + x.settle)
                        })
                        .collect();
                    for w in others {
                        self.waiters[w].polls = self.waiters[w].polls.saturating_sub(1);
                        if self.observe(w, now) {
                            ended.push(self.waits(w));
                        }
                    }
                    exploring.sort();
                    exploring.dedup();
                    for k in exploring {
                        if !ended.contains(&k) {
                            self.explored(k);
                        }
                    }
                }
                Ev::Get(w) => {
                    let x = &self.waiters[w];
                    if x.ended.is_some() || x.due.is_none_or(|d| d > now) {
                        continue;
                    }
                    if let Err(at) = self.budget(now, false) {
                        self.push(at, Priority::Poll, ev);
                        continue;
                    }
                    self.out.requests += 1;
                    let exploring = self.exploring(w, now);
                    if !self.observe(w, now) && exploring {
                        self.explored(self.waits(w));
                    }
                }
            }
        }
    }
}

/// F_oracle or F_online of `command` for every workload at once, each
/// workspace starting at 0 in a fresh rate window. `jitter_window` counts,
/// among the exploring polls, the misses between 0.5x and 1.5x the
/// observed settle time (cells with jittered settle times).
pub fn reference(
    policy: Policy,
    command: Command,
    workloads: &[Workload],
    c: &Conditions<'_>,
    jitter_window: bool,
) -> Reference {
    let per_window = c.budget / 2;
    let other_every = (c.other_client && per_window > 0).then(|| c.window / per_window as u32);
    let mut sim = Sim {
        policy,
        jitter_window,
        c,
        queue: BinaryHeap::new(),
        seq: 0,
        window_start: None,
        window_count: 0,
        other_every,
        other_k: 0,
        runs: workloads
            .iter()
            .map(|w| RunState {
                phases: phases_of(command, *w),
                phase: 0,
                next_op: 0,
                free: 0,
                in_flight: 0,
                ended: Duration::ZERO,
                learned: Vec::new(),
            })
            .collect(),
        waiters: Vec::new(),
        out: Reference {
            feasible: true,
            ..Reference::default()
        },
    };
    if other_every.is_some() {
        sim.push(Duration::ZERO, Priority::Other, Ev::Other);
    }
    for r in 0..workloads.len() {
        sim.begin_phase(r, Duration::ZERO);
    }
    sim.run();
    sim.out.time = sim.runs.iter().map(|r| r.ended).max().unwrap_or_default();
    sim.out
}
