//! The per-key rate limit: fixed windows that start with a key's first
//! request after the previous window ended. Every authenticated request
//! counts, those answered 429 too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A key's quota after a request, for the `X-Ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Whether the request is within the limit.
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the window resets (at least 1).
    pub reset_secs: u64,
}

struct Window {
    start: Instant,
    count: u32,
}

/// Fixed-window counters per API key.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    /// `limit` requests per `window`; a limit of 0 turns limiting off.
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `key` at `now`; `None` when limiting is off.
    pub fn hit(&self, key: &str, now: Instant) -> Option<Quota> {
        self.quota(key, now, true)
    }

    /// A key's quota at `now` without counting; `None` when limiting is off.
    pub fn peek(&self, key: &str, now: Instant) -> Option<Quota> {
        self.quota(key, now, false)
    }

    /// The quota of a key that has made no request; `None` when limiting is off.
    pub fn unused(&self) -> Option<Quota> {
        (self.limit > 0).then(|| Quota {
            allowed: true,
            limit: self.limit,
            remaining: self.limit,
            reset_secs: self.window.as_secs().max(1),
        })
    }

    fn quota(&self, key: &str, now: Instant, count: bool) -> Option<Quota> {
        if self.limit == 0 {
            return None;
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = Window {
            start: now,
            count: 0,
        };
        let w = windows.entry(key.to_string()).or_insert(fresh);
        if now.saturating_duration_since(w.start) >= self.window {
            *w = Window {
                start: now,
                count: 0,
            };
        }
        if count {
            w.count = w.count.saturating_add(1);
        }
        let left = self
            .window
            .saturating_sub(now.saturating_duration_since(w.start));
        let reset_secs = left.as_millis().div_ceil(1000).max(1) as u64;
        Some(Quota {
            allowed: w.count <= self.limit,
            limit: self.limit,
            remaining: self.limit.saturating_sub(w.count),
            reset_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows() {
        let rl = RateLimiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        let q = rl.hit("k", t0).unwrap();
        assert_eq!((q.allowed, q.remaining, q.reset_secs), (true, 1, 10));
        let q = rl.hit("k", t0 + Duration::from_millis(2500)).unwrap();
        assert_eq!((q.allowed, q.remaining, q.reset_secs), (true, 0, 8));
        let q = rl.hit("k", t0 + Duration::from_secs(3)).unwrap();
        assert_eq!((q.allowed, q.remaining, q.reset_secs), (false, 0, 7));
        // Another key has its own window.
        assert!(
            rl.hit("other", t0 + Duration::from_secs(3))
                .unwrap()
                .allowed
        );
        // Peeking does not count.
        assert_eq!(
            rl.peek("k", t0 + Duration::from_secs(9))
                .unwrap()
                .reset_secs,
            1
        );
        let q = rl.hit("k", t0 + Duration::from_secs(10)).unwrap();
        assert_eq!((q.allowed, q.remaining, q.reset_secs), (true, 1, 10));
    }

    #[test]
    fn zero_turns_it_off() {
        assert!(RateLimiter::new(0, Duration::from_secs(60))
            .hit("k", Instant::now())
            .is_none());
    }
}
