//! Exponential backoff with jitter, shared by the retry and rate limit
//! layers. A leaf: it imports nothing else of the client.

use std::time::Duration;

use rand::Rng;

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
    Duration::from_millis(rand::rng().random_range(0..=max))
}

/// The delay before retry number `retry` (1 for the first): exponential
/// from `initial`, capped at `cap`, then jittered into its upper half.
pub fn delay(initial: Duration, cap: Duration, retry: u32) -> Duration {
    jitter_upper_half(exponential(initial, cap, retry))
}

#[cfg(test)]
mod tests {
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
