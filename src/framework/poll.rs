//! The generic poller: [`until`] polls with backoff and jitter within a
//! timeout, stopping promptly when Terraform asks the provider to stop, and
//! [`unless_stopped`] bounds a single call by the stop signal. Callers
//! describe *what* settles (one poll); this module decides *when* to look
//! again. It knows nothing of the API it polls: errors only say whether they
//! may go away ([`Transient`]).

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng as _;

use super::StopSignal;

/// An error of one poll: transient ones are logged and polled again, the
/// others end the wait.
pub trait Transient: std::fmt::Display {
    /// Whether polling again may succeed.
    fn is_transient(&self) -> bool;
}

/// What one poll found.
pub enum Poll<T> {
    /// The wait is over.
    Done(T),
    /// Not yet; `T` is the latest object seen, kept for when the wait ends early.
    Pending(T),
    /// The object waited for no longer exists (named for the message).
    Gone(String),
}

/// Why a wait ended without a settled object.
#[derive(Debug)]
pub enum WaitError<T, E> {
    /// The timeout passed; `last` is the latest object seen.
    Timeout { last: Option<T>, waited: Duration },
    /// Terraform asked the provider to stop (Ctrl-C).
    Stopped { last: Option<T> },
    /// The API answered with an error that waiting will not fix.
    Api { last: Option<T>, error: E },
    /// The object disappeared while being waited for.
    Gone { last: Option<T>, what: String },
}

impl<T, E> WaitError<T, E> {
    pub fn last(&self) -> Option<&T> {
        match self {
            WaitError::Timeout { last, .. }
            | WaitError::Stopped { last }
            | WaitError::Api { last, .. }
            | WaitError::Gone { last, .. } => last.as_ref(),
        }
    }
}

impl<T, E> WaitError<Option<T>, E> {
    /// The same error, with `last` no longer optional twice (for waits whose
    /// polls give `None` when done and `Some` while pending).
    pub fn flatten(self) -> WaitError<T, E> {
        match self {
            WaitError::Timeout { last, waited } => WaitError::Timeout {
                last: last.flatten(),
                waited,
            },
            WaitError::Stopped { last } => WaitError::Stopped {
                last: last.flatten(),
            },
            WaitError::Api { last, error } => WaitError::Api {
                last: last.flatten(),
                error,
            },
            WaitError::Gone { last, what } => WaitError::Gone {
                last: last.flatten(),
                what,
            },
        }
    }
}

/// The pause before the next poll: it grows from `FIRST` towards
/// max(1 s, 10% of the time waited so far), so that a settled state is seen
/// within that bound and the number of polls grows with the logarithm of
/// the wait. Jitter only shortens the pause, never lengthens it.
pub fn next_interval(previous: Duration, waited: Duration) -> Duration {
    const FIRST: Duration = Duration::from_millis(200);
    let bound = Duration::from_secs(1).max(waited / 10);
    let grown = if previous.is_zero() {
        FIRST
    } else {
        previous.mul_f64(1.5)
    };
    let pause = grown.min(bound);
    let jitter = rand::rng().random_range(0.8..=1.0);
    pause.mul_f64(jitter)
}

/// Polls `poll` until it reports [`Poll::Done`], the timeout passes, the
/// provider is stopped, or the API fails in a way waiting cannot fix.
pub async fn until<T, E, F, Fut>(
    stop: &StopSignal,
    timeout: Duration,
    mut poll: F,
) -> Result<T, WaitError<T, E>>
where
    E: Transient,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, E>>,
{
    let started = Instant::now();
    let mut last: Option<T> = None;
    let mut interval = Duration::ZERO;
    loop {
        if stop.is_stopped() {
            return Err(WaitError::Stopped { last });
        }
        // A single poll may itself retry and wait out rate limits: bound it
        // by the time left and by the stop signal.
        let left = timeout.saturating_sub(started.elapsed());
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(left, poll()) => match outcome {
                Ok(outcome) => outcome,
                Err(_) => return Err(WaitError::Timeout { last, waited: started.elapsed() }),
            },
            () = stop.stopped() => return Err(WaitError::Stopped { last }),
        };
        match outcome {
            Ok(Poll::Done(v)) => return Ok(v),
            Ok(Poll::Pending(v)) => last = Some(v),
            Ok(Poll::Gone(what)) => return Err(WaitError::Gone { last, what }),
            Err(e) if e.is_transient() => log::warn!("polling failed, will retry: {e}"),
            Err(error) => return Err(WaitError::Api { last, error }),
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(WaitError::Timeout { last, waited });
        }
        interval = next_interval(interval, waited);
        let pause = interval.min(timeout - waited);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.stopped() => return Err(WaitError::Stopped { last }),
        }
    }
}

/// Runs a call that changes nothing unless Terraform asks the provider to
/// stop first; `None` when it did.
pub async fn unless_stopped<T>(stop: &StopSignal, call: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        out = call => Some(out),
        () = stop.stopped() => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A poll error for the tests (never happens).
    #[derive(Debug)]
    struct NoError;

    impl std::fmt::Display for NoError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no error")
        }
    }

    impl Transient for NoError {
        fn is_transient(&self) -> bool {
            false
        }
    }

    #[test]
    fn intervals_grow_and_stay_within_the_bound() {
        let mut interval = Duration::ZERO;
        let mut waited = Duration::ZERO;
        let mut polls = 0;
        while waited < Duration::from_secs(3600) {
            interval = next_interval(interval, waited);
            let bound = Duration::from_secs(1).max(waited / 10);
            assert!(
                interval <= bound,
                "{interval:?} above {bound:?} after {waited:?}"
            );
            assert!(interval >= Duration::from_millis(150));
            waited += interval;
            polls += 1;
        }
        // An hour of waiting takes on the order of a hundred polls, not thousands.
        assert!(polls < 150, "{polls} polls for an hour");
    }

    #[tokio::test]
    async fn waits_until_done() {
        let mut n = 0;
        let out = until(&StopSignal::never(), Duration::from_secs(10), || {
            n += 1;
            let k = n;
            async move {
                Ok::<_, NoError>(if k >= 3 {
                    Poll::Done(k)
                } else {
                    Poll::Pending(k)
                })
            }
        })
        .await;
        assert_eq!(out.ok(), Some(3));
    }

    #[tokio::test]
    async fn timeout_keeps_the_last_object() {
        let out: Result<i32, _> =
            until(&StopSignal::never(), Duration::from_millis(300), || async {
                Ok::<_, NoError>(Poll::Pending(7))
            })
            .await;
        match out {
            Err(WaitError::Timeout { last, .. }) => assert_eq!(last, Some(7)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn stop_ends_the_wait_promptly() {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stop = StopSignal::new(rx);
        let waiter = tokio::spawn(async move {
            until(&stop, Duration::from_secs(600), || async {
                Ok::<_, NoError>(Poll::<i32>::Pending(1))
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tx.send(true);
        // Without the stop this wait would last ten minutes.
        let out = tokio::time::timeout(Duration::from_secs(60), waiter)
            .await
            .expect("the wait ended after the stop")
            .expect("join");
        assert!(matches!(out, Err(WaitError::Stopped { last: Some(1) })));
    }
}
