//! Polling for an effect that lags behind the request that caused it (pod events after an operation's
//! completion, a watch that has not delivered yet): `eventually` retries a check until it holds or a timeout
//! passes, then fails the test saying what it waited for. Include it with
//! `#[path = "../common/poll.rs"] mod poll;` (tests/common/mod.rs has it as `common::poll`).

use std::future::Future;
use std::time::{Duration, Instant};

/// Poll `f` every 20 ms until it returns `Some`, and return that; panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
