//! How long each transitional state lasts: `--transition-delay-ms` times a
//! factor drawn uniformly from `[1 - PCT/100, 1 + PCT/100]`
//! (`--transition-jitter PCT`), one draw per object and transition.
//!
//! The draws are SplitMix64 from `--jitter-seed`: the n-th transition the
//! simulator starts gets the n-th draw, so the same seed and the same order
//! of operations give the same durations, on any platform and build.

use std::time::Duration;

/// The largest `--transition-jitter`: a factor of 0 to 2.
pub const MAX_PCT: f64 = 100.0;

/// The durations of transitional states, drawn in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    delay: Duration,
    pct: f64,
    state: u64,
}

impl Default for Durations {
    fn default() -> Self {
        Durations::fixed(Duration::ZERO)
    }
}

impl Durations {
    /// Every transition lasts `delay` exactly.
    pub fn fixed(delay: Duration) -> Durations {
        Durations::jittered(delay, 0.0, 0)
    }

    /// `delay` times a factor within `pct` percent of 1 (clamped to
    /// `0..=MAX_PCT`), drawn from `seed`.
    pub fn jittered(delay: Duration, pct: f64, seed: u64) -> Durations {
        Durations {
            delay,
            pct: if pct.is_finite() {
                pct.clamp(0.0, MAX_PCT)
            } else {
                0.0
            },
            state: seed,
        }
    }

    /// The duration of the next transition, in whole milliseconds.
    pub fn next(&mut self) -> Duration {
        if self.pct == 0.0 {
            return self.delay;
        }
        let ms = self.delay.as_millis() as f64;
        let spread = self.pct / 100.0;
        let (low, high) = (ms * (1.0 - spread), ms * (1.0 + spread));
        // A uniform draw from [0, 1) with 53 bits.
        let unit = (self.splitmix64() >> 11) as f64 / (1u64 << 53) as f64;
        let drawn = (low + (high - low) * unit).round();
        Duration::from_millis(drawn.clamp(low.ceil(), high.floor()) as u64)
    }

    /// One step of SplitMix64 (Steele, Lea and Flood, 2014).
    fn splitmix64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_jitter_is_the_delay() {
        let mut d = Durations::fixed(Duration::from_millis(2000));
        assert_eq!(d.next(), Duration::from_millis(2000));
        assert_eq!(d.next(), Duration::from_millis(2000));
    }

    #[test]
    fn draws_stay_within_the_bounds_and_spread() {
        let mut d = Durations::jittered(Duration::from_millis(1000), 20.0, 1);
        let draws: Vec<u64> = (0..1000).map(|_| d.next().as_millis() as u64).collect();
        assert!(draws.iter().all(|ms| (800..=1200).contains(ms)));
        assert!(draws.iter().any(|ms| *ms < 850) && draws.iter().any(|ms| *ms > 1150));
        let mut full = Durations::jittered(Duration::from_millis(3), 100.0, 9);
        assert!((0..100).all(|_| full.next() <= Duration::from_millis(6)));
    }

    #[test]
    fn the_seed_decides_the_sequence() {
        let seq = |seed| {
            let mut d = Durations::jittered(Duration::from_secs(60), 50.0, seed);
            (0..5).map(|_| d.next()).collect::<Vec<_>>()
        };
        assert_eq!(seq(42), seq(42));
        assert_ne!(seq(42), seq(43));
        // SplitMix64's published first output for seed 0.
        let mut d = Durations::fixed(Duration::ZERO);
        assert_eq!(d.splitmix64(), 0xE220_A839_7B1D_CDAF);
    }
}
