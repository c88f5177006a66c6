//! How fast polls may spend the shared rate limit budget.
//!
//! TiDB Cloud gives an API key a budget per window (100 requests a minute),
//! shared by every process and person using the key. Creates, deletes,
//! attaches and detaches must always find budget; polls, which only ask
//! whether something settled, take what is left and spread it over the
//! window. This module is the policy, with no I/O and no clock of its own:
//! callers pass the budget the rate limiter last saw (see
//! `RateLimiter::snapshot`) and
//! the current instant.
//!
//! * **Headroom.** Polls leave the last [`headroom`] units of a window to
//!   mutations: a tenth of the limit (at least two), plus one for every
//!   mutation queued, in flight or expected (a wait that settled moments
//!   ago frees a Terraform slot, which starts its next operation at once).
//!   A poll therefore never makes a mutation wait for the window to reset.
//! * **Using the headroom when nothing else can.** When every operation of
//!   the process is waiting (none mutating, none just settled) and no other
//!   poll is out, no mutation can come but from a poll's answer: waiting
//!   for the reset would stall every operation, so one poll at a time may
//!   take the headroom, spread over the time to the reset. The mutations
//!   its answer brings find the units left. The last [`FLOOR`] units are
//!   never a poll's: they are for a mutation nobody announced (another
//!   process on the key, an operation this process has not seen yet).
//! * **Spread.** What is left (`remaining - headroom`, the poll allowance)
//!   is spent at most at `allowance / time-to-reset` polls per second, with
//!   bursts of at most one poll per waiting target, so an apply never spends
//!   a window's budget in its first seconds and then starves.
//! * **Except where a poll ends a wait.** A poll sent when its waiter
//!   expects the object settled (at the learned settle time) most likely
//!   ends the wait and frees a Terraform slot, whose next operation starts
//!   its own settle clock. Holding it back to spread the budget only moves
//!   work past the window's reset, so it takes the allowance at once. It is
//!   at most one poll per operation: a waiter still pending then backs off
//!   and is spread again.
//! * **Others on the key.** The remaining budget is the smaller of the
//!   server's figure and this process's own count, so another process
//!   spending the same key shows up as a falling allowance: polls slow down.
//!   At zero allowance, polls wait for the window to reset.

use std::time::{Duration, Instant};

/// What the rate limiter knows of the key's budget at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests allowed per window, when the API said.
    pub limit: Option<u32>,
    /// Requests left in the current window.
    pub remaining: u32,
    /// Time until the window resets.
    pub reset_in: Duration,
}

/// The budget polls leave alone: a tenth of the limit (at least 2, or 2
/// when the limit is unknown), plus one unit for every mutation queued or in
/// flight.
pub fn headroom(limit: Option<u32>, mutations_pending: u32) -> u32 {
    let base = limit.map_or(2, |l| l.div_ceil(10).max(2));
    base.saturating_add(mutations_pending)
}

/// The units of a window polls never take, even when nothing else could use
/// them.
pub const FLOOR: u32 = 2;

/// How soon a poll held back only by what the process is doing (a mutation
/// pending or expected, a poll out, an operation not waiting) asks again:
/// these change without a window reset.
pub const RECHECK: Duration = Duration::from_millis(250);

/// Extra wait after a window's reset time before polling again: the rate
/// limiter adds up to half a second of jitter to each reset, and reset
/// headers are whole seconds.
const AFTER_RESET: Duration = Duration::from_millis(700);

/// The shortest window assumed when spreading polls (a reset of `0` means
/// "less than a second").
const MIN_WINDOW: Duration = Duration::from_secs(1);

/// A token bucket for polls whose rate and size follow the budget. Pure:
/// every call passes the current instant and the latest budget.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    tokens: f64,
    refilled: Option<Instant>,
}

/// The inputs of one decision.
#[derive(Debug, Clone, Copy)]
pub struct Demand {
    /// Distinct poll requests that want to go out per round (one listing per
    /// watched cluster, one GET per connection with domain waits).
    pub targets: u32,
    /// Mutations queued or in flight in this process.
    pub mutations_pending: u32,
    /// Polls sent and not yet answered (their cost is not yet in `remaining`
    /// when the budget was read from an answer).
    pub polls_in_flight: u32,
    /// Waits that settled moments ago: each freed a Terraform slot that is
    /// about to start its next operation, most likely with a mutation.
    pub mutations_expected: u32,
    /// Every operation this process is running waits for a poll's answer
    /// (as many waits as the most operations it has run at once), so no
    /// mutation can come but from a poll's answer.
    pub all_waiting: bool,
    /// This poll is sent when its waiters expect the object settled (at the
    /// learned settle time): it is not spread, only kept out of the
    /// headroom.
    pub settling: bool,
}

impl Pacer {
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// Takes the right to send one poll now, or returns how long to wait
    /// before asking again. `budget` is `None` while the budget is unknown
    /// (before the first answer, or just after a reset) or unlimited: then
    /// the rate limiter's own probing applies and polls are not held here.
    pub fn try_poll(
        &mut self,
        budget: Option<&Budget>,
        demand: Demand,
        now: Instant,
    ) -> Result<(), Duration> {
        let Some(b) = budget else {
            self.refilled = Some(now);
            return Ok(());
        };
        let reset = b.reset_in + AFTER_RESET;
        let available = allowance(b, demand);
        let (allowance, capacity) = match available {
            0 => match headroom_allowance(b, demand) {
                // The headroom, one poll at a time.
                Some(n) if n > 0 => (n, 1),
                // Nothing to spare in this window (the bucket keeps
                // filling, so the next window starts with a full round).
                Some(_) => return Err(reset),
                // The headroom may become usable before the reset.
                None => return Err(RECHECK.min(reset)),
            },
            n => (n, demand.targets.clamp(1, n)),
        };
        let window = b.reset_in.max(MIN_WINDOW).as_secs_f64();
        let rate = allowance as f64 / window;
        let capacity = capacity as f64;
        let elapsed = match self.refilled {
            // A new pacer starts with a full bucket: the first round of
            // polls goes out together.
            None => f64::INFINITY,
            Some(t) => now.saturating_duration_since(t).as_secs_f64(),
        };
        self.tokens = (self.tokens + rate * elapsed).min(capacity);
        self.refilled = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if demand.settling && available > 0 {
            // A poll that most likely ends a wait is not held back to
            // spread the allowance (it still empties the bucket, so the
            // polls that follow are spread).
            self.tokens = 0.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
}

/// Polls that may still be sent in the current window without touching the
/// headroom.
pub fn allowance(b: &Budget, demand: Demand) -> u32 {
    let mutations = demand
        .mutations_pending
        .saturating_add(demand.mutations_expected);
    b.remaining
        .saturating_sub(demand.polls_in_flight)
        .saturating_sub(headroom(b.limit, mutations))
}

/// Polls that may take the headroom: `None` while the process is doing
/// anything but waiting (a mutation pending or expected, a poll out, an
/// operation not waiting), else what is left above the [`FLOOR`].
pub fn headroom_allowance(b: &Budget, demand: Demand) -> Option<u32> {
    let left = b.remaining.saturating_sub(demand.polls_in_flight);
    if left <= FLOOR {
        return Some(0);
    }
    let idle = demand.mutations_pending == 0
        && demand.mutations_expected == 0
        && demand.polls_in_flight == 0
        && demand.all_waiting;
    idle.then_some(left - FLOOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn demand(targets: u32, mutations_pending: u32) -> Demand {
        Demand {
            targets,
            mutations_pending,
            polls_in_flight: 0,
            mutations_expected: 0,
            all_waiting: false,
            settling: false,
        }
    }

    /// Every operation of the process waits, nothing else is going on.
    fn all_waiting(targets: u32) -> Demand {
        Demand {
            all_waiting: true,
            ..demand(targets, 0)
        }
    }

    #[test]
    fn polls_use_the_headroom_only_when_every_operation_waits() {
        // 10 left of 100 (the headroom), 20 s to the reset.
        let b = Budget {
            limit: Some(100),
            remaining: 10,
            reset_in: Duration::from_secs(20),
        };
        let now = Instant::now();
        // Every operation waits and nothing else is going on: only a poll's
        // answer can bring the next mutation, so a poll may go.
        assert_eq!(Pacer::new().try_poll(Some(&b), all_waiting(3), now), Ok(()));
        // Not while a mutation is pending, or expected (a wait settled
        // moments ago: its Terraform slot is about to start one), or while
        // another poll is out (its answer may bring mutations), or while an
        // operation of this process is doing something else.
        let blocked = [
            Demand {
                mutations_pending: 1,
                ..all_waiting(3)
            },
            Demand {
                mutations_expected: 1,
                ..all_waiting(3)
            },
            Demand {
                polls_in_flight: 1,
                ..all_waiting(3)
            },
            demand(3, 0),
        ];
        for d in blocked {
            let wait = Pacer::new().try_poll(Some(&b), d, now).unwrap_err();
            // These change without a window reset: look again soon.
            assert!(wait <= RECHECK, "{d:?}: {wait:?}");
        }
        // The floor stays: with FLOOR left, polls wait for the reset.
        let b = Budget {
            remaining: FLOOR,
            ..b
        };
        let wait = Pacer::new()
            .try_poll(Some(&b), all_waiting(3), now)
            .unwrap_err();
        assert!(wait >= Duration::from_secs(20), "{wait:?}");
    }

    #[test]
    fn polls_in_the_headroom_go_one_at_a_time_and_spread() {
        let b = Budget {
            limit: Some(100),
            remaining: 10,
            reset_in: Duration::from_secs(16),
        };
        let now = Instant::now();
        let mut p = Pacer::new();
        assert_eq!(p.try_poll(Some(&b), all_waiting(5), now), Ok(()));
        // Its answer is in and brought nothing: the next one is spread over
        // what is left above the floor (7 over 16 s, one every 2.3 s), not
        // sent at once.
        let b = Budget { remaining: 9, ..b };
        let wait = p.try_poll(Some(&b), all_waiting(5), now).unwrap_err();
        assert!(
            wait >= Duration::from_millis(1500) && wait <= Duration::from_millis(2500),
            "{wait:?}"
        );
        let later = now + wait + Duration::from_millis(1);
        assert_eq!(p.try_poll(Some(&b), all_waiting(5), later), Ok(()));
    }

    /// A process with `slots` operations (as Terraform's parallelism runs
    /// them), each a mutation followed by a wait that settles at random,
    /// against a fixed-window limit shared with another process, the
    /// watcher polling as often as the pacer lets it. Checks, at every
    /// step: no request finds the window spent because of a poll (polls
    /// never take the last FLOOR units), a poll that takes the headroom
    /// goes only when no mutation is pending or expected, no other poll is
    /// out and every operation waits (so no mutation exists that it could
    /// delay: any that follows comes from its answer).
    #[test]
    fn polls_in_the_headroom_never_delay_a_mutation() {
        #[derive(Clone, Copy, PartialEq, Debug)]
        enum Slot {
            /// Wants to send a mutation.
            Mutating,
            /// Waits; the object settles at this step.
            Waiting(u32),
            /// Its wait settled at this step; it mutates a few steps later.
            Settled(u32),
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        let mut dipped = 0u32;
        for case in 0..300 {
            let limit: u32 = rng.random_range(10..=120);
            let window_steps: u32 = rng.random_range(40..=400); // 50 ms steps
            let slots: usize = rng.random_range(1..=12);
            let others: u32 = rng.random_range(0..=limit / 4);
            let step = Duration::from_millis(50);
            let start = Instant::now();
            let mut p = Pacer::new();
            let mut state = vec![Slot::Mutating; slots];
            let mut used = 0u32; // this window, this process
            let mut others_used = 0u32;
            let mut window_start = 0u32;
            // Polls out: (answered at step, sent at step).
            let mut in_flight: Vec<(u32, u32)> = Vec::new();
            let mut completed = 0u32;
            for t in 0..window_steps * 3 {
                if t - window_start >= window_steps {
                    window_start = t;
                    used = 0;
                    others_used = 0;
                }
                let reset_in = step * (window_start + window_steps - t);
                let left = |used: u32, others_used: u32| limit.saturating_sub(used + others_used);
                // The other process spends at random.
                if others_used < others && rng.random_bool(0.05) && left(used, others_used) > 0 {
                    others_used += 1;
                }
                // Answers of polls: every wait settled by the time the poll
                // was sent is seen.
                in_flight.retain(|(answered, sent)| {
                    if *answered > t {
                        return true;
                    }
                    for s in state.iter_mut() {
                        if let Slot::Waiting(at) = *s {
                            if at <= *sent {
                                *s = Slot::Settled(t + rng.random_range(0..=3));
                                completed += 1;
                            }
                        }
                    }
                    false
                });
                // Settled slots start their next operation.
                for s in state.iter_mut() {
                    if let Slot::Settled(at) = *s {
                        if at <= t {
                            *s = Slot::Mutating;
                        }
                    }
                }
                // Mutations go while the window has budget.
                for s in state.iter_mut() {
                    if *s == Slot::Mutating && left(used, others_used) > 0 {
                        used += 1;
                        *s = Slot::Waiting(t + rng.random_range(1..=window_steps / 2));
                    }
                }
                // The watcher polls as often as it may.
                loop {
                    let pending = state.iter().filter(|s| **s == Slot::Mutating).count() as u32;
                    let expected = state
                        .iter()
                        .filter(|s| matches!(s, Slot::Settled(_)))
                        .count() as u32;
                    let waiting = state
                        .iter()
                        .filter(|s| matches!(s, Slot::Waiting(_)))
                        .count();
                    if waiting == 0 {
                        break;
                    }
                    let d = Demand {
                        targets: 1,
                        mutations_pending: pending,
                        polls_in_flight: in_flight.len() as u32,
                        mutations_expected: expected,
                        all_waiting: waiting == slots,
                        settling: false,
                    };
                    let remaining = left(used, others_used);
                    let b = Budget {
                        limit: Some(limit),
                        remaining,
                        reset_in,
                    };
                    if p.try_poll(Some(&b), d, start + step * t).is_err() {
                        break;
                    }
                    assert!(
                        remaining > FLOOR,
                        "case {case}: a poll took the floor ({remaining} left)"
                    );
                    if remaining <= headroom(Some(limit), pending + expected) {
                        dipped += 1;
                        assert!(
                            pending == 0 && expected == 0 && in_flight.is_empty() && waiting == slots,
                            "case {case}: a poll took the headroom with {pending} mutations pending, \
                             {expected} expected, {} polls out, {waiting} of {slots} waiting",
                            in_flight.len()
                        );
                    }
                    used += 1;
                    in_flight.push((t + rng.random_range(1..=4), t));
                }
                assert!(used + others_used <= limit, "case {case}: over the limit");
            }
            assert!(completed > 0, "case {case}: nothing settled");
        }
        assert!(
            dipped > 0,
            "no case used the headroom: the test checks nothing"
        );
    }

    #[test]
    fn a_poll_that_ends_a_wait_is_not_held_back_to_spread() {
        let b = Budget {
            limit: Some(100),
            remaining: 40,
            reset_in: Duration::from_secs(40),
        };
        let now = Instant::now();
        let mut p = Pacer::new();
        for _ in 0..10 {
            assert_eq!(p.try_poll(Some(&b), demand(10, 0), now), Ok(()));
        }
        // The bucket is empty: a poll that only asks waits its turn...
        assert!(p.try_poll(Some(&b), demand(10, 0), now).is_err());
        // ...but one sent at the expected settle time goes at once, while
        // the allowance lasts.
        let settling = Demand {
            settling: true,
            ..demand(10, 0)
        };
        assert_eq!(p.try_poll(Some(&b), settling, now), Ok(()));
        // It never takes the headroom: with 10 left (the headroom), it
        // waits like any other poll.
        let spent = Budget { remaining: 10, ..b };
        assert!(p.try_poll(Some(&spent), settling, now).is_err());
        // And the polls after it are spread again.
        assert!(p.try_poll(Some(&b), demand(10, 0), now).is_err());
    }

    #[test]
    fn headroom_is_a_tenth_plus_pending_mutations() {
        assert_eq!(headroom(Some(100), 0), 10);
        assert_eq!(headroom(Some(100), 7), 17);
        assert_eq!(headroom(Some(5), 0), 2);
        assert_eq!(headroom(None, 1), 3);
    }

    #[test]
    fn unknown_budget_does_not_hold_polls() {
        let mut p = Pacer::new();
        let now = Instant::now();
        for _ in 0..50 {
            assert_eq!(p.try_poll(None, demand(3, 0), now), Ok(()));
        }
    }

    #[test]
    fn pending_mutations_hold_polls_back() {
        let mut p = Pacer::new();
        let b = Budget {
            limit: Some(100),
            remaining: 12,
            reset_in: Duration::from_secs(20),
        };
        // 12 left, 10 headroom, 2 mutations pending: nothing to spare
        // until they are sent.
        assert!(p.try_poll(Some(&b), demand(5, 2), Instant::now()).is_err());
        // Without the pending mutations two polls may go.
        assert!(p.try_poll(Some(&b), demand(5, 0), Instant::now()).is_ok());
    }

    #[test]
    fn a_round_of_polls_goes_out_together() {
        let mut p = Pacer::new();
        let b = Budget {
            limit: Some(100),
            remaining: 80,
            reset_in: Duration::from_secs(50),
        };
        let now = Instant::now();
        for _ in 0..10 {
            assert!(p.try_poll(Some(&b), demand(10, 0), now).is_ok());
        }
        // The eleventh waits for the bucket: 70 over 50 s is 1.4 polls a second.
        let wait = p.try_poll(Some(&b), demand(10, 0), now).unwrap_err();
        assert!(
            wait > Duration::from_millis(600) && wait < Duration::from_millis(800),
            "{wait:?}"
        );
    }

    /// A window of a fixed-window limiter (as the API has), polled greedily
    /// by `targets` waiters while mutations arrive at random: polls never
    /// take the headroom, so every mutation finds budget, and the polls of
    /// the window never exceed what the budget allows.
    #[test]
    fn the_schedule_never_exceeds_the_budget_and_leaves_room_for_mutations() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for case in 0..200 {
            let limit: u32 = rng.random_range(5..=200);
            let window = Duration::from_secs(rng.random_range(5..=90));
            let targets: u32 = rng.random_range(1..=40);
            // Another process spends part of the key's budget.
            let others: u32 = rng.random_range(0..=limit / 3);
            let start = Instant::now();
            let mut p = Pacer::new();
            let mut used = 0u32;
            let mut polls = 0u32;
            let mut mutations = 0u32;
            let mut t = Duration::ZERO;
            let step = Duration::from_millis(50);
            let mut pending = 0u32;
            while t < window {
                let now = start + t;
                // Others spend evenly over the window.
                let others_so_far = (others as f64 * t.as_secs_f64() / window.as_secs_f64()) as u32;
                // Mutations arrive at random and are sent at once if budget remains.
                if rng.random_bool(0.02) {
                    pending += 1;
                }
                while pending > 0 && used + others_so_far < limit {
                    used += 1;
                    mutations += 1;
                    pending -= 1;
                }
                if pending > 0 {
                    // A mutation waits only once mutations and the other
                    // process used up the headroom polls left them.
                    assert!(
                        mutations + others_so_far >= headroom(Some(limit), 0),
                        "case {case}: a mutation waits after {polls} polls"
                    );
                }
                // Every target always wants to poll; the budget is read
                // afresh for each decision, as the limiter counts each send.
                let d = demand(targets, pending);
                loop {
                    let b = Budget {
                        limit: Some(limit),
                        remaining: limit.saturating_sub(used + others_so_far),
                        reset_in: window - t,
                    };
                    if p.try_poll(Some(&b), d, now).is_err() {
                        break;
                    }
                    let left = limit.saturating_sub(used + others_so_far);
                    assert!(
                        left > headroom(Some(limit), pending),
                        "case {case}: a poll took the headroom ({left} left, {pending} pending)"
                    );
                    used += 1;
                    polls += 1;
                    if polls > limit {
                        break;
                    }
                }
                t += step;
            }
            assert!(
                polls + headroom(Some(limit), 0) <= limit,
                "case {case}: {polls} polls in a window of {limit}"
            );
        }
    }

    #[test]
    fn polls_are_spread_over_the_window() {
        // 100 a minute, nothing spent yet, one waiter polling as often as it may:
        // 90 polls over 60 s, not 90 in the first second.
        let mut p = Pacer::new();
        let start = Instant::now();
        let mut sent = Vec::new();
        let mut t = Duration::ZERO;
        while t < Duration::from_secs(60) {
            let b = Budget {
                limit: Some(100),
                remaining: 100 - sent.len() as u32,
                reset_in: Duration::from_secs(60) - t,
            };
            match p.try_poll(Some(&b), demand(1, 0), start + t) {
                Ok(()) => sent.push(t),
                Err(wait) => {
                    t += wait
                        .min(Duration::from_secs(60) - t)
                        .max(Duration::from_millis(1))
                }
            }
        }
        let first_10s = sent
            .iter()
            .filter(|t| **t < Duration::from_secs(10))
            .count();
        assert!(first_10s <= 20, "{first_10s} polls in the first 10 s");
        assert!(sent.len() <= 90, "{} polls", sent.len());
        assert!(
            sent.len() >= 60,
            "{} polls: the budget should be used",
            sent.len()
        );
    }
}
