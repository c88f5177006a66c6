//! The middle layer: staying under the API's per-key rate limit, with
//! writes before polls.
//!
//! TiDB Cloud allows a number of requests per minute per API key and reports
//! the budget on every answer: `X-Ratelimit-Remaining-Minute` (requests left
//! in the window) and `X-Ratelimit-Reset` (whole seconds until the window
//! resets). One [`RateLimiter`] is shared by every caller of a client (and
//! its clones), so concurrent operations coordinate instead of stampeding.
//! Everything it decides comes from what it has seen: the answers' headers,
//! its own queue and the operations' [`Tally`].
//!
//! * While the budget is known, each request takes one unit of it before it
//!   is sent; at zero, callers sleep until the reset.
//! * While it is unknown (first request, or a window just reset), a single
//!   request goes first as a probe and the others wait for its answer.
//! * **Writes before polls.** A poll (a request that only asks whether
//!   something settled; [`ApiRequest::poll`]) waits while any other request
//!   waits for budget, and leaves the last [`reserve`] units of a window to
//!   the others. When every operation in flight waits for a poll's answer
//!   ([`Tally::all_waiting`]), no write can come but from a poll's answer,
//!   so a poll may spend the reserve down to [`FLOOR`], which is kept for
//!   other users of the key.
//! * A `429` (the key is shared with another process, or our count was
//!   off) means the request was not processed: every caller pauses until the
//!   advertised reset plus a little jitter (or an exponential backoff when
//!   no reset is given), then the request is sent again, whatever its method.
//! * Waiting is bounded by the request's deadline (its operation's, see
//!   [`Op`](super::op::Op)), else by [`RateLimitOptions::max_wait`]. A wait
//!   that would end past it is not started: the request fails at once with
//!   [`ApiError::RateLimited`], which says when the budget comes back. A
//!   cancelled operation's requests stop waiting at once, unsent.
//! * A server that sends no rate limit headers is not throttled at all.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::backoff::{exponential, up_to};
use super::error::{human_duration, ApiError};
use super::op::{cancelled, Tally};
use super::transport::{ApiRequest, ApiResponse, Transport};

/// Requests left in the current window.
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining-minute";
/// Whole seconds until the window resets.
pub const RESET_HEADER: &str = "x-ratelimit-reset";
/// Requests allowed per window.
pub const LIMIT_HEADER: &str = "x-ratelimit-limit-minute";

/// Two answers whose reset times differ by more than this belong to
/// different windows: reset headers are whole seconds, so two answers of
/// one window may differ by up to one second, plus the time between them.
const SAME_WINDOW_SLACK: Duration = Duration::from_millis(1500);

/// Window assumed when an answer gives a budget but no reset time (TiDB
/// Cloud's windows are a minute).
const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// The units of a window that polls never take: they are for users of the
/// key this process cannot see (another pipeline, a person in the console),
/// and for an operation of this process that starts while a poll is out.
pub const FLOOR: u32 = 2;

/// The units polls leave to writes and reads while some operation is not
/// waiting for a poll: a tenth of the limit (a wave of writes that
/// Terraform's default parallelism of 10 starts at once, at 100 requests a
/// minute), at least [`FLOOR`]; [`FLOOR`] when the limit is unknown.
pub fn reserve(limit: Option<u32>) -> u32 {
    limit.map_or(FLOOR, |l| l.div_ceil(10).max(FLOOR))
}

/// Tunables of the rate limit layer. The defaults follow from facts of the
/// API and the product, except `reset_jitter`, a choice.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitOptions {
    /// How many `429` answers one request waits out before the error is
    /// returned to the caller. No bound of its own by default: the
    /// request's deadline (or `max_wait`) bounds the waiting.
    pub max_429_retries: u32,
    /// The longest one request waits for the rate limit in total, when its
    /// caller set no deadline of its own (reads: Terraform gives them no
    /// timeout). As long as the product's default create timeout, 30
    /// minutes: a read waits for the budget as long as a create would, and
    /// Ctrl-C ends it at once.
    pub max_wait: Duration,
    /// The shortest wait after a `429`: reset headers are whole seconds,
    /// rounded down, so `0` can mean "almost a second".
    pub min_429_wait: Duration,
    /// Backoff after a `429` without a reset header: from the header's unit
    /// (a second) ...
    pub backoff_initial: Duration,
    /// ... doubling up to a window, after which the budget is back.
    pub backoff_max: Duration,
    /// A random extra wait of up to this after each reset, so that clients
    /// sharing a key do not all start again at the same instant: half a
    /// second, half the unit of the reset header.
    pub reset_jitter: Duration,
}

impl Default for RateLimitOptions {
    fn default() -> Self {
        RateLimitOptions {
            max_429_retries: u32::MAX,
            max_wait: Duration::from_secs(30 * 60),
            min_429_wait: Duration::from_secs(1),
            backoff_initial: Duration::from_secs(1),
            backoff_max: DEFAULT_WINDOW,
            reset_jitter: Duration::from_millis(500),
        }
    }
}

/// The rate limit headers of one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    /// Seconds until the window resets, as the server said.
    pub reset_secs: Option<u64>,
}

impl RateHeaders {
    /// Reads the headers, ignoring values that are not numbers. A reset
    /// that looks like a Unix timestamp rather than a delay is converted.
    pub fn parse(headers: &HeaderMap) -> RateHeaders {
        let number = |name: &str| -> Option<f64> {
            let v: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
            (v.is_finite() && v >= 0.0).then_some(v)
        };
        let reset_secs = number(RESET_HEADER).map(|v| {
            let v = v.ceil() as u64;
            // More than a year is no delay: treat it as an absolute time.
            if v > 365 * 24 * 3600 {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                v.saturating_sub(now)
            } else {
                v
            }
        });
        RateHeaders {
            limit: number(LIMIT_HEADER).map(|v| v.min(u32::MAX as f64) as u32),
            remaining: number(REMAINING_HEADER).map(|v| v.min(u32::MAX as f64) as u32),
            reset_secs,
        }
    }
}

/// What this process knows of the key's budget.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Budget {
    /// Nothing yet, or the window reset: probe with one request.
    #[default]
    Unknown,
    /// The server sends no rate limit headers.
    Unlimited,
    /// `remaining` requests may start before `reset_at + margin`.
    Known {
        remaining: u32,
        reset_at: Instant,
        /// This window's jitter, drawn once.
        margin: Duration,
    },
}

/// Shared bookkeeping, behind a mutex held only briefly (never across I/O).
#[derive(Debug, Default)]
struct State {
    budget: Budget,
    /// Requests sent and not yet answered.
    in_flight: u32,
    /// Whether the probe of an unknown budget is out.
    probing: bool,
    /// After a `429`, nobody sends before this.
    blocked_until: Option<Instant>,
    /// `429`s in a row, for the backoff without a reset header.
    consecutive_429: u32,
    /// The limit the API last reported.
    limit: Option<u32>,
    /// Requests other than polls waiting for budget: polls wait behind them.
    writes_waiting: u32,
}

/// Why a caller cannot send yet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wait {
    /// Until this instant (or until the state changes).
    Until(Instant),
    /// Until the probe's answer arrives.
    ForProbe,
    /// A poll held back for writes: until the state changes, at the latest
    /// until this reset.
    Behind(Instant),
}

/// What kind of request asks for budget, and what the operations do.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ask {
    poll: bool,
    all_waiting: bool,
}

impl State {
    /// Takes a unit of budget; `Ok(true)` when the request is the probe.
    fn try_acquire(&mut self, now: Instant, ask: Ask) -> Result<bool, Wait> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Err(Wait::Until(until));
            }
            self.blocked_until = None;
        }
        if let Budget::Known {
            reset_at, margin, ..
        } = self.budget
        {
            if now >= reset_at + margin {
                self.budget = Budget::Unknown;
            }
        }
        let reserve = reserve(self.limit);
        let probe = match &mut self.budget {
            Budget::Unlimited => false,
            Budget::Known {
                remaining,
                reset_at,
                margin,
            } => {
                let reset = *reset_at + *margin;
                if *remaining == 0 || (ask.poll && *remaining <= FLOOR) {
                    return Err(Wait::Until(reset));
                }
                let held = ask.poll
                    && (self.writes_waiting > 0 || (*remaining <= reserve && !ask.all_waiting));
                if held {
                    return Err(Wait::Behind(reset));
                }
                *remaining -= 1;
                false
            }
            Budget::Unknown if self.probing => return Err(Wait::ForProbe),
            Budget::Unknown if ask.poll && self.writes_waiting > 0 => {
                return Err(Wait::Behind(now + DEFAULT_WINDOW))
            }
            Budget::Unknown => {
                self.probing = true;
                true
            }
        };
        self.in_flight += 1;
        Ok(probe)
    }

    /// A request ended without an answer (or its caller gave up).
    fn abandon(&mut self, probe: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if probe {
            self.probing = false;
        }
    }

    /// Learns from an answer. Returns how long to pause after a `429`.
    fn complete(
        &mut self,
        probe: bool,
        status: u16,
        headers: RateHeaders,
        now: Instant,
        options: &RateLimitOptions,
        jitter: Duration,
    ) -> Option<Duration> {
        self.abandon(probe);
        if status == 429 {
            self.consecutive_429 += 1;
            let wait = match headers.reset_secs {
                Some(secs) => Duration::from_secs(secs).max(options.min_429_wait),
                None => exponential(
                    options.backoff_initial,
                    options.backoff_max,
                    self.consecutive_429,
                ),
            } + jitter;
            let until = now + wait;
            self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
            self.budget = Budget::Unknown;
            return Some(wait);
        }
        self.consecutive_429 = 0;
        self.limit = headers.limit.or(self.limit);
        let Some(remaining) = headers.remaining else {
            // Only a real answer without headers means "no limit"; a proxy's
            // error page says nothing about the API's budget.
            if self.budget == Budget::Unknown && (200..300).contains(&status) {
                self.budget = Budget::Unlimited;
            }
            return None;
        };
        let reset_at = now
            + headers
                .reset_secs
                .map_or(DEFAULT_WINDOW, Duration::from_secs);
        match &mut self.budget {
            Budget::Known {
                remaining: left,
                reset_at: known_reset,
                ..
            } if reset_at <= *known_reset + SAME_WINDOW_SLACK => {
                // Same window: the server's count may include other clients
                // of the key; ours includes our requests still in flight.
                *left = (*left).min(remaining);
                *known_reset = (*known_reset).max(reset_at);
            }
            _ => {
                // A new window: requests still in flight may not be counted yet.
                self.budget = Budget::Known {
                    remaining: remaining.saturating_sub(self.in_flight),
                    reset_at,
                    margin: jitter,
                };
            }
        }
        None
    }
}

/// The rate limit state of one client, shared by all its clones.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
    /// The operations in flight; its `changed` also wakes callers waiting
    /// here whenever this state changes.
    tally: Arc<Tally>,
    options: RateLimitOptions,
}

impl RateLimiter {
    pub fn new(options: RateLimitOptions) -> Self {
        RateLimiter {
            state: Mutex::new(State::default()),
            tally: Arc::new(Tally::default()),
            options,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The operations whose requests this limiter serves.
    pub fn tally(&self) -> Arc<Tally> {
        self.tally.clone()
    }

    fn jitter(&self) -> Duration {
        up_to(self.options.reset_jitter)
    }

    /// Waits until a request may be sent, or says it is [`Refused`] when that
    /// would take past `end`.
    async fn acquire(&self, end: Instant, poll: bool) -> Result<Permit<'_>, Refused> {
        let mut logged = false;
        let _queued = (!poll).then(|| WriteWaiting::new(self));
        loop {
            // Register for wake-ups before looking, so none is missed.
            let changed = self.tally.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let ask = Ask {
                poll,
                all_waiting: poll && self.tally.all_waiting(),
            };
            let outcome = self.lock().try_acquire(Instant::now(), ask);
            let until = match outcome {
                Ok(probe) => {
                    return Ok(Permit {
                        limiter: self,
                        probe,
                        done: false,
                    })
                }
                Err(Wait::Until(until)) if until > end => {
                    return Err(Refused {
                        back_at: Some(until),
                    })
                }
                Err(Wait::Until(until)) => {
                    if !logged && !poll {
                        log_wait(until.saturating_duration_since(Instant::now()));
                        logged = true;
                    }
                    until
                }
                Err(Wait::Behind(reset)) => reset.min(end),
                Err(Wait::ForProbe) => end,
            };
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {
                    if until >= end && Instant::now() >= end {
                        let back_at = match outcome {
                            Err(Wait::Behind(reset)) => Some(reset),
                            _ => None,
                        };
                        return Err(Refused { back_at });
                    }
                }
                _ = &mut changed => {}
            }
        }
    }
}

fn log_wait(wait: Duration) {
    if wait >= Duration::from_secs(5) {
        log::info!(
            "TiDB Cloud API rate limit reached: waiting {} for the window to reset",
            human_duration(wait)
        );
    } else {
        log::debug!("TiDB Cloud API rate limit: waiting {wait:.1?} for the window to reset");
    }
}

/// Counts a request other than a poll as waiting for budget.
struct WriteWaiting<'a>(&'a RateLimiter);

impl<'a> WriteWaiting<'a> {
    fn new(limiter: &'a RateLimiter) -> Self {
        limiter.lock().writes_waiting += 1;
        WriteWaiting(limiter)
    }
}

impl Drop for WriteWaiting<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.writes_waiting = s.writes_waiting.saturating_sub(1);
        drop(s);
        self.0.tally.changed.notify_waiters();
    }
}

/// No budget before the request's end: when it comes back, if known.
struct Refused {
    back_at: Option<Instant>,
}

/// The right to send one request; returned through
/// [`complete`](Permit::complete), or released on drop (error, cancellation).
struct Permit<'a> {
    limiter: &'a RateLimiter,
    probe: bool,
    done: bool,
}

impl Permit<'_> {
    fn complete(mut self, response: &ApiResponse) -> Option<Duration> {
        self.done = true;
        let limiter = self.limiter;
        let jitter = limiter.jitter();
        let pause = limiter.lock().complete(
            self.probe,
            response.status,
            RateHeaders::parse(&response.headers),
            Instant::now(),
            &limiter.options,
            jitter,
        );
        limiter.tally.changed.notify_waiters();
        pause
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.limiter.lock().abandon(self.probe);
            self.limiter.tally.changed.notify_waiters();
        }
    }
}

/// Wraps a [`Transport`] with a shared [`RateLimiter`].
#[derive(Debug)]
pub struct RateLimited<T> {
    inner: T,
    limiter: Arc<RateLimiter>,
}

impl<T> RateLimited<T> {
    pub fn new(inner: T, options: RateLimitOptions) -> Self {
        RateLimited {
            inner,
            limiter: Arc::new(RateLimiter::new(options)),
        }
    }

    /// The shared limiter.
    pub fn limiter(&self) -> Arc<RateLimiter> {
        self.limiter.clone()
    }
}

#[async_trait]
impl<T: Transport> Transport for RateLimited<T> {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
        let started = Instant::now();
        let end = request
            .deadline
            .unwrap_or_else(|| started + self.limiter.options.max_wait);
        let mut answered_429 = 0;
        let mut last_429: Option<ApiResponse> = None;
        loop {
            // Not sent yet: a cancel ends this wait, and nothing is lost.
            let acquired = match &request.cancel {
                Some(cancel) => tokio::select! {
                    biased;
                    _ = cancelled(cancel.clone()) => None,
                    a = self.limiter.acquire(end, request.poll) => Some(a),
                },
                None => Some(self.limiter.acquire(end, request.poll).await),
            };
            let Some(acquired) = acquired else {
                return Err(request.transport_error(
                    "stopped while waiting for rate limit budget; the request was not sent".into(),
                    false,
                    super::error::TransportKind::Other,
                ));
            };
            let permit = match acquired {
                Ok(permit) => permit,
                Err(refused) => {
                    return Err(exhausted(
                        request,
                        started,
                        answered_429,
                        last_429.as_ref(),
                        refused.back_at,
                    ))
                }
            };
            let response = self.inner.send(request).await?;
            let pause = permit.complete(&response);
            if response.status != 429 {
                return Ok(response);
            }
            answered_429 += 1;
            if answered_429 > self.limiter.options.max_429_retries {
                return Err(exhausted(
                    request,
                    started,
                    answered_429,
                    Some(&response),
                    None,
                ));
            }
            log::debug!(
                "TiDB Cloud API {} {} -> 429 (rate limited, not processed); sending again in {:.1?}",
                request.method,
                request.path,
                pause.unwrap_or_default()
            );
            last_429 = Some(response);
        }
    }
}

/// The error for a request that waited for the rate limit as long as it
/// may: how long, how many times it was sent, the last 429, and when the
/// budget comes back if that is why it stopped.
fn exhausted(
    request: &ApiRequest,
    started: Instant,
    attempts: u32,
    last: Option<&ApiResponse>,
    back_at: Option<Instant>,
) -> ApiError {
    let method = request.method.to_string();
    let response = last.and_then(|r| {
        ApiError::from_http(
            &method,
            &request.path,
            r.status,
            Some(&r.headers),
            &r.body,
            attempts,
        )
        .response()
        .cloned()
    });
    let waited = started.elapsed();
    log::warn!(
        "TiDB Cloud API {method} {}: rate limit exhausted after waiting {}",
        request.path,
        human_duration(waited)
    );
    ApiError::RateLimited {
        method,
        path: request.path.clone(),
        waited,
        budget_back_in: back_at.map(|at| at.saturating_duration_since(Instant::now())),
        attempts,
        response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRITE: Ask = Ask {
        poll: false,
        all_waiting: false,
    };
    use reqwest::header::HeaderValue;
    use reqwest::Method;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn headers(remaining: Option<&str>, reset: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LIMIT_HEADER, HeaderValue::from_static("100"));
        if let Some(r) = remaining {
            h.insert(REMAINING_HEADER, HeaderValue::from_str(r).unwrap());
        }
        if let Some(r) = reset {
            h.insert(RESET_HEADER, HeaderValue::from_str(r).unwrap());
        }
        h
    }

    #[test]
    fn parses_rate_limit_headers() {
        let h = RateHeaders::parse(&headers(Some("7"), Some("42")));
        assert_eq!(
            h,
            RateHeaders {
                limit: Some(100),
                remaining: Some(7),
                reset_secs: Some(42)
            }
        );
        let h = RateHeaders::parse(&headers(Some(" 0 "), Some("1.2")));
        assert_eq!((h.remaining, h.reset_secs), (Some(0), Some(2)));
        let h = RateHeaders::parse(&headers(Some("lots"), Some("-3")));
        assert_eq!((h.remaining, h.reset_secs), (None, None));
        // The server's reset is kept as it said, however long: no wait
        // passes its deadline anyway, and messages say when it comes back.
        let h = RateHeaders::parse(&headers(Some("0"), Some("150")));
        assert_eq!(h.reset_secs, Some(150));
        assert_eq!(
            RateHeaders::parse(&HeaderMap::new()),
            RateHeaders::default()
        );
        // A Unix timestamp 30 s ahead instead of a delay.
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 30;
        let h = RateHeaders::parse(&headers(None, Some(&at.to_string())));
        assert!((29..=30).contains(&h.reset_secs.unwrap()), "{h:?}");
    }

    fn rh(remaining: u32, reset: u64) -> RateHeaders {
        RateHeaders {
            limit: Some(20),
            remaining: Some(remaining),
            reset_secs: Some(reset),
        }
    }

    const POLL: Ask = Ask {
        poll: true,
        all_waiting: false,
    };
    const POLL_ALL_WAITING: Ask = Ask {
        poll: true,
        all_waiting: true,
    };

    /// A state that knows `remaining` units of a 20-request window.
    fn known(remaining: u32) -> (State, Instant) {
        let mut s = State::default();
        let t0 = Instant::now();
        s.complete(
            false,
            200,
            rh(remaining, 60),
            t0,
            &RateLimitOptions::default(),
            Duration::ZERO,
        );
        (s, t0)
    }

    #[test]
    fn polls_leave_the_reserve_to_writes_unless_every_operation_waits() {
        // A limit of 20 keeps a reserve of 2 (a tenth, at least the floor).
        assert_eq!(reserve(Some(20)), 2);
        assert_eq!(reserve(Some(100)), 10);
        assert_eq!(reserve(None), FLOOR);
        let (mut s, t0) = known(12);
        let reset = t0 + Duration::from_secs(60);
        // At a limit of 100, two polls take 12 units down to the reserve of ten...
        let mut s100 = State::default();
        s100.complete(
            false,
            200,
            RateHeaders {
                limit: Some(100),
                remaining: Some(12),
                reset_secs: Some(60),
            },
            t0,
            &RateLimitOptions::default(),
            Duration::ZERO,
        );
        for _ in 0..2 {
            assert_eq!(s100.try_acquire(t0, POLL), Ok(false));
        }
        assert_eq!(s100.try_acquire(t0, POLL), Err(Wait::Behind(reset)));
        // ... which a poll may spend only when every operation waits for
        // a poll, and never below the floor.
        for _ in 0..(10 - FLOOR) {
            assert_eq!(s100.try_acquire(t0, POLL_ALL_WAITING), Ok(false));
        }
        assert_eq!(
            s100.try_acquire(t0, POLL_ALL_WAITING),
            Err(Wait::Until(reset))
        );
        // A write takes what is left, down to nothing.
        for _ in 0..FLOOR {
            assert_eq!(s100.try_acquire(t0, WRITE), Ok(false));
        }
        assert_eq!(s100.try_acquire(t0, WRITE), Err(Wait::Until(reset)));
        // With budget to spare, a poll goes as a write does.
        assert_eq!(s.try_acquire(t0, POLL), Ok(false));
    }

    #[test]
    fn polls_wait_behind_writes_that_wait() {
        let (mut s, t0) = known(15);
        s.writes_waiting = 1;
        let reset = t0 + Duration::from_secs(60);
        assert_eq!(s.try_acquire(t0, POLL), Err(Wait::Behind(reset)));
        assert_eq!(
            s.try_acquire(t0, POLL_ALL_WAITING),
            Err(Wait::Behind(reset))
        );
        assert_eq!(s.try_acquire(t0, WRITE), Ok(false));
        s.writes_waiting = 0;
        assert_eq!(s.try_acquire(t0, POLL), Ok(false));
    }

    /// A server whose window is spent for the next minute.
    struct Spent;

    #[async_trait]
    impl Transport for Spent {
        async fn send(&self, _: &ApiRequest) -> Result<ApiResponse, ApiError> {
            Ok(ApiResponse {
                status: 200,
                headers: headers(Some("0"), Some("60")),
                body: Vec::new(),
                attempts: 1,
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_for_budget_ends_at_the_deadline_at_once_and_on_cancel() {
        let layer = Arc::new(RateLimited::new(Spent, RateLimitOptions::default()));
        // The first answer says the window is spent for 60 s.
        layer
            .send(&ApiRequest::new(Method::GET, "/x"))
            .await
            .unwrap();
        // A request whose deadline comes before the reset fails at once,
        // and says when the budget comes back.
        let started = Instant::now();
        let deadline = Some(started + Duration::from_secs(20));
        let err = layer
            .send(&ApiRequest::new(Method::POST, "/x").with_deadline(deadline))
            .await
            .unwrap_err();
        assert_eq!(Instant::now(), started, "no wait was started");
        let ApiError::RateLimited { budget_back_in, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(budget_back_in.unwrap() >= Duration::from_secs(59), "{err}");
        // One without a deadline waits; a cancel ends that wait at once,
        // and the request was not sent.
        let (cancel, rx) = tokio::sync::watch::channel(false);
        let mut request = ApiRequest::new(Method::POST, "/x");
        request.cancel = Some(rx);
        let waiting = {
            let layer = layer.clone();
            tokio::spawn(async move { layer.send(&request).await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiting.is_finished());
        cancel.send(true).unwrap();
        let err = waiting.await.unwrap().unwrap_err();
        assert_eq!(Instant::now(), started + Duration::from_secs(5));
        assert!(
            matches!(
                err,
                ApiError::Transport {
                    maybe_sent: false,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn one_probe_while_the_budget_is_unknown() {
        let opts = RateLimitOptions::default();
        let t0 = Instant::now();
        let mut s = State::default();
        assert_eq!(s.try_acquire(t0, WRITE), Ok(true));
        assert_eq!(s.try_acquire(t0, WRITE), Err(Wait::ForProbe));
        // The probe's answer: 19 left. Nothing else in flight.
        s.complete(true, 200, rh(19, 2), t0, &opts, Duration::ZERO);
        for _ in 0..19 {
            assert_eq!(s.try_acquire(t0, WRITE), Ok(false));
        }
        let reset = t0 + Duration::from_secs(2);
        assert_eq!(s.try_acquire(t0, WRITE), Err(Wait::Until(reset)));
        // After the reset, one probe again.
        assert_eq!(s.try_acquire(reset, WRITE), Ok(true));
        assert_eq!(s.try_acquire(reset, WRITE), Err(Wait::ForProbe));
        s.abandon(true);
        assert_eq!(
            s.try_acquire(reset, WRITE),
            Ok(true),
            "a failed probe frees the way"
        );
    }

    #[test]
    fn new_windows_subtract_requests_in_flight_and_same_windows_take_the_minimum() {
        let opts = RateLimitOptions::default();
        let t0 = Instant::now();
        let mut s = State::default();
        s.complete(false, 200, rh(10, 60), t0, &opts, Duration::ZERO);
        assert!(matches!(s.budget, Budget::Known { remaining: 10, .. }));
        for _ in 0..3 {
            s.try_acquire(t0, WRITE).unwrap();
        }
        // Another process used the key: the server says fewer than we think.
        s.complete(false, 200, rh(2, 60), t0, &opts, Duration::ZERO);
        assert!(matches!(s.budget, Budget::Known { remaining: 2, .. }));
        // An answer from the next window (reset much later): a fresh budget
        // minus the one request of ours still in flight.
        let later = t0 + Duration::from_secs(61);
        s.complete(false, 200, rh(19, 60), later, &opts, Duration::ZERO);
        assert_eq!(s.in_flight, 1);
        assert!(matches!(s.budget, Budget::Known { remaining: 18, .. }));
    }

    #[test]
    fn a_429_blocks_everyone_until_the_reset() {
        let opts = RateLimitOptions::default();
        let t0 = Instant::now();
        let mut s = State::default();
        s.complete(false, 200, rh(50, 60), t0, &opts, Duration::ZERO);
        s.try_acquire(t0, WRITE).unwrap();
        let pause = s.complete(false, 429, rh(0, 5), t0, &opts, Duration::from_millis(100));
        assert_eq!(pause, Some(Duration::from_millis(5100)));
        let until = t0 + Duration::from_millis(5100);
        assert_eq!(s.try_acquire(t0, WRITE), Err(Wait::Until(until)));
        assert_eq!(s.try_acquire(until, WRITE), Ok(true), "then one probe");

        // Reset "0" still waits the minimum; no header backs off exponentially.
        let mut s = State::default();
        let pause = s.complete(false, 429, rh(0, 0), t0, &opts, Duration::ZERO);
        assert_eq!(pause, Some(opts.min_429_wait));
        let none = RateHeaders::default();
        let p1 = s
            .complete(false, 429, none, t0, &opts, Duration::ZERO)
            .unwrap();
        let p2 = s
            .complete(false, 429, none, t0, &opts, Duration::ZERO)
            .unwrap();
        assert!(p2 > p1 && p2 <= opts.backoff_max, "{p1:?} {p2:?}");
    }

    #[test]
    fn servers_without_headers_are_not_throttled() {
        let opts = RateLimitOptions::default();
        let t0 = Instant::now();
        let mut s = State::default();
        assert_eq!(s.try_acquire(t0, WRITE), Ok(true));
        s.complete(true, 200, RateHeaders::default(), t0, &opts, Duration::ZERO);
        for _ in 0..1000 {
            assert_eq!(s.try_acquire(t0, WRITE), Ok(false));
        }
    }

    /// An in-process server with a fixed-window limit, as the API has.
    struct LimitedServer {
        limit: u32,
        window: Duration,
        state: Mutex<(Instant, u32)>,
        answered_429: AtomicU32,
        processed: AtomicU32,
    }

    #[async_trait]
    impl Transport for Arc<LimitedServer> {
        async fn send(&self, _request: &ApiRequest) -> Result<ApiResponse, ApiError> {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let now = Instant::now();
            let (status, remaining, reset) = {
                let mut st = self.state.lock().unwrap();
                while now >= st.0 + self.window {
                    st.0 += self.window;
                    st.1 = 0;
                }
                st.1 += 1;
                let reset = (st.0 + self.window - now).as_secs_f64().ceil() as u64;
                let status = if st.1 > self.limit { 429 } else { 200 };
                (status, self.limit.saturating_sub(st.1), reset)
            };
            if status == 429 {
                self.answered_429.fetch_add(1, Ordering::SeqCst);
            } else {
                self.processed.fetch_add(1, Ordering::SeqCst);
            }
            Ok(ApiResponse {
                status,
                headers: headers(Some(&remaining.to_string()), Some(&reset.to_string())),
                body: Vec::new(),
                attempts: 1,
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_burst_never_surfaces_a_429() {
        let server = Arc::new(LimitedServer {
            limit: 10,
            window: Duration::from_secs(1),
            state: Mutex::new((Instant::now(), 0)),
            answered_429: AtomicU32::new(0),
            processed: AtomicU32::new(0),
        });
        let options = RateLimitOptions {
            reset_jitter: Duration::from_millis(50),
            ..Default::default()
        };
        let layer = Arc::new(RateLimited::new(server.clone(), options));
        let tasks: Vec<_> = (0..25)
            .map(|_| {
                let layer = layer.clone();
                tokio::spawn(async move {
                    layer
                        .send(&ApiRequest::new(Method::GET, "/x"))
                        .await
                        .map(|r| r.status)
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 200);
        }
        assert_eq!(server.processed.load(Ordering::SeqCst), 25);
        // With a ceil-rounded reset and one client, the limiter never overruns.
        assert_eq!(server.answered_429.load(Ordering::SeqCst), 0);
    }

    /// A server that answers every request with a 429 and a short reset.
    struct Always429(AtomicU32);

    #[async_trait]
    impl Transport for Always429 {
        async fn send(&self, _: &ApiRequest) -> Result<ApiResponse, ApiError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(ApiResponse {
                status: 429,
                headers: headers(Some("0"), Some("0")),
                body: br#"{"code":8,"message":"rate limit exceeded"}"#.to_vec(),
                attempts: 1,
            })
        }
    }

    fn endless_options() -> RateLimitOptions {
        RateLimitOptions {
            max_429_retries: u32::MAX,
            max_wait: Duration::from_millis(400),
            min_429_wait: Duration::from_millis(50),
            reset_jitter: Duration::ZERO,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn an_endless_429_ends_within_the_bound_with_how_long_it_waited() {
        let layer = RateLimited::new(Always429(AtomicU32::new(0)), endless_options());
        let started = Instant::now();
        let err = layer
            .send(&ApiRequest::new(Method::GET, "/x"))
            .await
            .unwrap_err();
        // A failure bound, not a performance one: without the bound the
        // wait never ends.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(20), "{took:?}");
        assert!(err.is_rate_limited(), "{err:?}");
        assert!(!err.is_transient(), "a wait must not spin on it");
        let ApiError::RateLimited {
            waited, attempts, ..
        } = &err
        else {
            unreachable!()
        };
        // No wait is started that would end past the bound (the last
        // exchange itself may run a little over it).
        assert!(
            *waited < Duration::from_millis(400) + Duration::from_secs(1),
            "{waited:?}"
        );
        assert!(*attempts >= 2, "{attempts}");
        let text = err.to_string();
        assert!(
            text.contains("rate limit") && text.contains("exhausted"),
            "{text}"
        );
        assert!(text.contains("waited") && text.contains("GET /x"), "{text}");
        assert!(text.contains("rate limit exceeded (HTTP 429"), "{text}");
    }

    #[tokio::test]
    async fn the_request_deadline_replaces_the_default_bound() {
        let options = RateLimitOptions {
            max_wait: Duration::from_secs(3600),
            ..endless_options()
        };
        let layer = RateLimited::new(Always429(AtomicU32::new(0)), options);
        let started = Instant::now();
        let deadline = Some(started + Duration::from_millis(300));
        let err = layer
            .send(&ApiRequest::new(Method::GET, "/x").with_deadline(deadline))
            .await
            .unwrap_err();
        assert!(err.is_rate_limited(), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_wait_longer_than_the_bound_is_not_started() {
        let options = RateLimitOptions {
            min_429_wait: Duration::from_secs(60),
            ..endless_options()
        };
        let server = Always429(AtomicU32::new(0));
        let layer = RateLimited::new(server, options);
        let started = Instant::now();
        let err = layer
            .send(&ApiRequest::new(Method::GET, "/x"))
            .await
            .unwrap_err();
        assert!(err.is_rate_limited());
        // The 60 s wait was not started: one request, then the error.
        assert_eq!(layer.inner.0.load(Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_secs(30));
        // It says when the budget comes back, not only the moment it waited.
        let ApiError::RateLimited { budget_back_in, .. } = &err else {
            unreachable!()
        };
        let back = budget_back_in.expect("the reset is known");
        assert!(back > Duration::from_secs(50), "{back:?}");
        let text = err.to_string();
        assert!(text.contains("the budget comes back in"), "{text}");
    }
}
