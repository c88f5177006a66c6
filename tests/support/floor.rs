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
/// - A cluster check in the plan's process and one in the apply's.
/// - Per connection a create. The creates queued together share a
///   listing taken before they are sent (what a lost answer is reconciled
///   against) and one that sees them settled.
/// - Per domain resource a dry run (the generated unique name), an attach,
///   and a GET of its connection that sees the domains settled (listings
///   carry no domains).
pub fn apply_phases(n: u64, domains: bool) -> Vec<Phase> {
    let creates = Phase {
        before: 2,
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
