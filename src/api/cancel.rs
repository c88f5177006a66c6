//! Giving up on requests that are still waiting for rate limit budget.
//!
//! A request queued in the rate limit layer (`ratelimit`) has not been
//! sent: dropping it loses nothing. Once it is on the wire it must run to
//! its answer, or an object the API creates could be lost. [`scope`] runs a
//! call so that while any of its requests waits for budget (including the
//! wait after a `429`), the `cancel` signal ends that wait: the request
//! fails as a transport error that certainly did not reach the server
//! (`maybe_sent: false`). A request already sent is never interrupted.

use std::future::Future;

use tokio::sync::watch;

tokio::task_local! {
    static CANCEL: watch::Receiver<bool>;
}

/// Runs `call` with its queued requests cancelled once `cancel` turns `true`.
pub async fn scope<F: Future>(cancel: watch::Receiver<bool>, call: F) -> F::Output {
    CANCEL.scope(cancel, call).await
}

/// Waits for `wait` unless the scope's signal fires first (`None`).
pub(crate) async fn queued<F: Future>(wait: F) -> Option<F::Output> {
    let Ok(mut cancel) = CANCEL.try_with(|c| c.clone()) else {
        return Some(wait.await);
    };
    if *cancel.borrow() {
        return None;
    }
    tokio::select! {
        out = wait => Some(out),
        _ = cancel.wait_for(|c| *c) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_queued_wait_ends_on_the_signal() {
        let (tx, rx) = watch::channel(false);
        let call = scope(rx, async {
            queued(tokio::time::sleep(Duration::from_secs(600))).await
        });
        let task = tokio::spawn(call);
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(true).unwrap();
        let out = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("ended")
            .expect("join");
        assert!(out.is_none());
    }

    #[tokio::test]
    async fn outside_a_scope_nothing_is_cancelled() {
        assert_eq!(queued(async { 3 }).await, Some(3));
    }
}
