//! The top layer: retries where they are safe.
//!
//! Idempotent requests (GET, DELETE, and POSTs marked idempotent or read-only
//! such as a detach or a dry run) are retried on 5xx and transport errors,
//! with exponential backoff and jitter ([`backoff`](super::backoff)), a
//! bounded number of attempts, a bounded total time, and never past the
//! request's deadline. Other POSTs are never retried once they may have
//! reached the server: a create answered with a 5xx or a dropped connection
//! may have happened, and the caller must find out (see
//! [`ApiError::Ambiguous`]). A request that certainly never left (connection
//! refused) is retried for any method. 429s are not seen here: the rate
//! limit layer below waits them out. Redirects and oversized answers are
//! never retried.
//!
//! The answer records how many attempts it took, so that a 404 to a retried
//! DELETE or detach can be told apart (an earlier attempt did the job).

use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;

use super::backoff;
use super::error::ApiError;
use super::transport::{ApiRequest, ApiResponse, Transport};

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Delay before the first retry, before jitter.
    pub initial_backoff: Duration,
    /// Upper bound of any one delay.
    pub max_backoff: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1 for the first retry):
    /// `initial * 2^(retry-1)`, capped at `max_backoff`, then a uniformly
    /// random point in its upper half, so concurrent callers spread out but
    /// still back off.
    pub fn backoff(&self, retry: u32) -> Duration {
        backoff::delay(self.initial_backoff, self.max_backoff, retry)
    }
}

/// Wraps a [`Transport`] with the retry policy.
#[derive(Debug)]
pub struct Retrying<T> {
    inner: T,
    policy: RetryPolicy,
}

impl<T> Retrying<T> {
    pub fn new(inner: T, policy: RetryPolicy) -> Self {
        Retrying { inner, policy }
    }
}

/// Why this outcome deserves another attempt, if it does.
fn retry_reason(request: &ApiRequest, result: &Result<ApiResponse, ApiError>) -> Option<String> {
    match result {
        Ok(r) if is_retryable_status(r.status) && request.is_idempotent() => {
            Some(format!("HTTP {}", r.status))
        }
        Err(ApiError::Transport {
            maybe_sent: false,
            message,
            ..
        }) => Some(message.clone()),
        Err(ApiError::Transport {
            maybe_sent: true,
            message,
            ..
        }) if request.is_idempotent() => Some(message.clone()),
        _ => None,
    }
}

/// 5xx other than "not implemented" and "version not supported".
fn is_retryable_status(status: u16) -> bool {
    (500..600).contains(&status) && status != 501 && status != 505
}

#[async_trait]
impl<T: Transport> Transport for Retrying<T> {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let result = self.inner.send(request).await.map(|mut r| {
                r.attempts = attempt;
                r
            });
            let Some(reason) = retry_reason(request, &result) else {
                return result;
            };
            if attempt >= self.policy.max_attempts {
                log::debug!(
                    "TiDB Cloud API {} {}: {reason}; giving up after {attempt} attempts",
                    request.method,
                    request.path
                );
                return result;
            }
            let delay = self.policy.backoff(attempt);
            let past_deadline = request.deadline.is_some_and(|d| Instant::now() + delay > d);
            if started.elapsed() + delay > self.policy.max_elapsed || past_deadline {
                log::debug!(
                    "TiDB Cloud API {} {}: {reason}; out of retry time",
                    request.method,
                    request.path
                );
                return result;
            }
            log::debug!(
                "TiDB Cloud API {} {}: {reason}; retry {attempt} in {delay:.1?}",
                request.method,
                request.path
            );
            // A cancel ends the pause: the next attempt is not sent.
            let cancel = request.cancel.clone();
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = async move {
                    match cancel {
                        Some(c) => super::op::cancelled(c).await,
                        None => std::future::pending().await,
                    }
                } => return result,
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use reqwest::Method;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// A transport that plays back scripted outcomes and counts calls.
    pub(crate) struct Script {
        outcomes: Mutex<VecDeque<Result<u16, bool>>>,
        pub calls: Mutex<u32>,
    }

    impl Script {
        /// `Ok(status)` answers with that status; `Err(maybe_sent)` fails.
        pub(crate) fn new(outcomes: Vec<Result<u16, bool>>) -> Self {
            Script {
                outcomes: Mutex::new(outcomes.into()),
                calls: Mutex::new(0),
            }
        }
        pub(crate) fn calls(&self) -> u32 {
            *self.calls.lock().unwrap()
        }
    }

    #[async_trait]
    impl Transport for Script {
        async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
            *self.calls.lock().unwrap() += 1;
            match self.outcomes.lock().unwrap().pop_front().unwrap_or(Ok(200)) {
                Ok(status) => Ok(ApiResponse {
                    status,
                    headers: HeaderMap::new(),
                    body: Vec::new(),
                    attempts: 1,
                }),
                Err(maybe_sent) => Err(request.transport_error(
                    "reset".into(),
                    maybe_sent,
                    crate::api::error::TransportKind::Dropped,
                )),
            }
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            max_elapsed: Duration::from_secs(5),
        }
    }

    #[test]
    fn backoff_grows_within_the_cap_and_jitter_range() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            max_elapsed: Duration::from_secs(60),
        };
        for retry in 0..40 {
            let ceiling = backoff::exponential(p.initial_backoff, p.max_backoff, retry);
            assert!(ceiling <= p.max_backoff);
            for _ in 0..50 {
                let d = p.backoff(retry);
                assert!(d <= p.max_backoff, "retry {retry}: {d:?}");
                assert!(d >= ceiling / 2, "retry {retry}: {d:?} < {:?}", ceiling / 2);
                assert!(d <= ceiling);
            }
        }
    }

    #[tokio::test]
    async fn get_and_delete_retry_on_5xx_and_transport_errors() {
        for method in [Method::GET, Method::DELETE] {
            let script = Script::new(vec![Ok(503), Err(true), Ok(500), Ok(200)]);
            let layer = Retrying::new(script, fast());
            let r = layer.send(&ApiRequest::new(method, "/x")).await.unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(layer.inner.calls(), 4);
        }
    }

    #[tokio::test]
    async fn marked_idempotent_posts_retry_and_count_attempts() {
        let layer = Retrying::new(Script::new(vec![Ok(503), Err(true), Ok(404)]), fast());
        let r = layer
            .send(&ApiRequest::new(Method::POST, "/x:detachDomains").idempotent())
            .await
            .unwrap();
        assert_eq!((r.status, r.attempts), (404, 3));
        assert_eq!(layer.inner.calls(), 3);
    }

    #[tokio::test]
    async fn no_retry_starts_past_the_deadline() {
        let layer = Retrying::new(Script::new(vec![Ok(503); 10]), fast());
        let deadline = Some(Instant::now());
        let r = layer
            .send(&ApiRequest::new(Method::GET, "/x").with_deadline(deadline))
            .await
            .unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(layer.inner.calls(), 1);
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let layer = Retrying::new(Script::new(vec![Ok(503); 10]), fast());
        let r = layer
            .send(&ApiRequest::new(Method::GET, "/x"))
            .await
            .unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(layer.inner.calls(), 5);

        let slow = RetryPolicy {
            max_elapsed: Duration::ZERO,
            ..fast()
        };
        let layer = Retrying::new(Script::new(vec![Ok(503); 10]), slow);
        layer
            .send(&ApiRequest::new(Method::GET, "/x"))
            .await
            .unwrap();
        assert_eq!(layer.inner.calls(), 1, "no time left for a retry");
    }

    #[tokio::test]
    async fn post_is_not_retried_once_it_may_have_been_sent() {
        let layer = Retrying::new(Script::new(vec![Ok(503), Ok(200)]), fast());
        let r = layer
            .send(&ApiRequest::new(Method::POST, "/x"))
            .await
            .unwrap();
        assert_eq!(r.status, 503);
        assert_eq!(layer.inner.calls(), 1);

        let layer = Retrying::new(Script::new(vec![Err(true), Ok(200)]), fast());
        let e = layer
            .send(&ApiRequest::new(Method::POST, "/x"))
            .await
            .unwrap_err();
        assert!(e.outcome_unknown());
        assert_eq!(layer.inner.calls(), 1);

        // Connection refused: nothing was sent, so trying again is safe.
        let layer = Retrying::new(Script::new(vec![Err(false), Ok(200)]), fast());
        let r = layer
            .send(&ApiRequest::new(Method::POST, "/x"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(layer.inner.calls(), 2);
    }

    #[tokio::test]
    async fn client_errors_are_not_retried() {
        for status in [400, 401, 403, 404, 409, 501] {
            let layer = Retrying::new(Script::new(vec![Ok(status), Ok(200)]), fast());
            let r = layer
                .send(&ApiRequest::new(Method::GET, "/x"))
                .await
                .unwrap();
            assert_eq!(r.status, status);
            assert_eq!(layer.inner.calls(), 1);
        }
    }
}
