//! Request counters for `GET /_sim/stats`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// The counters. API requests only; the control surface is not counted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// Authenticated API requests received (the ones the rate limit counts).
    pub requests_total: u64,
    /// Responses 429 (rate limit).
    pub responses_429: u64,
    /// 401 answers (challenges and refused credentials); not in `requests_total`.
    pub responses_401: u64,
    /// Requests answered 503 by the `error_rate` fault.
    pub faults_errors: u64,
    /// Requests processed and then dropped by the `drop_rate` fault.
    pub faults_drops: u64,
    /// Of the `attachDomains` requests, those with `validateOnly` (dry runs).
    pub attach_dry_runs: u64,
    /// Authenticated requests by `METHOD /path/template`.
    pub requests_by_route: BTreeMap<String, u64>,
    /// Responses by HTTP status (dropped ones are not answered).
    pub responses_by_status: BTreeMap<u16, u64>,
    /// Authenticated requests by API public key.
    pub requests_by_key: BTreeMap<String, u64>,
}

/// Thread-safe counters.
#[derive(Default)]
pub struct Stats {
    counters: Mutex<Counters>,
}

impl Stats {
    /// Updates the counters.
    pub fn update(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.counters.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> Counters {
        self.counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sets every counter back to zero.
    pub fn reset(&self) {
        self.update(|c| *c = Counters::default());
    }
}
