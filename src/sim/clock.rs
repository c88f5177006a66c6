//! The simulator's one clock: real time plus an offset that only grows.
//!
//! Everything time-dependent reads it: state transitions (their due times),
//! rate-limit windows and `X-Ratelimit-Reset`, nonce expiry, and the times
//! the API and the events report. `POST /_sim/clock/advance` moves it
//! forward, so tests drive time instead of sleeping through it. Every
//! response's `Date` header reads it too ([`date_layer`]), so the header and
//! the times in bodies agree.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::header::DATE;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The largest total offset (about 100 years), so that adding it to an
/// `Instant` or a `SystemTime` never overflows.
pub const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Real time plus an offset; cheap to clone (the clones share the offset).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    /// A clock that reads real time (offset zero).
    pub fn new() -> Clock {
        Clock::default()
    }

    /// How far the clock is ahead of real time.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `by`; returns the new offset, or an error
    /// when the total would pass [`MAX_OFFSET`].
    pub fn advance(&self, by: Duration) -> Result<Duration, String> {
        let by_ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let max_ms = MAX_OFFSET.as_millis() as u64;
        self.offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |old| {
                old.checked_add(by_ms).filter(|new| *new <= max_ms)
            })
            .map(|old| Duration::from_millis(old + by_ms))
            .map_err(|_| {
                format!(
                    "the clock may run at most {} days ahead of real time",
                    MAX_OFFSET.as_secs() / 86_400
                )
            })
    }

    /// Now, for durations and due times.
    pub fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// Now, as a wall-clock time (what the API reports).
    pub fn system_now(&self) -> SystemTime {
        SystemTime::now() + self.offset()
    }

    /// The real instant at which this clock reads `at` (now if already past).
    pub fn real_instant(&self, at: Instant) -> Instant {
        at.checked_sub(self.offset()).unwrap_or_else(Instant::now)
    }
}

/// The layer around every route that stamps the response's `Date` with
/// this clock (the HTTP server only adds its own when none is set).
pub async fn date_layer(State(clock): State<Clock>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let date = httpdate::fmt_http_date(clock.system_now());
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(DATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::new();
        let other = clock.clone();
        let before = clock.now();
        let wall = clock.system_now();
        assert_eq!(
            clock.advance(Duration::from_secs(90)).unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(other.offset(), Duration::from_secs(90));
        assert!(other.now() >= before + Duration::from_secs(90));
        assert!(other.system_now() >= wall + Duration::from_secs(90));
        let due = other.now();
        assert!(other.real_instant(due) <= Instant::now());
    }

    #[test]
    fn the_offset_is_bounded() {
        let clock = Clock::new();
        assert!(clock.advance(MAX_OFFSET + Duration::from_secs(1)).is_err());
        assert_eq!(clock.offset(), Duration::ZERO);
        assert!(clock.advance(Duration::MAX).is_err());
    }
}
