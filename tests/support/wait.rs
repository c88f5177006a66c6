//! Bounded waits for an effect. The limit only matters when a test fails;
//! nothing here measures time.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a wait may take before the test fails.
pub const LIMIT: Duration = Duration::from_secs(60);
/// The pause between two checks.
pub const PACE: Duration = Duration::from_millis(20);

/// Checks until `check` holds; fails the test after [`LIMIT`].
#[track_caller]
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(PACE);
    }
}

/// Checks until `check` answers `Some`, and returns that; fails the test
/// after [`LIMIT`].
pub async fn eventually_async<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(PACE).await;
    }
}
