//! When each poll goes: a pure function of the waiters, what was observed
//! and when, and what this process learned of how long operations take.
//!
//! * A waiter whose kind has a settle time observed in this process polls
//!   first at its write plus that time. Without one, only the kind's
//!   oldest waiter (its explorer) polls, first 1 s after its write; the
//!   others wait for what it learns (or for an answer to a request they
//!   share with it), so that exploring costs one waiter's polls, not all.
//! * After a poll that found it pending, the next comes max(1 s, 10% of
//!   the wait so far) later, so a settled state is seen within that bound
//!   of settling whenever the budget allows.
//! * Waiters that share a request (every connection wait of a cluster
//!   shares one listing, every domain wait of a connection one GET) share
//!   its poll: it goes when the last of them due within [`GATHER`] of the
//!   first is due, so that one request serves a wave of writes.
//! * A kind's settle time is learned from the first waiter of the kind that
//!   settles: the time from its write to the poll that saw it settled. A
//!   later waiter seen pending and then settled replaces it; one settled by
//!   its first poll only lowers it.
//!
//! The budget is not an input here: the rate limiter decides when a due
//! poll can be sent (behind writes, outside their reserve).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// The polls of waiters whose writes came this close together are sent
/// together. Terraform starts the operations that a finished wave frees
/// within milliseconds of each other, and their writes are answered within
/// a round trip; a quarter of a second covers that on slow links, and it is
/// the most a poll is held back for others.
pub const GATHER: Duration = Duration::from_millis(250);

/// The first poll of a waiter whose kind has no settle time yet, and the
/// shortest pause between two polls of one waiter: the bound on how late a
/// settled state is seen, max(1 s, 10% of the wait so far).
pub const STEP: Duration = Duration::from_secs(1);

/// One waiter, as the schedule sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waiter<K> {
    pub kind: K,
    /// When the write it waits on was answered (or the wait started).
    pub written: Instant,
    /// When the last poll that served it was sent.
    pub polled: Option<Instant>,
    /// It is the oldest waiter of its kind (see [`explorers`]).
    pub explores: bool,
}

/// Marks, per kind without a learned settle time, the waiter with the
/// oldest write as its explorer.
pub fn explorers<K: Eq + Hash + Copy>(waiters: &mut [Waiter<K>], learned: &HashMap<K, Duration>) {
    let mut oldest: HashMap<K, (Instant, usize)> = HashMap::new();
    for (i, w) in waiters.iter_mut().enumerate() {
        w.explores = false;
        if learned.contains_key(&w.kind) {
            continue;
        }
        let e = oldest.entry(w.kind).or_insert((w.written, i));
        if w.written < e.0 {
            *e = (w.written, i);
        }
    }
    for (_, i) in oldest.into_values() {
        waiters[i].explores = true;
    }
}

/// When `w` wants its next poll; `None` while it waits for its kind's
/// explorer.
pub fn due<K: Eq + Hash>(w: &Waiter<K>, learned: &HashMap<K, Duration>) -> Option<Instant> {
    match (w.polled, learned.get(&w.kind)) {
        (None, Some(settle)) => Some(w.written + *settle),
        (None, None) => w.explores.then_some(w.written + STEP),
        (Some(last), _) => Some(last + STEP.max(last.saturating_duration_since(w.written) / 10)),
    }
}

/// When the request shared by `waiters` goes: at the last due time within
/// [`GATHER`] of the first. `None` when none of them is due.
pub fn fire_at<'a, K: Eq + Hash + 'a>(
    waiters: impl IntoIterator<Item = &'a Waiter<K>>,
    learned: &HashMap<K, Duration>,
) -> Option<Instant> {
    let dues: Vec<Instant> = waiters
        .into_iter()
        .filter_map(|w| due(w, learned))
        .collect();
    let first = *dues.iter().min()?;
    dues.into_iter().filter(|d| *d <= first + GATHER).max()
}

/// What the settling of `w`, seen by a poll sent at `sent`, teaches about
/// its kind. `seen_pending`: an earlier poll of it found it pending.
pub fn learn<K: Eq + Hash + Copy>(
    learned: &mut HashMap<K, Duration>,
    w: &Waiter<K>,
    sent: Instant,
    seen_pending: bool,
) {
    let took = sent.saturating_duration_since(w.written);
    match learned.get_mut(&w.kind) {
        Some(known) if seen_pending || took < *known => *known = took,
        Some(_) => {}
        None => {
            learned.insert(w.kind, took);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn waiter(t0: Instant, written: f64, polled: Option<f64>) -> Waiter<u8> {
        Waiter {
            kind: 0,
            written: t0 + secs(written),
            polled: polled.map(|p| t0 + secs(p)),
            explores: true,
        }
    }

    /// Follows one waiter whose object settles at `settle`, polling at
    /// every due time (the budget allows), and gives when it is seen
    /// settled and how many polls that took.
    fn run(settle: f64, learned: &HashMap<u8, Duration>) -> (f64, u32) {
        let t0 = Instant::now();
        let mut w = waiter(t0, 0.0, None);
        let mut polls = 0;
        loop {
            let at = due(&w, learned).expect("an explorer is always due");
            polls += 1;
            let seen = at.duration_since(t0).as_secs_f64();
            if seen >= settle {
                return (seen, polls);
            }
            w.polled = Some(at);
        }
    }

    #[test]
    fn a_settled_state_is_seen_within_a_second_or_a_tenth_of_the_wait() {
        let none = HashMap::new();
        for settle in [0.2, 0.5, 2.0, 5.0, 9.9, 10.0, 30.0, 120.0, 600.0, 1799.0] {
            let (seen, _) = run(settle, &none);
            let bound = 1.0f64.max(settle / 10.0);
            assert!(
                seen - settle <= bound + 1e-9,
                "settled at {settle}s, seen at {seen}s (bound {bound}s)"
            );
        }
    }

    #[test]
    fn polls_without_a_settle_time_are_a_second_apart_then_a_tenth_of_the_wait() {
        let none = HashMap::new();
        assert_eq!(run(10.0, &none), (10.0, 10));
        // 10 s, then 11, 12.1, 13.31, ...: about 1 + ln(6)/ln(1.1) polls to 60 s.
        let (seen, polls) = run(60.0, &none);
        assert!((60.0..=66.0).contains(&seen), "{seen}");
        assert_eq!(polls, 10 + 19);
    }

    #[test]
    fn a_learned_settle_time_is_one_poll() {
        let learned = HashMap::from([(0u8, secs(10.5))]);
        assert_eq!(run(10.0, &learned), (10.5, 1));
        // Slower than learned: the wait goes on at a second or a tenth.
        let (seen, polls) = run(12.0, &learned);
        assert_eq!(polls, 3, "10.5 s, 11.55 s, 12.7 s");
        assert!((12.0..=13.2).contains(&seen), "{seen}");
    }

    #[test]
    fn only_the_oldest_waiter_of_a_kind_explores() {
        let t0 = Instant::now();
        let mut none = HashMap::new();
        let mut wave: Vec<_> = (0..3)
            .map(|i| waiter(t0, 0.5 - i as f64 * 0.1, None))
            .collect();
        explorers(&mut wave, &none);
        assert_eq!(
            wave.iter().map(|w| w.explores).collect::<Vec<_>>(),
            [false, false, true]
        );
        assert_eq!(due(&wave[2], &none), Some(t0 + secs(1.3)));
        assert_eq!(due(&wave[0], &none), None, "a follower waits");
        // Once the explorer has learned the settle time, everyone is due at
        // their own write plus it.
        none.insert(0, secs(10.0));
        explorers(&mut wave, &none);
        assert!(wave.iter().all(|w| !w.explores));
        assert_eq!(due(&wave[0], &none), Some(t0 + secs(10.5)));
        // A follower that shared a request with the explorer goes on on its
        // own schedule.
        let mut follower = waiter(t0, 0.0, Some(1.0));
        follower.explores = false;
        assert_eq!(due(&follower, &HashMap::new()), Some(t0 + secs(2.0)));
    }

    #[test]
    fn a_wave_shares_one_request_at_its_last_due_time() {
        let t0 = Instant::now();
        let learned = HashMap::from([(0u8, secs(10.0))]);
        let wave: Vec<_> = (0..10).map(|i| waiter(t0, i as f64 * 0.02, None)).collect();
        let at = fire_at(&wave, &learned).unwrap();
        assert_eq!(at, t0 + secs(10.18), "the last of the wave");
        // A waiter written well after the wave does not hold it back.
        let mut late = wave.clone();
        late.push(waiter(t0, 5.0, None));
        assert_eq!(fire_at(&late, &learned), Some(at));
        assert_eq!(fire_at(&Vec::<Waiter<u8>>::new(), &learned), None);
    }

    #[test]
    fn a_settle_time_is_learned_from_the_first_to_settle_then_from_waiters_seen_pending() {
        let t0 = Instant::now();
        let mut learned = HashMap::new();
        let w = waiter(t0, 0.0, Some(9.0));
        // Settled at its first poll: an upper bound, the followers' first
        // guess.
        learn(&mut learned, &w, t0 + secs(1.0), false);
        assert_eq!(learned[&0], secs(1.0));
        learn(&mut learned, &w, t0 + secs(10.0), true);
        assert_eq!(learned[&0], secs(10.0));
        // A later first poll that finds it settled sooner lowers it.
        learn(&mut learned, &w, t0 + secs(8.0), false);
        assert_eq!(learned[&0], secs(8.0));
        // One that finds it settled later does not raise it ...
        learn(&mut learned, &w, t0 + secs(20.0), false);
        assert_eq!(learned[&0], secs(8.0));
        // ... but an operation seen pending and then settled does.
        learn(&mut learned, &w, t0 + secs(12.0), true);
        assert_eq!(learned[&0], secs(12.0));
    }
}
