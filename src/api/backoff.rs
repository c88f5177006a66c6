//! Exponential backoff with jitter, shared by the retry and rate limit
//! layers. A leaf: it imports nothing else of the client.

use std::cell::RefCell;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

thread_local! {
    /// This thread's seeded draws, when [`seed_this_thread`] set them.
    static SEEDED: RefCell<Option<StdRng>> = const { RefCell::new(None) };
}

/// Makes this thread's jitter reproducible from `seed`: for simulations
/// that run the client under a paused clock, one thread per run. Without
/// it, draws come from the thread's OS-seeded generator.
pub fn seed_this_thread(seed: u64) {
    SEEDED.with(|r| *r.borrow_mut() = Some(StdRng::seed_from_u64(seed)));
}

/// `initial * 2^(n-1)` capped at `cap` (and `n = 0` treated as 1).
pub fn exponential(initial: Duration, cap: Duration, n: u32) -> Duration {
    let factor = 2u32.saturating_pow(n.saturating_sub(1).min(30));
    initial.saturating_mul(factor).min(cap)
}

/// A random duration in `[d/2, d]`: callers spread out but still back off.
pub fn jitter_upper_half(d: Duration) -> Duration {
    let half = d / 2;
    half + up_to(d.saturating_sub(half))
}

/// A random duration in `[0, max]` (millisecond steps).
pub fn up_to(max: Duration) -> Duration {
    let max = max.as_millis().min(u64::MAX as u128) as u64;
    let ms = SEEDED.with(|r| match r.borrow_mut().as_mut() {
        Some(rng) => rng.random_range(0..=max),
        None => rand::rng().random_range(0..=max),
    });
    Duration::from_millis(ms)
}

/// The delay before retry number `retry` (1 for the first): exponential
/// from `initial`, capped at `cap`, then jittered into its upper half.
pub fn delay(initial: Duration, cap: Duration, retry: u32) -> Duration {
    jitter_upper_half(exponential(initial, cap, retry))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_seeded_thread_draws_the_same_jitter_again() {
        let draws = || {
            seed_this_thread(7);
            (0..20)
                .map(|_| up_to(Duration::from_secs(10)))
                .collect::<Vec<_>>()
        };
        let first = draws();
        assert_eq!(first, draws());
        assert!(first.iter().any(|d| *d != first[0]), "{first:?}");
    }
    use super::*;

    #[test]
    fn exponential_doubles_up_to_the_cap() {
        let (i, cap) = (Duration::from_millis(100), Duration::from_millis(1000));
        assert_eq!(exponential(i, cap, 0), i);
        assert_eq!(exponential(i, cap, 1), i);
        assert_eq!(exponential(i, cap, 3), Duration::from_millis(400));
        assert_eq!(exponential(i, cap, 5), cap);
        assert_eq!(exponential(i, cap, u32::MAX), cap);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        for ms in [0u64, 1, 7, 1000] {
            let d = Duration::from_millis(ms);
            for _ in 0..50 {
                let j = jitter_upper_half(d);
                assert!(j >= d / 2 && j <= d, "{d:?}: {j:?}");
                assert!(up_to(d) <= d);
            }
        }
    }
}
